"""Hostile input files and command lines (issue 21, items 13 and 14): a results, expectations or
catalog file nested 100,000 levels deep is an input error (exit 2, naming the file), never a
traceback or a pytest INTERNALERROR; --publish with --no-report, --publish into a missing folder
and a --name that is no file name are usage errors before anything runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from appc_conformance.conformance import cli
from tests.helpers import PYTEST, ROOT, VECTORS
from tests.report_fixtures import three_runs
from tests.test_run import run_cli

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def files(tmp_path):
    runs = three_runs(tmp_path)
    (tmp_path / "deep-results.json").write_text('{"format": "appc-conformance-results", "cases": ' + DEEP + "}")
    (tmp_path / "deep.json").write_text(DEEP)
    (tmp_path / "deep-exp.json").write_text('{"implementation": "reference", "known_failures": ' + DEEP + "}")
    # within the decoder's reach, but deeper than any results file: the schema check would recurse
    (tmp_path / "deep-300.json").write_text(
        '{"format": "appc-conformance-results", "cases": ' + "[" * 300 + "]" * 300 + "}"
    )
    return tmp_path, runs["reference"]


@pytest.mark.parametrize(
    "argv, needle",
    [
        (
            ["report", "{t}/deep-results.json", "--out", "{t}/o"],
            "deep-results.json: arrays and objects nested too deeply",
        ),
        (["report", "{t}/deep.json", "--out", "{t}/o"], "deep.json: arrays and objects nested too deeply"),
        (["report", "{t}/deep-300.json", "--out", "{t}/o"], "deep-300.json: arrays and objects nested too deeply"),
        (["check", "{t}/deep-results.json"], "nested too deeply"),
        (["diff", "{ref}", "{t}/deep-results.json"], "deep-results.json: arrays and objects nested too deeply"),
        (
            ["report", "{ref}", "--out", "{t}/o", "--expectations", "{t}/deep-exp.json"],
            "deep-exp.json: arrays and objects",
        ),
        (["check", "{ref}", "--expectations", "{t}/deep-exp.json"], "deep-exp.json: arrays and objects"),
        (["report", "{ref}", "--out", "{t}/o", "--catalog", "{t}/deep.json"], "cannot read the requirement catalog"),
    ],
)
def test_a_deep_file_is_an_input_error(files, capsys, argv, needle):
    t, ref = files
    argv = [a.format(t=t, ref=ref) for a in argv]
    assert cli.main(argv) == 2
    assert needle in capsys.readouterr().err


def test_a_deep_expectations_file_is_a_usage_error_of_the_harness_and_of_run(files):
    t, _ = files
    proc = subprocess.run(
        [
            *PYTEST,
            str(VECTORS / "app-strings"),
            "--impl",
            "reference",
            "-k",
            "name-only",
            "--expectations",
            str(t / "deep-exp.json"),
            "--results",
            str(t / "r.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "INTERNALERROR" not in proc.stdout + proc.stderr and "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-2000:]  # pytest's usage error
    assert "deep-exp.json: arrays and objects nested too deeply" in proc.stdout + proc.stderr
    proc = run_cli(
        "--impl",
        "reference",
        "--case",
        "app-strings/basic/name-only",
        "--out",
        t / "o",
        "--expectations",
        t / "deep-exp.json",
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "deep-exp.json: arrays and objects nested too deeply" in proc.stderr


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--impl", "reference", "--no-report", "--publish", "{t}/pub.md"], "--no-report makes none"),
        (["--impl", "reference", "--publish", "{t}/missing/pub.md"], "does not exist"),
        (["--impl", "reference", "--publish", "{t}"], "a folder, not a file"),
        (["--adapter-cmd", "{py} -c pass", "--name", "a/b"], "--name 'a/b'"),
        (["--adapter-cmd", "{py} -c pass", "--name", ".."], "--name '..'"),
    ],
)
def test_bad_output_options_are_usage_errors_before_anything_runs(tmp_path, extra, needle):
    extra = [a.format(t=tmp_path, py=sys.executable) for a in extra]
    proc = run_cli("--case", "app-strings/basic/name-only", "--out", tmp_path / "out", *extra, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert needle in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()  # nothing ran
    assert not (tmp_path / "pub.md").exists()


def test_publish_into_an_existing_folder_still_publishes(tmp_path):
    proc = run_cli(
        "--impl",
        "reference",
        "--case",
        "app-strings/basic/name-only",
        "--out",
        tmp_path / "out",
        "--publish",
        tmp_path / "pub.md",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "pub.md").read_text() == (tmp_path / "out" / "summary.md").read_text()
    json.loads((tmp_path / "out" / "results-reference.json").read_text())
