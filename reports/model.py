"""What every report shows, computed once: implementations, cases, and verdict counts by area,
requirement and profile. The renderers (HTML, Markdown, JUnit, coverage) only format this.

Scores are over the cases an implementation attempted: ``pass / attempted``. A case it does not
implement or declined (``not-implemented``, ``unsupported``) says nothing about how well it does
what it does, so it is left out of the score and shown as coverage beside it: ``attempted /
graded``, the share of the vector set it took on. A case the environment could not run (verdict
``skipped``) is left out of both. A tile whose graded cases were all not attempted reads "not
implemented", never 0 %.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from appc_conformance.conformance.grading import NOT_IMPLEMENTED, UNSUPPORTED
from appc_conformance.reports.results import ENVIRONMENT_SKIP, FAILING, PASS, SKIPPING, VERDICTS, Results

STRENGTH_ORDER = ("must", "should", "may", "library", "ambiguous")


#: Display status of a failing verdict on a case the implementation's expectations file lists.
KNOWN_FAILURE = "known-failure"
#: Display status of a pass on a case the expectations file lists as a known failure: news.
NOW_PASSES = "now-passes"
STATUSES = VERDICTS + (KNOWN_FAILURE, NOW_PASSES)


def is_known(cell: dict | None) -> bool:
    """Whether the run listed this case as a known failure (the record's ``known_failure``)."""
    return cell is not None and isinstance(cell.get("known_failure"), str)


def status(cell: dict) -> str:
    """What a report shows for a case record: its verdict, except that a failure the expectations
    file lists is ``known-failure`` and a pass of such a case is ``now-passes``."""
    v = cell["verdict"]
    if is_known(cell):
        if v in FAILING:
            return KNOWN_FAILURE
        if v == PASS:
            return NOW_PASSES
    return v


#: How each ``run.port_mode`` reads: the mock hosts on one custom port, or on 443 and 80.
PORT_MODES = {"custom-port": "custom port", "default-ports": "443 and 80"}

#: Verdicts of cases the implementation did not attempt: left out of scores, counted as coverage.
NOT_ATTEMPTED = (NOT_IMPLEMENTED, UNSUPPORTED)


def _pct(p: float | None) -> str:
    if p is None:
        return "–"
    if 99.5 <= p < 100:  # never round a failure up to a clean 100 %
        return "99%"
    if 0 < p < 0.5:  # nor a pass down to 0 %
        return "1%"
    return f"{p:.0f}%"


@dataclass
class Counts:
    by_verdict: Counter = field(default_factory=Counter)
    by_status: Counter = field(default_factory=Counter)
    known: int = 0  # failing verdicts of cases listed as known failures (included in ``failed``)
    now_passing: int = 0  # passes of cases listed as known failures (included in ``passed``)
    unclassified: int = 0  # passes that rest on a rejection of unknown reason (included in ``passed``)

    def add(self, verdict: str, *, known: bool = False, unclassified: bool = False) -> None:
        self.by_verdict[verdict] += 1
        if unclassified and verdict == PASS:
            self.unclassified += 1
        if known and verdict in FAILING:
            self.known += 1
            self.by_status[KNOWN_FAILURE] += 1
        elif known and verdict == PASS:
            self.now_passing += 1
            self.by_status[NOW_PASSES] += 1
        else:
            self.by_status[verdict] += 1

    def add_cell(self, cell: dict) -> None:
        self.add(cell["verdict"], known=is_known(cell), unclassified=cell.get("unclassified") is True)

    @property
    def total(self) -> int:
        return sum(self.by_verdict.values())

    @property
    def passed(self) -> int:
        return self.by_verdict[PASS]

    @property
    def failed(self) -> int:
        return sum(self.by_verdict[v] for v in FAILING)

    @property
    def unexpected(self) -> int:
        """Failures that the expectations file does not list."""
        return self.failed - self.known

    @property
    def skipped(self) -> int:
        return sum(self.by_verdict[v] for v in SKIPPING)

    @property
    def graded(self) -> int:
        """Cases that say something about the implementation: all but those the environment skipped."""
        return self.total - self.by_verdict[ENVIRONMENT_SKIP]

    @property
    def not_attempted(self) -> int:
        """Cases the implementation does not implement or declined (not-implemented, unsupported)."""
        return sum(self.by_verdict[v] for v in NOT_ATTEMPTED)

    @property
    def attempted(self) -> int:
        """Graded cases the implementation took on: the denominator of every score."""
        return self.graded - self.not_attempted

    @property
    def not_implemented(self) -> bool:
        """Cases were graded, and the implementation attempted none of them."""
        return self.graded > 0 and self.attempted == 0

    @property
    def percent(self) -> float | None:
        """Passed over attempted; None when nothing was attempted."""
        return 100.0 * self.passed / self.attempted if self.attempted else None

    @property
    def coverage(self) -> float | None:
        """Attempted over graded: how much of the vector set the implementation took on."""
        return 100.0 * self.attempted / self.graded if self.graded else None

    def percent_text(self) -> str:
        if self.not_implemented:
            return "not implemented"
        return _pct(self.percent)

    def coverage_text(self) -> str:
        return _pct(self.coverage)

    def unclassified_text(self) -> str:
        """ "N of the passes are rejections of unknown reason", or "" when none is."""
        if not self.unclassified:
            return ""
        return (
            f"{self.unclassified} of the {self.passed} passes {'is a rejection' if self.unclassified == 1 else 'are rejections'} "
            "of unknown reason (an error of kind 'other' where the case expected specific kinds)"
        )

    def verdict_list(self) -> list[tuple[str, int]]:
        return [(v, self.by_verdict[v]) for v in VERDICTS if self.by_verdict[v]]

    def status_list(self) -> list[tuple[str, int]]:
        """Like :meth:`verdict_list`, with known failures and their passes apart."""
        return [(s, self.by_status[s]) for s in STATUSES if self.by_status[s]]

    def as_json(self) -> dict:
        return {
            "total": self.total,
            "graded": self.graded,
            "attempted": self.attempted,
            "pass": self.passed,
            "failed": self.failed,
            "unclassified_passes": self.unclassified,
            "known_failures": self.known,
            "known_failures_now_passing": self.now_passing,
            "skipped": self.skipped,
            "verdicts": {v: n for v, n in self.verdict_list()},
        }


@dataclass
class Column:
    """One results file: one implementation, one run."""

    index: int
    results: Results

    @property
    def label(self) -> str:
        return self.results.label

    @property
    def impl(self) -> dict:
        return self.results.implementation

    @property
    def available(self) -> bool:
        return self.results.available


@dataclass
class Row:
    """One (case, profile), with each column's case record or None when that run lacks it."""

    id: str
    profile: str
    area: str
    op: str
    strength: str
    requirements: list
    ambiguities: list
    description: str
    cells: list  # per column: dict | None

    @property
    def key(self) -> str:
        return f"{self.id}@{self.profile}"

    def verdicts(self) -> list[str | None]:
        return [c["verdict"] if c else None for c in self.cells]

    def statuses(self) -> list[str | None]:
        """Per column: the status a report shows (see :func:`status`), or None."""
        return [status(c) if c else None for c in self.cells]


@dataclass
class Requirement:
    id: str
    strength: str
    section: str
    summary: str
    profiles: list
    untestable_reason: str | None
    in_catalog: bool
    testable_by: list = field(default_factory=list)
    case_ids: set = field(default_factory=set)
    counts: list = field(default_factory=list)  # per column: Counts
    publisher_case_ids: set = field(default_factory=set)  # publisher cases citing it (suite_checks)
    side: str = ""  # the catalog's "side": "server" for a rule that constrains servers

    @property
    def covered(self) -> bool:
        """Cited by an adapter case, or by a publisher case (run by the suite itself)."""
        return bool(self.case_ids or self.publisher_case_ids)


@dataclass
class Model:
    columns: list[Column]
    rows: list[Row]
    areas: list[str]
    profiles: list[str]
    strengths: list[str]
    by_area: dict  # area -> [Counts per column]
    by_area_profile: dict  # (area, profile) -> [Counts per column]
    totals: list  # Counts per column
    totals_by_profile: dict  # profile -> [Counts per column]
    requirements: list[Requirement]
    catalog_used: bool

    @property
    def covered_requirements(self) -> list[Requirement]:
        return [r for r in self.requirements if r.covered]

    @property
    def uncovered_requirements(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.covered]


def mark_known(results: Results, expectations) -> int:
    """Give each case of ``results`` that ``expectations`` (reports.expectations.Expectations) lists
    the record member ``known_failure`` (the entry's reason), as the harness does when it is given
    the file; a mark the run already made is kept. Returns how many cases were marked."""
    n = 0
    for c in results.cases:
        k = expectations.lookup(c["id"], c["profile"])
        if k is not None and "known_failure" not in c:
            c["known_failure"] = k.reason
            n += 1
    return n


def partial_runs(model: "Model") -> list[tuple[Column, dict]]:
    """Columns whose run selected part of the vector set by choice (``run.selection``: how many
    case runs of how many, and by which options): its coverage is of that part only."""
    return [(c, c.results.run["selection"]) for c in model.columns if isinstance(c.results.run.get("selection"), dict)]


def partial_text(col: Column, sel: dict) -> str:
    by = ", ".join(sel.get("by") or []) or "a selection"
    return (
        f"Partial run: {col.label} ran {sel.get('selected', '?')} of the {sel.get('of', '?')} case runs "
        f"of the vector set ({by}); its figures are about that part only."
    )


def incomplete_runs(model: "Model") -> list[tuple[Column, list]]:
    """Columns whose run stopped before every selected case ran (``run.incomplete``), with the
    case runs it did not run (``run.not_run``)."""
    return [
        (c, list(c.results.run.get("not_run") or [])) for c in model.columns if c.results.run.get("incomplete") is True
    ]


def public_arg(arg: str, roots: Iterable[str | Path] = ()) -> str:
    """``arg`` (a command-line word) without an absolute path of the machine that ran it.

    An absolute path inside one of ``roots`` (the project, the current folder) becomes relative to
    it; any other absolute path becomes its last component (``/home/u/.venv/bin/python`` ->
    ``python``). ``--opt=/a/b`` keeps its option; a word with spaces (``--adapter-cmd``'s command
    line) is treated word by word. Reports and results files are published as they are: they
    must not carry the machine's folders (a user name, a temporary folder).
    """
    if not arg:
        return arg
    if any(ch.isspace() for ch in arg):
        try:
            words = shlex.split(arg)
        except ValueError:
            return arg
        return " ".join(shlex.quote(public_arg(w, roots)) for w in words)
    if arg.startswith("-") and "=" in arg:
        opt, _, value = arg.partition("=")
        return f"{opt}={public_arg(value, roots)}"
    if not os.path.isabs(arg):
        return arg
    p = Path(arg)
    for root in roots:
        try:
            rel = p.relative_to(root)
        except ValueError:
            continue
        return rel.as_posix() or "."
    return p.name or arg


def public_text(text: str, folders: dict) -> str:
    """``text`` (an adapter's stderr, a traceback) with each folder of ``folders`` (folder -> label),
    where it starts a path, replaced by its label: ``/tmp/pytest-7/x.pem`` -> ``<tmp>/x.pem``. A
    folder is only replaced where a path starts, never inside a URL (``https://host/root/app``)."""
    for folder in sorted((str(f).rstrip("/") for f in folders), key=len, reverse=True):
        if folder and folder in text:
            label = folders[folder] if folder in folders else folders[folder + "/"]
            text = re.sub(r"(?<![\w}.:/~-])" + re.escape(folder) + r"(?![\w.-])", lambda _m: label, text)  # noqa: B023 - used within this iteration
    return text


def public_path(path: str | Path | None) -> str:
    """A results file's path as a report shows it: its file name."""
    return Path(path).name if path else ""


def default_catalog_path() -> Path | None:
    try:
        from appc_conformance.conformance import vectors  # noqa: PLC0415
    except ImportError:
        return None
    p = vectors.default_vectors_dir() / "requirements.json"
    return p if p.is_file() else None


def load_catalog(path: str | Path | None) -> dict | None:
    """The requirement catalog, or None when there is none to read."""
    if path is None:
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except RecursionError:
        raise ValueError("arrays and objects nested too deeply") from None


def filed_under(cell: dict, rid: str, cited: list) -> dict:
    """The record as requirement ``rid`` (one of the row's ``cited``) counts it. A failure is
    filed under the requirements it breaks: a record whose ``failed_requirements`` name some of
    ``cited`` but not ``rid`` checked ``rid`` and found it kept (the answer was right and the
    assertions naming ``rid`` held), a pass there."""
    broken = cell.get("failed_requirements")
    if (
        cell["verdict"] in FAILING
        and isinstance(broken, list)
        and rid not in broken
        and any(r in broken for r in cited)
    ):
        return {k: v for k, v in cell.items() if k != "known_failure"} | {"verdict": PASS}
    return cell


def _req_sort_key(rid: str):
    prefix, _, num = rid.rpartition("-")
    return (prefix, int(num) if num.isdigit() else 0, rid)


def suite_checks(catalog_path: str | Path | None) -> dict[str, list[str]]:
    """``{requirement ID: [publisher case IDs]}``: the publisher cases (area ``publisher``, run by
    the suite itself, not by adapters) of the vector set the catalog belongs to, by the
    requirements they cite. Empty when the catalog is not in a vector set folder that has them."""
    if catalog_path is None:
        return {}
    root = Path(catalog_path).resolve().parent
    if not (root / "schema" / "vector-file.schema.json").is_file() or not (root / "publisher").is_dir():
        return {}
    try:
        from appc_conformance.conformance import vectors  # noqa: PLC0415

        vs = vectors.load(root, vectors.vector_files(root / "publisher"))
    except (ImportError, OSError, ValueError):
        return {}
    out: dict[str, list[str]] = {}
    for c in vs.suite_cases:
        for rid in c.requirements:
            out.setdefault(rid, []).append(c.id)
    return out


def build(results: Iterable[Results], catalog: dict | None = None, suite_checks: dict | None = None) -> Model:
    """``suite_checks``: requirement ID -> the publisher cases citing it (see ``suite_checks``);
    a rule for servers among them counts as covered (by publisher checks) without an adapter case."""
    columns = [Column(i, r) for i, r in enumerate(results)]
    n = len(columns)
    rows_by_key: dict[tuple[str, str], Row] = {}
    for col in columns:
        for c in col.results.cases:
            key = (c["id"], c["profile"])
            row = rows_by_key.get(key)
            if row is None:
                row = rows_by_key[key] = Row(
                    id=c["id"],
                    profile=c["profile"],
                    area=c.get("area") or c["id"].split("/", 1)[0],
                    op=c.get("op", ""),
                    strength=c.get("strength", ""),
                    requirements=list(c.get("requirements", [])),
                    ambiguities=list(c.get("ambiguities", [])),
                    description=c.get("description", ""),
                    cells=[None] * n,
                )
            row.cells[col.index] = c
    rows = sorted(rows_by_key.values(), key=lambda r: (r.area, r.id, r.profile))
    areas = sorted({r.area for r in rows})
    profiles = sorted({r.profile for r in rows} | {p for c in columns for p in c.results.run.get("profiles", [])})
    strengths = [s for s in STRENGTH_ORDER if any(r.strength == s for r in rows)]
    strengths += sorted({r.strength for r in rows} - set(strengths))

    def counts() -> list[Counts]:
        return [Counts() for _ in columns]

    by_area = {a: counts() for a in areas}
    by_area_profile = {(a, p): counts() for a in areas for p in profiles}
    totals = counts()
    totals_by_profile = {p: counts() for p in profiles}

    reqs: dict[str, Requirement] = {}
    if catalog:
        for r in catalog.get("requirements", []):
            reqs[r["id"]] = Requirement(
                r["id"],
                r.get("strength", ""),
                r.get("section", ""),
                r.get("summary", ""),
                list(r.get("profiles", [])),
                r.get("untestable_reason"),
                True,
                counts=counts(),
                testable_by=list(r.get("testable_by") or []),
                side=r.get("side") or "",
            )
    for row in rows:
        # A requirement is covered by the cases that cite it and by the request assertions that
        # name it (a record's assertion_requirements; counted for the profiles it belongs to).
        cited = list(row.requirements)
        for cell in row.cells:
            for rid in (cell or {}).get("assertion_requirements") or ():
                if rid not in cited and (
                    rid not in reqs or not reqs[rid].profiles or row.profile in reqs[rid].profiles
                ):
                    cited.append(rid)
        for rid in cited:
            if rid not in reqs:
                reqs[rid] = Requirement(rid, "", "", "", [], None, False, counts=counts())
            reqs[rid].case_ids.add(row.id)
        for i, cell in enumerate(row.cells):
            if cell is None:
                continue
            for tally in (
                by_area[row.area][i],
                by_area_profile[(row.area, row.profile)][i],
                totals[i],
                totals_by_profile[row.profile][i],
            ):
                tally.add_cell(cell)
            for rid in cited:
                reqs[rid].counts[i].add_cell(filed_under(cell, rid, cited))
    # Publisher cases cover the rules for servers only (the catalog's side "server", or a rule it
    # says check-publisher tests): a client's duty they happen to cite stays with the adapter cases.
    for rid, ids in (suite_checks or {}).items():
        r = reqs.get(rid)
        if r is not None and (r.side == "server" or "check-publisher" in r.testable_by):
            r.publisher_case_ids.update(ids)
    ordered = list(reqs.values()) if catalog else sorted(reqs.values(), key=lambda r: _req_sort_key(r.id))
    if catalog:  # catalog order first, then IDs the catalog does not know
        ordered = [r for r in ordered if r.in_catalog] + sorted(
            (r for r in ordered if not r.in_catalog), key=lambda r: _req_sort_key(r.id)
        )
    return Model(
        columns=columns,
        rows=rows,
        areas=areas,
        profiles=profiles,
        strengths=strengths,
        by_area=by_area,
        by_area_profile=by_area_profile,
        totals=totals,
        totals_by_profile=totals_by_profile,
        requirements=ordered,
        catalog_used=bool(catalog),
    )


def coverage_json(model: Model) -> dict:
    """The requirement coverage table as data (``coverage.json``)."""
    out = []
    for r in model.requirements:
        out.append(
            {
                "id": r.id,
                "strength": r.strength,
                "section": r.section,
                "summary": r.summary,
                "in_catalog": r.in_catalog,
                "cases": len(r.case_ids),
                "publisher_cases": len(r.publisher_case_ids),
                "untestable_reason": r.untestable_reason,
                "testable_by": r.testable_by,
                "implementations": [
                    {
                        "implementation": col.label,
                        "results": public_path(col.results.path),
                        **r.counts[col.index].as_json(),
                    }
                    for col in model.columns
                ],
            }
        )
    return {
        "requirements": out,
        "uncovered": [r.id for r in model.uncovered_requirements],
        "not_in_catalog": [r.id for r in model.requirements if not r.in_catalog] if model.catalog_used else [],
    }
