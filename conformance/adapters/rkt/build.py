"""Build the rkt adapter (``adapter.go``) against an rkt source tree the user gives, in GOPATH mode.

``build()`` returns the path of a compiled adapter binary, compiling it only when no binary for
this exact ``adapter.go``, rkt tree and Go toolchain is cached yet (in the same cache folder as
the go-appc adapter: ``$XDG_CACHE_HOME/appc-conformance``, else ``~/.cache/appc-conformance``).
The binary is written to a temporary file and renamed into place, so two runs may build at once.

Which tree: ``rkt_src`` (``--rkt-src DIR`` on ``appc-conformance run`` and on the pytest plugin),
else the environment's ``RKT_SRC``. A tree is the root of a checkout of the rkt repository
(https://github.com/rkt/rkt, archived; its last commit is 171c416f): it holds ``rkt/image/``,
``pkg/keystore/`` and ``vendor/``. The build copies the tree (without ``.git``) into a private
GOPATH as ``github.com/rkt/rkt``, puts ``adapter.go`` in a folder of its own inside that copy, so
that rkt's own ``vendor/`` supplies every dependency, and runs ``go build`` with
``GO111MODULE=off``. The user's tree is never written to.

What the results say about the tree: the adapter reports the version of the tree's
``configure.ac`` and, in a git checkout, ``.COMMIT`` (12 hex digits) and ``-dirty`` when it has
uncommitted changes: ``1.30.0+git.171c416f1a2b``. The tree's path is never recorded (results files
are published); ``-trimpath`` keeps it out of the binary too.

``python -m appc_conformance.conformance.adapters.rkt.build [--rkt-src DIR]`` prints the binary's
path (exit 3 when Go or a tree is missing, 2 when DIR is not an rkt tree, 1 when the build fails).
``APPC_CONFORMANCE_GO`` names the go binary to use (default: ``go`` on PATH, then /usr/bin/go).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .. import gotool

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "adapter.go"
IMPORT_PATH = "github.com/rkt/rkt"
ADAPTER_DIR = "appc-conformance-adapter"  # the adapter's package folder inside the copy of the tree
ENV_RKT_SRC = "RKT_SRC"
REPOSITORY = "https://github.com/rkt/rkt"
LAST_COMMIT = "171c416f"
GET_TREE = (
    f"give an rkt source tree with --rkt-src DIR or the environment variable {ENV_RKT_SRC}: "
    f"a checkout of {REPOSITORY} (archived; its last commit is {LAST_COMMIT}), "
    f"e.g. git clone {REPOSITORY}"
)
INSTALL_GO = "apt-get install golang-go"
# Folders an rkt tree has: the packages the adapter imports, and the vendored dependencies.
TREE_MARKS = ("rkt/image", "pkg/keystore", "rkt/pubkey", "rkt/config", "store/imagestore", "vendor")


class NotAvailable(gotool.NotAvailable):
    """No rkt tree was given, or Go is not installed; the message says how to get them."""


class TreeError(NotAvailable, gotool.TreeError):
    """The folder given is not an rkt source tree."""


class BuildError(gotool.BuildError):
    """Go and the tree are there, but the adapter did not compile against it."""


@dataclass(frozen=True)
class RktTree:
    path: Path
    version: str  # from configure.ac's AC_INIT
    commit: str | None = None
    dirty: bool = False

    def label(self) -> str:
        """What the adapter adds to the version: '.COMMIT12[-dirty]', '' outside git."""
        if not self.commit:
            return ""
        return f".{self.commit[:12]}" + ("-dirty" if self.dirty else "")


def tree_version(path: Path) -> str:
    """The version in the tree's configure.ac (``AC_INIT([rkt], [1.30.0+git], ...)``)."""
    try:
        text = (path / "configure.ac").read_text(errors="replace")
    except OSError:
        return "unknown"
    m = re.search(r"AC_INIT\(\s*\[?rkt\]?\s*,\s*\[?([^\],)\s]+)", text)
    return m.group(1) if m else "unknown"


def rkt_tree(rkt_src: str | os.PathLike | None = None, env: Mapping[str, str] | None = None) -> RktTree:
    """The tree to build against: ``rkt_src``, else $RKT_SRC; NotAvailable when neither is set."""
    env = os.environ if env is None else env
    src = rkt_src if rkt_src not in (None, "") else env.get(ENV_RKT_SRC) or None
    if src is None:
        raise NotAvailable(f"no rkt source tree; {GET_TREE}")
    path = Path(src).expanduser()
    if not path.is_dir():
        raise TreeError(f"rkt tree {src}: no such folder; {GET_TREE}")
    path = path.resolve()
    missing = [m for m in TREE_MARKS if not (path / m).is_dir()]
    if missing:
        raise TreeError(
            f"{src} is not an rkt source tree: it has no {', '.join(missing)} "
            f"(give the root of a checkout of {REPOSITORY})"
        )
    commit, dirty = gotool.checkout_state(path)
    return RktTree(path, tree_version(path), commit, dirty)


def find_go() -> str:
    return gotool.find_go(NotAvailable, INSTALL_GO)


def tree_digest(path: Path) -> bytes:
    """sha256 over the tree's Go files and configure.ac (names and contents): an edit rebuilds."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for f in sorted(filenames):
            if f.endswith((".go", ".s")) or (f == "configure.ac" and dirpath == str(path)):
                p = Path(dirpath) / f
                h.update(str(p.relative_to(path)).encode() + b"\0")
                try:
                    h.update(p.read_bytes())
                except OSError:
                    continue
                h.update(b"\0")
    return h.digest()


def ldflags(tree: RktTree) -> tuple:
    version = tree.version + tree.label()
    return (
        "-ldflags",
        f"-X main.treeVersion={tree.version} -X main.treeLabel={tree.label()} "
        f"-X {IMPORT_PATH}/version.Version={version}",
    )


def build(cache_dir: Path | None = None, rkt_src=None) -> Path:
    """Return the path of an adapter binary built from ``adapter.go`` and the rkt tree."""
    tree = rkt_tree(rkt_src)
    go = find_go()
    version = gotool.go_version(go, NotAvailable, INSTALL_GO)
    source = SOURCE.read_bytes()
    key = hashlib.sha256()
    for part in (
        source,
        version.encode(),
        repr(gotool.BUILD_FLAGS).encode(),
        repr(sorted(gotool.BUILD_ENV.items())).encode(),
        repr(ldflags(tree)).encode(),
        tree_digest(tree.path),
    ):
        key.update(part)
        key.update(b"\0")
    cache = Path(cache_dir) if cache_dir is not None else gotool.default_cache_dir()
    binary = cache / f"rkt-adapter-{key.hexdigest()[:16]}"
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary

    cache.mkdir(parents=True, exist_ok=True)
    env = gotool.build_env(cache)
    with tempfile.TemporaryDirectory(prefix=".rkt-adapter-", dir=cache) as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "gopath" / "src" / IMPORT_PATH
        # A private copy: a concurrent edit of the tree cannot mix into the build, and the
        # adapter's package sits inside it, where rkt's vendor/ applies.
        shutil.copytree(tree.path, root, ignore=shutil.ignore_patterns(".git"), symlinks=True)
        pkg = root / ADAPTER_DIR
        pkg.mkdir()
        (pkg / "main.go").write_bytes(source)
        env["GOPATH"] = str(tmp / "gopath")
        out = tmp / "rkt-adapter"
        proc = subprocess.run(
            [go, "build", *gotool.BUILD_FLAGS, *ldflags(tree), "-o", str(out), f"./{ADAPTER_DIR}"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if proc.returncode != 0 or not out.is_file():
            raise BuildError(
                f"go build of {SOURCE.name} against the rkt tree {tree.version}{tree.label()} "
                f"failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
            )
        os.chmod(out, 0o755)
        os.replace(out, binary)  # atomic; a concurrent builder's rename is equally good
    return binary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m appc_conformance.conformance.adapters.rkt.build",
        description="Build the rkt adapter against an rkt source tree and print the binary's path.",
    )
    ap.add_argument("--rkt-src", metavar="DIR", help=f"root of an rkt checkout (default: ${ENV_RKT_SRC})")
    args = ap.parse_args(argv)
    return gotool.cli_outcome(lambda: build(rkt_src=args.rkt_src))


if __name__ == "__main__":
    sys.exit(main())
