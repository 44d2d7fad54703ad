"""Where the suite keeps what it can work out again: the digests of vector files that passed
their checks (conformance/vectors.py) and the compiled report templates (reports/html.py).

Everything kept there is an optimisation only: a folder that cannot be read or written changes
no result. ``$APPC_CONFORMANCE_CACHE`` names the folder (``off`` turns the cache off); the
default is ``$XDG_CACHE_HOME/appc-conformance`` (``~/.cache/appc-conformance``).

Files on disk are input too: an entry is read only from a folder and a file that this user owns
and no one else can write, never through a link, only if it is a regular file, and only up to a
size bound (``read_private``); entries are written only into such a folder (``write_private``).
Whatever an entry says, no check that keeps a run on loopback is skipped (conformance/vectors.py).
"""

from __future__ import annotations

import os
import stat
import tempfile
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


def private(st: os.stat_result) -> bool:
    """Owned by this user and writable by no one else."""
    return hasattr(os, "getuid") and st.st_uid == os.getuid() and not st.st_mode & 0o022


def private_folder(folder: Path | str) -> bool:
    """``folder`` is a folder (not a link to one) of this user that no one else can write to."""
    try:
        st = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and private(st)


def read_private(path: Path | str, limit: int) -> bytes | None:
    """The bytes of the cache file ``path``, or None when it must not be trusted or cannot be read:
    its folder or the file is not this user's alone (private_folder, private), the file is a link
    or not a regular file (a FIFO, a device), or it holds more than ``limit`` bytes. Opening never
    blocks (O_NONBLOCK, for a FIFO) and at most ``limit`` + 1 bytes are read."""
    if not private_folder(os.path.dirname(os.fspath(path)) or "."):
        return None
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not private(st) or st.st_size > limit:
            return None
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return None if len(data) > limit else data
    except OSError:
        return None
    finally:
        os.close(fd)


def write_private(path: Path | str, data: bytes) -> bool:
    """Write ``data`` to the cache file ``path`` atomically (a new file of mode 0600 in the same
    folder, then a rename), in a folder made with mode 0700 if missing; nothing is written into a
    folder that is not this user's alone. False when nothing was written."""
    folder = os.path.dirname(os.fspath(path)) or "."
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return False
    if not private_folder(folder):
        return False
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(os.fspath(path))}.", suffix=".tmp")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
