"""Start an adapter binary that is built on first use (the Go adapters: go-appc, rkt).

``exec_built`` builds (or finds cached) the binary and replaces this process with it, so the
binary speaks the protocol on this process's stdin and stdout. When what the build needs is
missing (the build module's ``NotAvailable``), this process answers the protocol itself:
``unsupported`` to every request, with the reason and how to get what is missing, so the
harness reports the implementation as not available instead of crashed. A build that fails for
any other reason is a bug and ends this process with its traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Callable


def decline(reason: str) -> int:
    """Answer every request on stdin ``unsupported`` with ``reason``, until stdin ends."""
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
        elif req.get("op") != "hello" or "id" in req:  # a hello without an id is answered without one
            answer["id"] = req.get("id")
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


def exec_built(build: Callable[[], Path], not_available: type[Exception], what: str) -> int:
    """Become the binary ``build()`` returns; decline everything when it raises ``not_available``."""
    try:
        binary = build()
    except not_available as exc:
        reason = f"{what} adapter not available: {exc}"
        print(reason, file=sys.stderr)
        return decline(reason)
    sys.stdout.flush()
    os.execv(str(binary), [str(binary)])
    return 0  # not reached
