"""Run the rkt adapter: build it against the tree in RKT_SRC if needed, then become it.

Command line: ``python -m appc_conformance.conformance.adapters.rkt``. Without a tree or without
Go this process answers the protocol itself, ``unsupported`` to every request with the reason
and how to get what is missing, so the harness reports rkt as not available
(``conformance/adapters/launch.py``).
"""

from __future__ import annotations

import sys

from ..launch import exec_built
from .build import NotAvailable, build

if __name__ == "__main__":
    sys.exit(exec_built(build, NotAvailable, "rkt"))
