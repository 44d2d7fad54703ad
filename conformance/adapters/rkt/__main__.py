"""Run the rkt adapter: build it against the tree in RKT_SRC if needed, then become it.

Command line: ``python -m appc_conformance.conformance.adapters.rkt``. Without a tree or without
Go this process answers the protocol itself, ``unsupported`` to every request with the reason
and how to get what is missing, so the harness reports rkt as not available.
"""

from __future__ import annotations

import json
import os
import sys

from .build import NotAvailable, build


def _decline(reason: str) -> int:
    for raw in sys.stdin.buffer:
        if not raw.strip():
            continue
        try:
            req = json.loads(raw)
        except ValueError:
            req = None
        answer: dict = {"unsupported": reason}
        if not isinstance(req, dict):
            answer["id"] = None
        elif req.get("op") != "hello" or "id" in req:
            answer["id"] = req.get("id")
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


def main() -> int:
    try:
        binary = build()
    except NotAvailable as exc:
        reason = f"rkt adapter not available: {exc}"
        print(reason, file=sys.stderr)
        return _decline(reason)
    sys.stdout.flush()
    os.execv(str(binary), [str(binary)])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
