"""The harness graded by deliberately broken adapters, and the reference graded by every vector."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from appc_conformance.conformance import vectors
from tests.helpers import NON_NETWORK, ROOT, SLICE, VECTORS, broken_cmd, run_suite, verdicts
from tests.miniatures import command as miniature


@pytest.fixture(scope="module")
def vector_set():
    vs = vectors.load(VECTORS)
    assert not vs.problems, "\n".join(map(str, vs.problems))
    return vs


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_reference_passes_every_case_of_both_profiles(tmp_path, vector_set):
    proc, doc = run_suite(tmp_path)
    assert doc is not None, proc.stdout + proc.stderr
    by = verdicts(doc)
    failing = {v: [c["id"] for c in cs] for v, cs in by.items() if v != "pass"}
    assert not failing, failing
    expected = sum(len(c.profiles) for c in vector_set.cases)
    assert len(doc["cases"]) == expected
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_every_case_fails_against_the_negating_adapter(tmp_path, vector_set):
    """Every vector can fail: the reference's answer turned around is caught by every case."""
    proc, doc = run_suite(tmp_path, "--adapter-cmd", broken_cmd("negate"))
    passing = [f"{c['id']} [{c['profile']}]" for c in doc["cases"] if c["verdict"] == "pass"]
    assert not passing, f"cases that cannot fail: {passing}"
    assert {c["verdict"] for c in doc["cases"]} <= {"fail", "error"}
    assert len(doc["cases"]) == sum(len(c.profiles) for c in vector_set.cases)
    assert proc.returncode == 1


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_always_wrong_adapter_fails_every_case(tmp_path):
    proc, doc = run_suite(tmp_path, "--adapter-cmd", miniature("wrong"), paths=NON_NETWORK)
    assert {c["verdict"] for c in doc["cases"]} <= {"fail", "error"}
    assert doc["cases"]
    assert proc.returncode == 1


@pytest.mark.parametrize(
    "mode,verdict",
    [
        ("crash", "crash"),
        ("hang", "timeout"),
        ("garbage", "protocol-error"),
        ("bad-id", "protocol-error"),
        ("hang-hello", "timeout"),
    ],
)
@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_transport_failures_get_their_own_verdict_and_the_run_goes_on(tmp_path, mode, verdict):
    proc, doc = run_suite(
        tmp_path, "--adapter-cmd", miniature(mode), "--adapter-timeout", "0.5", *SLICE, paths=NON_NETWORK
    )
    assert doc is not None and len(doc["cases"]) >= 8, proc.stdout[-2000:]
    assert {c["verdict"] for c in doc["cases"]} == {verdict}
    assert proc.returncode == 1
    # the failure names the verdict and the case
    assert f"{verdict}:" in proc.stdout


def test_adapter_stderr_is_kept_with_the_case(tmp_path):
    _, doc = run_suite(tmp_path, "--adapter-cmd", miniature("crash"), *SLICE, paths=NON_NETWORK)
    assert all("crashing now" in c["stderr"] for c in doc["cases"])


def test_crashing_adapter_is_restarted_and_later_cases_pass(tmp_path):
    proc, doc = run_suite(tmp_path, "--adapter-cmd", broken_cmd("crash-some"), *SLICE, paths=NON_NETWORK)
    by = verdicts(doc)
    assert set(by) == {"pass", "crash"}
    # every third request crashes; the restarted adapter answers the next ones
    assert len(by["pass"]) >= len(by["crash"])
    seq = [c["verdict"] for c in doc["cases"]]
    assert "pass" in seq[seq.index("crash") + 1 :]


def test_missing_ops_are_not_implemented_not_failures(tmp_path):
    proc, doc = run_suite(tmp_path, "--adapter-cmd", broken_cmd("lacks-ops"), *SLICE, paths=NON_NETWORK)
    by = verdicts(doc)
    assert set(by) == {"pass", "not-implemented"}
    assert {c["op"] for c in by["pass"]} == {"parse_app"}
    assert "parse_app" not in {c["op"] for c in by["not-implemented"]}
    assert proc.returncode == 0  # skips are not failures


def test_declined_profile_is_not_implemented(tmp_path):
    proc, doc = run_suite(tmp_path, "--adapter-cmd", miniature("no-profile"), *SLICE, paths=NON_NETWORK)
    assert {c["verdict"] for c in doc["cases"]} == {"not-implemented"}
    assert "supports no profile" in doc["cases"][0]["message"]


def test_profile_option_selects_cases(tmp_path):
    _, doc = run_suite(tmp_path, "--profile", "appc-0.8.11", paths=NON_NETWORK)
    assert {c["profile"] for c in doc["cases"]} == {"appc-0.8.11"}
    assert doc["run"]["profiles"] == ["appc-0.8.11"]


def test_results_records_carry_what_the_issue_asks(tmp_path):
    _, doc = run_suite(tmp_path, "--case", "app-strings/basic/*", paths=NON_NETWORK)
    rec = doc["cases"][0]
    for key in ("id", "requirements", "strength", "verdict", "expected", "actual", "profile", "time_s"):
        assert key in rec
    assert doc["implementation"]["name"] == "appc-conformance-reference"
    assert doc["run"]["vectors_hash"].startswith("sha256:")


def _one_line_error(proc) -> str:
    text = (proc.stdout + proc.stderr).strip()
    assert proc.returncode not in (0, 1) or text, text
    return text


def test_unknown_impl_is_one_clear_line(tmp_path):
    proc, _ = run_suite(tmp_path, "--impl", "no-such-thing")
    assert proc.returncode != 0
    assert "unknown implementation 'no-such-thing'" in _one_line_error(proc)
    assert "reference" in proc.stderr


def test_missing_adapter_command_is_one_clear_line(tmp_path):
    proc, _ = run_suite(tmp_path, "--adapter-cmd", "/nonexistent/adapter --x")
    assert proc.returncode != 0
    assert "command not found: '/nonexistent/adapter'" in proc.stderr


@pytest.fixture
def broken_vector_set(tmp_path):
    """The schema, the catalog and two areas, one file of each broken."""
    root = tmp_path / "vectors"
    shutil.copytree(VECTORS / "schema", root / "schema")
    shutil.copy2(VECTORS / "requirements.json", root / "requirements.json")
    for area in ("app-strings", "merging"):
        shutil.copytree(VECTORS / area, root / area)
    path = root / "app-strings" / "basic.json"
    doc = json.loads(path.read_text())
    doc["cases"][1]["requirements"] = ["NOPE-99"]
    path.write_text(json.dumps(doc))
    (root / "merging" / "phase1.json").write_text('{"area": "merging", "cases": [')
    return root, doc["cases"][1]["id"]


def test_lint_names_file_case_and_field(broken_vector_set):
    root, case_id = broken_vector_set
    proc = subprocess.run(
        [sys.executable, "-m", "appc_conformance", "lint", "--vectors", str(root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert (
        f"vectors/app-strings/basic.json: case 1 ({case_id}): field 'requirements[0]': unknown requirement ID 'NOPE-99'"
        in lines[0]
    )
    assert any(
        line.startswith("vectors/merging/phase1.json: line 1 column") and "not valid JSON" in line for line in lines
    )


def test_lint_passes_on_the_bundled_vectors():
    """The lint as a contributor runs it: a file it checked before with the same schema,
    catalog and checking code is not checked again (on a fresh machine every file is)."""
    proc = subprocess.run([sys.executable, "-m", "appc_conformance", "lint"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert " 0 problems" in proc.stdout


@pytest.mark.slow  # every check of every bundled file, twice
def test_lint_from_scratch_and_from_the_cache_say_the_same_of_the_bundled_vectors(tmp_path):
    env = dict(os.environ, APPC_CONFORMANCE_CACHE=str(tmp_path / "cache"))
    full, recording, cached = (
        subprocess.run(
            [sys.executable, "-m", "appc_conformance", "lint", *flag], cwd=ROOT, capture_output=True, text=True, env=env
        )
        for flag in (["--no-cache"], [], [])
    )
    assert full.returncode == 0 and " 0 problems" in full.stdout, full.stderr
    for proc in (recording, cached):
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, full.stdout, full.stderr)
    assert len(json.loads((tmp_path / "cache" / "vectors" / "schema-checked.json").read_text())["checked"]) > 50


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_broken_vector_does_not_stop_the_run(tmp_path, broken_vector_set):
    root, case_id = broken_vector_set
    proc, doc = run_suite(tmp_path, "--vectors", str(root), paths=[root / "app-strings", root / "merging"])
    assert proc.returncode == 1
    assert "broken vector: vectors/merging/phase1.json: line 1" in proc.stdout
    assert f"broken vector: vectors/app-strings/basic.json: case 1 ({case_id})" in proc.stdout
    ids = {c["id"] for c in doc["cases"]}
    assert case_id not in ids
    assert len(ids) > 100 and {c["verdict"] for c in doc["cases"]} == {"pass"}
    assert len(doc["run"]["problems"]) == 2


CA_LOGGER = """
import json, sys
from appc_conformance.conformance.adapters.reference import __main__ as reference
real = reference.answer
def answer(request, state):
    if request.get("op") == "hello":
        with open(sys.argv[1], "a") as log:
            log.write(json.dumps(request.get("ca_file")) + "\\n")
    return real(request, state)
reference.answer = answer
sys.exit(reference.main())
"""


def test_the_test_ca_is_made_only_for_runs_with_network_cases(tmp_path):
    """A run without discovery or fetch cases gets ``ca_file`` null in every hello (its adapters
    make no TLS connection, the harness makes no CA); a run with them gets the CA everywhere."""
    script = tmp_path / "ca_logger.py"
    script.write_text(CA_LOGGER)
    other = tmp_path / "test_other.py"  # a test of another kind may use the sessions: it keeps the CA
    other.write_text("def test_other():\n    pass\n")
    for name, cases, paths in (
        ("local", ["app-strings/basic/*"], None),
        ("network", ["app-strings/basic/*", "discovery/walk/first-level-wins"], None),
        ("other-items", ["app-strings/basic/*"], [other, VECTORS / "app-strings"]),
    ):
        log = tmp_path / f"{name}.log"
        proc, doc = run_suite(
            tmp_path,
            "--adapter-cmd",
            f"{sys.executable} {script} {log}",
            "--vectors",
            str(VECTORS),
            *[a for c in cases for a in ("--case", c)],
            paths=paths,
            process=paths is not None,  # a run that imports a Python test file: a process of its own
        )
        assert doc is not None and {c["verdict"] for c in doc["cases"]} == {"pass"}, proc.stdout[-3000:]
        hellos = [json.loads(line) for line in log.read_text().splitlines()]
        if name == "local":
            assert hellos and all(h is None for h in hellos), hellos
        else:
            assert hellos and all(isinstance(h, str) and h.endswith(".pem") for h in hellos), hellos
