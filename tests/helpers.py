"""Run the conformance suite as a user would (a pytest subprocess) and read its results file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from appc_conformance.conformance.run_verb import pytest_command

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "vectors"
BROKEN = ROOT / "tests" / "fakes" / "broken.py"


#: pytest started as ``appc-conformance run`` starts it: the harness handed over already imported,
#: no other installed plugin (a user's machine may have hypothesis's, xdist's...; loading them
#: costs a second per run and tests nothing here), none of the built-in plugins a vector run has
#: no use for. Tests of how pytest finds the harness by itself start it plainly.
PYTEST = tuple(pytest_command())


def checkout_env() -> dict:
    """The environment for a child process of the suite: this checkout first on the import path."""
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def run_cli(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    """``appc-conformance run ARGS`` from the checkout, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "appc_conformance", "run", *map(str, args)],
        cwd=ROOT,
        env=checkout_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def broken_cmd(mode: str) -> str:
    return f"{sys.executable} {BROKEN} {mode}"


def run_suite(tmp_path: Path, *args: str, paths=None, timeout: float = 600):
    """Run ``pytest VECTORS ARGS``; return (completed process, results document or None).

    The results file is parsed and validated against the results schema, as every reader does.
    """
    results = tmp_path / f"results-{len(list(tmp_path.glob('results-*.json')))}.json"
    argv = [*PYTEST, *(str(p) for p in (paths or [VECTORS])), "--results", str(results), *args]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=checkout_env())
    doc = None
    if results.exists():
        from appc_conformance.reports.results import parse  # the harness writes without validating: every test checks

        doc = parse(results.read_text(), results)
    return proc, doc


def verdicts(doc: dict) -> dict:
    out: dict = {}
    for c in doc["cases"]:
        out.setdefault(c["verdict"], []).append(c)
    return out
