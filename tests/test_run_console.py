"""What ``appc-conformance run`` says on the console to a newcomer (issue 22): a broken vector
file is named with its reason, a start-up error names each profile that failed, the known
failures are counted alike wherever they are counted, and no word about discovery ports for an
adapter that runs no discovery."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from tests.helpers import ROOT, VECTORS


def run_cli(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "appc_conformance", "run", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _vector_copy(tmp_path):
    root = tmp_path / "vectors"
    shutil.copytree(VECTORS, root, ignore=shutil.ignore_patterns("publisher", "discovery", "fetch"))
    return root


def test_a_broken_vector_file_is_named_on_the_console_with_its_reason(tmp_path):
    root = _vector_copy(tmp_path)
    broken = sorted((root / "app-strings").glob("*.json"))[0]
    text = broken.read_text()
    broken.write_text(text[:len(text) // 2])  # cut in the middle: not JSON any more
    rel = broken.relative_to(root).as_posix()
    proc = run_cli("--impl", "reference", "--vectors", root, "--case", "app-strings/*", "--out", tmp_path / "out")
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if rel in ln]
    assert lines, proc.stderr
    assert any("JSON" in ln or "line" in ln for ln in lines), lines  # the reason, not only the name
    # the Markdown summary's warning points at something that shows the problems
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert rel in summary, summary[:3000]
