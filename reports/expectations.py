"""Known failures per implementation, and the check of a run against them.

An expectations file (``expectations/<implementation>.json``, schema
``reports/schema/expectations.schema.json``)::

    {"implementation": "go-appc",
     "known_failures": [{"id": "app-strings/x/y", "profile": "appc-0.8.11", "reason": "..."}]}

``profile`` may be left out: the entry then covers the case in every profile. A check fails
only on an unexpected failure. A known failure that passes is reported so the entry gets
removed (and fails the check with ``strict``), as is an entry whose case the run does not have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from appc_conformance.reports.results import FAILING, PASS, Results

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "expectations.schema.json"


class ExpectationsError(Exception):
    pass


@dataclass(frozen=True)
class KnownFailure:
    id: str
    profile: str | None
    reason: str
    index: int

    def label(self) -> str:
        return f"{self.id} [{self.profile or 'every profile'}]"


@dataclass
class Expectations:
    path: str
    implementation: str
    known: list[KnownFailure]

    def lookup(self, case_id: str, profile: str) -> KnownFailure | None:
        for k in self.known:
            if k.id == case_id and k.profile in (None, profile):
                return k
        return None


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def default_dir() -> Path:
    """The bundled expectations: the checkout's ``expectations/`` beside ``reports/``, or in an
    installed package the copy a build puts beside the package's ``reports/`` (setup.py)."""
    return Path(__file__).resolve().parent.parent / "expectations"


MAX_DEPTH = 32  # an expectations file nests 4 levels; far deeper is no expectations file


def load(path: str | Path) -> Expectations:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExpectationsError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExpectationsError(f"{p}: cannot read: {exc}") from None
    from appc_conformance.reports.results import loads_bounded  # noqa: PLC0415

    try:
        doc = loads_bounded(text, MAX_DEPTH)
    except RecursionError:
        raise ExpectationsError(
            f"{p}: arrays and objects nested too deeply (more than {MAX_DEPTH} levels): not an expectations file"
        ) from None
    except json.JSONDecodeError as exc:
        raise ExpectationsError(f"{p}: line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}") from None
    import jsonschema  # noqa: PLC0415 (a run that loads no expectations file never needs it)

    errors = list(jsonschema.validators.validator_for(schema())(schema()).iter_errors(doc))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        where = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in best.absolute_path).lstrip(".")
        raise ExpectationsError(f"{p}: field '{where or '(top level)'}': {best.message}")
    from appc_conformance.conformance.vectors import PROFILES  # noqa: PLC0415 (the suite's profiles)

    known: list[KnownFailure] = []
    seen: dict[tuple[str, str | None], int] = {}  # (case, profile) -> where it is listed first
    for i, k in enumerate(doc["known_failures"]):
        if "profile" in k and k["profile"] not in PROFILES:  # it would never match: say so
            raise ExpectationsError(
                f"{p}: field 'known_failures[{i}].profile' ({k['id']}): unknown profile "
                f"{k['profile']!r}; the profiles are {', '.join(PROFILES)} (or leave "
                "'profile' out for every profile)"
            )
        key = (k["id"], k.get("profile"))
        if key in seen:
            raise ExpectationsError(
                f"{p}: field 'known_failures[{i}]': {k['id']} is listed twice (first at known_failures[{seen[key]}])"
            )
        seen[key] = i
        known.append(KnownFailure(k["id"], k.get("profile"), k["reason"], i))
    return Expectations(str(p), doc["implementation"], known)


@dataclass
class CheckReport:
    results: Results
    expectations: Expectations | None
    passed: int = 0
    skipped: int = 0
    expected_failures: list = field(default_factory=list)  # (case, KnownFailure)
    unexpected_failures: list = field(default_factory=list)  # case
    now_passing: list = field(default_factory=list)  # (case, KnownFailure)
    not_run: list = field(default_factory=list)  # KnownFailure without a case in the run
    outside: list = field(default_factory=list)  # KnownFailure whose case a partial run did not run
    unavailable: bool = False

    @property
    def incomplete(self) -> bool:
        return self.results.incomplete

    def ok(self, strict: bool = False, allow_unavailable: bool = False, allow_incomplete: bool = False) -> bool:
        if self.unavailable and not allow_unavailable:
            return False
        if self.incomplete and not allow_incomplete:
            return False
        if self.unexpected_failures:
            return False
        return not (strict and (self.now_passing or self.not_run))

    def as_json(self) -> dict:
        def case(c):
            return {"id": c["id"], "profile": c["profile"], "verdict": c["verdict"], "message": c.get("message", "")}

        return {
            "results": self.results.path,
            "implementation": self.results.impl_key,
            "expectations": self.expectations.path if self.expectations else None,
            "available": not self.unavailable,
            "unavailable_reason": self.results.implementation.get("unavailable_reason") if self.unavailable else None,
            "passed": self.passed,
            "skipped": self.skipped,
            "expected_failures": [{**case(c), "reason": k.reason} for c, k in self.expected_failures],
            "unexpected_failures": [case(c) for c in self.unexpected_failures],
            "known_failures_now_passing": [
                {"id": k.id, "profile": c["profile"], "reason": k.reason} for c, k in self.now_passing
            ],
            "known_failures_not_run": [{"id": k.id, "profile": k.profile, "reason": k.reason} for k in self.not_run],
            "incomplete": self.incomplete,
            "not_run": self.results.not_run,
            "selection": self.results.selection,
            "known_failures_outside_run": [{"id": k.id, "profile": k.profile} for k in self.outside],
        }


def check(results: Results, expectations: Expectations | None) -> CheckReport:
    rep = CheckReport(results, expectations)
    if not results.available:
        rep.unavailable = True
        return rep
    seen_known = set()
    for c in results.cases:
        k = expectations.lookup(c["id"], c["profile"]) if expectations else None
        if k is not None:
            seen_known.add(k)
        v = c["verdict"]
        if v == PASS:
            rep.passed += 1
            if k is not None:
                rep.now_passing.append((c, k))
        elif v in FAILING:
            if k is not None:
                rep.expected_failures.append((c, k))
            else:
                rep.unexpected_failures.append(c)
        else:
            rep.skipped += 1
    if expectations:
        profiles = set(results.run.get("profiles", []))
        rep.not_run = [
            k for k in expectations.known if k not in seen_known and (k.profile is None or k.profile in profiles)
        ]
        # A partial run compares only what it ran: an entry whose case it did not run says nothing.
        if results.selection is not None:
            rep.outside, rep.not_run = rep.not_run, []
        elif results.incomplete:
            skipped = {tuple(x.rsplit(" [", 1)) for x in results.not_run}
            skipped = {(i, p.rstrip("]")) for i, p in skipped}
            rep.outside = [k for k in rep.not_run if any(i == k.id and (k.profile in (None, p)) for i, p in skipped)]
            rep.not_run = [k for k in rep.not_run if k not in rep.outside]
        # entries of a profile the run did not have (a --profile run): outside it too
        rep.outside += [
            k for k in expectations.known if k not in seen_known and k.profile is not None and k.profile not in profiles
        ]
    return rep


def format_text(rep: CheckReport) -> str:
    r = rep.results
    name = f"{r.label} ({r.path})"
    if rep.unavailable:
        return f"{name}: not available, nothing was checked: {r.implementation.get('unavailable_reason')}\n"
    lines = [
        f"{name}: {rep.passed} passed, {len(rep.expected_failures)} known failures, "
        f"{len(rep.unexpected_failures)} unexpected failures, {rep.skipped} not implemented, unsupported or skipped"
    ]
    if r.incomplete:
        lines.append(f"  {r.incomplete_line()}")
    if r.selection is not None or r.incomplete or rep.outside:
        what = r.selection_line() or f"partial run: {r.path} ran the profiles {', '.join(r.run.get('profiles', []))}"
        lines.append(
            f"  {what}: compared only the case runs it ran ({len(rep.outside)} known failures outside it not checked)"
        )
    for c in rep.unexpected_failures:
        lines.append(f"  UNEXPECTED {c['verdict']}: {c['id']} [{c['profile']}]: {c.get('message', '')}")
    src = rep.expectations.path if rep.expectations else "the expectations file"
    still_failing = {k: c["profile"] for c, k in rep.expected_failures}
    for c, k in rep.now_passing:
        if k in still_failing:  # an entry for every profile that now fails in one only
            lines.append(
                f"  known failure now passes in {c['profile']} but still fails in "
                f"{still_failing[k]}: give known_failures[{k.index}] ({k.id}) in {src} "
                f'"profile": "{still_failing[k]}"'
            )
        else:
            lines.append(
                f"  known failure now passes, remove it from {src}: {k.id} [{c['profile']}] (known_failures[{k.index}])"
            )
    for k in rep.not_run:
        lines.append(
            f"  known failure not in this run (renamed, removed or not selected?): {k.label()} "
            f"(known_failures[{k.index}] of {src})"
        )
    return "\n".join(lines) + "\n"


TODO_REASON = "TODO: why this fails"  # what --write-template writes: a reason still to be written


def is_todo(reason: str) -> bool:
    return reason.strip().upper().startswith("TODO")


def usage_warnings(exp: Expectations, case_ids, limit: int = 10) -> list[str]:
    """What makes an expectations file hollow where it is used (``run``, ``pytest``, ``check``):
    reasons left as the template wrote them, and entries that name no case of the vector set
    (a typo, or a case renamed or removed), which would never match anything."""
    out = []
    todo = [k for k in exp.known if is_todo(k.reason)]
    if todo:
        out.append(
            f"{exp.path}: {len(todo)} of {len(exp.known)} known failures still have a TODO reason "
            f"(as check --write-template leaves them; first: known_failures[{todo[0].index}], "
            f"{todo[0].id}): write why each one fails"
        )
    ids = set(case_ids)
    unknown = [k for k in exp.known if k.id not in ids]
    for k in unknown[:limit]:
        out.append(
            f"{exp.path}: known_failures[{k.index}] names {k.id!r}, which is no case of the vector set "
            f"(a typo, or a case renamed or removed?): it never matches"
        )
    if len(unknown) > limit:
        out.append(f"{exp.path}: ... and {len(unknown) - limit} more entries that name no case")
    return out


def template_for(results: Results, reason: str = TODO_REASON) -> dict:
    """An expectations document listing every failing case of ``results`` (a starting point)."""
    return {
        "implementation": results.impl_key,
        "known_failures": [
            {"id": c["id"], "profile": c["profile"], "reason": reason} for c in results.cases if c["verdict"] in FAILING
        ],
    }
