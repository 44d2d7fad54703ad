"""Adapter text is untrusted (issue 21, item 10): terminal escapes in an adapter's answers, its
hello's name and version and its stderr never reach the terminal as escapes, and HTML or
Markdown in them never reaches a Markdown report as markup (tests/fakes/broken.py ``escapes``)."""

from __future__ import annotations

import re

import pytest

from appc_conformance import text
from tests.helpers import broken_cmd, run_suite
from tests.test_run import run_cli

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def no_control(out: str) -> list[str]:
    return [ln for ln in out.splitlines() if CONTROL.search(ln)]


@pytest.fixture(scope="module", params=["escapes", "escapes-start"])
def run_out(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    proc = run_cli("--adapter-cmd", broken_cmd(request.param), "--case", "app-strings/basic/name-*", "--out", out)
    return proc, out


def test_the_run_console_shows_no_control_character(run_out):
    """Answers, and (escapes-start) the handshake's failure with the adapter's stderr in it."""
    proc, _ = run_out
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "failing cases:" in proc.stderr
    assert not no_control(proc.stderr) and not no_control(proc.stdout), no_control(proc.stderr)[:3]
    assert "[2J" in proc.stderr  # shown, as an escape
    forged = [ln for ln in proc.stderr.splitlines() if ln.startswith("PASSED")]
    assert not forged


def test_the_markdown_summary_carries_no_markup_from_the_adapter(run_out):
    _, out = run_out
    md = (out / "summary.md").read_text()
    assert "Failing cases" in md
    for raw in ("<img", "<script", "<!--", "*bold*", "[link](", "\x1b", "\u202e"):
        assert raw not in md, raw
    assert "&lt;img src=x onerror=alert(1)&gt;" in md
    for line in md.splitlines():  # no cell forged by a pipe: every failing row has its 6 cells
        if line.startswith("| ") and "app-strings/basic/" in line:
            assert len(re.findall(r"(?<!\\)\|", line)) == 7, line


def test_the_harness_console_shows_no_control_character(tmp_path):
    """``pytest vectors`` itself: the failure reports quote answers, messages and stderr."""
    proc, doc = run_suite(
        tmp_path,
        "--adapter-cmd",
        broken_cmd("escapes"),
        "-k",
        "name-",
        paths=[__import__("tests.helpers", fromlist=["VECTORS"]).VECTORS / "app-strings"],
    )
    assert doc is not None and doc["cases"], proc.stdout[-3000:]
    assert not no_control(proc.stdout), no_control(proc.stdout)[:3]
    assert "\\x1b]0;owned" in proc.stdout


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("ok\rFAIL", "ok\\x0dFAIL"),
        ("\u202eabc", "\\u202eabc"),
        ("tab\tkept", "tab\tkept"),
        ("é ü ✅", "é ü ✅"),
        ("\x9b1m", "\\x9b1m"),
    ],
)
def test_printable(raw, shown):
    assert text.printable(raw) == shown


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("<script>x</script>", "&lt;script&gt;x&lt;/script&gt;"),
        ("a | b", "a \\| b"),
        ("*b* _i_ `c` ~s~ $m$", "\\*b\\* \\_i\\_ \\`c\\` \\~s\\~ \\$m\\$"),
        ("[l](u)", "\\[l\\](u)"),
        ("# h", "\\# h"),
        ("a\nb\r\nc", "a b c"),
        ("x & y", "x &amp; y"),
        ("a\\b", "a\\\\b"),
    ],
)
def test_markdown(raw, shown):
    assert text.markdown(raw) == shown
