"""Tests of the reports: results files, HTML/Markdown/JUnit/coverage, expectations, diff and gate,
the vector-revision diff and the command line. Every results file here is synthetic."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from appc_conformance.conformance import cli
from tests.report_fixtures import CASES, CATALOG, GO_VERDICTS, go_results, make_results, three_runs
from appc_conformance.reports import diff as diffmod
from appc_conformance.reports import expectations as expmod
from appc_conformance.reports.results import FAILING, VERDICTS, ResultsError, load_results, parse, schema, write_results

ROOT = Path(__file__).resolve().parent.parent


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def catalog(tmp_path) -> Path:
    p = tmp_path / "requirements.json"
    p.write_text(json.dumps(CATALOG))
    return p


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    """Three runs: the reference (all pass), a Go library with failures (one profile), an unavailable one."""
    return three_runs(tmp_path)


# -- results files ------------------------------------------------------------------------------


def test_schema_verdicts_match_the_harness():
    from appc_conformance.conformance import grading

    assert tuple(schema()["$defs"]["case"]["properties"]["verdict"]["enum"]) == VERDICTS == grading.VERDICTS


def test_verdicts_and_profiles_have_one_definition_each_that_the_schemas_follow():
    """The verdicts are the grading module's (results.py re-exports them, the reports use them);
    the profiles are vectors.py's (the publisher check uses them); every schema that lists
    either has the same list."""
    from typing import get_args
    from appc_conformance.conformance import grading, protocol, publisher, vectors
    from appc_conformance.reports import junit, results

    assert results.VERDICTS is grading.VERDICTS and get_args(grading.Verdict) == grading.VERDICTS
    assert results.FAILING is grading.FAILING and results.SKIPPING is grading.SKIPPING
    assert set(grading.FAILING) | set(grading.SKIPPING) | {grading.PASS} == set(grading.VERDICTS)
    assert not set(grading.FAILING) & set(grading.SKIPPING)
    assert set(junit.FAILURE) | set(junit.ERROR) == set(grading.FAILING)
    assert publisher.PROFILES is vectors.PROFILES and get_args(vectors.Profile) == vectors.PROFILES
    vector_schema = json.loads((vectors.default_vectors_dir() / "schema" / "vector-file.schema.json").read_text())
    assert tuple(vector_schema["$defs"]["case"]["properties"]["profiles"]["items"]["enum"]) == vectors.PROFILES
    common = json.loads((protocol.SCHEMA_DIR / "common.schema.json").read_text())
    assert tuple(common["$defs"]["profile"]["enum"]) == vectors.PROFILES


def test_write_then_load_round_trip(tmp_path):
    doc = make_results()
    path = write_results(tmp_path / "sub" / "r.json", doc)
    assert load_results(path).data == doc
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]  # no temporary file left behind


@pytest.mark.parametrize(
    "doc",
    [
        {"format": "x", "cases": [{"id": "a", "n": [1, {"b": "é"}]}, {"id": "b"}]},  # one case per line
        {"cases": [{"id": "a"}]},  # nothing before the cases
        {"cases": [{"id": "a"}], "format": "x"},  # the cases not last
        {"format": "x", "cases": []},
    ],
)
def test_results_text_is_the_document(doc):
    from appc_conformance.reports.results import dumps

    text = dumps(doc)
    assert json.loads(text) == doc and text.endswith("\n")
    if doc.get("cases") and len(doc) > 1 and list(doc)[-1] == "cases":
        assert sum(line.startswith('  {"id"') for line in text.splitlines()) == len(doc["cases"])


def test_write_results_refuses_an_invalid_document_and_writes_nothing(tmp_path):
    doc = make_results()
    doc["cases"][0]["verdict"] = "passed"
    with pytest.raises(ResultsError, match=r"cases\[0\]\.verdict"):
        write_results(tmp_path / "r.json", doc)
    assert not list(tmp_path.iterdir())


def test_interrupted_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = write_results(tmp_path / "r.json", make_results())
    before = path.read_bytes()

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_results(path, make_results(verdicts={"app-strings/colon/empty-name": "fail"}))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncated_results_file_gets_a_clear_error_naming_it(tmp_path, cut):
    good = write_results(tmp_path / "good.json", make_results()).read_text()
    bad = tmp_path / "results-truncated.json"
    bad.write_text(good[: int(len(good) * cut)])
    with pytest.raises(ResultsError) as info:
        load_results(bad)
    msg = str(info.value)
    assert msg.startswith(str(bad) + ": line ")
    assert "truncated" in msg


def test_truncated_results_file_through_the_cli(tmp_path, capsys):
    bad = tmp_path / "results-half.json"
    bad.write_text(json.dumps(make_results(), indent=1)[:700])
    for verb in (
        ["report", bad, "--out", tmp_path / "out"],
        ["diff", bad, bad],
        ["check", bad],
        ["list", "--results", bad],
    ):
        code, out, err = run_cli(capsys, *verb)
        assert code == 2, verb
        assert str(bad) in err and "truncated" in err, err
        assert "Traceback" not in err


@pytest.mark.parametrize(
    "mutate, where, what",
    [
        (lambda d: d["cases"][2].__setitem__("verdict", "ok"), "field 'cases[2].verdict'", "'ok' is not one of"),
        (lambda d: d["cases"][1].pop("profile"), "field 'cases[1]'", "'profile' is a required property"),
        (lambda d: d["run"].__setitem__("vectors_hash", "md5:00"), "field 'run.vectors_hash'", "does not match"),
        (lambda d: d.__setitem__("format", "something-else"), "field 'format'", "not an appc conformance results file"),
        (lambda d: d.__setitem__("format_version", 2), "field 'format_version'", "newer suite"),
        (lambda d: d["cases"].append(copy.deepcopy(d["cases"][0])), "field 'cases[", "appear twice"),
        (lambda d: d["implementation"].__setitem__("available", False), "field 'cases'", "should be non-empty"),
    ],
)
def test_malformed_results_name_the_place(mutate, where, what):
    doc = make_results()
    mutate(doc)
    with pytest.raises(ResultsError) as info:
        parse(json.dumps(doc), "r.json")
    msg = str(info.value)
    assert msg.startswith("r.json: ")
    assert where in msg, msg
    assert what in msg or (what == "should be non-empty" and "cases" in msg), msg


def test_error_in_a_case_names_the_case_id():
    doc = make_results()
    doc["cases"][3]["strength"] = "strong"
    with pytest.raises(ResultsError, match=re.escape(f"({doc['cases'][3]['id']} [{doc['cases'][3]['profile']}])")):
        parse(json.dumps(doc), "r.json")


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("[]", "expected a JSON object"),
        ('{"format": 1,}', "not valid JSON"),
    ],
)
def test_not_a_results_document(text, message):
    with pytest.raises(ResultsError, match=message):
        parse(text, "x.json")


def test_missing_file(tmp_path):
    with pytest.raises(ResultsError, match=r"nope\.json: no such file"):
        load_results(tmp_path / "nope.json")


def test_unavailable_implementation_as_the_runner_writes_it(tmp_path):
    from appc_conformance.conformance.run_verb import unavailable_results

    path = write_results(
        tmp_path / "r.json",
        unavailable_results("go-appc", "install it with: apt-get install golang-go", ["appc-0.8.11"]),
    )
    assert not load_results(path).available


def test_the_harness_writes_valid_results(tmp_path):
    """An actual run of the reference adapter on a few cases produces a file this package reads."""
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "vectors",
            "--impl",
            "reference",
            "--case",
            "app-strings/*",
            "--results",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    r = load_results(out)
    assert r.cases and {c["verdict"] for c in r.cases} <= set(VERDICTS)


# -- reports ------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["garbage-entries", "folder-is-a-file", "off"])
def test_compiled_templates_kept_between_runs_change_no_report(files, tmp_path, monkeypatch, damage):
    """The report templates compiled by an earlier run are kept in the cache folder; a damaged
    entry, a folder that cannot be made, or the cache turned off give the same bytes."""
    from appc_conformance.reports import html, model
    from appc_conformance.reports.results import load_results

    m = model.build([load_results(files[k]) for k in ("reference", "go", "actool")], CATALOG)
    monkeypatch.setattr(html, "environment", html.environment.__wrapped__)  # a new one per render
    cache = tmp_path / "cache"
    monkeypatch.setenv("APPC_CONFORMANCE_CACHE", str(cache))
    fresh = html.render(m)
    entries = sorted((cache / "templates").iterdir())
    assert len(entries) == len(list(html.TEMPLATES.glob("report.*.j2")))  # one per template
    assert html.render(m) == fresh  # from the kept entries
    if damage == "garbage-entries":
        sizes = [e.stat().st_size for e in entries]
        for e in entries:  # Jinja's header and the template's checksum, then half the code
            e.write_bytes(e.read_bytes()[: len(e.read_bytes()) // 2])
    elif damage == "folder-is-a-file":
        monkeypatch.setenv("APPC_CONFORMANCE_CACHE", str(tmp_path / "a-file"))
        (tmp_path / "a-file").write_text("")
    else:
        monkeypatch.setenv("APPC_CONFORMANCE_CACHE", "off")
    assert html.render(m) == fresh
    if damage == "garbage-entries":  # compiled again and kept again
        assert [e.stat().st_size for e in entries] == sizes


def test_compiled_templates_are_read_only_from_a_folder_and_file_of_this_user_alone(files, tmp_path, monkeypatch):
    """An entry of the template cache is code the report runs. One planted with the right key
    and checksum but other code is run from a private folder (so the test can tell), and never
    from a folder or a file that others can write, nor through a link."""
    import jinja2.bccache
    from appc_conformance.reports import html, model
    from appc_conformance.reports.results import load_results

    m = model.build([load_results(files["reference"])], CATALOG)
    monkeypatch.setattr(html, "environment", html.environment.__wrapped__)
    cache = tmp_path / "cache"
    monkeypatch.setenv("APPC_CONFORMANCE_CACHE", str(cache))
    fresh = html.render(m)
    folder = cache / "templates"
    assert oct(folder.stat().st_mode & 0o777) == oct(0o700)

    env = html.environment()
    bcc = env.bytecode_cache
    key = bcc.get_cache_key("report.html.j2")
    entry = folder / (bcc.pattern % key)
    assert entry.is_file()

    def plant(where):
        source = (html.TEMPLATES / "report.html.j2").read_text()
        bucket = jinja2.bccache.Bucket(env, key, bcc.get_source_checksum(source))
        bucket.code = env.compile("PLANTED", "report.html.j2")
        with open(where, "wb") as f:
            bucket.write_bytecode(f)
        os.chmod(where, 0o600)

    plant(entry)
    assert html.render(m) == "PLANTED"  # the planted entry is what a private folder serves
    folder.chmod(0o777)
    assert html.render(m) == fresh  # a folder others can write: not read
    folder.chmod(0o700)
    entry.chmod(0o666)
    assert html.render(m) == fresh  # a file others can write: not read
    entry.unlink()
    plant(tmp_path / "elsewhere")
    entry.symlink_to(tmp_path / "elsewhere")
    assert html.render(m) == fresh  # not through a link


def test_report_writes_every_format(files, catalog, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, _ = run_cli(
        capsys, "report", files["reference"], files["go"], files["actool"], "--out", out, "--catalog", catalog, "--json"
    )
    assert code == 0
    written = json.loads(stdout)["written"]
    assert sorted(Path(w).name for w in written) == [
        "badge-actool.json",
        "badge-actool.svg",
        "badge-go-appc.json",
        "badge-go-appc.svg",
        "badge-reference.json",
        "badge-reference.svg",
        "coverage.json",
        "coverage.md",
        "junit.xml",
        "report.html",
        "summary.md",
    ]

    html = (out / "report.html").read_text()
    # Self-contained: nothing to load from anywhere (links to homepages are not loads).
    assert not re.search(r"<(script|img|iframe|link)[^>]+(src|href)=", html)
    assert "@import" not in html and "url(" not in html
    assert "Content-Security-Policy" in html
    assert "app-strings/colon/version-label" in html and "appc/spec (Go) 0.8.11" in html
    assert 'id="matrix-area"' in html and 'id="matrix-req"' in html

    md = (out / "summary.md").read_text()
    # the score is over attempted cases (4: the not-implemented one is left out), coverage beside it
    assert (
        "| appc/spec (Go) 0.8.11 | appc-0.8.11 | ✅ 1 ❌ 2 | ✅ 1 ➖ 1 | – | – | ✅ 2 ❌ 2 ➖ 1 | 50% | 80% (4/5) |"
        in md
    )
    assert "| appc reference 0.1.0 | appc-imagetags |" in md
    assert "- actool: Go is not installed; install it with: apt-get install golang-go" in md
    assert "`app-strings/colon/version-label` | appc-0.8.11 | fail |" in md

    suites = ET.parse(out / "junit.xml").getroot()
    names = [s.get("name") for s in suites.iter("testsuite")]
    assert names == [
        "appc reference 0.1.0 [appc-0.8.11]",
        "appc reference 0.1.0 [appc-imagetags]",
        "appc/spec (Go) 0.8.11 [appc-0.8.11]",
        "actool (unavailable)",
    ]
    go = suites.findall("testsuite")[2]
    assert (go.get("tests"), go.get("failures"), go.get("errors"), go.get("skipped")) == ("5", "1", "1", "1")
    crash = [t for t in go.iter("testcase") if t.get("name") == "app-strings/colon/empty-name"][0]
    assert crash.find("error").get("type") == "crash" and "panic" in crash.find("system-err").text

    cov = (out / "coverage.md").read_text()
    assert "| APP-01 | library | 2 | 4 pass | 1 fail, 1 crash |" in cov
    assert "- TAG-09 (should)" in cov
    assert "- DISC-30 (informative): not testable here: a duty of the server, not the client" in cov
    covj = json.loads((out / "coverage.json").read_text())
    assert covj["uncovered"] == ["TAG-09", "DISC-30"]


def test_html_escapes_what_adapters_print(tmp_path, catalog, capsys):
    doc = make_results(verdicts={"app-strings/colon/empty-name": "crash"})
    doc["cases"][0]["stderr"] = "<script>alert(1)</script> & </pre>"
    doc["cases"][0]["message"] = "<b>bold</b>"
    r = write_results(tmp_path / "r.json", doc)
    assert run_cli(capsys, "report", r, "--out", tmp_path / "o", "--format", "html", "--catalog", catalog)[0] == 0
    html = (tmp_path / "o" / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html


def test_report_check_detects_a_stale_report(files, catalog, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["report", files["reference"], files["go"], "--out", out, "--catalog", catalog, "--format", "markdown"]
    assert run_cli(capsys, *args)[0] == 0
    assert run_cli(capsys, *args, "--check") == (0, "", "")
    write_results(
        files["go"],
        go_results(verdicts={"app-strings/labels/equals-in-value": "fail"}),
    )
    code, _, err = run_cli(capsys, *args, "--check")
    assert code == 1 and f"stale: {out / 'summary.md'}" in err


def test_markdown_does_not_depend_on_run_times(files, catalog, tmp_path, capsys):
    doc = load_results(files["go"]).data
    doc["run"]["started"], doc["run"]["duration_s"] = "2030-01-01T00:00:00Z", 99.0
    for c in doc["cases"]:
        c["time_s"] = 3.0
    again = write_results(tmp_path / "again" / files["go"].name, doc)
    outs = []
    for f in (files["go"], again):
        run_cli(capsys, "report", f, "--out", tmp_path / f"o{len(outs)}", "--format", "markdown", "--catalog", catalog)
        outs.append((tmp_path / f"o{len(outs)}" / "summary.md").read_text())
    assert outs[0] == outs[1]


def test_append_summary_for_ci(files, catalog, tmp_path, capsys):
    step = tmp_path / "step-summary.md"
    step.write_text("earlier step\n")
    run_cli(
        capsys,
        "report",
        files["go"],
        "--out",
        tmp_path / "o",
        "--format",
        "junit",
        "--catalog",
        catalog,
        "--append-summary",
        step,
    )
    text = step.read_text()
    assert text.startswith("earlier step\n") and "| appc/spec (Go) 0.8.11 |" in text


# -- diff and gate ------------------------------------------------------------------------------


def test_identical_rerun_is_quiet(files, tmp_path, capsys):
    rerun = load_results(files["go"]).data
    rerun["run"]["started"], rerun["run"]["duration_s"] = "2026-11-28T09:00:00Z", 7.0
    b = write_results(tmp_path / "rerun.json", rerun)
    assert run_cli(capsys, "diff", files["go"], b) == (0, "", "")
    code, out, _ = run_cli(capsys, "diff", files["go"], b, "--json")
    assert code == 0 and json.loads(out)["regression"] is False


def test_injected_regression_fails_the_gate(files, tmp_path, capsys):
    broken = write_results(
        tmp_path / "broken.json",
        go_results(verdicts={**GO_VERDICTS, "discovery/walk-up/404-then-parent": "timeout"}),
    )
    code, out, _ = run_cli(capsys, "diff", files["go"], broken)
    assert code == 1
    assert "REGRESSION discovery/walk-up/404-then-parent [appc-0.8.11] pass -> timeout" in out
    assert "1 regressions, 0 fixes" in out
    code, out, _ = run_cli(capsys, "diff", files["go"], broken, "--json")
    d = json.loads(out)
    assert (
        code == 1 and d["regression"] and [c["id"] for c in d["regressions"]] == ["discovery/walk-up/404-then-parent"]
    )


def test_fixes_changes_additions_and_removals_do_not_fail_the_gate(tmp_path, capsys):
    a = write_results(
        tmp_path / "a.json",
        make_results(
            verdicts={"app-strings/colon/version-label": "fail", "app-strings/colon/empty-name": "fail"},
            drop=("resolution/alias/cycle",),
        ),
    )
    b = write_results(
        tmp_path / "b.json",
        make_results(verdicts={"app-strings/colon/empty-name": "crash"}, drop=("imagetags/document/minimal",)),
    )
    code, out, _ = run_cli(capsys, "diff", a, b)
    assert code == 0
    assert "FIXED      app-strings/colon/version-label [appc-0.8.11] fail -> pass" in out
    assert "CHANGED    app-strings/colon/empty-name [appc-0.8.11] fail -> crash" in out
    assert "ADDED      resolution/alias/cycle [appc-imagetags] - -> pass" in out
    assert "REMOVED    imagetags/document/minimal [appc-imagetags] pass -> -" in out


def test_an_implementation_that_became_unavailable_is_a_regression(files, tmp_path, capsys):
    gone = write_results(
        tmp_path / "gone.json", make_results("go-appc", "appc/spec (Go)", available=False, profiles=("appc-0.8.11",))
    )
    code, out, _ = run_cli(capsys, "diff", files["go"], gone)
    assert code == 1 and "no longer available" in out and "pass -> unavailable" in out


def test_diff_notes_different_vector_sets(files, tmp_path):
    doc = load_results(files["go"]).data
    doc["run"]["vectors_hash"] = "sha256:" + "cd" * 32
    doc["cases"][0]["verdict"] = "pass"
    d = diffmod.diff_results(load_results(files["go"]), load_results(write_results(tmp_path / "v.json", doc)))
    assert "different vector sets (vectors_hash differs)" in d.notes


# -- expectations and check ---------------------------------------------------------------------


def _expectations(tmp_path, entries, impl="go-appc") -> Path:
    p = tmp_path / f"{impl}.json"
    p.write_text(json.dumps({"implementation": impl, "known_failures": entries}))
    return p


KNOWN = [
    {"id": "app-strings/colon/version-label", "profile": "appc-0.8.11", "reason": "wrong name"},
    {"id": "app-strings/colon/empty-name", "reason": "crashes on empty names"},
]


def test_check_passes_with_every_failure_known(files, tmp_path, capsys):
    exp = _expectations(tmp_path, KNOWN)
    code, out, _ = run_cli(capsys, "check", files["go"], "--expectations", exp)
    assert code == 0, out
    assert "2 known failures, 0 unexpected failures" in out


def test_check_fails_on_an_unexpected_failure(files, tmp_path, capsys):
    exp = _expectations(tmp_path, KNOWN[:1])
    code, out, _ = run_cli(capsys, "check", files["go"], "--expectations", exp)
    assert code == 1
    assert "UNEXPECTED crash: app-strings/colon/empty-name [appc-0.8.11]" in out
    code, out, _ = run_cli(capsys, "check", files["go"], "--expectations", exp, "--json")
    assert code == 1 and json.loads(out)["checks"][0]["unexpected_failures"][0]["verdict"] == "crash"


def test_known_failure_that_passes_is_reported(files, tmp_path, capsys):
    exp = _expectations(
        tmp_path,
        KNOWN
        + [
            {"id": "discovery/walk-up/404-then-parent", "profile": "appc-0.8.11", "reason": "was broken"},
            {"id": "app-strings/gone/renamed", "reason": "no longer a case"},
        ],
    )
    code, out, _ = run_cli(capsys, "check", files["go"], "--expectations", exp)
    assert code == 0
    assert (
        f"known failure now passes, remove it from {exp}: discovery/walk-up/404-then-parent "
        f"[appc-0.8.11] (known_failures[2])"
    ) in out
    assert "known failure not in this run" in out and "app-strings/gone/renamed" in out
    assert run_cli(capsys, "check", files["go"], "--expectations", exp, "--strict")[0] == 1


def test_check_picks_the_expectations_file_by_implementation(files, tmp_path, capsys):
    d = tmp_path / "exp"
    d.mkdir()
    _expectations(d, KNOWN)
    code, out, _ = run_cli(capsys, "check", files["go"], files["reference"], "--expectations-dir", d)
    assert code == 0, out
    # Without a file every failure is unexpected.
    assert run_cli(capsys, "check", files["go"], "--expectations-dir", tmp_path / "empty")[0] == 1


def test_check_unavailable_implementation(files, capsys):
    code, out, _ = run_cli(capsys, "check", files["actool"])
    assert code == 1 and "not available" in out
    assert run_cli(capsys, "check", files["actool"], "--allow-unavailable")[0] == 0


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"implementation": "go-appc", "known_failures": [{"id": "a/b/c"}]}', "'reason' is a required property"),
        ('{"implementation": "go-appc", "known_failures": [', "not valid JSON"),
        ('{"implementation": "reference", "known_failures": []}', "lists known failures of 'reference'"),
        (
            '{"implementation": "go-appc", "known_failures": [{"id": "a/b/c", "reason": "x"}, '
            '{"id": "a/b/c", "reason": "y"}]}',
            "listed twice",
        ),
    ],
)
def test_bad_expectations_file_is_an_input_error(files, tmp_path, capsys, content, message):
    p = tmp_path / "exp.json"
    p.write_text(content)
    code, _, err = run_cli(capsys, "check", files["go"], "--expectations", p)
    assert code == 2 and message in err and str(p) in err


def test_write_template(files, tmp_path, capsys):
    t = tmp_path / "tmpl.json"
    run_cli(capsys, "check", files["go"], "--write-template", t)
    doc = json.loads(t.read_text())
    assert doc["implementation"] == "go-appc"
    assert {(k["id"], k["profile"]) for k in doc["known_failures"]} == {
        ("app-strings/colon/version-label", "appc-0.8.11"),
        ("app-strings/colon/empty-name", "appc-0.8.11"),
    }


def test_the_projects_expectation_files_are_valid():
    for p in sorted((ROOT / "expectations").glob("*.json")):
        exp = expmod.load(p)
        assert exp.implementation == p.stem


# -- list ---------------------------------------------------------------------------------------


def test_list_cases_of_a_results_file(files, capsys):
    code, out, _ = run_cli(capsys, "list", "--results", files["go"], "--verdict", "failing", "--json")
    rows = json.loads(out)
    assert code == 0 and {r["verdict"] for r in rows} <= set(FAILING) and len(rows) == 2
    code, out, _ = run_cli(
        capsys, "list", "--results", files["reference"], "-k", "app-strings/colon/*", "--profile", "appc-imagetags"
    )
    assert sorted(out.splitlines()) == [
        "pass            app-strings/colon/empty-name [appc-imagetags]",
        "pass            app-strings/colon/version-label [appc-imagetags]",
    ]


def test_list_the_vector_set(capsys):
    code, out, _ = run_cli(capsys, "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert isinstance(rows, list)
    if rows:
        area = rows[0]["id"].split("/")[0]
        code, out, _ = run_cli(capsys, "list", "--area", area, "--json")
        assert all(r["id"].startswith(area + "/") for r in json.loads(out))


# -- vector revisions ---------------------------------------------------------------------------


def _git(repo, *args):
    subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.invalid",
        },
    )


def _vector_file(cases):
    return json.dumps({"area": "app-strings", "description": "d", "cases": cases}, indent=1)


def _case(cid, expect, profiles=("appc-0.8.11",), description="d"):
    return {
        "id": cid,
        "description": description,
        "requirements": ["APP-01"],
        "profiles": list(profiles),
        "strength": "library",
        "op": "parse_app",
        "input": {"app": "x"},
        "expect": expect,
    }


@pytest.fixture
def vector_repo(tmp_path):
    repo = tmp_path / "repo"
    (repo / "vectors" / "app-strings").mkdir(parents=True)
    (repo / "vectors" / "schema").mkdir()
    (repo / "vectors" / "schema" / "x.json").write_text("{}")
    f = repo / "vectors" / "app-strings" / "a.json"
    f.write_text(
        _vector_file(
            [
                _case("app-strings/a/kept", {"error": "invalid-app-string"}),
                _case("app-strings/a/changed", {"error": "invalid-app-string"}),
                _case("app-strings/a/reworded", {"error": "other"}),
                _case("app-strings/a/removed", {"error": "other"}),
            ]
        )
    )
    _git(tmp_path, "init", "-q", str(repo))
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    f.write_text(
        _vector_file(
            [
                _case("app-strings/a/kept", {"error": "invalid-app-string"}),
                _case("app-strings/a/changed", {"result": {"name": "x"}}),
                _case("app-strings/a/reworded", {"error": "other"}, description="better"),
                _case("app-strings/a/added", {"error": "other"}),
            ]
        )
    )
    _git(repo, "commit", "-q", "-am", "two")
    return repo


def test_vectors_diff_between_revisions(vector_repo, capsys):
    code, out, _ = run_cli(capsys, "vectors-diff", "HEAD~1", "HEAD", "--repo", vector_repo)
    assert code == 0
    assert out.splitlines() == [
        "vectors HEAD~1 -> HEAD: 1 added, 1 removed, 2 changed (1 with a changed expectation)",
        "  ADDED    app-strings/a/added",
        "  CHANGED  app-strings/a/changed (expect)",
        "  REMOVED  app-strings/a/removed",
        "  CHANGED  app-strings/a/reworded (description)",
    ]
    (vector_repo / "vectors" / "app-strings" / "a.json").write_text(_vector_file([]))
    code, out, _ = run_cli(capsys, "vectors-diff", "HEAD", "--repo", vector_repo, "--json")
    assert {c["id"] for c in json.loads(out)["changes"] if c["kind"] == "removed"} == {
        "app-strings/a/kept",
        "app-strings/a/changed",
        "app-strings/a/reworded",
        "app-strings/a/added",
    }


def test_vectors_diff_with_results_shows_verdict_moves(vector_repo, tmp_path, capsys):
    def results(verdicts):
        doc = make_results("go-appc", "appc/spec (Go)", profiles=("appc-0.8.11",), drop=tuple(c[0] for c in CASES))
        for cid, v in verdicts.items():
            doc["cases"].append(
                {
                    "id": cid,
                    "profile": "appc-0.8.11",
                    "area": "app-strings",
                    "op": "parse_app",
                    "requirements": ["APP-01"],
                    "ambiguities": [],
                    "strength": "library",
                    "description": "d",
                    "verdict": v,
                    "message": "" if v == "pass" else "wrong",
                    "expected": {},
                    "actual": None,
                    "stderr": "",
                    "time_s": 0.0,
                }
            )
        return doc

    before = write_results(
        tmp_path / "before.json",
        results({"app-strings/a/kept": "pass", "app-strings/a/changed": "pass", "app-strings/a/removed": "pass"}),
    )
    after = write_results(
        tmp_path / "after.json",
        results({"app-strings/a/kept": "pass", "app-strings/a/changed": "fail", "app-strings/a/added": "pass"}),
    )
    code, out, _ = run_cli(
        capsys, "vectors-diff", "HEAD~1", "HEAD", "--repo", vector_repo, "--before", before, "--after", after
    )
    assert code == 1, out
    assert "go-appc: 3 verdicts move on the changed cases, 0 stay the same" in out
    assert "  - app-strings/a/changed [appc-0.8.11] pass -> fail" in out
    assert "  + app-strings/a/added [appc-0.8.11] (no case) -> pass" in out
    assert "  - app-strings/a/removed [appc-0.8.11] pass -> (no case)" in out


def test_vectors_diff_bad_revision(vector_repo, capsys):
    code, _, err = run_cli(capsys, "vectors-diff", "no-such-rev", "--repo", vector_repo)
    assert code == 2 and "'no-such-rev' is not a commit" in err


# -- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize("verb", [None, "run", "report", "diff", "check", "list", "vectors-diff", "lint"])
def test_help_everywhere(verb, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(([verb] if verb else []) + ["--help"])
    assert info.value.code == 0
    assert "exit codes:" in capsys.readouterr().out


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["diff", "only-one-file"])
    assert info.value.code == 2


def test_python_dash_m_conformance(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "appc_conformance", "diff", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0 and "results file before" in p.stdout


def test_scores_leave_out_skipped_and_not_attempted_cases():
    from appc_conformance.reports import model

    r = load_results_doc(
        make_results(
            verdicts={
                "discovery/walk-up/404-then-parent@appc-0.8.11": "skipped",
                "discovery/meta/should-prefer-https@appc-0.8.11": "not-implemented",
                "discovery/meta/should-prefer-https@appc-imagetags": "fail",
            }
        )
    )
    m = model.build([r])
    disc = m.by_area["discovery"][0]
    assert (disc.total, disc.graded, disc.attempted, disc.passed) == (4, 3, 2, 1)
    assert disc.percent_text() == "50%" and disc.coverage_text() == "67%"


def test_a_tile_with_nothing_attempted_reads_not_implemented(tmp_path, capsys):
    """Issue: a tile over cases that were all not-implemented or declined is no red 0 %."""
    from appc_conformance.reports import model

    doc = make_results(
        "tags-only",
        "tags only",
        profiles=("appc-0.8.11",),
        verdicts={
            "discovery/walk-up/404-then-parent": "not-implemented",
            "discovery/meta/should-prefer-https": "unsupported",
        },
    )
    m = model.build([load_results_doc(doc)])
    disc = m.by_area["discovery"][0]
    assert disc.not_implemented and disc.percent is None and disc.percent_text() == "not implemented"
    assert m.totals[0].percent_text() == "100%" and m.totals[0].coverage_text() == "60%"
    nothing = make_results(
        "declines", "declines all", profiles=("appc-0.8.11",), verdicts={cid: "not-implemented" for cid, *_ in CASES}
    )
    r1, r2 = write_results(tmp_path / "a.json", doc), write_results(tmp_path / "b.json", nothing)
    assert run_cli(capsys, "report", r1, r2, "--out", tmp_path / "o")[0] == 0
    md = (tmp_path / "o" / "summary.md").read_text()
    assert "| declines all 0.1.0 | appc-0.8.11 | ➖ 3 | ➖ 2 | ➖ 5 | not implemented | 0% (0/5) |" in md
    assert "| tags only 0.1.0 | appc-0.8.11 | ✅ 3 | ➖ 2 | ✅ 3 ➖ 2 | 100% | 60% (3/5) |" in md
    html = (tmp_path / "o" / "report.html").read_text()
    cell = re.search(r'<td class="cell empty notimpl" data-col="0" data-area="discovery".*?</td>', html, re.S)
    assert cell and "not implemented" in cell.group(0) and "0 of 2 attempted" in cell.group(0)
    assert "0%" not in cell.group(0)


def load_results_doc(doc):
    from appc_conformance.reports.results import Results

    return Results("mem.json", parse(json.dumps(doc), "mem.json"))


# -- known failures (expectations) in every report ------------------------------------------------


def _go_with_known(tmp_path) -> Path:
    return write_results(
        tmp_path / "results-go-appc.json",
        go_results(
            verdicts={"app-strings/colon/version-label": "fail", "app-strings/colon/empty-name": "crash"},
            known={
                "app-strings/colon/version-label": "splits on the last colon",
                "app-strings/labels/equals-in-value": "used to split on every =",
            },
        ),
    )


def test_known_failures_are_shown_as_known_in_every_report(tmp_path, catalog, capsys):
    go = _go_with_known(tmp_path)
    out = tmp_path / "out"
    assert run_cli(capsys, "report", go, "--out", out, "--catalog", catalog)[0] == 0

    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    # the known failure is not a failure: skipped, typed as pytest types an xfail
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("0", "1", "1")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["known_failures"] == "1" and props["known_failures_now_passing"] == "1"
    tcs = {t.get("name"): t for t in suite.iter("testcase")}
    sk = tcs["app-strings/colon/version-label"].find("skipped")
    assert sk.get("type") == "known-failure" and "splits on the last colon" in sk.get("message")
    assert "fail:" in sk.get("message") and "example.com/wrong" in sk.text
    fixed = tcs["app-strings/labels/equals-in-value"]
    assert fixed.find("failure") is None and fixed.find("skipped") is None
    assert {p.get("name"): p.get("value") for p in fixed.find("properties")} == {
        "known_failure_now_passes": "used to split on every ="
    }

    md = (out / "summary.md").read_text()
    assert "| appc/spec (Go) 0.8.11 | appc-0.8.11 | ✅ 1 ❌ 1 🔶 1 |" in md
    assert "🔶 known failure" in md
    assert (
        "🆕 1 known failure now pass" in md
        and "- appc/spec (Go) 0.8.11: `app-strings/labels/equals-in-value` [appc-0.8.11]" in md
    )
    failing, _, known = md.partition("Known failures (1")
    assert "`app-strings/colon/version-label`" not in failing and "`app-strings/colon/empty-name`" in failing
    assert "`app-strings/colon/version-label` | appc-0.8.11 | fail | splits on the last colon |" in known

    html = (out / "report.html").read_text()
    rows = dict(re.findall(r'data-key="([^"]+)"[^>]*?data-v="([^"]+)"', html.replace("\n", " ")))
    assert rows["app-strings/colon/version-label@appc-0.8.11"] == "known-failure"
    assert rows["app-strings/labels/equals-in-value@appc-0.8.11"] == "now-passes"
    assert rows["app-strings/colon/empty-name@appc-0.8.11"] == "crash"
    assert 'value="known-failure"' in html and 'value="now-passes"' in html  # filter boxes
    assert "Known failure (listed in the expectations file): splits on the last colon" in html
    assert "this known failure now passes" in html


def test_the_harness_records_known_failures_and_the_reports_follow(tmp_path, capsys):
    """A real run with an expectations file: the results mark the listed cases, and the reports
    made from them count no known failure as a failure (pytest exits 0 when only known ones fail)."""
    from tests.helpers import run_suite

    exp = tmp_path / "exp.json"
    exp.write_text(
        json.dumps(
            {
                "implementation": "mutant-trim-whitespace",
                "known_failures": [
                    {"id": "app-strings/names/trailing-space", "reason": "trims the input"},
                    {"id": "app-strings/names/leading-space", "reason": "trims the input"},
                    {"id": "app-strings/names/spaces", "profile": "appc-0.8.11", "reason": "was wrong once"},
                ],
            }
        )
    )
    mutant = f"{sys.executable} {ROOT / 'tests' / 'fakes' / 'mutants.py'} trim-whitespace"
    proc, doc = run_suite(
        tmp_path,
        "--adapter-cmd",
        mutant,
        "--case",
        "app-strings/names/*space*",
        "--expectations",
        str(exp),
        paths=[ROOT / "vectors" / "app-strings"],
    )
    assert doc is not None and proc.returncode == 0, proc.stdout[-2000:]
    marks = {(c["id"].rsplit("/", 1)[1], c["profile"]): (c["verdict"], c.get("known_failure")) for c in doc["cases"]}
    assert marks[("trailing-space", "appc-0.8.11")] == ("error", "trims the input")
    assert marks[("spaces", "appc-0.8.11")] == ("pass", "was wrong once")
    assert marks[("spaces", "appc-imagetags")] == ("pass", None)
    res = write_results(tmp_path / "results-custom.json", doc)
    assert run_cli(capsys, "report", res, "--out", tmp_path / "o")[0] == 0
    root = ET.parse(tmp_path / "o" / "junit.xml").getroot()
    assert root.get("failures") == "0" and root.get("errors") == "0"
    assert "❌" not in (tmp_path / "o" / "summary.md").read_text().split("Implementation |")[1].split("\n\n")[0]


# -- what was sent; no machine paths ------------------------------------------------------------


def test_reports_show_what_was_sent(files, catalog, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli(capsys, "report", files["reference"], files["go"], "--out", out, "--catalog", catalog)[0] == 0
    html = (out / "report.html").read_text()
    drill = html.split('data-key="app-strings/colon/version-label@appc-0.8.11"')[1].split("</details>")[0]
    assert "<h4>Input" in drill and "example.com/reduce-worker:1.0.0" in drill
    disc = html.split('data-key="discovery/walk-up/404-then-parent@appc-0.8.11"')[1].split('<details class="case"')[0]
    assert "What the mock hosts served" in disc and "ac-discovery=1" in disc and "{{a.host}}/project/sub" in disc
    md = (out / "summary.md").read_text()
    assert '| fail | `{"app": "example.com/reduce-worker:1.0.0"}` |' in md
    tc = [
        t
        for t in ET.parse(out / "junit.xml").getroot().iter("testcase")
        if t.get("name") == "app-strings/colon/version-label" and "go-appc" in t.get("classname")
    ][0]
    assert 'input:    {"app": "example.com/reduce-worker:1.0.0"}' in tc.find("failure").text


def test_a_truncated_input_says_so(tmp_path, capsys):
    doc = make_results(verdicts={"app-strings/colon/version-label": "fail"})
    c = doc["cases"][0]
    c["input"], c["input_truncated"] = '{"app": "' + "a" * 4096 + "…", True
    r = write_results(tmp_path / "r.json", doc)
    assert run_cli(capsys, "report", r, "--out", tmp_path / "o")[0] == 0
    assert "(truncated)" in (tmp_path / "o" / "report.html").read_text()
    assert "(truncated)" in (tmp_path / "o" / "junit.xml").read_text()


def test_the_harness_records_the_input_and_no_machine_path_is_published(tmp_path, capsys):
    """A real run (results in a temporary folder, the adapter started by an absolute path): the
    results have each case's input (and a discovery case's hosts), and neither the results nor
    any report carries the temporary folder, the project's folder or the Python executable's."""
    from tests.helpers import run_suite

    adapter = tmp_path / "adapter.py"  # a copy of the reference's entry point, in the temporary folder
    adapter.write_text(
        "import runpy\nrunpy.run_module('appc_conformance.conformance.adapters.reference', run_name='__main__')\n"
    )
    proc, doc = run_suite(
        tmp_path,
        "--adapter-cmd",
        f"{sys.executable} {adapter}",
        "--case",
        "app-strings/colon/*",
        "--case",
        "discovery/walk/first-level-wins",
        paths=[ROOT / "vectors" / "app-strings", ROOT / "vectors" / "discovery"],
    )
    assert doc is not None, proc.stdout[-3000:] + proc.stderr[-2000:]
    by_id = {c["id"]: c for c in doc["cases"]}
    first = by_id["discovery/walk/first-level-wins"]
    assert first["input"] == {"app": "{{a.host}}/project/subproject", "what": ["aci"]}
    assert "/project?ac-discovery=1" in first["hosts"]["a"]["paths"]
    assert all("input" in c for c in doc["cases"]) and all(
        "hosts" not in c for c in doc["cases"] if c["op"] != "discover"
    )
    res = write_results(tmp_path / "results-custom.json", doc)
    assert run_cli(capsys, "report", res, "--out", tmp_path / "out")[0] == 0
    private = {str(tmp_path), str(ROOT), os.path.realpath(sys.executable), sys.executable}
    for f in [res, *sorted((tmp_path / "out").iterdir())]:
        text = f.read_text()
        for p in private:
            assert p not in text, f"{f.name} carries the local path {p}"
    exe = Path(sys.executable)  # inside the project (tox's .tox/...): relative to it; else its name
    exe = exe.relative_to(ROOT).as_posix() if exe.is_relative_to(ROOT) else exe.name
    assert doc["implementation"]["command"] == [exe, "adapter.py"]
    # nor does the run's log (run keeps pytest's output beside the reports): the summary's lines
    summary = proc.stdout[proc.stdout.index("appc conformance") :]
    assert str(tmp_path) not in summary and sys.executable not in summary
    # the port mode of the run: the reference offers the custom-port feature
    assert doc["run"]["port_mode"] == "custom-port"
    assert 'ports: <span class="port-mode">custom port</span>' in (tmp_path / "out" / "report.html").read_text()
    assert "Discovery ports: appc-conformance-reference" in (tmp_path / "out" / "summary.md").read_text()
    suite = ET.parse(tmp_path / "out" / "junit.xml").getroot().find("testsuite")
    assert {p.get("name"): p.get("value") for p in suite.find("properties")}["port_mode"] == "custom-port"


# -- unclassified passes, adapter-error, truncated answers, incomplete runs ------------------------


def _rejects_everything(tmp_path) -> Path:
    """A reject-everything adapter as helper records describe it: each error case passes on an
    error of kind 'other' (unclassified), one case is adapter-error, one answer was cut, and the
    run stopped early."""
    doc = make_results(
        "rejector",
        "reject everything",
        profiles=("appc-0.8.11",),
        verdicts={
            "app-strings/colon/version-label": "error",
            "app-strings/labels/equals-in-value": "error",
            "discovery/walk-up/404-then-parent": "error",
        },
    )
    for c in doc["cases"]:
        if c["verdict"] == "pass" and "error" in json.dumps(c["expected"]):
            c["actual"], c["unclassified"] = {"error": {"kind": "other", "message": "no"}}, True
    by = {c["id"]: c for c in doc["cases"]}
    by["discovery/meta/should-prefer-https"].update(
        verdict="adapter-error",
        actual={"failed": {"message": "flag provided but not defined: -port"}},
        message="adapter failed: flag provided but not defined: -port",
    )
    by["app-strings/labels/equals-in-value"].update(actual='{"ok": {"name": "xxxx', actual_truncated=True)
    doc["run"].update(incomplete=True, not_run=["resolution/alias/cycle [appc-0.8.11]", "imagetags/x [appc-0.8.11]"])
    return write_results(tmp_path / "results-rejector.json", doc)


def test_unclassified_passes_adapter_errors_truncation_and_incomplete_runs_are_reported(tmp_path, capsys):
    from appc_conformance.reports import model

    r = _rejects_everything(tmp_path)
    m = model.build([load_results(r)])
    t = m.totals[0]
    assert (t.passed, t.unclassified) == (1, 1)
    assert t.by_verdict["adapter-error"] == 1 and t.failed == 4 and t.percent_text() == "20%"
    assert run_cli(capsys, "report", r, "--out", tmp_path / "o")[0] == 0
    out = tmp_path / "o"

    md = (out / "summary.md").read_text()
    assert "⚠️ reject everything 0.1.0: 1 of the 1 passes is a rejection of unknown reason" in md
    assert "⛔ **Incomplete run: reject everything 0.1.0.**" in md and "2 did not run" in md
    assert "`resolution/alias/cycle [appc-0.8.11]`" in md
    assert "| discovery/meta/should-prefer-https" not in md  # (IDs are code spans)
    assert "`discovery/meta/should-prefer-https` | appc-0.8.11 | adapter-error |" in md
    assert "(answer truncated)" in md

    html = (out / "report.html").read_text()
    assert 'class="banner incomplete"' in html and "Incomplete run: reject everything 0.1.0." in html
    assert "1 of the 1 passes is a rejection of unknown reason" in html
    assert "Rejected, reason unknown" in html
    assert 'value="adapter-error"' in html and '<span class="v v-adapter-error">adapter-error</span>' in html
    assert "(truncated: the answer was larger than the harness keeps)" in html

    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["unclassified_passes"] == "1" and props["incomplete"] == "true" and props["not_run"] == "2"
    tcs = {t.get("name"): t for t in suite.iter("testcase")}
    assert tcs["discovery/meta/should-prefer-https"].find("error").get("type") == "adapter-error"
    passed = tcs["app-strings/colon/empty-name"]
    assert {p.get("name"): p.get("value") for p in passed.find("properties")} == {
        "unclassified": "rejected, reason unknown"
    }
    assert "actual (truncated): " in tcs["app-strings/labels/equals-in-value"].find("failure").text
    covj = json.loads((out / "coverage.json").read_text())
    app01 = [x for x in covj["requirements"] if x["id"] == "APP-01"][0]["implementations"][0]
    assert app01["unclassified_passes"] == 1


REJECT_ALL = """
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    if req.get("op") == "hello":
        out = {"ok": {"implementation": {"name": "reject-all", "version": "1", "language": "python"},
                      "profiles": ["appc-0.8.11"], "ops": ["parse_app"], "features": []}}
    else:
        out = {"id": req["id"], "error": {"kind": "other", "message": "no"}}
    print(json.dumps(out), flush=True)
"""


def test_a_reject_everything_adapter_is_seen_as_such_in_every_report(tmp_path, capsys):
    """Issue 11: each pass of an adapter that rejects everything with kind 'other' rests on a
    rejection of unknown reason; every report says how many of the passes those are."""
    from tests.helpers import run_suite

    script = tmp_path / "reject_all.py"
    script.write_text(REJECT_ALL)
    proc, doc = run_suite(
        tmp_path,
        "--adapter-cmd",
        f"{sys.executable} {script}",
        "--case",
        "app-strings/colon/*",
        paths=[ROOT / "vectors" / "app-strings"],
    )
    assert doc is not None, proc.stdout[-3000:]
    passes = [c for c in doc["cases"] if c["verdict"] == "pass"]
    assert passes and all(c.get("unclassified") is True for c in passes)
    res = write_results(tmp_path / "results-reject.json", doc)
    assert run_cli(capsys, "report", res, "--out", tmp_path / "o")[0] == 0
    n = len(passes)
    text = f"{n} of the {n} passes are rejections of unknown reason"
    # Markdown escapes the star (an adapter's or a user's text never becomes emphasis): it shows as *
    assert text.replace("/*", "/\\*") in (tmp_path / "o" / "summary.md").read_text()
    assert text in (tmp_path / "o" / "report.html").read_text()
    suites = ET.parse(tmp_path / "o" / "junit.xml").getroot().findall("testsuite")
    assert (
        sum(int({p.get("name"): p.get("value") for p in s.find("properties")}["unclassified_passes"]) for s in suites)
        == n
    )


def test_report_expectations_marks_known_failures_of_a_run_made_without_them(files, tmp_path, capsys):
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "go-appc.json").write_text(
        json.dumps(
            {
                "implementation": "go-appc",
                "known_failures": [{"id": "app-strings/colon/version-label", "reason": "splits on the last colon"}],
            }
        )
    )
    for given in (exp, exp / "go-appc.json"):  # a folder, or the file itself
        out = tmp_path / f"o-{given.name}"
        code, _, err = run_cli(capsys, "report", files["reference"], files["go"], "--out", out, "--expectations", given)
        assert code == 0
        assert f"known failures of go-appc ({files['go']}) from {exp / 'go-appc.json'}: 1 cases marked" in err
        go = [s for s in ET.parse(out / "junit.xml").getroot().iter("testsuite") if "Go" in s.get("name")][0]
        assert go.get("failures") == "0"
        assert "🔶 1" in (out / "summary.md").read_text()
    assert run_cli(capsys, "report", files["go"], "--out", tmp_path / "x", "--expectations", tmp_path / "nope")[0] == 2
    code, _, err = run_cli(
        capsys, "report", files["reference"], "--out", tmp_path / "x", "--expectations", exp / "go-appc.json"
    )
    assert code == 2 and "no results file is a run of it" in err


def test_a_partial_run_says_which_part_its_figures_are_about(tmp_path, capsys):
    doc = make_results()
    doc["run"]["selection"] = {"selected": 13, "of": 1280, "by": ["--case app-strings/*"]}
    r = write_results(tmp_path / "r.json", doc)
    assert run_cli(capsys, "report", r, "--out", tmp_path / "o")[0] == 0
    text = "Partial run: appc reference 0.1.0 ran 13 of the 1280 case runs of the vector set (--case app-strings/*)"
    # Markdown escapes the star (an adapter's or a user's text never becomes emphasis): it shows as *
    assert text.replace("/*", "/\\*") in (tmp_path / "o" / "summary.md").read_text()
    assert text in (tmp_path / "o" / "report.html").read_text()


def test_the_failing_list_holds_failures_only(tmp_path, capsys):
    """A case this machine could not run (skipped) is no failure of the implementation."""
    doc = make_results(
        verdicts={
            "discovery/walk-up/404-then-parent@appc-0.8.11": "skipped",
            "app-strings/colon/version-label@appc-0.8.11": "fail",
        }
    )
    r = write_results(tmp_path / "r.json", doc)
    assert run_cli(capsys, "report", r, "--out", tmp_path / "o", "--format", "markdown")[0] == 0
    failing = (tmp_path / "o" / "summary.md").read_text().split("Failing cases")[1]
    assert "`app-strings/colon/version-label`" in failing
    assert "`discovery/walk-up/404-then-parent`" not in failing
