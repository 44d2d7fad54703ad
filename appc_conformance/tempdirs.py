"""Temporary folders of the suite's processes: one folder per process, under one parent per
user (``$TMPDIR/appc-conformance-UID``, mode 0700), swept when their process is gone.

A process killed outright (SIGKILL, a power cut) cannot remove its own folder; the next process
that makes a folder of the same kind removes those whose process no longer runs. Only folders
under the user's own parent are ever swept: when that parent is not safely this user's (another
user's, a link, open to others), the folder goes in the system's temporary folder and nothing is
swept. Used by the mock servers' test CA (servers/ca.py) and by the reference adapter for its
GnuPG homes; standard library only, so an adapter can import it without the harness.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile


def private_parent() -> str | None:
    """The per-user parent folder, made if needed, or None when it is not safely this user's."""
    if not hasattr(os, "getuid"):
        return None
    path = os.path.join(tempfile.gettempdir(), f"appc-conformance-{os.getuid()}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return path


def alive(pid: int) -> bool:
    """Whether a process with this id exists (this pid namespace)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists
        return True
    return True


def sweep(parent: str, prefix: str) -> list[str]:
    """Remove the folders ``PREFIX``PID``-*`` under ``parent`` whose process is gone; return
    their names."""
    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        pid = name[len(prefix):].split("-", 1)[0]
        if name.startswith(prefix) and pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)  # a link is refused, not followed
            removed.append(name)
    return removed


def make(prefix: str) -> str:
    """A new folder of this process, ``PREFIX``PID``-RANDOM``, in the per-user parent after
    sweeping that parent's folders of the same prefix whose process is gone; in the system's
    temporary folder, unswept, when the parent cannot be used."""
    parent = private_parent()
    if parent is not None:
        sweep(parent, prefix)
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-" if parent else f"appc-conformance-{prefix}", dir=parent)
