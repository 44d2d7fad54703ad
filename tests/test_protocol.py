"""The harness's own runtest protocol for vector items (plugin.pytest_runtest_protocol) against
pytest's: the same outcomes, the same reports, -x, fixtures of other items, and the command line
``appc-conformance run`` starts pytest with (run_verb.pytest_command)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from appc_conformance.conformance import run_verb as run
from tests.helpers import ROOT, VECTORS, broken_cmd, run_suite
from tests.miniatures import command as miniature

MUTANTS = ROOT / "tests" / "fakes" / "mutants.py"
OUTCOMES = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?)")


def summary(proc) -> dict:
    """pytest's final summary line as {outcome: count}."""
    last = [line for line in proc.stdout.splitlines() if re.search(r" in [\d.]+s", line)][-1]
    return {k: int(n) for n, k in OUTCOMES.findall(last)}


def junit(path) -> dict:
    """JUnit test case name -> the kinds of its child elements (failure, skipped, ...)."""
    root = ET.parse(path).getroot()
    return {
        tc.get("name"): sorted(child.tag for child in tc if child.tag not in ("system-out", "system-err"))
        for tc in root.iter("testcase")
    }


def both_protocols(tmp_path, *args, paths):
    out = {}
    for name, extra in (("own", ()), ("pytest", ("--pytest-protocol",))):
        xml = tmp_path / f"junit-{name}.xml"
        proc, doc = run_suite(tmp_path, *args, "--junitxml", str(xml), *extra, paths=paths)
        assert doc is not None, proc.stdout[-2000:] + proc.stderr[-2000:]
        expected = "pytest's own" if extra else "the harness's"
        assert f"runtest protocol: {expected}" in proc.stdout
        out[name] = (proc, doc, junit(xml))
    return out["own"], out["pytest"]


def verdicts_of(doc) -> list:
    return [(c["id"], c["profile"], c["verdict"], c["actual"]) for c in doc["cases"]]


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_known_failures_fail_and_pass_the_same_under_both_protocols(tmp_path):
    paths = [VECTORS / "app-strings"]
    adapter = ("--adapter-cmd", f"{sys.executable} {MUTANTS} trim-whitespace")
    _, first = run_suite(tmp_path, *adapter, paths=paths)
    failing = [c for c in first["cases"] if c["verdict"] in ("fail", "error")]
    passing = [c for c in first["cases"] if c["verdict"] == "pass"]
    assert len(failing) >= 3 and passing
    known = [{"id": c["id"], "profile": c["profile"], "reason": "known"} for c in (*failing[:2], passing[0])]
    exp = tmp_path / "expectations.json"
    name = first["implementation"]["name"]  # an expectations file names the implementation it is for
    exp.write_text(json.dumps({"implementation": name, "known_failures": known}))
    (own, own_doc, own_xml), (ref, ref_doc, ref_xml) = both_protocols(
        tmp_path, *adapter, "--expectations", str(exp), paths=paths
    )
    counts = summary(own)
    assert counts == summary(ref)
    assert counts["xfailed"] == 2 and counts["xpassed"] == 1 and counts["failed"] == len(failing) - 2
    assert own.returncode == ref.returncode == 1
    for proc in (own, ref):  # the run's summary names the known failure that passed
        assert (
            f"known failure now passes (remove it from the expectations file): "
            f"{passing[0]['id']} [{passing[0]['profile']}]"
        ) in proc.stdout
    assert own_xml == ref_xml and len(own_xml) == len(first["cases"])
    assert verdicts_of(own_doc) == verdicts_of(ref_doc)


def test_skips_and_passes_are_the_same_under_both_protocols(tmp_path):
    paths = [VECTORS / "app-strings", VECTORS / "manifests"]
    (own, own_doc, own_xml), (ref, ref_doc, ref_xml) = both_protocols(
        tmp_path, "--adapter-cmd", broken_cmd("lacks-ops"), paths=paths
    )
    counts = summary(own)
    assert counts == summary(ref) and counts["passed"] > 100 and counts["skipped"] > 100
    assert own.returncode == ref.returncode == 0
    assert own_xml == ref_xml
    assert verdicts_of(own_doc) == verdicts_of(ref_doc)


def test_exitfirst_stops_after_the_first_failing_case(tmp_path):
    proc, doc = run_suite(tmp_path, "--adapter-cmd", miniature("wrong"), "-x", paths=[VECTORS / "app-strings"])
    assert summary(proc) == {"failed": 1}
    assert len(doc["cases"]) == 1


OTHER_TEST = """
import pytest

@pytest.fixture(scope="module")
def resource():
    yield "ok"
    with open({log!r}, "a") as fh:
        fh.write("{name} torn down\\n")

def test_uses_a_module_fixture(resource):
    assert resource == "ok"
"""


@pytest.mark.parametrize("order", ["vectors-first", "vectors-between", "vectors-last"])
def test_other_items_keep_their_fixtures_around_vector_items(tmp_path, order):
    """Python tests run before, between or after vector items: their fixtures are set up and torn
    down as without them. Test a sits in the vector set's folder, test b elsewhere, so a vector
    item between them must tear down what a left set up that b does not share (pytest checks its
    setup stack on every setup)."""
    vec = tmp_path / "vec"
    shutil.copytree(VECTORS / "schema", vec / "schema")
    shutil.copy2(VECTORS / "requirements.json", vec / "requirements.json")
    (vec / "app-strings").mkdir()
    vector_file = vec / "app-strings" / "values.json"
    shutil.copy2(VECTORS / "app-strings" / "values.json", vector_file)
    log = tmp_path / "teardown.log"
    tests = [vec / "test_a.py", tmp_path / "other" / "test_b.py"]
    tests[1].parent.mkdir()
    for name, path in zip("ab", tests):
        path.write_text(OTHER_TEST.format(log=str(log), name=name))
    paths = {
        "vectors-first": [vector_file, *tests],
        "vectors-between": [tests[0], vector_file, tests[1]],
        "vectors-last": [*tests, vector_file],
    }[order]
    # A subprocess: the runs import Python test modules of the same names (test_a, test_b).
    proc, doc = run_suite(tmp_path, "--vectors", str(vec), paths=paths, process=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert summary(proc) == {"passed": len(doc["cases"]) + 2}
    assert log.read_text() == "a torn down\nb torn down\n"


def test_the_run_command_line_loads_no_installed_plugin(tmp_path):
    """``appc-conformance run`` starts pytest with this harness and pytest's core only: a plugin
    installed in the environment (hypothesis, pytest-httpserver here) is not loaded."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    plain = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "--trace-config", str(VECTORS / "app-strings")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    lean = subprocess.run(
        run.pytest_command("--co", "--trace-config", str(VECTORS / "app-strings")),
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    for name in ("hypothesis", "pytest_httpserver"):
        assert name in plain.stdout
        assert name not in lean.stdout
    assert "conformance/plugin.py" in lean.stdout
    results = tmp_path / "r.json"
    proc = subprocess.run(
        run.pytest_command(str(VECTORS / "app-strings"), "--impl", "reference", "--results", str(results)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    doc = json.loads(results.read_text())
    assert len(doc["cases"]) > 100 and {c["verdict"] for c in doc["cases"]} == {"pass"}
