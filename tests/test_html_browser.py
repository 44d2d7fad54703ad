"""The HTML report in a real browser: headless Chromium renders a generated report, and the test
checks what a person sees: the matrix, a drill-down opened with a mouse click, filters applied.

Skipped, with the reason, when Chromium is not installed (``apt-get install -y chromium``).
Set APPC_REPORT_SCREENSHOTS=DIR to keep the screenshots for a look.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from appc_conformance.conformance import cli
from tests.chromium_pipe import BrowserError, Chromium, find_chromium
from tests.report_fixtures import CATALOG, three_runs

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("html-browser"),  # one report, one browser
    pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed (apt-get install -y chromium)"),
]

GO = "appc/spec (Go) 0.8.11"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("browser-report")
    runs = three_runs(d)
    ref, go, act = runs["reference"], runs["go"], runs["actool"]
    cat = d / "requirements.json"
    cat.write_text(json.dumps(CATALOG))
    assert (
        cli.main(
            ["report", str(ref), str(go), str(act), "--out", str(d / "out"), "--catalog", str(cat), "--format", "html"]
        )
        == 0
    )
    return d / "out" / "report.html"


@pytest.fixture(scope="module")
def browser():
    try:
        with Chromium(width=1280, height=900) as b:
            yield b
    except BrowserError as exc:  # installed but cannot start here: say why
        pytest.skip(f"chromium cannot start: {exc}")


def _shot(browser, tmp_path, name) -> Path:
    p = browser.screenshot(tmp_path / f"{name}.png")
    keep = os.environ.get("APPC_REPORT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(p, Path(keep) / p.name)
    assert p.stat().st_size > 10_000  # a real picture, not an empty page
    return p


def _visible(browser, selector) -> bool:
    return browser.eval(
        "(function(){var e=document.querySelector(%s); if(!e) return false; var r=e.getBoundingClientRect();"
        # checkVisibility() is false inside a closed <details> and under display:none or visibility:hidden
        "return r.width>0 && r.height>0 && e.checkVisibility({visibilityProperty: true, opacityProperty: true});})()"
        % json.dumps(selector)
    )


def _text(browser, selector) -> str:
    return browser.eval("document.querySelector(%s).innerText" % json.dumps(selector))


def _cell(browser, table, area_or_req, column) -> str:
    attr = "data-area" if table == "matrix-area" else "data-req"
    return browser.eval(
        "document.querySelector('#%s td[%s=\"%s\"][data-col=\"%d\"]').innerText.replace(/\\s+/g,' ').trim()"
        % (table, attr, area_or_req, column)
    )


def test_matrix_is_shown(browser, report, tmp_path):
    browser.open(report.as_uri())
    assert browser.eval("document.documentElement.dataset.ready") == "1"
    assert browser.js_errors == []
    # Only the file itself was loaded: no network, no other file.
    assert [u for u in browser.requests if not u.startswith(("file:", "data:", "about:"))] == []
    head = browser.eval("[...document.querySelectorAll('#matrix-area thead th')].map(e=>e.innerText)")
    assert head == ["Area", "appc reference 0.1.0", GO, "actool"]
    assert _visible(browser, "#matrix-area")
    assert _cell(browser, "matrix-area", "app-strings", 0) == "100% 6/6"
    assert _cell(browser, "matrix-area", "app-strings", 1) == "33% 1/3"
    # scores are over attempted cases: the case the Go library does not implement is coverage, not a fail
    assert _cell(browser, "matrix-area", "discovery", 1) == "100% 1/1 1 of 2 attempted"
    # a requirement whose only case it does not implement: no red 0 %
    assert _cell(browser, "matrix-req", "DISC-08", 1) == "not implemented 0 of 1 attempted"
    grey = browser.eval(
        'getComputedStyle(document.querySelector(\'#matrix-req td[data-req="DISC-08"][data-col="1"]\')).backgroundColor'
    )
    red = browser.eval(
        'getComputedStyle(document.querySelector(\'#matrix-req td[data-req="APP-01"][data-col="1"]\')).backgroundColor'
    )
    assert grey != red
    assert _text(browser, "#matrix-area td[data-area='app-strings'][data-col='2']") == "n/a"
    # Colour follows the percentage: a full pass is green, a 33 % cell is not.
    green = browser.eval(
        'getComputedStyle(document.querySelector(\'#matrix-area td[data-area="app-strings"][data-col="0"]\')).backgroundColor'
    )
    other = browser.eval(
        'getComputedStyle(document.querySelector(\'#matrix-area td[data-area="app-strings"][data-col="1"]\')).backgroundColor'
    )
    assert green != other
    assert _cell(browser, "matrix-req", "APP-01", 1) == "0% 0/2"
    assert "TAG-09" in _text(browser, "#uncovered + ul")
    assert "Go is not installed" in _text(browser, "#implementations")
    _shot(browser, tmp_path, "report-top")


def test_drill_down_opens_on_click(browser, report, tmp_path):
    browser.open(report.as_uri())
    sel = 'details.case[data-key="app-strings/colon/version-label@appc-0.8.11"]'
    assert not _visible(browser, sel + " .drill")
    browser.click(sel + " > summary")
    assert browser.eval("document.querySelector(%s).open" % json.dumps(sel)) is True
    assert _visible(browser, sel + " .drill")
    drill = _text(browser, sel + " .drill")
    assert "Expected" in drill and '"name": "example.com/reduce-worker"' in drill
    go_answer = _text(browser, sel + ' .answer[data-col="1"]')
    assert "fail" in go_answer and '"name": "example.com/wrong"' in go_answer
    assert 'name: expected "example.com/reduce-worker", got "example.com/wrong"' in go_answer
    assert "Not available" in _text(browser, sel + ' .answer[data-col="2"]')
    # The open case is in the address, so the link shows the same thing.
    assert "case=app-strings%2Fcolon%2Fversion-label%40appc-0.8.11" in browser.wait_for(
        "location.hash.indexOf('case=') >= 0 && location.hash"
    )
    _shot(browser, tmp_path, "report-drilldown")
    # A crash shows the adapter's stderr.
    crash = 'details.case[data-key="app-strings/colon/empty-name@appc-0.8.11"]'
    browser.click(crash + " > summary")
    assert "panic: runtime error" in _text(browser, crash + ' .answer[data-col="1"] pre.stderr')


def test_verdict_filter(browser, report, tmp_path):
    browser.open(report.as_uri())
    total = int(_text(browser, "#shown-count"))
    assert total == 13
    browser.click("#only-failures")
    assert _text(browser, "#shown-count") == "2"
    assert _visible(browser, 'details.case[data-key="app-strings/colon/version-label@appc-0.8.11"] > summary')
    assert _visible(browser, 'details.case[data-key="app-strings/colon/empty-name@appc-0.8.11"] > summary')
    assert not _visible(browser, 'details.case[data-key="imagetags/document/minimal@appc-imagetags"] > summary')
    browser.eval("document.getElementById('cases').scrollIntoView()")
    _shot(browser, tmp_path, "report-failures-only")
    # Ticking 'not-implemented' as well adds the one case the Go library lacks.
    browser.click('input[name="verdict"][value="not-implemented"]')
    assert _text(browser, "#shown-count") == "3"
    browser.click("#all-verdicts")
    assert _text(browser, "#shown-count") == str(total)


def test_profile_and_strength_filters_recompute_the_matrix(browser, report, tmp_path):
    browser.open(report.as_uri())
    browser.eval(
        "var s=document.getElementById('f-profile'); s.value='appc-imagetags'; s.dispatchEvent(new Event('change'))"
    )
    assert _text(browser, "#shown-count") == "8"
    assert _cell(browser, "matrix-area", "app-strings", 0) == "100% 3/3"
    assert _cell(browser, "matrix-area", "app-strings", 1) == "– 0/0"  # the Go run has no image tags profile
    browser.eval("var s=document.getElementById('f-strength'); s.value='must'; s.dispatchEvent(new Event('change'))")
    assert _text(browser, "#shown-count") == "3"
    assert _cell(browser, "matrix-area", "imagetags", 0) == "100% 2/2"
    assert _cell(browser, "matrix-area", "app-strings", 0) == "– 0/0"
    _shot(browser, tmp_path, "report-must-imagetags")


def test_search_box(browser, report):
    browser.open(report.as_uri())
    browser.click("#f-q")
    browser.type_text("DISC-13")
    assert _text(browser, "#shown-count") == "2"
    assert not _visible(browser, "#no-cases")
    browser.eval("var q=document.getElementById('f-q'); q.value=''; q.dispatchEvent(new Event('input'))")
    browser.click("#f-q")
    browser.type_text("k=a=b")  # a case is found by what it sent
    assert _text(browser, "#shown-count") == "2"
    browser.type_text("x-no-such-thing")
    assert _text(browser, "#shown-count") == "0"
    assert _visible(browser, "#no-cases")


def test_a_link_with_filters_and_an_open_case(browser, report, tmp_path):
    browser.open(report.as_uri() + "#verdict=crash&case=app-strings/colon/empty-name@appc-0.8.11")
    assert _text(browser, "#shown-count") == "1"
    assert browser.eval("[...document.querySelectorAll('input[name=verdict]:checked')].map(e=>e.value)") == ["crash"]
    sel = 'details.case[data-key="app-strings/colon/empty-name@appc-0.8.11"]'
    assert browser.eval("document.querySelector(%s).open" % json.dumps(sel)) is True
    # The case is shown open at the top of the page (issue 22: scrolling far down to it left a
    # headless screenshot blank), and "show it in the case list" scrolls to it below the
    # sticky filter bar.
    top = browser.eval("document.querySelector('#linked details.case').getBoundingClientRect().top")
    assert 0 <= top < 900 and browser.eval("window.scrollY") == 0
    assert browser.eval("document.querySelector('#linked details.case').open") is True
    browser.click("#linked-in-list")
    top = browser.eval("document.querySelector(%s).getBoundingClientRect().top" % json.dumps(sel))
    bar = browser.eval("document.getElementById('filters').getBoundingClientRect().bottom")
    assert bar <= top < 900
    _shot(browser, tmp_path, "report-link")
    assert browser.js_errors == []


@pytest.fixture(scope="module")
def report_known(tmp_path_factory) -> Path:
    """A Go run with a known failure and a known failure that now passes, and an incomplete run of
    an implementation that rejects everything (a pass of unknown reason)."""
    from appc_conformance.reports.results import write_results
    from tests.report_fixtures import go_results, make_results

    d = tmp_path_factory.mktemp("browser-known")
    go = write_results(
        d / "results-go-appc.json",
        go_results(
            verdicts={
                "app-strings/colon/version-label": "fail",
                "discovery/meta/should-prefer-https": "not-implemented",
                "discovery/walk-up/404-then-parent": "not-implemented",
            },
            known={
                "app-strings/colon/version-label": "splits on the last colon",
                "app-strings/labels/equals-in-value": "used to split on every =",
            },
        ),
    )
    rej = make_results(
        "rejector", "rejector", profiles=("appc-0.8.11",), verdicts={"discovery/walk-up/404-then-parent": "error"}
    )
    for c in rej["cases"]:
        if c["id"] == "app-strings/colon/empty-name":
            c["unclassified"] = True
    rej["run"].update(incomplete=True, not_run=["resolution/alias/cycle [appc-0.8.11]"])
    rej = write_results(d / "results-rejector.json", rej)
    cat = d / "requirements.json"
    cat.write_text(json.dumps(CATALOG))
    assert (
        cli.main(["report", str(go), str(rej), "--out", str(d / "out"), "--catalog", str(cat), "--format", "html"]) == 0
    )
    return d / "out" / "report.html"


def test_known_failures_inputs_and_warnings_as_a_reader_sees_them(browser, report_known, tmp_path):
    browser.open(report_known.as_uri())
    assert browser.js_errors == []
    # the incomplete run's banner is on top, in view
    assert _visible(browser, ".banner.incomplete")
    assert "Incomplete run: rejector 0.1.0." in _text(browser, ".banner.incomplete")
    assert "1 of the 4 passes is a rejection of unknown reason" in _text(browser, "#implementations")
    # a known failure is shown as known in the case list, and the known one that passes as news
    sel = 'details.case[data-key="app-strings/colon/version-label@appc-0.8.11"]'
    assert _text(browser, sel + " > summary .v-known-failure") == "known-failure"
    assert (
        _text(
            browser, 'details.case[data-key="app-strings/labels/equals-in-value@appc-0.8.11"] > summary .v-now-passes'
        )
        == "now-passes"
    )
    # "failures only" keeps the known failure (issue 22: a compat report, whose failures are all
    # known, read "0 of 1280"); its own box takes it out
    browser.click("#only-failures")
    assert _text(browser, "#shown-count") == "2"  # the rejector's error and Go's known failure
    assert _visible(browser, sel + " > summary")
    browser.click('input[name="verdict"][value="known-failure"]')
    assert _text(browser, "#shown-count") == "1"
    browser.click('input[name="verdict"][value="known-failure"]')
    # the drill-down says what was sent and why the failure is known
    browser.click(sel + " > summary")
    drill = _text(browser, sel + " .drill")
    assert "Input" in drill and "example.com/reduce-worker:1.0.0" in drill
    assert "Known failure (listed in the expectations file): splits on the last colon" in drill
    # discovery: nothing attempted by the Go run is "not implemented", in grey, not a red 0 %
    assert _cell(browser, "matrix-area", "discovery", 0) == "not implemented 0 of 2 attempted"
    _shot(browser, tmp_path, "report-known")


def test_the_badge_svg_renders_offline(browser, report, tmp_path):
    """The SVG badge written beside the report opens on its own: drawn, nothing fetched."""
    from appc_conformance.reports import badge

    svg = tmp_path / "badge.svg"
    svg.write_text(badge.svg({"label": "appc conformance", "message": "97% pass · 80% attempted", "color": "green"}))
    browser.open(svg.as_uri())
    assert [u for u in browser.requests if not u.startswith(("file:", "data:", "about:"))] == []
    # the message fits in its box: the text is not wider than the coloured part (the third rect:
    # after the clip path's and the label's)
    fits = browser.eval(
        "(function(){var t=document.querySelectorAll('text'), r=document.querySelectorAll('rect');"
        "var m=t[t.length-1].getBBox(); var box=r[2].getBBox();"
        "return [m.width > 50, m.x >= box.x - 1, m.x + m.width <= box.x + box.width + 1];})()"
    )
    assert fits == [True, True, True]


def test_a_case_permalink_shows_the_case_without_scrolling(browser, report_known, tmp_path):
    """Issue 22, item 13: a case's permalink opened in headless Chromium showed a blank page (the
    page scrolled far down to the case, and a headless screenshot of a scrolled page is blank).
    The linked case is shown open at the top of the page, so nothing needs to scroll."""
    import subprocess

    browser.open(report_known.as_uri())
    sel = 'details.case[data-key="app-strings/colon/version-label@appc-0.8.11"]'
    href = browser.eval("document.querySelector(%s + ' a.permalink').getAttribute('href')" % json.dumps(sel))
    assert href.startswith("#")
    browser.open(report_known.as_uri() + href)
    assert browser.js_errors == []
    assert browser.eval("window.scrollY") == 0
    assert _visible(browser, "#linked")
    linked = _text(browser, "#linked")
    assert "app-strings/colon/version-label" in linked and "splits on the last colon" in linked
    # what headless Chromium's own screenshot of the link shows: the page, not a blank one
    png = tmp_path / "permalink.png"
    proc = subprocess.run(
        [
            find_chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,900",
            "--virtual-time-budget=2000",
            f"--screenshot={png}",
            report_known.as_uri() + href,
        ],
        capture_output=True,
        timeout=120,
    )
    assert png.is_file(), proc.stderr[-2000:]
    assert png.stat().st_size > 20_000, "a blank page"  # a blank 1280x900 PNG is about 5 KB
    # the old form of the link (an element's ID) shows the case too
    browser.open(report_known.as_uri() + "#case-app-strings/colon/version-label@appc-0.8.11")
    assert browser.eval("window.scrollY") == 0 and "app-strings/colon/version-label" in _text(browser, "#linked")
