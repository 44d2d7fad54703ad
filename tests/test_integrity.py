"""Nothing an adapter or an input does may lose, falsify or hang a run (inputs and results).

Each test damages one thing (a string of a record, a vector file, an option, a run cut short by
a signal, an expectations file, a vector pointing outside loopback) and checks that the run still
ends with a readable results file that says what happened, or that the input is refused with a
message naming the file and the place.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appc_conformance.reports.results import dumps, load_results, write_results
from tests.helpers import PYTEST, ROOT, VECTORS, run_suite

CLI = [sys.executable, "-m", "appc_conformance"]
ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=ENV)


def lint(root: Path) -> subprocess.CompletedProcess:
    """``appc-conformance lint --vectors ROOT``, in this process (the verb starts nothing, so a
    child process would only add its start-up); what it printed, as a finished process."""
    import contextlib
    import io

    from appc_conformance.conformance import cli as main_cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main_cli.main(["lint", "--vectors", str(root)])
        except SystemExit as exc:  # a usage error, as argparse ends it
            code = exc.code
    return subprocess.CompletedProcess(["lint"], code, out.getvalue(), err.getvalue())


def vector_copy(tmp_path: Path, *areas: str) -> Path:
    """A vector folder with the schema, the catalog and only the given areas (e.g. 'app-strings')."""
    root = tmp_path / "vectors"
    shutil.copytree(VECTORS / "schema", root / "schema")
    shutil.copy2(VECTORS / "requirements.json", root / "requirements.json")
    for a in areas:
        shutil.copytree(VECTORS / a, root / a)
    return root


def case_doc(area: str, cases: list) -> dict:
    return {"$schema": "../schema/vector-file.schema.json", "area": area, "description": "test file", "cases": cases}


def parse_case(cid: str = "app-strings/test/plain", **over) -> dict:
    c = {
        "id": cid,
        "description": "a plain name",
        "requirements": ["APP-01"],
        "profiles": ["appc-0.8.11"],
        "strength": "library",
        "op": "parse_app",
        "input": {"app": "example.com/app"},
        "expect": {"result": {"name": "example.com/app", "tag": None, "labels": {}}},
    }
    c.update(over)
    return c


def minimal_results(cases=(), **run) -> dict:
    return {
        "format": "appc-conformance-results",
        "format_version": 1,
        "run": {
            "suite_version": "0",
            "commit": None,
            "vectors_hash": None,
            "profiles": ["appc-0.8.11"],
            "started": "2026-01-01T00:00:00+00:00",
            "duration_s": 0.0,
            "argv": [],
            "problems": [],
            **run,
        },
        "implementation": {
            "id": "reference",
            "name": "reference",
            "version": "1",
            "language": None,
            "homepage": None,
            "available": True,
            "unavailable_reason": None,
            "command": [],
        },
        "cases": list(cases),
    }


def record(cid="app-strings/x/y", profile="appc-0.8.11", verdict="pass", **over) -> dict:
    r = {
        "id": cid,
        "profile": profile,
        "area": cid.split("/")[0],
        "op": "parse_app",
        "requirements": ["APP-01"],
        "ambiguities": [],
        "strength": "library",
        "description": "d",
        "verdict": verdict,
        "message": "",
        "expected": {"result": {}},
        "actual": None,
        "stderr": "",
        "time_s": 0.0,
    }
    r.update(over)
    return r


# -- 1. a lone surrogate in any string ---------------------------------------------------------


def test_lone_surrogates_are_written_as_valid_utf8_that_every_reader_accepts(tmp_path):
    bad = "\ud800"
    rec = record(message=f"wrong {bad}", stderr=f"tail {bad}\udfff", actual={"ok": {"name": bad, f"key{bad}": [bad]}})
    for doc in (minimal_results([rec]), {**minimal_results([rec]), "cases": [rec], "extra": bad}):
        path = write_results(tmp_path / "r.json", doc)
        raw = path.read_bytes()
        raw.decode("utf-8")  # strict: valid UTF-8
        back = load_results(path)  # validated like every reader does
        case = back.cases[0]
        assert "\ufffd" in case["message"] and "\ud800" not in case["message"]
        assert case["actual"]["ok"]["name"] == "\ufffd"
        assert case["stderr"] == "tail \ufffd\ufffd"
    assert "\ud800" not in dumps(minimal_results([rec]))


def test_a_run_whose_vector_carries_a_lone_surrogate_still_writes_its_results(tmp_path):
    root = vector_copy(tmp_path)
    (root / "app-strings").mkdir()
    # "\ud800" is valid JSON; the description and the message of the record carry it
    text = json.dumps(case_doc("app-strings", [parse_case(description="odd \ud800 text")]))
    (root / "app-strings" / "odd.json").write_text(text, encoding="ascii")
    proc, doc = run_suite(tmp_path, "--impl", "reference", "--vectors", str(root), paths=[root])
    assert doc is not None, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert [c["verdict"] for c in doc["cases"]] == ["pass"]
    assert doc["cases"][0]["description"] == "odd \ufffd text"


# -- 2. a broken vector file or catalog stops nothing else ---------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


def _app_strings_count() -> int:
    from appc_conformance.conformance import vectors

    vs = vectors.load(VECTORS, vectors.vector_files(VECTORS / "app-strings"))
    return sum(len([p for p in c.profiles]) for c in vs.cases)


@pytest.mark.parametrize("damage", ["deep-vector-file", "deep-case", "broken-catalog", "catalog-shape"])
def test_a_broken_file_is_a_problem_naming_it_and_every_other_case_runs(tmp_path, damage):
    root = vector_copy(tmp_path, "app-strings")
    if damage == "deep-vector-file":
        (root / "app-strings" / "deep.json").write_text(DEEP)
        name = "deep.json"
    elif damage == "deep-case":  # parses (within the decoder's limit) but nests far deeper than any vector
        (root / "app-strings" / "deep.json").write_text(
            json.dumps(
                case_doc(
                    "app-strings",
                    [parse_case(input={"app": "example.com/app", "x": json.loads("[" * 500 + "]" * 500)})],
                )
            )
        )
        name = "deep.json"
    elif damage == "broken-catalog":
        (root / "requirements.json").write_text('{"requirements": [')
        name = "requirements.json"
    else:
        (root / "requirements.json").write_text('{"requirements": 3}')
        name = "requirements.json"
    proc, doc = run_suite(tmp_path, "--impl", "reference", "--vectors", str(root), paths=[root])
    out = proc.stdout + proc.stderr
    assert "INTERNALERROR" not in out and "Traceback" not in out, out[-3000:]
    assert doc is not None, out[-3000:]
    assert any(name in p for p in doc["run"]["problems"]), doc["run"]["problems"]
    assert name in proc.stdout  # said on the console too
    verdicts = {c["verdict"] for c in doc["cases"]}
    assert verdicts == {"pass"} and len(doc["cases"]) == _app_strings_count()
    assert proc.returncode == 1  # a broken input fails the run

    linted = lint(root)
    assert linted.returncode == 1, linted.stdout + linted.stderr
    assert "Traceback" not in linted.stderr
    assert name in linted.stderr


def test_a_broken_schema_is_a_clean_usage_error(tmp_path):
    root = vector_copy(tmp_path, "app-strings")
    (root / "schema" / "vector-file.schema.json").write_text("{")
    proc, doc = run_suite(tmp_path, "--impl", "reference", "--vectors", str(root), paths=[root])
    assert "Traceback" not in proc.stdout + proc.stderr and "INTERNALERROR" not in proc.stdout
    assert "vector-file.schema.json" in proc.stderr
    linted = lint(root)
    assert linted.returncode == 2 and "vector-file.schema.json" in linted.stderr and "Traceback" not in linted.stderr


# -- 3. --adapter-timeout out of range --------------------------------------------------------

BAD_TIMEOUTS = ["inf", "nan", "1e12", "0", "-1", "3601", "ten", ""]


@pytest.mark.parametrize("value", BAD_TIMEOUTS)
def test_a_bad_adapter_timeout_is_refused_by_pytest(tmp_path, value):
    proc, doc = run_suite(
        tmp_path,
        "--impl",
        "reference",
        "--adapter-timeout",
        value,
        "--case",
        "app-strings/basic/name-*",
        paths=[VECTORS / "app-strings"],
        timeout=120,
    )
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-2000:]  # pytest's usage error
    assert "--adapter-timeout" in proc.stderr and "3600" in proc.stderr
    assert doc is None


@pytest.mark.parametrize("value", ["inf", "0", "-1"])
def test_a_bad_adapter_timeout_is_refused_by_run(tmp_path, value):
    proc = cli("run", "--impl", "reference", "--adapter-timeout", value, "--out", str(tmp_path), "--no-report")
    assert proc.returncode == 2 and "--adapter-timeout" in proc.stderr and "3600" in proc.stderr, proc.stderr
    assert not list(tmp_path.iterdir())


def test_the_timeout_range_is_one_validator():
    from appc_conformance.conformance.vectors import MAX_ADAPTER_TIMEOUT, adapter_timeout

    assert adapter_timeout("0.5") == 0.5 and adapter_timeout(" 10 ") == 10.0
    assert adapter_timeout(str(MAX_ADAPTER_TIMEOUT)) == MAX_ADAPTER_TIMEOUT
    for v in BAD_TIMEOUTS:
        with pytest.raises(Exception, match="3600"):
            adapter_timeout(v)


# -- 4. interrupted and partial runs are marked, and every reader says so ----------------------

HANGING_ADAPTER = """
import json, os, sys, time
sys.path.insert(0, {root!r})
from appc_conformance.conformance.adapters.reference import __main__ as reference
state = {{"profile": "appc-0.8.11"}}
for line in sys.stdin:
    req = json.loads(line)
    if req.get("op") == "hello":
        reply = reference.answer(req, state)
        reply["ok"]["ops"] = ["parse_app"]
        print(json.dumps(reply), flush=True)
        continue
    app = req["args"]["app"]
    if app == "hang":
        open({marker!r}, "w").close()
        time.sleep(3600)
    print(json.dumps({{"id": req["id"], "ok": {{"name": app, "tag": None, "labels": {{}}}}}}), flush=True)
"""


def _counting_vectors(tmp_path: Path) -> Path:
    """Ten parse_app cases; the sixth makes the adapter below hang (and tell us so)."""
    root = vector_copy(tmp_path)
    (root / "app-strings").mkdir()
    apps = [f"example.com/app{i}" for i in range(5)] + ["hang"] + [f"example.com/app{i}" for i in range(6, 10)]
    cases = [
        parse_case(
            f"app-strings/count/c{i}", input={"app": a}, expect={"result": {"name": a, "tag": None, "labels": {}}}
        )
        for i, a in enumerate(apps)
    ]
    (root / "app-strings" / "count.json").write_text(json.dumps(case_doc("app-strings", cases)))
    return root


def _interrupt_when(
    proc: subprocess.Popen, ready, what: str, poll: float = 0.1, settle: float = 0.0, wait: float = 60
) -> str:
    """Wait (up to 120 s, while ``proc`` lives) for ``ready()``, then after ``settle`` s send SIGINT;
    the output. ``proc`` is killed if it outlives this."""
    try:
        deadline = time.monotonic() + 120
        while not ready():
            assert proc.poll() is None and time.monotonic() < deadline, what
            time.sleep(poll)
        time.sleep(settle)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=wait)
    finally:
        if proc.poll() is None:
            proc.kill()
    return out


def _interrupted_run(tmp_path: Path) -> Path:
    root = _counting_vectors(tmp_path)
    marker = tmp_path / "hanging"
    adapter = tmp_path / "hanging_adapter.py"
    adapter.write_text(HANGING_ADAPTER.format(root=str(ROOT), marker=str(marker)))
    results = tmp_path / "interrupted.json"
    proc = subprocess.Popen(
        [
            *PYTEST,
            str(root),
            "--vectors",
            str(root),
            "--results",
            str(results),
            "--pipeline",
            "0",
            "--adapter-cmd",
            f"{sys.executable} {adapter}",
            "--adapter-timeout",
            "300",
        ],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = _interrupt_when(proc, marker.exists, "the run never reached the hanging case")
    assert proc.returncode == 2, out  # pytest's "interrupted"
    assert "INCOMPLETE" in out
    return results


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_an_interrupted_run_says_it_is_incomplete_and_every_reader_says_so_loudly(tmp_path):
    results = _interrupted_run(tmp_path)
    r = load_results(results)
    assert r.run["incomplete"] is True
    assert [c["id"] for c in r.cases] == [f"app-strings/count/c{i}" for i in range(5)]
    assert r.run["not_run"] == [f"app-strings/count/c{i} [appc-0.8.11]" for i in range(5, 10)]
    assert r.run["selection"] is None

    check = cli("check", str(results), "--expectations-dir", str(tmp_path))
    assert check.returncode == 1, check.stdout
    assert "INCOMPLETE" in check.stdout and "check: ok" not in check.stdout
    allowed = cli("check", str(results), "--expectations-dir", str(tmp_path), "--allow-incomplete")
    assert allowed.returncode == 0, allowed.stdout
    assert "check: ok (INCOMPLETE" in allowed.stdout

    report = cli("report", str(results), "--out", str(tmp_path / "out"), "--format", "markdown")
    assert report.returncode == 0 and "INCOMPLETE" in report.stderr, report.stderr

    complete = tmp_path / "complete.json"
    write_results(
        complete,
        {
            **r.data,
            "run": {**r.run, "incomplete": False, "not_run": []},
            "cases": r.cases + [record(f"app-strings/count/c{i}") for i in range(5, 10)],
        },
    )
    diff = cli("diff", str(complete), str(results))
    assert diff.returncode == 1 and "INCOMPLETE" in diff.stdout, diff.stdout + diff.stderr
    assert "REMOVED" not in diff.stdout and "compared only the 5 case runs both ran" in diff.stdout
    assert cli("diff", str(complete), str(results), "--allow-incomplete").returncode == 0


def test_a_complete_run_is_marked_complete(tmp_path):
    root = _counting_vectors(tmp_path)
    proc, doc = run_suite(
        tmp_path, "--impl", "reference", "--vectors", str(root), "--case", "app-strings/count/c1", paths=[root]
    )
    assert doc is not None, proc.stdout[-2000:]
    assert doc["run"]["incomplete"] is False and doc["run"]["not_run"] == []
    # --case selected 1 of the 10 case runs (one profile each): partial by choice, not interrupted
    assert doc["run"]["selection"] == {"selected": 1, "of": 10, "by": ["--case app-strings/count/c1"]}


def test_a_run_stopped_by_x_is_incomplete(tmp_path):
    root = _counting_vectors(tmp_path)
    proc, doc = run_suite(
        tmp_path,
        "--adapter-cmd",
        sys.executable + " " + str(ROOT / "tests/fakes/broken.py") + " wrong",
        "--vectors",
        str(root),
        "-x",
        paths=[root],
    )
    assert doc["run"]["incomplete"] is True and len(doc["run"]["not_run"]) == 9, doc["run"]


def test_check_and_diff_of_a_partial_run_compare_only_what_both_sides_ran(tmp_path):
    full = minimal_results(
        [record(f"app-strings/x/c{i}") for i in range(6)], incomplete=False, not_run=[], selection=None
    )
    part = minimal_results(
        [record("app-strings/x/c1")],
        incomplete=False,
        not_run=[],
        selection={"selected": 1, "of": 6, "by": ["--case app-strings/x/c1"]},
    )
    write_results(tmp_path / "full.json", full)
    write_results(tmp_path / "part.json", part)
    exp = tmp_path / "reference.json"
    exp.write_text(
        json.dumps(
            {
                "implementation": "reference",
                "known_failures": [
                    {"id": "app-strings/x/c3", "profile": "appc-0.8.11", "reason": "not in the selection"}
                ],
            }
        )
    )
    diff = cli("diff", str(tmp_path / "full.json"), str(tmp_path / "part.json"))
    assert diff.returncode == 0, diff.stdout
    lines = [x for x in diff.stdout.splitlines() if "partial run" in x]
    assert len(lines) == 1 and "compared only the 1 case runs both ran" in lines[0] and "5 only in A" in lines[0]
    assert "REMOVED" not in diff.stdout
    check = cli("check", str(tmp_path / "part.json"), "--expectations", str(exp), "--strict")
    assert check.returncode == 0, check.stdout
    assert "check: ok" in check.stdout and "not in this run" not in check.stdout
    assert len([x for x in check.stdout.splitlines() if "partial run" in x]) == 1
    # without the selection the same entry is reported (and --strict fails on it)
    assert cli("check", str(tmp_path / "full.json"), "--expectations", str(exp), "--strict").returncode == 1


def test_diff_of_a_run_with_fewer_profiles_compares_the_common_profile_only(tmp_path):
    both = minimal_results(
        [record("app-strings/x/a"), record("app-strings/x/a", "appc-imagetags")],
        profiles=["appc-0.8.11", "appc-imagetags"],
        incomplete=False,
        not_run=[],
        selection=None,
    )
    one = minimal_results([record("app-strings/x/a")], incomplete=False, not_run=[], selection=None)
    write_results(tmp_path / "both.json", both)
    write_results(tmp_path / "one.json", one)
    diff = cli("diff", str(tmp_path / "both.json"), str(tmp_path / "one.json"))
    assert diff.returncode == 0 and "REMOVED" not in diff.stdout, diff.stdout
    assert [x for x in diff.stdout.splitlines() if x.startswith("partial run")] == [
        "partial run: compared only the 1 case runs both ran (profiles A appc-0.8.11, appc-imagetags, "
        "B appc-0.8.11; not compared: 1 only in A, 0 only in B)"
    ]


# -- 5. the mock CA folder does not outlive its process -----------------------------------------

CA_HOLDER = """
import os, sys, time
sys.path.insert(0, {root!r})
import threading
from appc_conformance.servers import ca
if {in_thread!r}:  # as the harness's network workers first need it
    box = []
    t = threading.Thread(target=lambda: box.append(ca.default()))
    t.start(); t.join()
pki = ca.default()
pki.server_context("127.0.0.2")  # a leaf certificate, as a discovery case makes
print(pki.directory, flush=True)
time.sleep(120)
"""


def _ca_process(tmp_path: Path, in_thread: bool = False):
    env = dict(ENV, TMPDIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-c", CA_HOLDER.format(root=str(ROOT), in_thread=in_thread)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    assert line, "the process did not create its CA"
    return proc, Path(line)


def _leftovers(tmp_path: Path) -> list:
    """Everything the PKI left in the temporary folder (key files included)."""
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    "sig,in_thread", [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGHUP, False), (signal.SIGTERM, True)]
)
@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_the_ca_folder_is_removed_when_the_process_is_stopped(tmp_path, sig, in_thread):
    proc, folder = _ca_process(tmp_path, in_thread)
    assert folder.is_dir() and tmp_path in folder.parents
    assert not [p for p in tmp_path.iterdir() if p.is_file()], "a key file outside the CA folder"
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert proc.returncode != 0  # still stopped by the signal
    assert not folder.exists(), _leftovers(tmp_path)
    assert _leftovers(tmp_path) == []


def test_what_sigkill_leaves_is_swept_by_the_next_run(tmp_path):
    proc, folder = _ca_process(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert folder.is_dir()  # nothing can run at SIGKILL
    assert oct(folder.parent.stat().st_mode & 0o777) == "0o700"  # readable by this user only
    nxt, folder2 = _ca_process(tmp_path)
    try:
        assert not folder.exists() and folder2.exists()
    finally:
        nxt.send_signal(signal.SIGTERM)
        nxt.wait(timeout=30)
    assert _leftovers(tmp_path) == []


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_an_interrupted_discovery_run_leaves_no_ca_behind(tmp_path):
    env = dict(ENV, TMPDIR=str(tmp_path))
    proc = subprocess.Popen(
        [*PYTEST, str(VECTORS / "discovery"), "--impl", "reference", "--results", str(tmp_path / "r.json")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = _interrupt_when(
        proc, lambda: bool(list(tmp_path.rglob("*.pem"))), "the run never made its CA", poll=0.05, settle=1.0, wait=120
    )
    assert _leftovers(tmp_path) == ["r.json"], out[-2000:]
    assert load_results(tmp_path / "r.json").incomplete


# -- 6. expectations that cannot match, or belong to another implementation --------------------


def _expectations(tmp_path: Path, impl: str, **entry) -> Path:
    p = tmp_path / f"{impl}.json"
    p.write_text(
        json.dumps(
            {
                "implementation": impl,
                "known_failures": [
                    {"id": "app-strings/basic/name-only", "reason": "r"},
                    {"id": "app-strings/basic/name-only", "reason": "r", **entry},
                ],
            }
        )
    )
    return p


def test_an_entry_for_an_unknown_profile_is_an_error_naming_the_file_and_the_entry(tmp_path):
    from appc_conformance.reports import expectations

    exp = _expectations(tmp_path, "reference", profile="appc-0.9")
    with pytest.raises(expectations.ExpectationsError) as err:
        expectations.load(exp)
    assert str(exp) in str(err.value) and "known_failures[1].profile" in str(err.value)
    assert "appc-0.9" in str(err.value) and "appc-0.8.11" in str(err.value)
    results = tmp_path / "r.json"
    write_results(results, minimal_results([record("app-strings/basic/name-only")]))
    check = cli("check", str(results), "--expectations", str(exp))
    assert check.returncode == 2 and "known_failures[1].profile" in check.stderr, check.stdout + check.stderr
    proc, doc = run_suite(
        tmp_path,
        "--impl",
        "reference",
        "--expectations",
        str(exp),
        "--case",
        "app-strings/basic/name-only",
        paths=[VECTORS / "app-strings"],
    )
    assert proc.returncode == 4 and "known_failures[1].profile" in proc.stderr, proc.stdout + proc.stderr


@pytest.mark.parametrize("how", ["impl", "adapter-cmd"])
def test_pytest_expectations_of_another_implementation_are_a_usage_error(tmp_path, how):
    exp = _expectations(tmp_path, "go-appc", profile="appc-0.8.11")
    who = (
        ["--impl", "reference"]
        if how == "impl"
        else ["--adapter-cmd", sys.executable + " " + str(ROOT / "tests/fakes/broken.py") + " wrong"]
    )
    proc, doc = run_suite(
        tmp_path,
        *who,
        "--expectations",
        str(exp),
        "--case",
        "app-strings/basic/name-*",
        paths=[VECTORS / "app-strings"],
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out[-3000:]
    assert "go-appc" in out and ("'reference'" if how == "impl" else "'broken-wrong'") in out
    assert "INTERNALERROR" not in out and "Traceback" not in out
    assert doc is None  # nothing was run, nothing is written
    # the matching name is accepted
    ok = _expectations(tmp_path, "reference" if how == "impl" else "broken-wrong", profile="appc-0.8.11")
    proc, doc = run_suite(
        tmp_path, *who, "--expectations", str(ok), "--case", "app-strings/basic/name-*", paths=[VECTORS / "app-strings"]
    )
    assert proc.returncode in (0, 1) and doc is not None, proc.stdout[-3000:]


# -- 7. expectations that pass anything, or cannot come from the op, are refused ----------------


@pytest.mark.parametrize(
    "op,input_,expect,field,words",
    [
        ("parse_app", {"app": "example.com/app"}, {"result": {}}, "expect.result", "accepts any answer"),
        (
            "parse_app",
            {"app": "example.com/app"},
            {"any_of": [{"result": {"name": "example.com/app"}}, {"result": {}}]},
            "expect.any_of[1].result",
            "accepts any answer",
        ),
        (
            "parse_app",
            {"app": "example.com/app"},
            {"result": {"name": "example.com/app", "valid": True}},
            "expect.result",
            "'valid'",
        ),
        ("parse_app", {"app": "example.com/app"}, {"error": "alias-cycle"}, "expect.error", "'alias-cycle'"),
        ("validate_manifest", {"document": "{}"}, {"result": {"valid": False}}, "expect.result.valid", "error answer"),
        (
            "validate_manifest",
            {"document": "{}"},
            {"error": ["invalid-manifest", "tag-not-found"]},
            "expect.error",
            "'tag-not-found'",
        ),
        (
            "match_manifest",
            {"app": "example.com/app", "manifest": "{}"},
            {"result": {"matches": "yes"}},
            "expect.result.matches",
            "true or false",
        ),
    ],
)
def test_lint_refuses_expectations_that_pass_anything_or_do_not_fit_the_op(tmp_path, op, input_, expect, field, words):
    root = vector_copy(tmp_path)
    (root / "app-strings").mkdir()
    c = parse_case("app-strings/test/odd", op=op, input=input_, expect=expect)
    if "any_of" in expect:
        c.update(strength="ambiguous", ambiguities=["AMB-27"])
    (root / "app-strings" / "odd.json").write_text(json.dumps(case_doc("app-strings", [c])))
    linted = lint(root)
    assert linted.returncode == 1, linted.stdout + linted.stderr
    line = [x for x in linted.stderr.splitlines() if "odd.json" in x]
    assert len(line) == 1 and "app-strings/test/odd" in line[0] and f"field '{field}'" in line[0], linted.stderr
    assert words in line[0], line[0]


def test_every_op_has_its_outcomes():
    # (That the bundled vectors fit their ops is the lint's verdict on them: test_harness.py,
    # test_lint_passes_on_the_bundled_vectors.)
    from appc_conformance.conformance import vectors

    assert set(vectors.OPS) <= set(vectors.OP_OUTCOMES)  # every adapter op has its row


# -- 8. stays on loopback -----------------------------------------------------------------------


def _discovery_case(app: str, meta_url: str = "https://{{a}}/aci/{name}.{ext}", **paths) -> dict:
    return {
        "id": "discovery/test/outside",
        "description": "d",
        "requirements": ["DISC-13"],
        "profiles": ["appc-0.8.11"],
        "strength": "must",
        "op": "discover",
        "input": {"app": app, "what": ["aci"]},
        "hosts": {
            "a": {"paths": {"/app?ac-discovery=1": {"meta": [["ac-discovery", "{{a.host}} " + meta_url]]}, **paths}}
        },
        "expect": {"error": "discovery-failed"},
    }


@pytest.mark.parametrize(
    "case,words",
    [
        (_discovery_case("example.com/app"), "'example.com'"),
        (_discovery_case("192.0.2.1/app"), "'192.0.2.1'"),
        (_discovery_case("{{a.host}}/app", "https://192.0.2.7/{name}.{ext}"), "'192.0.2.7'"),
        (_discovery_case("{{a.host}}/app", "https://outside.example/{name}.{ext}"), "'outside.example'"),
        (
            _discovery_case("{{a.host}}/app", **{"/x": {"redirect": "https://[2001:db8::1]/y", "status": 302}}),
            "'2001:db8::1'",
        ),
        (
            _discovery_case("{{a.host}}/app", **{"/x": {"redirect": "//elsewhere.example/y", "status": 302}}),
            "'elsewhere.example'",
        ),
        (_discovery_case("127.0.0.9/app"), "'127.0.0.9'"),  # loopback, but no host of the scenario
    ],
)
def test_lint_refuses_a_discovery_case_that_points_outside_its_mock_hosts(tmp_path, case, words):
    root = vector_copy(tmp_path)
    (root / "discovery").mkdir()
    (root / "discovery" / "odd.json").write_text(json.dumps(case_doc("discovery", [case])))
    linted = lint(root)
    assert linted.returncode == 1, linted.stdout + linted.stderr
    line = [x for x in linted.stderr.splitlines() if "odd.json" in x and "mock hosts" in x]
    assert line and words in line[0] and "discovery/test/outside" in line[0], linted.stderr


def test_lint_accepts_a_discovery_case_on_its_own_hosts(tmp_path):
    root = vector_copy(tmp_path)
    (root / "discovery").mkdir()
    case = _discovery_case("{{a.host}}/app", **{"/x": {"redirect": "https://{{a}}/y", "status": 302}})
    (root / "discovery" / "ok.json").write_text(json.dumps(case_doc("discovery", [case])))
    linted = lint(root)
    assert linted.returncode == 0, linted.stderr


@pytest.fixture
def no_packets_off_the_machine(monkeypatch):
    """Record every address the code asks for or connects to; fail on any that is not loopback."""
    import ipaddress
    import socket

    asked = []
    real_gai, real_cc = socket.getaddrinfo, socket.create_connection

    def loopback(host) -> bool:
        try:
            return ipaddress.ip_address(str(host).strip("[]")).is_loopback
        except ValueError:
            return False

    def getaddrinfo(host, *a, **kw):
        asked.append(("getaddrinfo", host))
        assert loopback(host), f"name or address looked up outside loopback: {host!r}"
        return real_gai(host, *a, **kw)

    def create_connection(address, *a, **kw):
        asked.append(("connect", address[0]))
        assert loopback(address[0]), f"connection outside loopback: {address!r}"
        return real_cc(address, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return asked


@pytest.mark.parametrize(
    "app", ["192.0.2.1/app", "example.com/app", "10.1.2.3/app", "localhost/app", "127.0.0.1.example.com/app"]
)
def test_the_reference_refuses_to_connect_outside_loopback(no_packets_off_the_machine, app):
    from appc_conformance.conformance.adapters.reference import discovery
    from appc_conformance.conformance.adapters.reference.errors import RefError

    for insecure in ([], ["http"]):
        with pytest.raises(RefError) as err:
            discovery.discover(
                {"app": app, "what": ["aci"], "port": None, "insecure": insecure, "headers": {}}, "appc-0.8.11", None
            )
        assert "loopback" in str(err.value)
    assert no_packets_off_the_machine == []


@pytest.mark.parametrize(
    "url", ["https://192.0.2.1/x", "http://example.com/x", "https://[2001:db8::1]:8443/x", "https://10.0.0.1/x"]
)
def test_the_reference_transport_refuses_every_url_outside_loopback(no_packets_off_the_machine, url):
    from appc_conformance.conformance.adapters.reference import discovery

    t = discovery.Transport({"port": None, "insecure": ["http"], "headers": {}}, None)
    with pytest.raises(discovery.FetchError, match="loopback"):
        t.get(url, 1000)
    assert no_packets_off_the_machine == []


def test_the_reference_still_reaches_loopback(no_packets_off_the_machine):
    """The refusal is not a blanket one: a loopback address is connected to (nothing listens)."""
    from appc_conformance.conformance.adapters.reference import discovery

    t = discovery.Transport({"port": 9, "insecure": ["http"], "headers": {}}, None)
    with pytest.raises(discovery.FetchError):
        t.get("http://127.0.0.1:9/x", 1000)
    assert ("connect", "127.0.0.1") in no_packets_off_the_machine


def test_check_of_a_run_with_fewer_profiles_says_so_in_one_line(tmp_path):
    one = minimal_results([record("app-strings/x/a")], incomplete=False, not_run=[], selection=None)
    write_results(tmp_path / "one.json", one)
    exp = tmp_path / "reference.json"
    exp.write_text(
        json.dumps(
            {
                "implementation": "reference",
                "known_failures": [{"id": "app-strings/x/b", "profile": "appc-imagetags", "reason": "r"}],
            }
        )
    )
    check = cli("check", str(tmp_path / "one.json"), "--expectations", str(exp), "--strict")
    assert check.returncode == 0, check.stdout
    lines = [x for x in check.stdout.splitlines() if "partial run" in x]
    assert len(lines) == 1 and "appc-0.8.11" in lines[0] and "1 known failures outside it" in lines[0], check.stdout
