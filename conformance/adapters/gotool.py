"""What the builds of the Go adapters share (go-appc's ``go/build.py``, rkt's ``rkt/build.py``):
finding the Go toolchain, the build's flags and environment (GOPATH mode), the cache folder, and
what git says of the tree built against.

Each build module passes its own ``NotAvailable`` class and install hint, so a missing toolchain
is reported as that implementation being not available, with the command that installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable


class NotAvailable(Exception):
    """What a build needs is missing (each build module's own subclass says what)."""


class TreeError(NotAvailable):
    """The folder given as the tree to build against is not such a tree."""


class BuildError(RuntimeError):
    """The toolchain and the tree are there, but the adapter did not compile (a bug)."""


def cli_outcome(action: Callable[[], object]) -> int:
    """The exit status of a build module's command line: 0 with what ``action`` returns printed,
    2 for a folder that is not a tree, 3 for what is not available, 1 for a failed build."""
    try:
        out = action()
    except TreeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except NotAvailable as exc:
        print(f"not available: {exc}", file=sys.stderr)
        return 3
    except BuildError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(out)
    return 0


# Part of each binary's cache key: a change here rebuilds.
BUILD_FLAGS = ("-trimpath",)
BUILD_ENV = {"GO111MODULE": "off", "CGO_ENABLED": "0", "GOFLAGS": ""}
GO_OVERRIDE = "APPC_CONFORMANCE_GO"  # names a specific toolchain's go binary


def git(tree: Path, *args: str) -> str | None:
    """git's output in ``tree``, or None when git fails or is missing."""
    try:
        out = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def checkout_state(path: Path) -> tuple[str | None, bool]:
    """(the commit checked out, whether tracked files have uncommitted changes); (None, False)
    outside git."""
    commit = None
    if git(path, "rev-parse", "--is-inside-work-tree") == "true":
        commit = git(path, "rev-parse", "--verify", "HEAD")
    dirty = bool(commit) and bool(git(path, "status", "--porcelain", "--untracked-files=no", "--", "."))
    return commit, dirty


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "appc-conformance"


def build_env(cache: Path) -> dict:
    """The environment of an adapter's go build: this process's, with BUILD_ENV, and a build
    cache in ``cache`` when go would have none (no GOCACHE, XDG_CACHE_HOME or HOME)."""
    env = dict(os.environ)
    env.update(BUILD_ENV)
    if not (env.get("GOCACHE") or env.get("XDG_CACHE_HOME") or env.get("HOME")):
        env["GOCACHE"] = str(cache / "go-build")
    return env


def find_go(not_available: type[Exception], install: str) -> str:
    """The go binary: $APPC_CONFORMANCE_GO, else go on the PATH, else Debian's places."""
    override = os.environ.get(GO_OVERRIDE)
    if override:
        if not os.access(override, os.X_OK):
            raise not_available(f"{GO_OVERRIDE}={override} is not an executable; install Go with: {install}")
        return override
    go = shutil.which("go")
    if go is None:
        for candidate in ("/usr/bin/go", "/usr/lib/go/bin/go"):
            if os.access(candidate, os.X_OK):
                return candidate
        raise not_available(f"the Go toolchain (go) is not installed; install it with: {install}")
    return go


def go_version(go: str, not_available: type[Exception], install: str) -> str:
    """``go version``'s line (part of the cache key: another toolchain rebuilds)."""
    try:
        out = subprocess.run(
            [go, "version"], capture_output=True, text=True, timeout=60, env={**os.environ, "GO111MODULE": "off"}
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise not_available(f"cannot run {go} version ({exc}); install Go with: {install}") from exc
    if out.returncode != 0:
        raise not_available(f"{go} version failed: {out.stderr.strip()}; install Go with: {install}")
    return out.stdout.strip()
