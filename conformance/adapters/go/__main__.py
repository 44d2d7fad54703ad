"""Run the Go adapter: build it if needed, then replace this process with it.

Command line for the harness: ``python -m appc_conformance.conformance.adapters.go``. The binary
speaks the protocol on this process's stdin and stdout (the same file descriptors).

When Go or the library source is missing (``NotAvailable``), this process answers the protocol
itself: ``unsupported`` to every request, with the install command as the reason, so the harness
reports the implementation as not available instead of crashed (``conformance/adapters/launch.py``).
A build that fails for any other reason is a bug and exits non-zero.
"""

from __future__ import annotations

import sys

from ..launch import exec_built
from .build import NotAvailable, build

if __name__ == "__main__":
    sys.exit(exec_built(build, NotAvailable, "go"))
