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
    proc, doc = run_suite(tmp_path, "--impl", "actool", "--profile", "appc-0.8.11",
                          paths=[VECTORS / "discovery"])
    assert doc is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert doc["implementation"]["version"] == "v0.8.11-noport"
    by = verdicts(doc)
    assert "pass" not in by, [c["id"] for c in by["pass"]]
    failed = by.get("adapter-error", [])
    assert len(failed) > 30, {v: len(cs) for v, cs in by.items()}
    assert all("flag provided but not defined: -port" in c["message"] for c in failed)
    assert proc.returncode == 1  # adapter-error fails the run


def test_actool_adapter_answers_failed_for_what_did_not_run(tmp_path, fake_actool_path):
    adapter = AdapterProcess([sys.executable, "-m", "conformance.adapters.actool"], dict(os.environ))
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
    adapter = AdapterProcess([sys.executable, "-m", "conformance.adapters.actool"], dict(os.environ))
    try:
        assert "ok" in adapter.hello()
        usage = adapter.call("discover", app="127.0.0.1/app", what=["aci"], port=4443, insecure=[], headers={})
        assert usage["error"]["kind"] == "other"
    finally:
        adapter.close()


@pytest.mark.parametrize("statuses,kind", [
    ((2, "flag provided but not defined: -port"), None),
    ((2, 'actool: unknown subcommand: "discover"'), None),
    ((-9, ""), None),
    ((2, "panic: runtime error: invalid memory address\n\ngoroutine 1 [running]:\nmain.go:12"), None),
    ((1, "error generating JSON: boom"), None),
    ((1, "error fetching endpoints for 127.0.0.1/app: no endpoints"), "discovery-failed"),
    ((1, "something else"), "other"),
])
def test_actool_exit_statuses(statuses, kind):
    from conformance.adapters.actool import adapter as actool
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
        [sys.executable, "-m", "conformance.adapters.reference"], json.dumps(HELLO_11),
        json.dumps({"id": 5, "op": "parse_app", "args": {}}), "[1, 2")
    assert "ok" in hello
    assert malformed["id"] == 5 and "failed" in malformed and "app" in malformed["failed"]["message"]
    assert "failed" in garbage


def test_reference_adapter_turns_an_unexpected_exception_into_failed(monkeypatch):
    from conformance.adapters.reference import __main__ as ref

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
        [sys.executable, str(ROOT / "examples" / "minimal-adapter" / "adapter.py")], json.dumps(HELLO_11),
        json.dumps({"id": 1, "op": "parse_app", "args": {}}),
        json.dumps({"id": 2, "op": "parse_app", "args": {"app": "example.com/app"}}))
    assert "ok" in hello
    assert set(bug) == {"id", "failed"}
    assert ok["ok"]["name"] == "example.com/app"


@pytest.mark.go
def test_go_adapter_answers_failed_on_its_own_errors():
    from conformance.adapters.go import build
    try:
        binary = build.build()
    except build.NotAvailable as exc:
        pytest.skip(str(exc))
    hello, bad_args, no_id = _raw_session(
        [str(binary)], json.dumps(HELLO_11), json.dumps({"id": 7, "op": "parse_app", "args": "x"}),
        json.dumps({"op": "parse_app", "args": {"app": "example.com/app"}}))
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
    proc, doc = run_suite(tmp_path, "--adapter-cmd", f"{sys.executable} {script}",
                          paths=[VECTORS / "app-strings", VECTORS / "manifests"])
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
    proc, doc = run_suite(tmp_path, "--adapter-cmd", f"{sys.executable} {script}", "--profile", "appc-0.8.11",
                          "--case", "app-strings/basic/*", paths=[VECTORS / "app-strings"])
    assert doc is not None, proc.stdout[-3000:]
    assert {c["verdict"] for c in doc["cases"]} == {"adapter-error"}
    assert all(c["message"] == "adapter failed: the tool would not start" for c in doc["cases"])
    assert proc.returncode == 1
    assert f"{len(doc['cases'])} failed" in proc.stdout
