"""Run the Go adapter: build it if needed, then replace this process with it.

Command line for the harness: ``python -m appc_conformance.conformance.adapters.go``. The binary speaks the
protocol on this process's stdin and stdout (the same file descriptors).

When Go or the library source is missing (``NotAvailable``), this process answers the
protocol itself: ``unsupported`` to every request, with the install command as the reason,
so the harness reports the implementation as not available instead of crashed. A build
that fails for any other reason is a bug and exits non-zero.
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
        answer: dict = {"unsupported": reason}
        try:
            req = json.loads(raw)
        except ValueError:
            req = None
        if isinstance(req, dict) and req.get("op") != "hello":
            answer = {"id": req.get("id"), "unsupported": reason}
        elif not isinstance(req, dict):
            answer = {"id": None, "unsupported": reason}
        elif "id" in req:
            answer = {"id": req["id"], "unsupported": reason}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


def main() -> int:
    try:
        binary = build()
    except NotAvailable as exc:
        reason = f"go adapter not available: {exc}"
        print(reason, file=sys.stderr)
        return _decline(reason)
    sys.stdout.flush()
    os.execv(str(binary), [str(binary)])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
