"""Build the Go adapter (``adapter.go``) against Debian's appc/spec library, in GOPATH mode.

``build()`` returns the path of a compiled adapter binary, compiling it only when no binary
for this exact ``adapter.go`` and Go toolchain is cached yet. The binary is written to a
temporary file and renamed into place, so two processes may build at once.

``python -m conformance.adapters.go.build`` prints the binary's path (exit 3 when Go or the
library is not installed, 1 when the build fails). ``APPC_CONFORMANCE_GO`` names the go
binary to use (default: ``go`` on PATH, then /usr/bin/go).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "adapter.go"
GOCODE = Path("/usr/share/gocode")
LIBRARY = GOCODE / "src" / "github.com" / "appc" / "spec"
# Packages adapter.go needs from the library, and the library's one outside dependency.
NEEDED = (
    LIBRARY / "discovery",
    LIBRARY / "schema" / "types",
    GOCODE / "src" / "golang.org" / "x" / "net" / "html",
)
INSTALL = "apt-get install golang-go golang-github-appc-spec-dev"
# Part of the cache key: a change here rebuilds.
BUILD_FLAGS = ("-trimpath",)
BUILD_ENV = {"GO111MODULE": "off", "CGO_ENABLED": "0", "GOFLAGS": ""}


class NotAvailable(Exception):
    """Go or the appc/spec library source is not installed; the message says how to install."""


class BuildError(RuntimeError):
    """The toolchain and library are there, but the adapter did not compile (a bug)."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "appc-conformance"


def find_go() -> str:
    override = os.environ.get("APPC_CONFORMANCE_GO")  # a specific toolchain's go binary
    if override:
        if not os.access(override, os.X_OK):
            raise NotAvailable(f"APPC_CONFORMANCE_GO={override} is not an executable; "
                               f"install Go with: {INSTALL}")
        return override
    go = shutil.which("go")
    if go is None:
        for candidate in ("/usr/bin/go", "/usr/lib/go/bin/go"):
            if os.access(candidate, os.X_OK):
                go = candidate
                break
    if go is None:
        raise NotAvailable(f"the Go toolchain (go) is not installed; install it with: {INSTALL}")
    return go


def _go_version(go: str) -> str:
    try:
        out = subprocess.run([go, "version"], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "GO111MODULE": "off"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NotAvailable(f"cannot run {go} version ({exc}); install Go with: {INSTALL}") from exc
    if out.returncode != 0:
        raise NotAvailable(f"{go} version failed: {out.stderr.strip()}; install Go with: {INSTALL}")
    return out.stdout.strip()


def _check_library() -> None:
    missing = [str(p) for p in NEEDED if not p.is_dir()]
    if missing:
        raise NotAvailable(
            f"the appc/spec Go library source is missing ({', '.join(missing)}); "
            f"install it with: {INSTALL}")


def build(cache_dir: Path | None = None) -> Path:
    """Return the path of an adapter binary built from the current ``adapter.go``."""
    go = find_go()
    _check_library()
    version = _go_version(go)
    source = SOURCE.read_bytes()

    key = hashlib.sha256()
    for part in (source, version.encode(), repr(BUILD_FLAGS).encode(),
                 repr(sorted(BUILD_ENV.items())).encode()):
        key.update(part)
        key.update(b"\0")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    binary = cache / f"go-adapter-{key.hexdigest()[:16]}"
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary

    cache.mkdir(parents=True, exist_ok=True)
    gopath = cache / "gopath"
    gopath.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update(BUILD_ENV)
    env["GOPATH"] = f"{gopath}{os.pathsep}{GOCODE}"
    if not (env.get("GOCACHE") or env.get("XDG_CACHE_HOME") or env.get("HOME")):
        env["GOCACHE"] = str(cache / "go-build")  # go has no default cache without these

    with tempfile.TemporaryDirectory(prefix=".go-adapter-", dir=cache) as tmp:
        # The source is copied too, so a concurrent edit of adapter.go cannot mix into this build.
        src = Path(tmp) / "adapter.go"
        src.write_bytes(source)
        out = Path(tmp) / "adapter"
        proc = subprocess.run([go, "build", *BUILD_FLAGS, "-o", str(out), str(src)],
                              cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not out.is_file():
            raise BuildError(f"go build of {SOURCE} failed (exit {proc.returncode}):\n"
                             f"{proc.stdout}{proc.stderr}")
        os.chmod(out, 0o755)
        os.replace(out, binary)  # atomic; a concurrent builder's rename is equally good
    return binary


def main() -> int:
    try:
        print(build())
    except NotAvailable as exc:
        print(f"not available: {exc}", file=sys.stderr)
        return 3
    except BuildError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
