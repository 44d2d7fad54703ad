"""The badge per implementation: a shields.io endpoint JSON and a self-contained SVG, written by
``report`` into the output folder (badge-NAME.json, badge-NAME.svg)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from appc_conformance.conformance import cli
from appc_conformance.reports import badge, model
from appc_conformance.reports.results import Results, parse, write_results
from tests.report_fixtures import CASES, make_results, three_runs

SVG = "{http://www.w3.org/2000/svg}"


def _model(*docs):
    return model.build([Results(f"r{i}.json", parse(json.dumps(d))) for i, d in enumerate(docs)])


def _endpoint(doc) -> dict:
    m = _model(doc)
    return badge.endpoint(m, m.columns[0])


def test_report_writes_a_badge_per_implementation(tmp_path, capsys):
    runs = three_runs(tmp_path)
    out = tmp_path / "out"
    assert cli.main(["report", str(runs["reference"]), str(runs["go"]), str(runs["actool"]), "--out", str(out)]) == 0
    capsys.readouterr()
    names = sorted(p.name for p in out.glob("badge-*"))
    assert names == [
        "badge-actool.json",
        "badge-actool.svg",
        "badge-go-appc.json",
        "badge-go-appc.svg",
        "badge-reference.json",
        "badge-reference.svg",
    ]
    # the shields.io endpoint schema: schemaVersion 1 and three strings, nothing else needed
    assert json.loads((out / "badge-reference.json").read_text()) == {
        "schemaVersion": 1,
        "label": "appc conformance",
        "message": "100% pass",
        "color": "brightgreen",
    }
    # the Go run: 2 of 4 attempted cases pass, 4 of its 5 cases were attempted
    assert json.loads((out / "badge-go-appc.json").read_text()) == {
        "schemaVersion": 1,
        "label": "appc conformance",
        "message": "50% pass · 80% attempted",
        "color": "orange",
    }
    assert json.loads((out / "badge-actool.json").read_text())["message"] == "not available"
    for name in ("reference", "go-appc", "actool"):
        doc = json.loads((out / f"badge-{name}.json").read_text())
        root = ET.parse(out / f"badge-{name}.svg").getroot()
        assert root.tag == f"{SVG}svg"
        texts = [t.text for t in root.iter(f"{SVG}text")]
        assert doc["label"] in texts and doc["message"] in texts
        assert root.find(f"{SVG}title").text == f"{doc['label']}: {doc['message']}"
        raw = (out / f"badge-{name}.svg").read_text()
        # self-contained: the only URL is the SVG namespace, no link, no font or image to fetch
        assert "href" not in raw and raw.count("http") == 1 and "@import" not in raw


def test_report_format_badge_only(tmp_path, capsys):
    r = write_results(tmp_path / "r.json", make_results())
    assert cli.main(["report", str(r), "--out", str(tmp_path / "o"), "--format", "badge"]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["badge-reference.json", "badge-reference.svg"]


@pytest.mark.parametrize(
    "verdicts,message,color",
    [
        ({}, "100% pass", "brightgreen"),
        ({"app-strings/colon/version-label@appc-0.8.11": "fail"}, "92% pass", "yellowgreen"),
        ({cid: "fail" for cid, *_ in CASES}, "0% pass", "red"),
        ({cid: "not-implemented" for cid, *_ in CASES}, "not implemented", "lightgrey"),
        ({cid: "skipped" for cid, *_ in CASES}, "no cases", "lightgrey"),
        ({"resolution/alias/cycle": "unsupported"}, "100% pass · 92% attempted", "brightgreen"),
    ],
)
def test_message_and_colour_follow_the_headline_score(verdicts, message, color):
    assert _endpoint(make_results(verdicts=verdicts)) == {
        "schemaVersion": 1,
        "label": "appc conformance",
        "message": message,
        "color": color,
    }


def test_a_score_just_below_100_is_not_shown_as_a_full_pass():
    doc = make_results(verdicts={"app-strings/colon/version-label@appc-0.8.11": "fail"})
    base = doc["cases"][1]  # 13 cases, one failing: 92 %; with 287 more passes, 1 in 300
    doc["cases"] += [dict(base, id=f"app-strings/many/c{i}") for i in range(287)]
    e = _endpoint(doc)
    assert e["message"] == "99% pass" and e["color"] == "green"


def test_an_incomplete_run_says_so_on_its_badge():
    doc = make_results()
    doc["run"].update(incomplete=True, not_run=["a/b/c [appc-0.8.11]"])
    assert _endpoint(doc)["message"] == "100% pass (incomplete run)"


def test_names_are_safe_file_names_and_unique(tmp_path):
    a = make_results(None, "My Adapter <v2>/x")
    m = _model(a, a)
    files = badge.render(m)
    assert sorted(files) == [
        "badge-My-Adapter-v2-x-2.json",
        "badge-My-Adapter-v2-x-2.svg",
        "badge-My-Adapter-v2-x.json",
        "badge-My-Adapter-v2-x.svg",
    ]
    raw = files["badge-My-Adapter-v2-x.svg"].decode()
    ET.fromstring(raw)  # the name is escaped: still well-formed XML


def test_the_svg_is_as_wide_as_its_text():
    short = badge.svg({"label": "appc conformance", "message": "100% pass", "color": "brightgreen"})
    long = badge.svg({"label": "appc conformance", "message": "100% pass · 62% attempted", "color": "brightgreen"})
    width = lambda s: int(ET.fromstring(s).get("width"))  # noqa: E731
    assert width(long) - width(short) >= 80
    assert 'fill="#4c1"' in short


def test_a_badge_is_named_as_its_results_file(tmp_path, capsys):
    """Issue 22, item 12: `run --adapter-cmd ... --name custom` wrote results-custom.json and
    badge-<the adapter's own name>.json. The badge of a results-NAME.json is badge-NAME; a
    results file named otherwise gives the implementation's key."""
    mine = write_results(tmp_path / "results-custom.json", make_results(None, "bad-adapter.sh"))
    other = write_results(tmp_path / "elsewhere.json", make_results(None, "their adapter"))
    out = tmp_path / "out"
    assert cli.main(["report", str(mine), str(other), "--out", str(out), "--format", "badge"]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == [
        "badge-custom.json",
        "badge-custom.svg",
        "badge-their-adapter.json",
        "badge-their-adapter.svg",
    ]


def _declined_imagetags(declared: bool) -> dict:
    """A 0.8.11-only implementation run in both profiles: it declined appc-imagetags at the
    handshake, so each of that profile's case runs is not-implemented."""
    doc = make_results()
    for c in doc["cases"]:
        if c["profile"] == "appc-imagetags":
            c["verdict"], c["message"], c["actual"] = (
                "not-implemented",
                "profile appc-imagetags: only appc-0.8.11",
                None,
            )
    if declared:
        doc["run"]["declined_profiles"] = ["appc-imagetags"]
    return doc


def test_attempted_is_measured_against_the_profiles_the_implementation_declares():
    """Issue 22, item 11: the same go-appc build read "78% attempted" in the compat run (its own
    profile) and "31%" in spec-change.sh (both profiles): a profile declined at the handshake is
    not part of what the implementation could have attempted."""
    only_its_own = make_results(profiles=("appc-0.8.11",))
    both = _declined_imagetags(declared=True)
    assert _endpoint(both)["message"] == _endpoint(only_its_own)["message"] == "100% pass"


def test_the_harness_records_the_profiles_an_adapter_declined(tmp_path):
    import sys
    from tests.helpers import ROOT, run_suite

    adapter = f"{sys.executable} {ROOT / 'examples' / 'minimal-adapter' / 'adapter.py'}"
    _, doc = run_suite(tmp_path, "--adapter-cmd", adapter, "--case", "app-strings/basic/*")
    assert doc["run"]["declined_profiles"] == ["appc-imagetags"]
    m = model.build([Results("r.json", doc)])
    message = badge.endpoint(m, m.columns[0])["message"]
    assert message.startswith("100% pass · subset: ") and "attempted" not in message, message


def test_a_subset_run_says_so_on_its_badge():
    """Issue 21, item 11: a --case subset run read "100% pass" with no sign that it is partial."""
    doc = make_results()
    doc["run"]["selection"] = {"selected": 13, "of": 1280, "by": ["--case app-strings/*"]}
    message = _endpoint(doc)["message"]
    assert message.startswith("100% pass") and "13 of 1280" in message, message
