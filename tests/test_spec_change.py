"""Gating a change of the appc/spec repository (README, "Gating a spec change"):

- the Go adapter builds against any appc/spec tree (``--spec-src``, APPC_SPEC_SRC), and the
  version it reports names the tree and its commit, not its path;
- the actool adapter takes the binary and the profiles to claim, and an actool without
  ``--port`` is run in the 443/80 mode instead of failing;
- ci/spec-change.sh builds both sides, runs the suite on both, and exits 1 naming the
  regression when the change breaks a function of the library.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from appc_conformance.conformance.adapters.go import build as go_build
from tests.helpers import ROOT

SCRIPT = ROOT / "ci" / "spec-change.sh"
ACTOOL = shutil.which("actool") or "/usr/bin/actool"


def _git(tree: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(tree), "-c", "user.email=ci@example.org", "-c", "user.name=ci", *args],
                   check=True, capture_output=True, timeout=60)


def spec_copy(dest: Path) -> Path:
    """A git checkout holding a copy of Debian's appc/spec tree (skips when it is not installed)."""
    if not (go_build.LIBRARY / "discovery").is_dir():
        pytest.skip(f"Debian's appc/spec library is not installed ({go_build.INSTALL})")
    shutil.copytree(go_build.LIBRARY, dest)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "base")
    return dest


def _hello(argv: list, env: dict | None = None, profile: str = "appc-0.8.11") -> dict:
    req = json.dumps({"op": "hello", "protocol": 1, "protocol_minor": 1, "profile": profile})
    out = subprocess.run(argv, input=req + "\n", capture_output=True, text=True, timeout=120,
                         env={**os.environ, **(env or {})}, cwd=ROOT)
    return json.loads(out.stdout.splitlines()[0])


# ----------------------------------------------------------------------------- the tree

def _need_go() -> None:
    """Skip the test when no Go toolchain is found."""
    try:
        go_build.find_go()
    except go_build.NotAvailable as exc:
        pytest.skip(str(exc))


def test_default_tree_is_debians_and_keeps_its_version(monkeypatch):
    monkeypatch.delenv(go_build.ENV_SPEC_SRC, raising=False)
    tree = go_build.spec_tree()
    assert tree.default and tree.label() == ""


def test_tree_name_and_commit_not_path(tmp_path, monkeypatch):
    tree_dir = tmp_path / "my spec"
    (tree_dir / "discovery").mkdir(parents=True)
    (tree_dir / "schema" / "types").mkdir(parents=True)
    (tree_dir / "discovery" / "x.go").write_text("package discovery\n")
    tree = go_build.spec_tree(tree_dir)
    assert tree.name == "my-spec" and tree.commit is None and tree.label() == "+my-spec"
    _git(tree_dir, "init", "-q")
    _git(tree_dir, "add", "-A")
    _git(tree_dir, "commit", "-q", "-m", "one")
    monkeypatch.setenv(go_build.ENV_SPEC_SRC, str(tree_dir))
    monkeypatch.setenv(go_build.ENV_SPEC_NAME, "change")
    tree = go_build.spec_tree()
    assert tree.commit and len(tree.commit) == 40 and not tree.dirty
    assert tree.label() == f"+change.{tree.commit[:12]}"
    assert str(tmp_path) not in tree.label()
    (tree_dir / "discovery" / "x.go").write_text("package discovery\n// edited\n")
    assert go_build.spec_tree().label().endswith("-dirty")


def test_a_folder_that_is_no_spec_tree_is_a_clear_error(tmp_path):
    with pytest.raises(go_build.SpecTreeError, match="no such folder"):
        go_build.spec_tree(tmp_path / "missing")
    with pytest.raises(go_build.SpecTreeError, match="not an appc/spec source tree"):
        go_build.spec_tree(tmp_path)
    out = subprocess.run([sys.executable, "-m", "appc_conformance.conformance.adapters.go.build", "--spec-src", str(tmp_path)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 2 and "not an appc/spec source tree" in out.stderr


@pytest.mark.go
def test_adapter_built_from_another_tree_reports_it(tmp_path):
    _need_go()
    tree = spec_copy(tmp_path / "spec")
    default = go_build.build()
    other = go_build.build(spec_src=tree, spec_name="base")
    assert other != default and other.name.startswith("go-adapter-base-")
    hello = _hello([str(other)])
    version = hello["ok"]["implementation"]["version"]
    assert version.startswith("0.8.11+base.") and len(version.split(".")[-1]) == 12, version
    assert _hello([str(default)])["ok"]["implementation"]["version"] == "0.8.11"
    assert str(tmp_path).encode() not in other.read_bytes()  # -trimpath: no machine path inside


# ----------------------------------------------------------------------------- actool

@pytest.fixture
def actool_without_port(tmp_path):
    """actool as an older release: no --port in its help, and a usage error when given one."""
    if not os.access(ACTOOL, os.X_OK):
        pytest.skip("actool is not installed (apt-get install appc-spec)")
    wrapper = tmp_path / "old-actool"
    wrapper.write_text(f"""#!/bin/sh
if [ "$1" = help ]; then {ACTOOL} "$@" | grep -v -- '--port' | sed 's/ \\[--port\\]//'; exit 0; fi
for a in "$@"; do [ "$a" = --port ] && {{ echo "flag provided but not defined: -port" >&2; exit 2; }}; done
exec {ACTOOL} "$@"
""")
    wrapper.chmod(0o755)
    return wrapper


def test_actool_adapter_takes_binary_and_profiles(actool_without_port):
    cmd = [sys.executable, "-m", "appc_conformance.conformance.adapters.actool"]
    plain = _hello(cmd)
    assert plain["ok"]["features"] == ["custom-port"]  # Debian's actool has --port
    assert plain["ok"]["profiles"] == ["appc-0.8.11"]
    old = _hello(cmd + ["--actool", str(actool_without_port)])
    assert "ok" in old and "custom-port" not in old["ok"]["features"]
    by_env = _hello(cmd, env={"ACTOOL": str(actool_without_port)})
    assert "custom-port" not in by_env["ok"]["features"]
    claimed = _hello(cmd + ["--profile", "appc-imagetags"], profile="appc-imagetags")
    assert claimed["ok"]["profiles"] == ["appc-imagetags"]
    by_env = _hello(cmd, env={"APPC_ACTOOL_PROFILES": "appc-0.8.11,appc-imagetags"}, profile="appc-imagetags")
    assert by_env["ok"]["profiles"] == ["appc-0.8.11", "appc-imagetags"]
    assert "unsupported" in _hello(cmd, profile="appc-imagetags")
    missing = _hello(cmd + ["--actool", "/nonexistent/actool"])
    assert "not an executable" in missing["unsupported"]


def test_actool_without_port_is_not_failed(actool_without_port):
    reqs = [{"op": "hello", "protocol": 1, "protocol_minor": 1, "profile": "appc-0.8.11"},
            {"id": 1, "op": "discover", "args": {"app": "example.com/app", "port": 8443}}]
    out = subprocess.run([sys.executable, "-m", "appc_conformance.conformance.adapters.actool", "--actool", str(actool_without_port)],
                         input="".join(json.dumps(r) + "\n" for r in reqs), capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert "--port" in answers[1]["unsupported"], answers  # declined, not a usage-error failure


# ----------------------------------------------------------------------------- the CI recipe

def test_recipe_rejects_a_folder_that_is_no_tree(tmp_path):
    proc = subprocess.run(["bash", str(SCRIPT), str(tmp_path), str(tmp_path)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHON": sys.executable})
    assert proc.returncode == 2 and "not an appc/spec source tree" in proc.stderr


@pytest.mark.go
@pytest.mark.slow
def test_recipe_fails_on_a_regression_of_a_patched_library(tmp_path):
    _need_go()
    base = spec_copy(tmp_path / "base")
    change = tmp_path / "change"
    shutil.copytree(base, change)
    parse = change / "discovery" / "parse.go"
    text = parse.read_text()
    bug = 'strings.Count(app, ":") > 1'  # checkColon: "colon may appear at most once"
    assert text.count(bug) == 1
    parse.write_text(text.replace(bug, 'strings.Count(app, ":") > 2'))
    _git(change, "commit", "-q", "-am", "checkColon: allow a second colon (a deliberate bug)")

    def recipe(a: Path, b: Path, out: Path):
        return subprocess.run(["bash", str(SCRIPT), "--impl", "go-appc", "--out", str(out), str(a), str(b),
                               "--", "--case", "app-strings/colon/*", "--profile", "appc-0.8.11"],
                              capture_output=True, text=True, timeout=900, cwd=tmp_path,
                              env={**os.environ, "PYTHON": sys.executable})

    bad = recipe(base, change, tmp_path / "out")
    assert bad.returncode == 1, bad.stdout[-3000:] + bad.stderr[-3000:]
    assert "REGRESSION app-strings/colon/double-colon [appc-0.8.11] pass -> error" in bad.stdout, bad.stdout[-3000:]
    assert "0.8.11+base." in bad.stdout and "0.8.11+change." in bad.stdout
    results = json.loads((tmp_path / "out" / "change" / "go-appc" / "results-go-appc-change.json").read_text())
    assert results["implementation"]["version"].startswith("0.8.11+change.")
    assert str(tmp_path) not in results["implementation"]["version"]
    # The same tree on both sides: no regression, exit 0.
    same = recipe(base, base, tmp_path / "same")
    assert same.returncode == 0, same.stdout[-3000:] + same.stderr[-3000:]
    assert "0 regressions" in same.stdout or "no difference" in same.stdout.lower(), same.stdout[-2000:]
