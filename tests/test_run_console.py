"""What ``appc-conformance run`` says on the console to a newcomer (issue 22): a broken vector
file is named with its reason, a start-up error names each profile that failed, the known
failures are counted alike wherever they are counted, and no word about discovery ports for an
adapter that runs no discovery."""

from __future__ import annotations

import json
import shutil
import sys

from tests.helpers import ROOT, run_cli, VECTORS


def _vector_copy(tmp_path):
    root = tmp_path / "vectors"
    shutil.copytree(VECTORS, root, ignore=shutil.ignore_patterns("publisher", "discovery", "fetch"))
    return root


def test_a_broken_vector_file_is_named_on_the_console_with_its_reason(tmp_path):
    root = _vector_copy(tmp_path)
    broken = sorted((root / "app-strings").glob("*.json"))[0]
    text = broken.read_text()
    broken.write_text(text[: len(text) // 2])  # cut in the middle: not JSON any more
    rel = broken.relative_to(root).as_posix()
    proc = run_cli("--impl", "reference", "--vectors", root, "--case", "app-strings/*", "--out", tmp_path / "out")
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if rel in ln]
    assert lines, proc.stderr
    assert any("JSON" in ln or "line" in ln for ln in lines), lines  # the reason, not only the name
    # the Markdown summary's warning points at something that shows the problems
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert rel in summary, summary[:3000]


def test_the_known_failures_of_the_verdict_line_are_counted_from_the_results(tmp_path):
    """Side by side, go-appc's line read "22 pass, 3 timeout (1 known failures)" and the summary
    "3 known failures": the line counted the progress file's lines, of which the last had not
    been written yet. Both count the results file."""
    from appc_conformance.conformance import run_verb as runmod
    from appc_conformance.reports import expectations as expmod

    ids = ["discovery/limits/endless-page", "discovery/limits/slow-drip-page", "discovery/walk/leaf-hangs"]
    exp_file = tmp_path / "go-appc.json"
    exp_file.write_text(
        json.dumps(
            {
                "implementation": "go-appc",
                "known_failures": [{"id": i, "reason": "a test: no timeout of its own"} for i in ids],
            }
        )
    )
    job = runmod.Job(
        "go-appc", ["--impl", "go-appc"], tmp_path / "results-go-appc.json", expectations=expmod.load(exp_file)
    )
    job.known = 1  # what the progress lines had said when the child ended
    job.doc = {
        "run": {},
        "cases": [{"id": i, "profile": "appc-0.8.11", "verdict": "timeout"} for i in ids]
        + [{"id": "app-strings/basic/name-only", "profile": "appc-0.8.11", "verdict": "pass"}],
    }
    line = runmod.done_line(job)
    assert "1 pass, 3 timeout (3 known failures)" in line, line


MINIMAL = ROOT / "examples" / "minimal-adapter" / "adapter.py"


def test_no_discovery_ports_for_an_adapter_that_runs_no_discovery(tmp_path):
    """Issue 22, item 12: "Discovery ports: 443 and 80" was shown for an adapter without
    ``discover`` (its discovery cases are not-implemented: no host was stood up)."""
    out = tmp_path / "out"
    proc = run_cli(
        "--adapter-cmd",
        f"{sys.executable} {MINIMAL}",
        "--name",
        "minimal",
        "--case",
        "app-strings/basic/*",
        "--case",
        "discovery/walk/*",
        "--out",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "results-minimal.json").read_text())
    assert "port_mode" not in doc["run"], doc["run"]
    assert "Discovery ports" not in (out / "summary.md").read_text()
    assert "port-mode" not in (out / "report.html").read_text()
    # results and badges are named alike
    assert (out / "badge-minimal.json").is_file() and (out / "badge-minimal.svg").is_file()


def test_a_startup_error_names_every_profile_that_failed(tmp_path):
    proc = run_cli(
        "--adapter-cmd", f"{sys.executable} -c pass", "--case", "app-strings/basic/*", "--out", tmp_path, "--no-report"
    )
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if "the adapter did not start" in ln]
    assert any("appc-0.8.11" in ln for ln in lines) and any("appc-imagetags" in ln for ln in lines), proc.stderr
