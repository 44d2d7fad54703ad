"""Expectations files as a newcomer meets them (issue 22, items 7 and 8): ``check
--write-template`` writes the file and says so (a missing folder is an input error, not a raw
errno), ``run`` and ``pytest`` do not take the template's TODO reasons silently, say when no
file of an ``--expectations`` folder applies, and name an entry whose case does not exist."""

from __future__ import annotations

import json

from appc_conformance.conformance import cli
from tests.helpers import run_cli, run_suite
from tests.report_fixtures import three_runs


def test_write_template_into_a_missing_folder_is_an_input_error(tmp_path, capsys):
    runs = three_runs(tmp_path)
    target = tmp_path / "no-such-folder" / "go-appc.json"
    code = cli.main(["check", str(runs["go"]), "--write-template", str(target)])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "Errno" not in err and str(target.parent) in err and "does not exist" in err, err


def test_write_template_writes_the_file_and_says_so_without_a_failing_check(tmp_path, capsys):
    runs = three_runs(tmp_path)
    target = tmp_path / "go-appc.json"
    code = cli.main(["check", str(runs["go"]), "--write-template", str(target)])
    out, err = capsys.readouterr()
    assert code == 0, (out, err)
    assert json.loads(target.read_text())["known_failures"]
    assert "UNEXPECTED" not in out + err and "FAILED" not in out + err, out + err
    assert f"wrote {target}: 2 known failures" in err and "TODO" in err, err


def _template(tmp_path, name: str, ids, reason="TODO: why this fails") -> object:
    folder = tmp_path / "exp"
    folder.mkdir(exist_ok=True)
    f = folder / f"{name}.json"
    f.write_text(json.dumps({"implementation": name, "known_failures": [{"id": i, "reason": reason} for i in ids]}))
    return f


def run_with_folder(folder, out):
    """``run`` of the reference on app-strings/basic/*, with the expectations folder ``folder``."""
    return run_cli(
        "--impl", "reference", "--case", "app-strings/basic/*", "--expectations", folder, "--out", out, "--no-report"
    )


def test_run_does_not_take_todo_reasons_or_unknown_cases_silently(tmp_path):
    f = _template(tmp_path, "reference", ["app-strings/basic/name-only", "app-strings/no/such-case"])
    proc = run_with_folder(f.parent, tmp_path / "out")
    assert "TODO" in proc.stderr and str(f) in proc.stderr, proc.stderr
    assert "app-strings/no/such-case" in proc.stderr and "no case" in proc.stderr, proc.stderr


def test_pytest_names_an_entry_whose_case_does_not_exist_and_todo_reasons(tmp_path):
    f = _template(tmp_path, "reference", ["app-strings/basic/name-only", "app-strings/no/such-case"])
    proc, _ = run_suite(tmp_path, "--impl", "reference", "--case", "app-strings/basic/*", "--expectations", str(f))
    out = proc.stdout + proc.stderr
    assert "app-strings/no/such-case" in out and "no case" in out, out[-2000:]
    assert "TODO" in out, out[-2000:]


def test_run_says_when_no_file_of_the_expectations_folder_applies(tmp_path):
    f = _template(tmp_path, "someone-else", ["app-strings/basic/name-only"], reason="a real reason")
    proc = run_with_folder(f.parent, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert f"no expectations file for reference in {f.parent}" in proc.stderr, proc.stderr
