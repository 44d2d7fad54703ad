"""Where the suite keeps what it can work out again: the digests of vector files that passed
their checks (conformance/vectors.py) and the compiled report templates (reports/html.py).

Everything kept there is an optimisation only: a folder that cannot be read or written changes
no result. ``$APPC_CONFORMANCE_CACHE`` names the folder (``off`` turns the cache off); the
default is ``$XDG_CACHE_HOME/appc-conformance`` (``~/.cache/appc-conformance``).
"""
from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "APPC_CONFORMANCE_CACHE"


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is off."""
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        if env.strip().lower() in ("", "0", "off", "no", "false"):
            return None
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "appc-conformance"
