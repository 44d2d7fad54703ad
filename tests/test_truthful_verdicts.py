"""Verdicts an outsider can trust (issue 11, points 1 and 3).

- An adapter or a tool that could not run never passes a case: protocol 1.1's ``failed`` answer
  and its verdict ``adapter-error``, used by every bundled adapter.
- A pass on an error of kind ``other`` where the case named kinds is marked ``unclassified``.
- A failing request-log assertion is filed under its own requirement IDs.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, VECTORS, run_suite, verdicts
from tests.rawadapter import AdapterProcess

HELLO_11 = {"op": "hello", "protocol": 1, "protocol_minor": 1, "profile": "appc-0.8.11", "ca_file": None}


def _script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


# An actool built without --port: `version` works, `discover --port N` is a usage error (exit 2),
# exactly as Go's flag package words it.
FAKE_ACTOOL = """#!/bin/sh
if [ "$1" = version ]; then echo "actool version v0.8.11-noport"; exit 0; fi
echo "flag provided but not defined: -port" >&2
echo "Usage:" >&2
echo "  -insecure" >&2
exit 2
"""


@pytest.fixture
def fake_actool_path(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _script(bindir / "actool", FAKE_ACTOOL)
    monkeypatch.delenv("ACTOOL", raising=False)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert shutil.which("actool") == str(bindir / "actool")  # the fake is the one found
    return bindir / "actool"


def test_actool_without_port_flag_gets_zero_passes(tmp_path, fake_actool_path):
    """Before protocol 1.1 this actool scored a pass on every case that expects an error."""
    proc, doc = run_suite(tmp_path, "--impl", "actool", "--profile", "appc-0.8.11", paths=[VECTORS / "discovery"])
    assert doc is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert doc["implementation"]["version"] == "v0.8.11-noport"
    by = verdicts(doc)
    assert "pass" not in by, [c["id"] for c in by["pass"]]
    failed = by.get("adapter-error", [])
    assert len(failed) > 30, {v: len(cs) for v, cs in by.items()}
    assert all("flag provided but not defined: -port" in c["message"] for c in failed)
    assert proc.returncode == 1  # adapter-error fails the run


def test_actool_adapter_answers_failed_for_what_did_not_run(tmp_path, fake_actool_path):
    adapter = AdapterProcess([sys.executable, "-m", "appc_conformance.conformance.adapters.actool"], dict(os.environ))
    try:
        assert "ok" in adapter.send_raw(json.dumps(HELLO_11))
        usage = adapter.call("discover", app="127.0.0.1/app", what=["aci"], port=4443, insecure=[], headers={})
        assert set(usage) == {"id", "failed"}, usage
        assert "flag provided but not defined: -port" in usage["failed"]["message"]
        malformed = adapter.call("discover", what=["aci"])
        assert set(malformed) == {"id", "failed"}, malformed
        # A missing binary after the handshake: failed, not a rejection.
        fake_actool_path.unlink()
        gone = adapter.call("discover", app="127.0.0.1/app", what=["aci"], port=None, insecure=[], headers={})
        assert set(gone) == {"id", "failed"}, gone
    finally:
        adapter.close()


def test_actool_adapter_keeps_protocol_10_answers(fake_actool_path):
    """A harness that announces no protocol_minor cannot take ``failed``: an error of kind other."""
    adapter = AdapterProcess([sys.executable, "-m", "appc_conformance.conformance.adapters.actool"], dict(os.environ))
    try:
        assert "ok" in adapter.hello()
        usage = adapter.call("discover", app="127.0.0.1/app", what=["aci"], port=4443, insecure=[], headers={})
        assert usage["error"]["kind"] == "other"
    finally:
        adapter.close()


@pytest.mark.parametrize(
    "statuses,kind",
    [
        ((2, "flag provided but not defined: -port"), None),
        ((2, 'actool: unknown subcommand: "discover"'), None),
        ((-9, ""), None),
        ((2, "panic: runtime error: invalid memory address\n\ngoroutine 1 [running]:\nmain.go:12"), None),
        ((1, "error generating JSON: boom"), None),
        ((1, "error fetching endpoints for 127.0.0.1/app: no endpoints"), "discovery-failed"),
        ((1, "something else"), "other"),
    ],
)
def test_actool_exit_statuses(statuses, kind):
    from appc_conformance.conformance.adapters.actool import adapter as actool

    status, stderr = statuses
    ans = actool.Adapter.failure(status, stderr, [], [])
    if kind is None:
        assert isinstance(ans, actool.Failed), ans.body
        assert set(ans.body) == {"failed"}
    else:
        assert ans.body["error"]["kind"] == kind


# ----------------------------------------------------------------------------- other adapters


def _raw_session(argv, *lines):
    proc = AdapterProcess(argv, dict(os.environ))
    try:
        return [proc.send_raw(line) for line in lines]
    finally:
        proc.close()


def test_reference_adapter_answers_failed_on_its_own_errors():
    hello, malformed, garbage = _raw_session(
        [sys.executable, "-m", "appc_conformance.conformance.adapters.reference"],
        json.dumps(HELLO_11),
        json.dumps({"id": 5, "op": "parse_app", "args": {}}),
        "[1, 2",
    )
    assert "ok" in hello
    assert malformed["id"] == 5 and "failed" in malformed and "app" in malformed["failed"]["message"]
    assert "failed" in garbage


def test_reference_adapter_turns_an_unexpected_exception_into_failed(monkeypatch):
    from appc_conformance.conformance.adapters.reference import __main__ as ref

    def boom(*a):
        raise RuntimeError("a bug in the adapter")

    monkeypatch.setattr(ref, "handle", boom)
    state = {"profile": "appc-0.8.11"}
    assert "ok" in ref.answer(HELLO_11, state)
    reply = ref.answer({"id": 3, "op": "parse_app", "args": {"app": "x"}}, state)
    assert reply == {"id": 3, "failed": {"message": "reference adapter error: RuntimeError('a bug in the adapter')"}}
    state10 = {"profile": "appc-0.8.11"}
    ref.answer({**HELLO_11, "protocol_minor": None}, state10)
    assert ref.answer({"id": 4, "op": "parse_app", "args": {}}, state10)["error"]["kind"] == "other"


def test_minimal_example_answers_failed_on_its_own_errors():
    hello, bug, ok = _raw_session(
        [sys.executable, str(ROOT / "examples" / "minimal-adapter" / "adapter.py")],
        json.dumps(HELLO_11),
        json.dumps({"id": 1, "op": "parse_app", "args": {}}),
        json.dumps({"id": 2, "op": "parse_app", "args": {"app": "example.com/app"}}),
    )
    assert "ok" in hello
    assert set(bug) == {"id", "failed"}
    assert ok["ok"]["name"] == "example.com/app"


@pytest.mark.go
def test_go_adapter_answers_failed_on_its_own_errors():
    from appc_conformance.conformance.adapters.go import build

    try:
        binary = build.build()
    except build.NotAvailable as exc:
        pytest.skip(str(exc))
    hello, bad_args, no_id = _raw_session(
        [str(binary)],
        json.dumps(HELLO_11),
        json.dumps({"id": 7, "op": "parse_app", "args": "x"}),
        json.dumps({"op": "parse_app", "args": {"app": "example.com/app"}}),
    )
    assert "ok" in hello
    assert bad_args["id"] == 7 and "failed" in bad_args, bad_args
    assert "failed" in no_id, no_id


# ----------------------------------------------------------------------------- the harness

REJECT_ALL = """
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    if req.get("op") == "hello":
        out = {"ok": {"implementation": {"name": "reject-all", "version": "1", "language": "python",
                                         "homepage": None},
                      "profiles": ["appc-0.8.11", "appc-imagetags"], "ops": ["parse_app", "validate_manifest"],
                      "features": []}}
    else:
        out = {"id": req["id"], "error": {"kind": "other", "message": "no"}}
    sys.stdout.write(json.dumps(out) + "\\n")
    sys.stdout.flush()
"""


def test_reject_everything_passes_are_counted_as_unclassified(tmp_path):
    script = _script(tmp_path / "reject_all.py", REJECT_ALL)
    proc, doc = run_suite(
        tmp_path, "--adapter-cmd", f"{sys.executable} {script}", paths=[VECTORS / "app-strings", VECTORS / "manifests"]
    )
    assert doc is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    passes = verdicts(doc)["pass"]
    unclassified = [c for c in passes if c.get("unclassified") is True]
    assert passes and len(unclassified) == len(passes)  # every pass rests on "other"
    assert not any("unclassified" in c for c in doc["cases"] if c["verdict"] != "pass")
    for profile in ("appc-0.8.11", "appc-imagetags"):
        n = sum(1 for c in unclassified if c["profile"] == profile)
        assert n > 0
        assert f"{n} in {profile}" in proc.stdout
    assert "unclassified passes" in proc.stdout


def test_reference_has_no_unclassified_pass(tmp_path):
    proc, doc = run_suite(tmp_path, "--impl", "reference", paths=[VECTORS / "app-strings"])
    assert doc is not None and proc.returncode == 0
    assert not any(c.get("unclassified") for c in doc["cases"])
    assert "unclassified passes" not in proc.stdout


FAILED_ADAPTER = """
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    if req.get("op") == "hello":
        out = {"ok": {"implementation": {"name": "fails", "version": "1", "language": "python", "homepage": None},
                      "profiles": ["appc-0.8.11"], "ops": ["parse_app"], "features": []}}
    else:
        out = {"id": req["id"], "failed": {"message": "the tool would not start"}}
    sys.stdout.write(json.dumps(out) + "\\n")
    sys.stdout.flush()
"""


def test_failed_answers_are_adapter_errors_in_results_and_pytest(tmp_path):
    script = _script(tmp_path / "fails.py", FAILED_ADAPTER)
    proc, doc = run_suite(
        tmp_path,
        "--adapter-cmd",
        f"{sys.executable} {script}",
        "--profile",
        "appc-0.8.11",
        "--case",
        "app-strings/basic/*",
        paths=[VECTORS / "app-strings"],
    )
    assert doc is not None, proc.stdout[-3000:]
    assert {c["verdict"] for c in doc["cases"]} == {"adapter-error"}
    assert all(c["message"] == "adapter failed: the tool would not start" for c in doc["cases"])
    assert proc.returncode == 1
    assert f"{len(doc['cases'])} failed" in proc.stdout


# ----------------------------------------------------------------------------- requirement IDs

# The reference, plus an image tags walk nobody asked for (no tag, and "imagetags" not in
# "what"): the draft's discovery process looks for image tags only when a tag is requested.
TAGS_WALKER = """
import json, sys
sys.path.insert(0, {root!r})
from appc_conformance.conformance.adapters.reference import __main__ as ref
state = {{"profile": "appc-0.8.11"}}
for line in sys.stdin:
    req = json.loads(line)
    reply = ref.answer(req, state)
    args = req.get("args") or {{}}
    if req.get("op") == "discover" and state["profile"] == "appc-imagetags" \\
            and "imagetags" not in args.get("what", []):
        ref.answer({{**req, "args": {{**args, "what": ["imagetags"]}}}}, state)
    sys.stdout.write(json.dumps(reply) + "\\n")
    sys.stdout.flush()
"""


# The walk cases but the two whose servers hang or answer slowly on purpose (leaf-hangs,
# slow-leaf-answers): they hold a run for seconds and make no assertion these tests read.
WALK_NO_WAITS = "discovery/walk/[!ls]*"


def test_needless_image_tags_walk_is_filed_under_disc_pr_05(tmp_path):
    """Issue 11, point 3: the walk and redirect cases it fails name the requirement it breaks."""
    script = _script(tmp_path / "tags_walker.py", TAGS_WALKER.format(root=str(ROOT)))
    proc, doc = run_suite(
        tmp_path,
        "--adapter-cmd",
        f"{sys.executable} {script}",
        "--profile",
        "appc-imagetags",
        "--case",
        WALK_NO_WAITS,
        "--case",
        "discovery/redirects/status-30*",
        "--case",
        "discovery/limits/many-levels-bounded",
        paths=[VECTORS / "discovery"],
    )
    assert doc is not None, proc.stdout[-3000:]
    failed = {c["id"]: c for c in verdicts(doc).get("fail", [])}
    for cid in (
        "discovery/walk/first-level-wins",
        "discovery/walk/middle-level-wins",
        "discovery/walk/all-levels-fail",
        "discovery/redirects/status-301",
        "discovery/limits/many-levels-bounded",
    ):
        rec = failed.get(cid)
        assert rec is not None, (cid, sorted(failed))
        assert "DISC-PR-05" in rec["failed_requirements"], rec
        assert "DISC-PR-05" in rec["assertion_requirements"], rec
        assert "requests (" in rec["message"] and "DISC-PR-05" in rec["message"], rec["message"]
    # The assertions it does not break are not named: the walk's sequence still holds.
    assert "DISC-13): sequence" not in failed["discovery/walk/all-levels-fail"]["message"]
    # Every failure the extra walk causes is filed under DISC-PR-05.
    assert all("DISC-PR-05" in c.get("failed_requirements", []) for c in failed.values()), {
        cid: c.get("failed_requirements") for cid, c in failed.items()
    }


def test_reference_passes_the_assertions_with_their_own_requirements(tmp_path):
    proc, doc = run_suite(
        tmp_path,
        "--impl",
        "reference",
        "--case",
        WALK_NO_WAITS,
        "--case",
        "discovery/redirects/status-30*",
        paths=[VECTORS / "discovery"],
    )
    assert doc is not None and proc.returncode == 0, proc.stdout[-3000:]
    first = next(c for c in doc["cases"] if c["id"] == "discovery/walk/first-level-wins")
    assert first["verdict"] == "pass" and first["assertion_requirements"] == ["DISC-PR-05"]
    assert not any("failed_requirements" in c for c in doc["cases"])


def test_check_groups_names_each_groups_requirements():
    from appc_conformance.servers.log import RequestLog, check, check_groups, check_spec, cited

    log = RequestLog()
    for target in ("/a/b", "/a", "/"):
        log.add(
            kind="request",
            scheme="https",
            host="a",
            address="127.0.0.2",
            port=1,
            method="GET",
            path=target,
            query="ac-discovery=1",
            headers=[],
            status=404,
        )
    spec = [
        {"sequence": ["a /a/b?ac-discovery=1", "a /a?ac-discovery=1"]},
        {"never": ["a /?ac-discovery=1"], "requirements": ["DISC-14", "DISC-PR-05"]},
        {"never": ["http * *"], "requirements": ["DISC-20"]},
    ]
    assert check_spec(spec) == []
    problems = check_groups(spec, log)
    assert len(problems) == 1
    text, reqs = problems[0]
    assert reqs == ["DISC-14", "DISC-PR-05"] and text.startswith("no request should match a /?ac-discovery=1")
    assert check(spec, log) == [text]
    assert cited(spec) == ["DISC-14", "DISC-PR-05", "DISC-20"]
    assert check_groups({"never": ["a /?ac-discovery=1"]}, log)[0][1] is None  # the case's own
    assert check_spec([]) and check_spec([{"requirements": ["DISC-14"]}]) == ["requests[0]: no assertion"]
    assert check_spec({"never": ["a *"], "requirements": []}) == [
        "requests.requirements: a non-empty list of distinct requirement IDs"
    ]


def test_lint_names_an_unknown_requirement_of_an_assertion(tmp_path):
    from appc_conformance.conformance import vectors

    root = tmp_path / "vectors"
    shutil.copytree(VECTORS / "schema", root / "schema")
    shutil.copy(VECTORS / "requirements.json", root / "requirements.json")
    (root / "discovery").mkdir()
    case = next(
        c
        for c in json.loads((VECTORS / "discovery" / "walk.json").read_text())["cases"]
        if c["id"] == "discovery/walk/first-level-wins"
    )
    case["requests"]["requirements"] = ["DISC-14", "DISC-99"]
    (root / "discovery" / "walk.json").write_text(
        json.dumps({"area": "discovery", "description": "x", "cases": [case]})
    )
    vs = vectors.load(root, cache=False)
    assert not vs.cases
    assert any("requests.requirements[1]" in str(p) and "DISC-99" in str(p) for p in vs.problems), [
        str(p) for p in vs.problems
    ]


def _record(cid, profile, verdict, requirements, **extra):
    return {
        "id": cid,
        "profile": profile,
        "area": "discovery",
        "op": "discover",
        "requirements": requirements,
        "strength": "must",
        "verdict": verdict,
        "message": "",
        "expected": None,
        "actual": None,
        **extra,
    }


def test_coverage_files_a_failure_under_the_requirement_it_breaks():
    from appc_conformance.reports import model
    from appc_conformance.reports.results import Results

    catalog = json.loads((VECTORS / "requirements.json").read_text())
    doc = {
        "format": "appc-conformance-results",
        "format_version": 1,
        "run": {},
        "implementation": {},
        "cases": [
            # The answer was right; the assertion naming DISC-20 failed: DISC-13 held.
            _record(
                "discovery/walk/x",
                "appc-0.8.11",
                "fail",
                ["DISC-13"],
                assertion_requirements=["DISC-20"],
                failed_requirements=["DISC-20"],
            ),
            # A needless image tags walk: filed under DISC-PR-05 in the image tags profile only.
            _record(
                "discovery/walk/y",
                "appc-imagetags",
                "fail",
                ["DISC-14"],
                assertion_requirements=["DISC-PR-05"],
                failed_requirements=["DISC-14", "DISC-PR-05"],
            ),
            _record("discovery/walk/y", "appc-0.8.11", "pass", ["DISC-14"], assertion_requirements=["DISC-PR-05"]),
            # A failure without failed_requirements (an older results file): the case's own.
            _record("discovery/walk/z", "appc-0.8.11", "fail", ["DISC-16"]),
        ],
    }
    m = model.build([Results("r.json", doc)], catalog)
    reqs = {r.id: r for r in m.requirements}
    assert reqs["DISC-13"].counts[0].passed == 1 and reqs["DISC-13"].counts[0].failed == 0
    assert reqs["DISC-20"].counts[0].failed == 1 and "discovery/walk/x" in reqs["DISC-20"].case_ids
    assert reqs["DISC-PR-05"].counts[0].failed == 1 and reqs["DISC-PR-05"].counts[0].total == 1
    assert reqs["DISC-PR-05"].case_ids == {"discovery/walk/y"}
    assert reqs["DISC-14"].counts[0].failed == 1 and reqs["DISC-14"].counts[0].passed == 1
    assert reqs["DISC-16"].counts[0].failed == 1
    assert m.totals[0].failed == 3 and m.totals[0].passed == 1  # the case counts are the records'
