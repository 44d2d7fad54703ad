"""``appc-conformance run`` cut short: an interrupted run keeps what it graded, marked
incomplete with what did not run, in reports that say so, and the output folder never holds
anything of an earlier run (README, "Partial runs marked")."""

from __future__ import annotations

import pytest

import json
import re
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

from tests.helpers import ROOT, checkout_env

MINIMAL = ROOT / "examples" / "minimal-adapter" / "adapter.py"


def _env() -> dict:
    return checkout_env()


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "appc_conformance", "run", *map(str, args)]


@pytest.mark.slow  # long waits, builds or bombs on purpose: in tox -e tests, not in tox -e quick
def test_sigint_halfway_through_run_all_keeps_this_runs_partial_results_and_nothing_of_the_earlier_run(tmp_path):
    out = tmp_path / "out"
    earlier = subprocess.run(
        _cli(
            "--adapter-cmd",
            f"{sys.executable} {MINIMAL}",
            "--name",
            "earlier",
            "--case",
            "app-strings/basic/*",
            "--out",
            out,
        ),
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert earlier.returncode == 0, earlier.stderr
    before = {p.name for p in out.iterdir()}
    assert {
        "results-earlier.json",
        "results-earlier.log",
        "report.html",
        "summary.md",
        "junit.xml",
        "badge-earlier.json",
        "badge-earlier.svg",
    } <= before, before
    (out / "notes.txt").write_text("a file of the user's: not the suite's to remove\n")

    started = time.time()
    cli = subprocess.Popen(
        _cli("--all", "--out", out, "--progress-interval", "0.2"),
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    halfway = threading.Event()
    midway: list[str] = []  # the implementations seen in the middle of their run

    def read():
        for ln in cli.stderr:
            lines.append(ln)
            m = re.match(r"(\S+) (\d+)/(\d+) \(", ln)
            if m and 30 <= int(m[2]) < int(m[3]) - 30:
                midway.append(m[1])
                halfway.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert halfway.wait(240), "no implementation reached the middle of its run:\n" + "".join(lines)
        cli.send_signal(signal.SIGINT)
        cli.wait(timeout=60)
    finally:
        if cli.poll() is None:
            cli.kill()
    reader.join(10)
    err = "".join(lines)
    assert cli.returncode == 128 + signal.SIGINT, err
    assert "interrupted" in err and "no results are kept" not in err

    names = {p.name for p in out.iterdir()}
    assert not any("earlier" in n for n in names), names  # nothing of the earlier run
    assert "notes.txt" in names
    assert not [n for n in names if n.startswith(".run-")]
    results = sorted(out.glob("results-*.json"))
    assert results, names
    docs = {p.name: json.loads(p.read_text()) for p in results}
    incomplete = {n: d for n, d in docs.items() if d["run"].get("incomplete") is True}
    assert incomplete, {n: d["run"].get("incomplete") for n, d in docs.items()}
    assert any(doc["cases"] for doc in incomplete.values()), "nothing graded was kept"
    for name, doc in incomplete.items():
        if name[len("results-") : -len(".json")] in midway:  # seen graded halfway: what it graded is kept
            assert doc["cases"], name
        graded = {f"{c['id']} [{c['profile']}]" for c in doc["cases"]}
        assert not graded & set(doc["run"]["not_run"])
    for name, doc in docs.items():  # every file is this run's
        from datetime import datetime

        assert datetime.fromisoformat(doc["run"]["started"]).timestamp() >= int(started), name
    # the reports are this run's and say it is incomplete
    summary = (out / "summary.md").read_text()
    html = (out / "report.html").read_text()
    assert "minimal-example" not in summary and "minimal-example" not in html  # the earlier run's adapter
    assert "ncomplete run" in summary, summary[:2000]
    assert "Incomplete run" in html
    props = {(p.get("name"), p.get("value")) for p in ET.parse(out / "junit.xml").getroot().iter("property")}
    assert ("incomplete", "true") in props
    for name in incomplete:
        label = name[len("results-") : -len(".json")]
        badge = json.loads((out / f"badge-{label}.json").read_text())
        assert "incomplete" in badge["message"], badge
    assert "INCOMPLETE" in err or "incomplete" in err.split("interrupted", 1)[1]
