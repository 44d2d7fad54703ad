"""Published artefacts name no local path (issue 21, item 12), even when the adapter's handshake
fails and its stderr and command line are all the run knows: summary.md, the HTML report, JUnit,
the coverage files, the results file and the badges' file names."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.helpers import ROOT
from tests.test_run import run_cli

SCRIPT = """
import os, sys
sys.stderr.write(f"adapter {os.path.abspath(__file__)} failed in {os.getcwd()}; python {sys.executable}\\n")
sys.exit(3)
"""


def test_a_failed_handshake_leaves_no_local_path_in_what_is_published(tmp_path):
    script = tmp_path / "adapters" / "failing-adapter.py"
    script.parent.mkdir()
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    proc = run_cli("--adapter-cmd", f"{sys.executable} {script}", "--case", "app-strings/basic/name-*", "--out", out)
    assert proc.returncode == 1, proc.stderr[-3000:]
    published = [p for p in out.iterdir() if p.suffix != ".log"]  # the log is the run's own, not published
    assert {p.name for p in published} >= {"summary.md", "report.html", "junit.xml", "coverage.md"}
    assert any(p.name.startswith("badge-") for p in published)
    folders = {str(ROOT), str(tmp_path), str(Path.home()), str(Path(sys.executable).parent)}
    for p in published:
        text = p.read_text(errors="replace")
        leaks = [f for f in folders if f in text]
        assert not leaks, (p.name, leaks)
        for f in folders:
            assert f.strip("/").replace("/", "-") not in p.name, p.name
    assert "failing-adapter.py failed in" in (out / "summary.md").read_text()  # the message is kept
