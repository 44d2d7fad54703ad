"""Temporary folders of the suite's processes: one folder per process, under one parent per
user (``$TMPDIR/appc-conformance-UID``, mode 0700), swept when their process is gone.

A process killed outright (SIGKILL, a power cut) cannot remove its own folder; the next process
that makes a folder of the same kind removes those whose process no longer runs. Only folders
under the user's own parent are ever swept: when that parent is not safely this user's (another
user's, a link, open to others), the folder goes in the system's temporary folder and nothing is
swept. Used by the mock servers' test CA (servers/ca.py), the harness's test keys
(servers/artefacts.py) and the reference adapter's GnuPG homes; standard library only, so an
adapter can import it without the harness.

A folder that holds more than files (a GnuPG home has an agent serving it) is given a
``before_remove`` callback, run on each dead process's folder before it is removed. Cleanups
registered with ``on_exit`` run at exit, and on SIGTERM and SIGHUP (then the signal takes its
course, so the process still ends by it); Ctrl-C ends in Python's exit and runs them too.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import stat
import tempfile
import threading
from typing import Callable, Optional


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


def sweep(parent: str, prefix: str, before_remove: Optional[Callable[[str], None]] = None) -> list[str]:
    """Remove the folders ``PREFIX``PID``-*`` under ``parent`` whose process is gone (after
    ``before_remove(path)``, for a real folder, not a link); return their names."""
    removed: list[str] = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        pid = name[len(prefix) :].split("-", 1)[0]
        if name.startswith(prefix) and pid.isdigit() and not alive(int(pid)):
            path = os.path.join(parent, name)
            if before_remove is not None and os.path.isdir(path) and not os.path.islink(path):
                try:
                    before_remove(path)
                except Exception:  # noqa: BLE001 - a sweep of what others left never fails its caller
                    pass
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)  # a link is refused, not followed
            removed.append(name)
    return removed


def make(prefix: str, before_remove: Optional[Callable[[str], None]] = None) -> str:
    """A new folder of this process, ``PREFIX``PID``-RANDOM``, in the per-user parent after
    sweeping that parent's folders of the same prefix whose process is gone; in the system's
    temporary folder, unswept, when the parent cannot be used."""
    parent = private_parent()
    if parent is not None:
        sweep(parent, prefix, before_remove)
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-" if parent else f"appc-conformance-{prefix}", dir=parent)


_cleanups: list[Callable[[], None]] = []
_cleanups_lock = threading.Lock()


def on_exit(cleanup: Callable[[], None]) -> None:
    """Run ``cleanup`` at exit and on SIGTERM or SIGHUP (handlers are installed when this module
    is first imported in the main thread, where only they can be; a cleanup registered later
    from a worker thread is still run by them)."""
    with _cleanups_lock:
        _cleanups.append(cleanup)
    atexit.register(cleanup)


def _run_cleanups() -> None:
    with _cleanups_lock:
        todo = list(_cleanups)
    for cleanup in reversed(todo):
        try:
            cleanup()
        except Exception:  # noqa: BLE001 - every cleanup gets its turn
            pass


def _on_signal(signum, frame) -> None:
    _run_cleanups()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_signal_handlers() -> None:
    """On SIGTERM and SIGHUP, when nobody else handles them, run the cleanups, then let the
    signal do what it would have done."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(sig) is signal.SIG_DFL:
                signal.signal(sig, _on_signal)
        except (ValueError, OSError):
            pass


_install_signal_handlers()
