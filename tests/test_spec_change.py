"""Gating a change of the appc/spec repository (README, "Gating a spec change"):

- the Go adapter builds against any appc/spec tree (``--spec-src``, APPC_SPEC_SRC), and the
  version it reports names the tree and its commit, not its path;
- the actool adapter takes the binary and the profiles to claim, and an actool without
  ``--port`` is run in the 443/80 mode instead of failing;
- ci/spec-change.sh builds both sides, runs the suite on both, and exits 1 naming the
  regression when the change breaks a function of the library; the verdict, profile by
  profile (ci/spec_change_verdict.py), comes first; failures the base has too only on request;
- ``run --spec-src`` gives such a build its own results and expectations files.
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
    subprocess.run(
        ["git", "-C", str(tree), "-c", "user.email=ci@example.org", "-c", "user.name=ci", *args],
        check=True,
        capture_output=True,
        timeout=60,
    )


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
    out = subprocess.run(
        argv, input=req + "\n", capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}, cwd=ROOT
    )
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
    out = subprocess.run(
        [sys.executable, "-m", "appc_conformance.conformance.adapters.go.build", "--spec-src", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 2 and "not an appc/spec source tree" in out.stderr


@pytest.mark.slow  # long waits, builds or bombs on purpose: in tox -e tests, not in tox -e quick
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
    reqs = [
        {"op": "hello", "protocol": 1, "protocol_minor": 1, "profile": "appc-0.8.11"},
        {"id": 1, "op": "discover", "args": {"app": "example.com/app", "port": 8443}},
    ]
    out = subprocess.run(
        [sys.executable, "-m", "appc_conformance.conformance.adapters.actool", "--actool", str(actool_without_port)],
        input="".join(json.dumps(r) + "\n" for r in reqs),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert "--port" in answers[1]["unsupported"], answers  # declined, not a usage-error failure


# ----------------------------------------------------------------------------- the CI recipe


def test_recipe_rejects_a_folder_that_is_no_tree(tmp_path):
    proc = subprocess.run(
        ["bash", str(SCRIPT), str(tmp_path), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHON": sys.executable},
    )
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
        return subprocess.run(
            [
                "bash",
                str(SCRIPT),
                "--impl",
                "go-appc",
                "--out",
                str(out),
                str(a),
                str(b),
                "--",
                "--case",
                "app-strings/colon/*",
                "--profile",
                "appc-0.8.11",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,
            env={**os.environ, "PYTHON": sys.executable},
        )

    bad = recipe(base, change, tmp_path / "out")
    assert bad.returncode == 1, bad.stdout[-3000:] + bad.stderr[-3000:]
    assert "REGRESSION app-strings/colon/double-colon [appc-0.8.11] pass -> error" in bad.stdout, bad.stdout[-3000:]
    assert "0.8.11+base." in bad.stdout and "0.8.11+change." in bad.stdout
    results = json.loads((tmp_path / "out" / "change" / "go-appc" / "results-go-appc-change.json").read_text())
    assert results["implementation"]["version"].startswith("0.8.11+change.")
    assert str(tmp_path) not in results["implementation"]["version"]
    assert bad.stdout.startswith("spec-change: FAILED"), bad.stdout[:500]  # the verdict first
    # The same tree on both sides: no regression, exit 0.
    same = recipe(base, base, tmp_path / "same")
    assert same.returncode == 0, same.stdout[-3000:] + same.stderr[-3000:]
    assert "0 regressions" in same.stdout or "no difference" in same.stdout.lower(), same.stdout[-2000:]
    # Without --out: a new folder outside the current one, named in the verdict (issue: the
    # checkout it runs from was left with an untracked out-spec-change/).
    cwd = tmp_path / "checkout"
    cwd.mkdir()
    own_tmp = tmp_path / "tmp"
    own_tmp.mkdir()
    default = subprocess.run(
        [
            "bash",
            str(SCRIPT),
            "--impl",
            "go-appc",
            str(base),
            str(base),
            "--",
            "--case",
            "app-strings/colon/double-colon",
            "--profile",
            "appc-0.8.11",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=cwd,
        env={**os.environ, "PYTHON": sys.executable, "TMPDIR": str(own_tmp)},
    )
    assert default.returncode == 0, default.stdout[-3000:] + default.stderr[-3000:]
    assert list(cwd.iterdir()) == []
    made = list(own_tmp.glob("appc-spec-change.*"))
    assert len(made) == 1 and str(made[0]) in default.stdout.splitlines()[0]


# ----------------------------------------------------------------------------- the verdict, profile by profile

VERDICT = ROOT / "ci" / "spec_change_verdict.py"


def _results(path: Path, version: str, cases: list) -> Path:
    path.write_text(
        json.dumps(
            {
                "implementation": {"version": version},
                "cases": [{"id": i, "profile": p, "verdict": v, "message": m} for i, p, v, m in cases],
            }
        )
    )
    return path


def _declined(profile: str, ids: list) -> list:
    return [(i, profile, "not-implemented", f"profile {profile}: implements the other profile only") for i in ids]


def _verdict(tmp_path, base, change, *args):
    return subprocess.run(
        [sys.executable, str(VERDICT), *args, "go-appc", str(base), str(change)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_verdict_names_added_and_dropped_profiles_first(tmp_path):
    ids = ["a/x", "a/y", "b/z"]
    base = _results(
        tmp_path / "base.json",
        "0.7+base.1",
        [
            ("a/x", "appc-0.8.11", "pass", ""),
            ("a/y", "appc-0.8.11", "pass", ""),
            ("b/z", "appc-0.8.11", "fail", "known on the base"),
            *_declined("appc-imagetags", ids),
        ],
    )
    change = _results(
        tmp_path / "change.json",
        "0.7+change.2",
        [
            *_declined("appc-0.8.11", ids),
            ("a/x", "appc-imagetags", "pass", ""),
            ("a/y", "appc-imagetags", "fail", "the change's own"),
            ("b/z", "appc-imagetags", "error", "inherited"),
        ],
    )
    out = _verdict(tmp_path, base, change, "--details", str(tmp_path / "details.txt"))
    assert out.returncode == 1, out.stdout  # a dropped profile fails the gate unless allowed
    lines = out.stdout.splitlines()
    assert lines[0] == "== go-appc: base 0.7+base.1 -> change 0.7+change.2"
    assert lines[1].startswith("  appc-0.8.11: DROPPED: ") and "2 cases the base passed" in lines[1]
    assert lines[2].startswith("  appc-imagetags: ADDED: ") and "1 pass, 2 fail of 3 attempted" in lines[2]
    assert "1 failures are the change's own" in lines[3] and "1 fail on the base too" in lines[3]
    verdict_at = lines.index("  verdict: FAIL")
    assert any("a/y [appc-imagetags]" in ln for ln in lines[verdict_at:])  # the change's own failure, listed
    assert not any("b/z" in ln for ln in lines)  # the inherited one: counted, not listed
    details = (tmp_path / "details.txt").read_text()
    assert "b/z [appc-imagetags] error: inherited (base: appc-0.8.11)" in details
    allowed = _verdict(tmp_path, base, change, "--allow-dropped", "appc-0.8.11")
    assert allowed.returncode == 0 and "DROPPED (allowed)" in allowed.stdout and "verdict: ok" in allowed.stdout
    verbose = _verdict(tmp_path, base, change, "--verbose")
    assert "b/z [appc-imagetags] error: inherited" in verbose.stdout


def test_verdict_in_a_profile_both_claim(tmp_path):
    base = _results(
        tmp_path / "base.json",
        "1+base",
        [
            ("a/x", "appc-0.8.11", "pass", ""),
            ("a/y", "appc-0.8.11", "fail", "old bug"),
            ("a/z", "appc-0.8.11", "fail", "shared bug"),
        ],
    )
    change = _results(
        tmp_path / "change.json",
        "1+change",
        [
            ("a/x", "appc-0.8.11", "error", "new bug"),
            ("a/y", "appc-0.8.11", "pass", ""),
            ("a/z", "appc-0.8.11", "fail", "shared bug"),
        ],
    )
    out = _verdict(tmp_path, base, change)
    assert out.returncode == 1
    assert "appc-0.8.11: claimed by both: 1 regressions, 1 fixes" in out.stdout
    assert "REGRESSION a/x [appc-0.8.11] pass -> error: new bug" in out.stdout
    assert "FIXED a/y [appc-0.8.11] fail -> pass" in out.stdout
    assert "shared bug" not in out.stdout  # known on the base: only with --verbose
    assert "shared bug" in _verdict(tmp_path, base, change, "--verbose").stdout
    same = _verdict(tmp_path, base, base)
    assert same.returncode == 0 and "0 regressions" in same.stdout and "verdict: ok" in same.stdout


def test_verdict_on_an_unreadable_results_file(tmp_path):
    (tmp_path / "bad.json").write_text("{")
    out = _verdict(tmp_path, tmp_path / "bad.json", tmp_path / "bad.json")
    assert out.returncode != 0 and "cannot read the results file" in out.stderr and "bad.json" in out.stderr


# ----------------------------------------------------------------------------- run --spec-src


def _run_args(*argv):
    import argparse
    from appc_conformance.conformance import run_verb as run

    p = argparse.ArgumentParser()
    run.add_arguments(p)
    return run, p.parse_args(list(argv))


def test_run_spec_src_names_results_and_expectations_by_tree(tmp_path, monkeypatch):
    for var in (go_build.ENV_SPEC_SRC, go_build.ENV_SPEC_NAME):  # make_plan sets them: restored after
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    tree = tmp_path / "spec"
    (tree / "discovery").mkdir(parents=True)
    (tree / "schema" / "types").mkdir(parents=True)
    run, args = _run_args(
        "--impl",
        "go-appc",
        "--impl",
        "reference",
        "--spec-src",
        str(tree),
        "--spec-name",
        "pr584",
        "--out",
        str(tmp_path / "out"),
    )
    jobs = {j.label: j for j in run.make_plan(args)}
    assert jobs["go-appc"].results.name == "results-go-appc-pr584.json" and jobs["go-appc"].stem == "go-appc-pr584"
    assert jobs["reference"].results.name == "results-reference.json"
    assert os.environ[go_build.ENV_SPEC_SRC] == str(tree.resolve())
    assert os.environ[go_build.ENV_SPEC_NAME] == "pr584"
    exps = run.load_expectations(args, list(jobs), {label: j.stem for label, j in jobs.items()})
    assert exps["go-appc"].path.endswith("go-appc-pr584.json")  # the bundled one for pull request 584
    _, one = _run_args(
        "--impl",
        "go-appc",
        "--spec-src",
        str(tree),
        "--spec-name",
        "pr584",
        "--expectations",
        str(ROOT / "expectations" / "go-appc-pr584.json"),
    )
    jobs = {j.label: j for j in run.make_plan(one)}
    assert run.load_expectations(one, list(jobs), {k: j.stem for k, j in jobs.items()})["go-appc"].known
    assert go_build.results_id() == "go-appc-pr584"  # the ID the results file gets
    _, bad = _run_args("--impl", "go-appc", "--spec-src", str(tmp_path / "nothing"))
    with pytest.raises(run.UsageError, match="--spec-src: .*no such folder"):
        run.make_plan(bad)
    _, lone = _run_args("--impl", "go-appc", "--spec-name", "x")
    with pytest.raises(run.UsageError, match="--spec-name needs --spec-src"):
        run.make_plan(lone)


def test_pull_request_expectations_name_real_cases_and_findings():
    from appc_conformance.conformance import vectors
    from appc_conformance.reports import expectations as expmod

    exp = expmod.load(ROOT / "expectations" / "go-appc-pr584.json")
    assert exp.implementation == "go-appc-pr584"
    runs = {(c.id, p) for c in vectors.load(vectors.default_vectors_dir()).cases for p in c.profiles}
    findings = (ROOT / "docs" / "FINDINGS.md").read_text()
    for k in exp.known:
        assert (k.id, k.profile) in runs, k.label()
        assert "docs/FINDINGS.md" in k.reason, k.label()
        for ref in (w.rstrip(":,") for w in k.reason.split() if w.startswith("PR-IT-")):
            assert f"| {ref} |" in findings, (k.label(), ref)
        if k.reason.startswith("inherited"):
            assert f"`{k.id}`" in findings or k.id.rsplit("/", 1)[-1] in findings, k.label()


def test_verdict_counts_input_the_adapter_declined_as_not_attempted(tmp_path):
    """``unsupported`` (the adapter declined that input) is no failure here either: the verdicts
    that are not attempts are the grading module's SKIPPING, as in every report."""
    ids = ["a/x", "a/y"]
    base = _results(tmp_path / "base.json", "1+base", _declined("appc-imagetags", ids))
    change = _results(
        tmp_path / "change.json",
        "1+change",
        [("a/x", "appc-imagetags", "pass", ""), ("a/y", "appc-imagetags", "unsupported", "declined that input")],
    )
    out = _verdict(tmp_path, base, change)
    assert "1 pass, 0 fail of 1 attempted (1 not attempted)" in out.stdout, out.stdout
    assert "declined that input" not in out.stdout
