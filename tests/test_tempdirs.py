"""The suite's per-process temporary folders (appc_conformance/tempdirs.py): swept only under
the user's own parent, and only when their process is gone; nothing is followed or swept in a
parent that is not safely the user's."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

from appc_conformance import tempdirs


@pytest.fixture
def tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _dead_pid() -> int:
    return int(
        subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
        ).stdout
    )


def test_only_the_folders_of_gone_processes_are_swept(tmp):
    parent = tmp / f"appc-conformance-{os.getuid()}"
    parent.mkdir(mode=0o700)
    dead, outside = parent / f"x-{_dead_pid()}-a", tmp / "kept"
    outside.mkdir()
    (outside / "file").write_text("not the suite's")
    keep = [
        parent / f"x-{os.getppid()}-b",  # a running process's
        parent / f"x-{os.getpid()}-c",  # this process's own
        parent / f"y-{_dead_pid()}-d",  # another kind
        parent / "x-notapid-e",
    ]
    for p in (dead, *keep):
        p.mkdir()
    link = parent / f"x-{_dead_pid()}-f"
    link.symlink_to(outside)  # a dead pid's name on a link: the link's target is never touched
    made = tempdirs.make("x-")
    assert os.path.dirname(made) == str(parent) and os.path.basename(made).startswith(f"x-{os.getpid()}-")
    assert not dead.exists() and all(p.exists() for p in keep)
    assert (outside / "file").read_text() == "not the suite's"


@pytest.mark.parametrize(
    "unsafe", ["open-to-others", "a-link", "a-file"] + (["another-users"] if os.getuid() == 0 else [])
)
def test_a_parent_that_is_not_safely_the_users_is_neither_used_nor_swept(tmp, unsafe):
    parent = tmp / f"appc-conformance-{os.getuid()}"
    target = tmp / "target"
    target.mkdir(mode=0o700)
    dead = target / f"x-{_dead_pid()}-a"
    dead.mkdir()
    if unsafe == "open-to-others":
        parent.mkdir()
        parent.chmod(0o777)
        dead = parent / dead.name
        dead.mkdir()
    elif unsafe == "a-link":
        parent.symlink_to(target)
    elif unsafe == "a-file":
        parent.write_text("")
    else:
        parent.mkdir(mode=0o700)
        dead = parent / dead.name
        dead.mkdir()
        os.chown(parent, 54321, -1)
    assert tempdirs.private_parent() is None
    made = tempdirs.make("x-")
    assert os.path.dirname(made) == str(tmp) and os.path.basename(made).startswith("appc-conformance-x-")
    assert dead.exists()  # nothing swept
