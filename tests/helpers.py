"""Run the conformance suite and read its results file: in this process (a vector run through
``pytest.main``, as ``appc-conformance run`` starts it but without a new interpreter), or, for
what only a process shows (its exit, its signals, its environment, a bound on its whole time),
as a user would: a pytest subprocess."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from appc_conformance.conformance import plugin
from appc_conformance.conformance.run_verb import PYTEST_ARGS, pytest_command
from tests import miniatures

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "vectors"
BROKEN = ROOT / "tests" / "fakes" / "broken.py"
#: The areas whose cases need no mock host.
NON_NETWORK = [VECTORS / a for a in ("app-strings", "imagetags", "resolution", "merging", "manifests", "matching")]
#: A small slice with every op of NON_NETWORK and both profiles, for adapters that are slow to fail.
SLICE = [
    "--case",
    "app-strings/basic/name-*",
    "--case",
    "resolution/alias/fork-*",
    "--case",
    "manifests/header/*-missing",
    "--case",
    "matching/names/equal",
]


#: pytest started as ``appc-conformance run`` starts it: the harness handed over already imported,
#: no other installed plugin (a user's machine may have hypothesis's, xdist's...; loading them
#: costs a second per run and tests nothing here), none of the built-in plugins a vector run has
#: no use for. Tests of how pytest finds the harness by itself start it plainly.
PYTEST = tuple(pytest_command())


def checkout_env() -> dict:
    """The environment for a child process of the suite: this checkout first on the import path."""
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


@dataclass
class InProcessRun:
    """What an in-process run gives: the parts of a completed process a test reads."""

    args: list
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args, timeout: float = 300, process: bool = False):
    """``appc-conformance run ARGS`` from the checkout: in this process (``cli.main``, with what
    ``as_a_process`` sets) unless ``process``, then as a user runs it, stopped after ``timeout``
    seconds. Either way the verb starts its pytest children and their adapters as processes."""
    argv = ["run", *map(str, args)]
    if process:
        return subprocess.run(
            [sys.executable, "-m", "appc_conformance", *argv],
            cwd=ROOT,
            env=checkout_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    from appc_conformance.conformance import cli

    with as_a_process() as got:
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return InProcessRun(argv, int(code or 0), got.stdout, got.stderr)


def broken_cmd(mode: str) -> str:
    return f"{sys.executable} {BROKEN} {mode}"


@dataclass
class _Output:
    stdout: str = ""
    stderr: str = ""


@contextlib.contextmanager
def as_a_process():
    """What a subprocess run of the suite would have, for code run in this process: the
    checkout as working folder, its environment (``checkout_env``), its own stdout and stderr
    (kept in the object given), and miniatures that can be started (tests/miniatures.py). All
    of it is put back after the block."""
    got = _Output()
    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.update(checkout_env())
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), miniatures.installed():
            yield got
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        got.stdout, got.stderr = out.getvalue(), err.getvalue()


def run_here(args: list[str]) -> InProcessRun:
    """``pytest ARGS`` as a vector run, in this process (``as_a_process``): the harness plugin
    alone, with the arguments ``appc-conformance run`` gives its children (PYTEST_ARGS). The
    adapters it starts are processes as in any run (but ``miniature NAME``); what is saved is
    the interpreter and the imports."""
    with as_a_process() as got:
        code = pytest.main([*PYTEST_ARGS, *args], plugins=[plugin])
    return InProcessRun(list(args), int(code), got.stdout, got.stderr)


def run_suite(tmp_path: Path, *args: str, paths=None, timeout: float = 600, process: bool = False):
    """Run ``pytest VECTORS ARGS``; return (completed run, results document or None).

    In this process (``run_here``) unless ``process``: then a subprocess, as a user starts it,
    stopped after ``timeout`` seconds. The results file is parsed and validated against the
    results schema, as every reader does.
    """
    results = tmp_path / f"results-{len(list(tmp_path.glob('results-*.json')))}.json"
    args_ = [*(str(p) for p in (paths or [VECTORS])), "--results", str(results), *args]
    if process:
        proc = subprocess.run(
            [*PYTEST, *args_], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=checkout_env()
        )
    else:
        proc = run_here(args_)
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
