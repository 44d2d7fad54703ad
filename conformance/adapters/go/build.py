"""Build the Go adapter (``adapter.go``) against an appc/spec source tree, in GOPATH mode.

``build()`` returns the path of a compiled adapter binary, compiling it only when no binary
for these exact sources, appc/spec tree and Go toolchain is cached yet. The binary is
written to a temporary file and renamed into place, so two processes may build at once.

What the tree offers is found out by compiling it, not from a version string: before a build,
each probe of ``probes/`` (a few lines that use one API: discovery with a port, an app's tag,
the image tags document, image tags discovery, an app's MergeTag, a dependency's tag) is
compiled against the tree. The probes that compile become build tags, which select the
``lib_*.go`` files built with ``adapter.go`` (each file's ``go:build`` line says which). The
result is kept beside the binary (``BINARY.api.json``); ``api()`` returns it: the probes and
the profile the build claims (``appc-imagetags`` when the app string parser makes ':' a tag,
else ``appc-0.8.11``; docs/DECISIONS.md).

Which appc/spec tree: ``spec_src`` (``--spec-src DIR`` on the command line), else the
environment's ``APPC_SPEC_SRC``, else Debian's library (golang-github-appc-spec-dev). A tree is
the root of a checkout of the appc/spec repository (it holds ``discovery/`` and
``schema/types/``), at any commit: a spec change can be built and compared with its base. Its
``golang.org/x/net`` dependency comes from the tree's own ``vendor/`` when it has one, else from
Debian's (golang-golang-x-net-dev, installed with the library).

What the results say about the tree: a binary built from another tree than Debian's reports
the version ``VERSION+NAME.COMMIT`` in its handshake (``0.8.11+change.1a2b3c4d5e6f``; ``-dirty``
when the checkout has uncommitted changes; no ``.COMMIT`` outside git), and the results files
and reports carry that version. NAME is ``spec_name`` (``--spec-name``, ``APPC_SPEC_NAME``),
else the tree folder's name. The tree's path is never recorded: it is a path of the machine
that built it, and results files are published. ``-trimpath`` keeps it out of the binary too.

``build_actool()`` builds actool (the tree's ``actool/`` command) the same way, for runs of the
actool adapter against a tree (``ACTOOL=PATH`` or ``--actool PATH`` for that adapter).

``python -m appc_conformance.conformance.adapters.go.build [--spec-src DIR] [--spec-name NAME] [--actool | --api]``
prints the binary's path (``--api``: what the probes found, as JSON) (exit 3 when Go or the library is not installed, 1 when the build
fails, 2 when DIR is not an appc/spec tree). ``APPC_CONFORMANCE_GO`` names the go binary to use
(default: ``go`` on PATH, then /usr/bin/go).
"""

from __future__ import annotations

import argparse
import hashlib
import json
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
PROBES = HERE / "probes"
# Probe names, in the order they run; each is probes/NAME.go and, when it compiles, the build tag NAME.
PROBE_NAMES = ("discport", "apptag", "imagetags", "discimagetags", "appmergetag", "deptag")
PROFILE_0811 = "appc-0.8.11"
PROFILE_TAGS = "appc-imagetags"
GOCODE = Path("/usr/share/gocode")
LIBRARY = GOCODE / "src" / "github.com" / "appc" / "spec"
IMPORT_PATH = "github.com/appc/spec"
# Packages adapter.go needs from the library, and the library's one outside dependency.
NEEDED = (
    LIBRARY / "discovery",
    LIBRARY / "schema" / "types",
    GOCODE / "src" / "golang.org" / "x" / "net" / "html",
)
INSTALL = "apt-get install golang-go golang-github-appc-spec-dev"
ENV_SPEC_SRC = "APPC_SPEC_SRC"
ENV_SPEC_NAME = "APPC_SPEC_NAME"


class NotAvailable(gotool.NotAvailable):
    """Go or the appc/spec library source is not installed; the message says how to install."""


class BuildError(gotool.BuildError):
    """The toolchain and library are there, but the adapter did not compile (a bug)."""


class SpecTreeError(NotAvailable, gotool.TreeError):
    """The appc/spec tree given (--spec-src, APPC_SPEC_SRC) is not one (so that implementation
    cannot be had: callers that handle NotAvailable report it as such)."""


@dataclass(frozen=True)
class SpecTree:
    """An appc/spec source tree to build against."""

    path: Path
    name: str | None = None  # None: Debian's library (the default)
    commit: str | None = None  # the checkout's git commit, when it is one
    dirty: bool = False  # the checkout has uncommitted changes

    @property
    def default(self) -> bool:
        return self.name is None

    def label(self) -> str:
        """What the binary adds to its version: '' for Debian's library, else '+NAME[.COMMIT][-dirty]'."""
        if self.name is None:  # the default: Debian's library
            return ""
        text = "+" + self.name + (f".{self.commit[:12]}" if self.commit else "")
        return text + ("-dirty" if self.dirty else "")


def _safe_name(name: str) -> str:
    """A name usable in a version string and a file name: letters, digits, '.', '-'."""
    safe = re.sub(r"[^A-Za-z0-9.-]+", "-", name).strip(".-")
    return safe or "tree"


def spec_tree(
    spec_src: str | os.PathLike | None = None, spec_name: str | None = None, env: Mapping[str, str] | None = None
) -> SpecTree:
    """The tree to build against: ``spec_src``, else $APPC_SPEC_SRC, else Debian's library."""
    env = os.environ if env is None else env
    src = spec_src if spec_src not in (None, "") else env.get(ENV_SPEC_SRC) or None
    if src is None:
        return SpecTree(LIBRARY)
    path = Path(src).expanduser()
    if not path.is_dir():
        raise SpecTreeError(f"appc/spec tree {src}: no such folder")
    path = path.resolve()
    missing = [d for d in ("discovery", "schema/types") if not (path / d).is_dir()]
    if missing:
        raise SpecTreeError(
            f"{src} is not an appc/spec source tree: it has no {' or '.join(missing)} folder "
            f"(give the root of a checkout of the appc/spec repository)"
        )
    if path == LIBRARY.resolve() and not (spec_name or env.get(ENV_SPEC_NAME)):
        return SpecTree(LIBRARY)
    name = _safe_name(spec_name or env.get(ENV_SPEC_NAME) or path.name)
    commit, dirty = gotool.checkout_state(path)
    return SpecTree(path, name, commit, dirty)


def results_id(spec_src=None, spec_name: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The implementation's ID in results and expectations: ``go-appc`` for Debian's library,
    ``go-appc-NAME`` for another tree (its build is another implementation, with its own known
    failures, ``expectations/go-appc-NAME.json``)."""
    tree = spec_tree(spec_src, spec_name, env)
    return "go-appc" if tree.default else f"go-appc-{tree.name}"


def find_go() -> str:
    return gotool.find_go(NotAvailable, INSTALL)


def _check_library(tree: SpecTree) -> None:
    if tree.default:
        missing = [str(p) for p in NEEDED if not p.is_dir()]
    else:
        net = [tree.path / "vendor" / "golang.org" / "x" / "net" / "html", NEEDED[-1]]
        missing = [] if any(p.is_dir() for p in net) else [str(NEEDED[-1])]
    if missing:
        raise NotAvailable(
            f"the appc/spec Go library source is missing ({', '.join(missing)}); install it with: {INSTALL}"
        )


def _tree_digest(tree: SpecTree) -> bytes:
    """sha256 over the tree's Go files (names and contents): an edit of the library rebuilds."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(tree.path):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for f in sorted(filenames):
            if f.endswith(".go") or f in ("go.mod", "go.sum"):
                p = Path(dirpath) / f
                h.update(str(p.relative_to(tree.path)).encode() + b"\0")
                try:
                    h.update(p.read_bytes())
                except OSError:
                    continue
                h.update(b"\0")
    return h.digest()


def _gopath(tree: SpecTree, tmp: Path) -> str:
    """GOPATH for a build: a private copy of the tree first (a concurrent edit cannot mix into the
    build, and its vendor/ is used), then Debian's gocode for the dependencies."""
    if tree.default:
        return str(GOCODE)
    dest = tmp / "gopath" / "src" / IMPORT_PATH
    shutil.copytree(tree.path, dest, ignore=shutil.ignore_patterns(".git"), symlinks=True)
    return f"{tmp / 'gopath'}{os.pathsep}{GOCODE}"


def _ldflags(tree: SpecTree) -> tuple:
    if tree.default:
        return ()
    return ("-ldflags", f"-X main.specLabel={tree.label()}")


def _compile(kind: str, target: str, tree: SpecTree, cache_dir: Path | None, extra: bytes) -> Path:
    go = find_go()
    _check_library(tree)
    version = gotool.go_version(go, NotAvailable, INSTALL)

    key = hashlib.sha256()
    for part in (
        extra,
        version.encode(),
        repr(gotool.BUILD_FLAGS).encode(),
        repr(sorted(gotool.BUILD_ENV.items())).encode(),
    ):
        key.update(part)
        key.update(b"\0")
    if not tree.default:  # Debian's library keeps the key it always had
        key.update(_tree_digest(tree) + repr(_ldflags(tree)).encode())
    cache = Path(cache_dir) if cache_dir is not None else gotool.default_cache_dir()
    stem = kind if tree.default else f"{kind}-{tree.name}"
    binary = cache / f"{stem}-{key.hexdigest()[:16]}"
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary

    cache.mkdir(parents=True, exist_ok=True)
    env = gotool.build_env(cache)

    with tempfile.TemporaryDirectory(prefix=f".{kind}-", dir=cache) as tmp_name:
        tmp = Path(tmp_name)
        if tree.default:
            gopath = cache / "gopath"
            gopath.mkdir(exist_ok=True)
            env["GOPATH"] = f"{gopath}{os.pathsep}{GOCODE}"
        else:
            env["GOPATH"] = _gopath(tree, tmp)
        cwd, probes = tmp, None
        tags: tuple[str, ...] = ()
        if target == "adapter.go":
            # The sources are copied too, so a concurrent edit cannot mix into this build.
            probes = _probe(go, env, tmp)
            tags = tuple(name for name in PROBE_NAMES if probes[name])
            cwd = tmp / "src"
            cwd.mkdir()
            for name, data in adapter_sources().items():
                (cwd / name).write_bytes(data)
            target = "."
        out = tmp / kind
        tag_flags = ("-tags", ",".join(tags)) if tags else ()
        proc = subprocess.run(
            [go, "build", *gotool.BUILD_FLAGS, *tag_flags, *_ldflags(tree), "-o", str(out), target],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if proc.returncode != 0 or not out.is_file():
            what = SOURCE if kind == "go-adapter" else target
            found = f" (probes that compiled: {', '.join(tags) or 'none'})" if probes is not None else ""
            raise BuildError(
                f"go build of {what} against the appc/spec tree "
                f"{'of Debian' if tree.default else tree.name} failed "
                f"(exit {proc.returncode}){found}:\n{proc.stdout}{proc.stderr}"
            )
        os.chmod(out, 0o755)
        if probes is not None:  # beside the binary, before it: a binary found in the cache has it
            side = tmp / "api.json"
            side.write_text(json.dumps({"probes": probes}, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(side, f"{binary}.api.json")
        os.replace(out, binary)  # atomic; a concurrent builder's rename is equally good
    return binary


def adapter_sources() -> dict[str, bytes]:
    """{file name: contents} of the adapter: adapter.go and the lib_*.go files."""
    return {p.name: p.read_bytes() for p in [SOURCE, *sorted(HERE.glob("lib_*.go"))]}


def probe_sources() -> dict[str, bytes]:
    return {name: (PROBES / f"{name}.go").read_bytes() for name in PROBE_NAMES}


def claimed_profiles(probes: dict) -> list[str]:
    """The profile a build claims from its probes (the same rule as claimedProfile in adapter.go)."""
    return [PROFILE_TAGS] if probes.get("apptag") else [PROFILE_0811]


def _bundle(parts: dict[str, bytes]) -> bytes:
    return b"".join(name.encode() + b"\0" + data + b"\0" for name, data in sorted(parts.items()))


def _probe(go: str, env: dict, tmp: Path) -> dict:
    """{probe: compiles?}: each probe of probes/ compiled against the tree on env's GOPATH."""
    found = {}
    for name in PROBE_NAMES:
        d = tmp / "probe" / name
        d.mkdir(parents=True)
        (d / f"{name}.go").write_bytes((PROBES / f"{name}.go").read_bytes())
        proc = subprocess.run(
            [go, "build", *gotool.BUILD_FLAGS, "."], cwd=d, env=env, capture_output=True, text=True, timeout=900
        )
        found[name] = proc.returncode == 0
    return found


def build(cache_dir: Path | None = None, spec_src=None, spec_name: str | None = None) -> Path:
    """Return the path of an adapter binary built from the current sources and the tree."""
    tree = spec_tree(spec_src, spec_name)
    extra = _bundle(adapter_sources()) + _bundle(probe_sources())
    return _compile("go-adapter", "adapter.go", tree, cache_dir, extra)


def api(cache_dir: Path | None = None, spec_src=None, spec_name: str | None = None) -> dict:
    """What the build against the tree found: {"probes": {name: bool}, "profiles": [...]}
    (builds it when it is not cached yet)."""
    binary = build(cache_dir, spec_src, spec_name)
    try:
        probes = json.loads(Path(f"{binary}.api.json").read_text(encoding="utf-8"))["probes"]
    except (OSError, ValueError, KeyError, TypeError):  # a binary cached before probes existed
        raise BuildError(f"{binary}.api.json is missing or unreadable: remove {binary} to rebuild") from None
    return {"probes": probes, "profiles": claimed_profiles(probes)}


def build_actool(cache_dir: Path | None = None, spec_src=None, spec_name: str | None = None) -> Path:
    """Return the path of an actool binary built from the tree's ``actool/`` command."""
    tree = spec_tree(spec_src, spec_name)
    if not (tree.path / "actool").is_dir():
        raise SpecTreeError(f"the appc/spec tree {tree.name or 'of Debian'} has no actool/ folder")
    return _compile("actool", f"{IMPORT_PATH}/actool", tree, cache_dir, b"actool")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m appc_conformance.conformance.adapters.go.build",
        description="Build the Go adapter (or actool) against an appc/spec tree and print the binary's path.",
    )
    ap.add_argument(
        "--spec-src",
        metavar="DIR",
        help=f"root of an appc/spec checkout (default: ${ENV_SPEC_SRC}, else Debian's library)",
    )
    ap.add_argument(
        "--spec-name",
        metavar="NAME",
        help=f"the tree's name in the version the adapter reports (default: ${ENV_SPEC_NAME}, else the folder's name)",
    )
    ap.add_argument("--actool", action="store_true", help="build the tree's actool instead of the adapter")
    ap.add_argument(
        "--api",
        action="store_true",
        help="print what the probes found in the tree and the profile the build claims (JSON)",
    )
    args = ap.parse_args(argv)
    if args.api:
        return gotool.cli_outcome(
            lambda: json.dumps(api(spec_src=args.spec_src, spec_name=args.spec_name), sort_keys=True)
        )
    make = build_actool if args.actool else build
    return gotool.cli_outcome(lambda: make(spec_src=args.spec_src, spec_name=args.spec_name))


if __name__ == "__main__":
    sys.exit(main())
