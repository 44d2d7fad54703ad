"""What ``pytest PATH --impl X`` collects: any vector folder given as a path (a folder holding its
own ``schema/vector-file.schema.json``, or a file or sub-folder inside one) is the run's vector
set, wherever it lives; and a run that collects no case says where the vectors are."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from appc_conformance.conformance import vectors
from tests.helpers import ROOT, VECTORS

AREA = "app-strings"
ONLY_IN_COPY = "app-strings/copy-only/plain-name"


@pytest.fixture
def copy(tmp_path) -> Path:
    """A small vector folder outside the project: the schema, the catalog, one area, and one case
    the bundled set does not have (so a run that used the bundled vectors would not have it)."""
    root = tmp_path / "my-vectors"
    shutil.copytree(VECTORS / "schema", root / "schema")
    shutil.copy2(VECTORS / "requirements.json", root / "requirements.json")
    shutil.copytree(VECTORS / AREA, root / AREA)
    (root / AREA / "copy-only.json").write_text(
        json.dumps(
            {
                "$schema": "../schema/vector-file.schema.json",
                "area": AREA,
                "description": "only in the copy",
                "cases": [
                    {
                        "id": ONLY_IN_COPY,
                        "description": "a plain name parses to itself",
                        "requirements": ["APP-01"],
                        "profiles": ["appc-0.8.11"],
                        "strength": "library",
                        "op": "parse_app",
                        "input": {"app": "example.com/copy"},
                        "expect": {"result": {"name": "example.com/copy", "tag": None, "labels": {}}},
                    }
                ],
            }
        )
    )
    return root


def pytest_in(cwd: Path, *args, results: Path | None = None) -> tuple[subprocess.CompletedProcess, dict | None]:
    """``python -m pytest ARGS --results R`` started in ``cwd`` (a folder of the user's, not the
    project), with the plugin loaded as installed; the results document, if one was written."""
    results = results or cwd / "results.json"
    if results.exists():
        results.unlink()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # Installed plugins load as on a user's machine (the harness among them, by its entry point),
    # but hypothesis's: a second of start-up per run that these tests do not use.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            *map(str, args),
            "--results",
            str(results),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    doc = json.loads(results.read_text()) if results.exists() else None
    return proc, doc


def expected_runs(root: Path, files=None) -> set:
    vs = vectors.load(root, files, cache=False)
    assert not vs.problems
    return {(c.id, p) for c in vs.cases for p in c.profiles}


def ran(doc: dict) -> set:
    return {(c["id"], c["profile"]) for c in doc["cases"]}


def test_a_vector_folder_given_as_a_path_is_the_run_s_vector_set(copy, tmp_path):
    proc, doc = pytest_in(tmp_path, copy, "--impl", "reference")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert doc is not None
    assert ran(doc) == expected_runs(copy)
    assert (ONLY_IN_COPY, "appc-0.8.11") in ran(doc)
    assert {c["verdict"] for c in doc["cases"]} == {"pass"}
    assert "no vector cases collected" not in proc.stdout


def test_a_file_inside_a_vector_folder(copy, tmp_path):
    one = copy / AREA / "copy-only.json"
    proc, doc = pytest_in(tmp_path, one, "--impl", "reference")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert ran(doc) == {(ONLY_IN_COPY, "appc-0.8.11")}


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_a_sub_folder_and_a_relative_path_without_impl(copy, tmp_path):
    """From inside the folder, a relative sub-folder; without --impl the reference is tested."""
    proc, doc = pytest_in(copy, AREA, results=tmp_path / "results.json")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert ran(doc) == expected_runs(copy)
    assert doc["implementation"]["id"] == "reference"


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_the_installed_copy_of_the_vectors_is_collected_too(tmp_path):
    """A vector folder laid out as an installed package has it (conformance/_vectors) works as any other."""
    inst = tmp_path / "site" / "conformance" / "_vectors"
    shutil.copytree(VECTORS / "schema", inst / "schema")
    shutil.copy2(VECTORS / "requirements.json", inst / "requirements.json")
    shutil.copytree(VECTORS / "matching", inst / "matching")
    proc, doc = pytest_in(tmp_path, inst / "matching", "--impl", "reference")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert ran(doc) == expected_runs(inst)


def test_two_vector_folders_at_once_are_a_usage_error(copy, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(copy, other)
    proc, doc = pytest_in(tmp_path, copy, other, "--impl", "reference")
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "different vector folders" in proc.stderr
    assert doc is None


def test_vectors_option_still_wins(copy, tmp_path):
    """--vectors DIR names the vector set; a path inside it selects, as before."""
    proc, doc = pytest_in(tmp_path, copy / AREA / "copy-only.json", "--vectors", copy, "--impl", "reference")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert ran(doc) == {(ONLY_IN_COPY, "appc-0.8.11")}


def test_a_run_that_collects_nothing_says_where_the_vectors_are(tmp_path):
    empty = tmp_path / "my-ace"
    empty.mkdir()
    proc, doc = pytest_in(empty, "--impl", "reference")
    assert proc.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, proc.stdout[-2000:]
    line = (
        f"no vector cases collected; the bundled vectors are in {vectors.default_vectors_dir()}; "
        "give a vector folder as a path or --vectors DIR"
    )
    assert line in proc.stdout, proc.stdout[-2000:]


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_the_publisher_area_alone_collects_nothing_and_says_why(tmp_path):
    """Publisher cases are the suite's own (tests/test_publisher.py): an adapter run never gets them."""
    proc, doc = pytest_in(tmp_path, VECTORS / "publisher", "--impl", "reference")
    assert proc.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, proc.stdout[-2000:]
    assert "no vector cases collected" in proc.stdout
    assert "publisher cases" in proc.stdout and "not by adapters" in proc.stdout
    assert doc is not None and doc["cases"] == []


def test_cases_collected_then_deselected_are_not_reported_as_missing(copy, tmp_path):
    proc, doc = pytest_in(tmp_path, copy, "--impl", "reference", "-k", "no-such-case-anywhere")
    assert proc.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, proc.stdout[-2000:]
    assert "deselected" in proc.stdout
    assert "no vector cases collected" not in proc.stdout
