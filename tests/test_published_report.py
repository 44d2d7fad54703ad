"""The committed compatibility summary (reports/COMPATIBILITY.md) is what the report command
makes now. It is made with every bundled implementation. Where one that is built from a source
tree the user gives (rkt: RKT_SRC) is missing, the other implementations' part of the summary is
still checked: the committed file with that implementation's lines taken out must equal a fresh
run of the others (CI has no rkt tree; docs/ARCHITECTURE.md, "rkt in the published summary").
Where an installed tool is missing (Go, actool), the check is skipped."""

from __future__ import annotations

import difflib
import re
import subprocess
import sys

import pytest

from appc_conformance.conformance import registry
from tests.helpers import ROOT

PUBLISHED = ROOT / "reports" / "COMPATIBILITY.md"
# Implementations built from a source tree the user gives: CI has none, so the summary keeps
# their committed lines and the rest of it is checked without them.
TREE_GIVEN = ("rkt",)


def _missing() -> dict[str, str]:
    out = {}
    for name in registry.IMPLEMENTATIONS:
        try:
            registry.command(name)
        except registry.NotAvailable as exc:
            out[name] = str(exc)
    return out


def without_implementation(summary: str, name: str) -> str:
    """``summary`` with the lines of implementation ``name`` (its label starts with ``name``
    and a space) taken out: its table rows, its known failures (and their count), its entry in
    the discovery ports line."""
    label = re.compile(r"^(\| \[?|⚠️ )" + re.escape(name) + r" ")  # table rows, warnings
    lines, removed_known = [], 0
    in_known = False
    for line in summary.splitlines(keepends=True):
        if line.startswith("<details><summary>Known failures"):
            in_known = True
        if label.match(line):
            removed_known += in_known
            continue
        if line.startswith("Discovery ports: "):
            items = line[len("Discovery ports: ") :].rstrip("\n").removesuffix(".").split("; ")
            line = "Discovery ports: " + "; ".join(i for i in items if not i.startswith(name + " ")) + ".\n"
        lines.append(line)
    text = re.sub(r"\n\n\n+", "\n\n", "".join(lines))  # a removed paragraph leaves no extra blank line
    return re.sub(
        r"(<summary>Known failures \()(\d+)", lambda m: m.group(1) + str(int(m.group(2)) - removed_known), text
    )


def test_without_implementation_takes_out_only_its_lines():
    summary = (
        "| Implementation | Profile |\n|---|---|\n| a 1.0 | p |\n| [rkt 1.30](https://x) | p |\n\n"
        "Discovery ports: a 1.0: custom port; rkt 1.30: 443 and 80.\n\n"
        "<details><summary>Known failures (3, listed in the expectations files)</summary>\n\n"
        "| Implementation | Case |\n|---|---|\n| a 1.0 | `x` |\n| rkt 1.30 | `x` |\n| rkt 1.30 | `y` |\n"
    )
    summary = summary.replace(
        "\n\n<details>", "\n\n⚠️ rkt 1.30: 1 of the 9 passes is a rejection of unknown reason.\n\n<details>"
    )
    assert without_implementation(summary, "rkt") == (
        "| Implementation | Profile |\n|---|---|\n| a 1.0 | p |\n\n"
        "Discovery ports: a 1.0: custom port.\n\n"
        "<details><summary>Known failures (1, listed in the expectations files)</summary>\n\n"
        "| Implementation | Case |\n|---|---|\n| a 1.0 | `x` |\n"
    )
    only_rkt = without_implementation(summary, "a")
    assert only_rkt.count("rkt 1.30") == 5 and "Discovery ports: rkt 1.30: 443 and 80.\n" in only_rkt
    assert "Known failures (2," in only_rkt


@pytest.mark.slow
def test_published_compatibility_report_is_current(tmp_path):
    missing = _missing()
    if set(missing) - set(TREE_GIVEN):
        pytest.skip(
            "the published report needs every installed implementation: "
            + "; ".join(f"{n}: {r}" for n, r in missing.items())
        )
    fresh = tmp_path / "COMPATIBILITY.md"
    impls = [a for name in registry.IMPLEMENTATIONS if name not in missing for a in ("--impl", name)]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "appc_conformance",
            "run",
            *impls,
            "--out",
            str(tmp_path / "out"),
            "--publish",
            str(fresh),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert fresh.exists(), proc.stderr[-3000:]
    # run exits 1 only on failures not listed in expectations/IMPL.json
    assert proc.returncode == 0, proc.stderr[-3000:]
    new, old = fresh.read_text(), PUBLISHED.read_text() if PUBLISHED.exists() else ""
    for name in missing:  # checked without them; their committed lines stay as they are
        old = without_implementation(old, name)
    if new != old:
        diff = "".join(
            difflib.unified_diff(
                old.splitlines(True), new.splitlines(True), "reports/COMPATIBILITY.md (committed)", "fresh run", n=1
            )
        )
        pytest.fail(
            "reports/COMPATIBILITY.md is stale; regenerate it with `RKT_SRC=TREE tox -e compat` "
            "and commit it:\n" + diff[:6000]
        )
