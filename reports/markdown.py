"""Markdown: the summary (CI step summaries, the README's compatibility table) and the
requirement coverage table.

The output depends on the results' verdicts and identities only, never on times or dates, so
a committed summary is stale exactly when a fresh run's verdicts differ.
"""

from __future__ import annotations

import json
import re

from appc_conformance import text as untrusted
from appc_conformance.reports.model import (
    NOW_PASSES,
    PORT_MODES,
    Column,
    Counts,
    Model,
    incomplete_runs,
    is_known,
    partial_runs,
    partial_text,
    status,
)
from appc_conformance.reports.results import FAILING

LEGEND = (
    "✅ passed · ❌ failed (fail, error, crash, timeout, protocol-error, adapter-error) · "
    "🔶 known failure (a failure the implementation's expectations file lists) · "
    "➖ not implemented, unsupported, or skipped (this machine could not run the case); "
    "Pass = passed / attempted (cases not implemented or declined are left out of the score); "
    "Attempted = attempted / graded, the share of the vector set the implementation took on "
    "(skipped cases left out of both)"
)


def _esc(text: str) -> str:
    """Text from a results file (an adapter's message, an implementation's name, ...) as Markdown
    that shows exactly these characters: no HTML, no Markdown syntax, no control characters."""
    return untrusted.markdown(text)


def _code(text: str) -> str:
    """The same, as a code span."""
    return f"`{untrusted.markdown_code(text)}`"


def _cell(c: Counts) -> str:
    if not c.total:
        return "–"
    parts = [f"✅ {c.passed}"] if c.passed else []
    if c.unexpected:
        parts.append(f"❌ {c.unexpected}")
    if c.known:
        parts.append(f"🔶 {c.known}")
    if c.skipped:
        parts.append(f"➖ {c.skipped}")
    return " ".join(parts)


def _attempted(c: Counts) -> str:
    return "–" if not c.graded else f"{c.coverage_text()} ({c.attempted}/{c.graded})"


def _input(c: dict, keep: int = 120) -> str:
    """The case's input, short, as a code span (the HTML report and JUnit have it whole)."""
    if "input" not in c:
        return ""
    v = c["input"]
    text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, separators=(", ", ": "))
    if len(text) > keep or c.get("input_truncated"):
        text = text[:keep] + "…"
    return _code(text)


def _impl_name(col: Column, line_start: bool = False) -> str:
    impl = col.impl
    name = untrusted.markdown(col.label, line_start)
    home = impl.get("homepage")
    return f"[{name}]({home})" if isinstance(home, str) and _LINK.match(home) else name


_LINK = re.compile(r"https?://[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+\Z")  # no ( ) < > space or quote: a plain link


def summary(
    model: Model,
    title: str = "appc conformance: compatibility summary",
    heading_level: int = 2,
    failing_details: bool = True,
) -> str:
    """Implementation x area table; ``failing_details`` adds a folded list of the failing cases."""
    h = "#" * heading_level
    out = [f"{h} {title}", ""]
    hashes = sorted({v for c in model.columns if isinstance(v := c.results.run.get("vectors_hash"), str) and v})
    suites = sorted({v for c in model.columns if isinstance(v := c.results.run.get("suite_version"), str) and v})
    out.append(
        f"Suite {_esc(', '.join(suites))}; vector set {_code(', '.join(x[:19] for x in hashes))}; "
        f"{len({r.id for r in model.rows})} cases."
    )
    out.append("")
    for col, not_run in incomplete_runs(model):
        shown = ", ".join(_code(x) for x in not_run[:10]) + (
            f" and {len(not_run) - 10} more" if len(not_run) > 10 else ""
        )
        out.append(
            f"> ⛔ **Incomplete run: {_esc(col.label)}.** The run stopped before every case it selected had "
            f"run: its figures cover only the {len(col.results.cases)} case runs that ran"
            + (f"; {len(not_run)} did not run: {shown}." if not_run else ".")
        )
        out.append("")
    for col, sel in partial_runs(model):
        out.append(f"ℹ️ {_esc(partial_text(col, sel))}")
        out.append("")
    available = [c for c in model.columns if c.available]
    if available:
        out.append(
            "| Implementation | Profile | " + " | ".join(map(_esc, model.areas)) + " | Total | Pass | Attempted |"
        )
        out.append("|---|---|" + "---|" * len(model.areas) + "---|---:|---:|")
        for col in available:
            for profile in col.results.run.get("profiles", []):
                tot = model.totals_by_profile.get(profile, [Counts()] * len(model.columns))[col.index]
                cells = [_cell(model.by_area_profile[(a, profile)][col.index]) for a in model.areas]
                out.append(
                    f"| {_impl_name(col)} | {_esc(profile)} | "
                    + " | ".join(cells)
                    + f" | {_cell(tot)} | {tot.percent_text()} | {_attempted(tot)} |"
                )
        out.append("")
        out.append(LEGEND)
        out.append("")
        modes = [
            f"{_esc(col.label)}: {PORT_MODES[col.results.run['port_mode']]}"
            for col in available
            if col.results.run.get("port_mode") in PORT_MODES
        ]
        if modes:
            out.append("Discovery ports: " + "; ".join(modes) + ".")
            out.append("")
        for col in available:
            t = model.totals[col.index]
            if t.unclassified:
                out.append(f"⚠️ {_esc(col.label)}: {t.unclassified_text()}.")
                out.append("")
    unavailable = [c for c in model.columns if not c.available]
    if unavailable:
        out.append("Not run (not available on the machine that made this report):")
        out.append("")
        for col in unavailable:
            out.append(f"- {_impl_name(col, line_start=True)}: {_esc(col.impl.get('unavailable_reason') or '')}")
        out.append("")
    # every run of one vector set reports the same problems: each is listed once
    problems = list(dict.fromkeys(p for c in model.columns for p in c.results.run.get("problems", [])))
    if problems:
        out.append(
            f"⚠️ {len(problems)} problem{'' if len(problems) == 1 else 's'} in the vector files "
            f"(the cases of a broken file did not run; every other case did):"
        )
        out.append("")
        out += [f"- `{_esc(str(x).replace('`', chr(39)))}`" for x in problems[:20]]
        if len(problems) > 20:
            out.append(
                f"- ... and {len(problems) - 20} more: the HTML report lists them, and "
                f"`appc-conformance lint --vectors DIR` finds them"
            )
        out.append("")
    graded = [(r, col, r.cells[col.index]) for r in model.rows for col in available if r.cells[col.index]]
    fixed = [(r, col) for r, col, c in graded if status(c) == NOW_PASSES]
    if fixed:  # news: never folded away
        out.append(
            f"🆕 {len(fixed)} known failure{'' if len(fixed) == 1 else 's'} now pass "
            f"(remove {'it' if len(fixed) == 1 else 'them'} from the expectations file):"
        )
        out.append("")
        for r, col in fixed:
            out.append(f"- {untrusted.markdown(col.label, line_start=True)}: {_code(r.id)} [{_esc(r.profile)}]")
        out.append("")
    failing = [(r, col) for r, col, c in graded if c["verdict"] in FAILING and not is_known(c)]
    known = [(r, col) for r, col, c in graded if c["verdict"] in FAILING and is_known(c)]
    if failing and failing_details:
        out.append("<details><summary>Failing cases</summary>")
        out.append("")
        out.append("| Implementation | Case | Profile | Verdict | Input | Why |")
        out.append("|---|---|---|---|---|---|")
        for r, col in failing[:200]:
            c = r.cells[col.index]
            why = _esc(c.get("message", "")[:200]) + (" (answer truncated)" if c.get("actual_truncated") else "")
            out.append(
                f"| {_esc(col.label)} | {_code(r.id)} | {_esc(r.profile)} | {_esc(c['verdict'])} | {_input(c)} "
                f"| {why} |"
            )
        if len(failing) > 200:
            out.append(f"| … | {len(failing) - 200} more | | | | |")
        out.append("")
        out.append("</details>")
        out.append("")
    if known and failing_details:
        out.append(f"<details><summary>Known failures ({len(known)}, listed in the expectations files)</summary>")
        out.append("")
        out.append("| Implementation | Case | Profile | Verdict | Known because |")
        out.append("|---|---|---|---|---|")
        for r, col in known[:200]:
            c = r.cells[col.index]
            out.append(
                f"| {_esc(col.label)} | {_code(r.id)} | {_esc(r.profile)} | {_esc(c['verdict'])} | "
                f"{_esc(c['known_failure'][:200])} |"
            )
        if len(known) > 200:
            out.append(f"| … | {len(known) - 200} more | | | |")
        out.append("")
        out.append("</details>")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _verdicts_text(c: Counts) -> str:
    if not c.total:
        return "–"
    return ", ".join(f"{n} {v}" for v, n in c.status_list())


def coverage(model: Model, title: str = "Requirement coverage", heading_level: int = 2) -> str:
    h = "#" * heading_level
    cols = [c for c in model.columns if c.available]
    out = [f"{h} {title}", ""]
    covered, uncovered = model.covered_requirements, model.uncovered_requirements
    by_publisher = [r for r in covered if r.publisher_case_ids]
    out.append(
        f"{len(model.requirements)} requirements: {len(covered)} with at least one case, "
        f"{len(uncovered)} without."
        + (
            f" {len(by_publisher)} are (also) covered by publisher checks: cases of the suite's own "
            "check of a discovery host (vectors/publisher), run by the suite, not by implementations."
            if by_publisher
            else ""
        )
    )
    out.append("")
    out.append("| Requirement | Strength | Cases | " + " | ".join(_esc(c.label) for c in cols) + " |")
    out.append("|---|---|---:|" + "---|" * len(cols))
    for r in model.requirements:
        rid = _esc(r.id) if r.in_catalog or not model.catalog_used else f"{_esc(r.id)} (not in the catalog)"
        n = f"{len(r.case_ids)}" + (f" + {len(r.publisher_case_ids)} publisher" if r.publisher_case_ids else "")
        if not r.case_ids and r.publisher_case_ids:
            cells = ["covered by publisher checks"] * len(cols)
        else:
            cells = [_verdicts_text(r.counts[c.index]) for c in cols]
        out.append(f"| {rid} | {_esc(r.strength or '–')} | {n} | " + " | ".join(cells) + " |")
    out.append("")
    if by_publisher:
        out.append(f"{h}# Requirements covered by publisher checks")
        out.append("")
        for r in by_publisher:
            out.append(
                f"- {untrusted.markdown(r.id, True)} ({_esc(r.strength or '?')}): {len(r.publisher_case_ids)} publisher cases"
                + ("" if r.case_ids else ", no adapter case (a rule for servers)")
            )
        out.append("")
    if uncovered:
        out.append(f"{h}# Requirements without a case")
        out.append("")
        for r in uncovered:
            if r.untestable_reason:
                why = f": not testable here: {_esc(r.untestable_reason)}"
            elif r.testable_by:
                why = f": no case yet (testable with {_esc(', '.join(r.testable_by))})"
            else:
                why = ""
            out.append(f"- {untrusted.markdown(r.id, True)} ({_esc(r.strength or '?')}){why}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
