"""The documentation's examples are run (issue 22, item 6): a one-liner that imports a module,
figures a worked example prints, the verb lists, and every ``--case`` pattern the docs give
select what they say. A doc that drifts from the code fails here."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys

import pytest

from appc_conformance.conformance import cli, vectors
from tests.helpers import ROOT, VECTORS, run_suite

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MINIMAL = ROOT / "examples" / "minimal-adapter" / "adapter.py"


def _text(path) -> str:
    return path.read_text(encoding="utf-8")


def test_python_one_liners_in_the_docs_run():
    found = []
    for doc in DOCS:
        for code in re.findall(r"python3? -c '([^']+)'", _text(doc)):
            found.append((doc.name, code))
            proc = subprocess.run(
                [sys.executable, "-c", code], cwd=ROOT.parent, capture_output=True, text=True, timeout=60
            )
            assert proc.returncode == 0, f"{doc.name}: python -c {code!r}: {proc.stderr[-1500:]}"
    assert any(name == "ADAPTERS.md" for name, _ in found), found


def test_every_case_pattern_in_the_docs_selects_a_case():
    ids = [c.id for c in vectors.load(VECTORS).cases]
    patterns = []
    for doc in DOCS:
        for pat in re.findall(r"--case '([^']+)'", _text(doc)):
            if pat.isupper() or "YOUR" in pat:  # a placeholder
                continue
            patterns.append(pat)
            assert any(fnmatch.fnmatchcase(i, pat) for i in ids), f"{doc.name}: --case {pat!r} selects no case"
    assert len(patterns) >= 3, patterns


def test_the_verb_lists_in_the_docs_name_every_verb():
    verbs = [v.name for v in cli.VERBS]
    adapters = _text(ROOT / "docs" / "ADAPTERS.md")
    listed = re.search(r"lists the other verbs \(([^)]*)\)", adapters.replace("\n", " "))
    assert listed, "docs/ADAPTERS.md no longer lists the verbs"
    named = set(re.findall(r"`([a-z-]+)`", listed[1])) | {"run"}
    assert named == set(verbs), f"ADAPTERS.md lists {sorted(named)}, the command has {sorted(verbs)}"
    reports = _text(ROOT / "docs" / "REPORTS.md")
    table = {m.split()[0] for m in re.findall(r"^\| `([^`]+)` \|", reports, re.M)}
    assert set(verbs) <= table, f"docs/REPORTS.md's verb table leaves out {sorted(set(verbs) - table)}"


def test_the_worked_example_prints_what_a_run_gives(tmp_path):
    """docs/ADAPTERS.md section 12: the verdict line and pytest's counts of the minimal adapter."""
    text = _text(ROOT / "docs" / "ADAPTERS.md")
    section = text[text.index("## 12. A worked example") : text.index("## 13.")]
    shown_verdicts = re.search(r"^verdicts: (.*)$", section, re.M)[1]
    shown_counts = re.search(r"^(\d+ passed, \d+ skipped)$", section, re.M)[1]
    proc, doc = run_suite(tmp_path, "--adapter-cmd", f"{sys.executable} {MINIMAL}", "--network-sessions", "1")
    assert doc is not None, proc.stdout[-2000:]
    counts: dict[str, int] = {}
    for c in doc["cases"]:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    assert shown_verdicts == ", ".join(f"{n} {v}" for v, n in sorted(counts.items())), proc.stdout[-600:]
    assert re.search(rf"\b{shown_counts}\b", proc.stdout), (shown_counts, proc.stdout[-600:])


def test_a_case_pattern_that_selects_nothing_is_not_silent_through_pytest(tmp_path):
    proc, doc = run_suite(tmp_path, "--impl", "reference", "--case", "resolution/cycles/*")
    out = proc.stdout + proc.stderr
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, out[-2000:]
    assert "--case 'resolution/cycles/*' matches no case" in out, out[-2000:]
    assert "resolution/" in out.split("matches no case", 1)[1]  # what the IDs look like
    assert doc is None


def test_a_case_pattern_outside_the_collected_folder_is_not_silent_either(tmp_path):
    proc, _ = run_suite(tmp_path, "--impl", "reference", "--case", "discovery/walk/*", paths=[VECTORS / "app-strings"])
    out = proc.stdout + proc.stderr
    assert "--case 'discovery/walk/*' selects none of the" in out, out[-2000:]
