"""Run one case through one adapter session and produce its record. No pytest here."""

from __future__ import annotations

import json
import contextlib
import time
from dataclasses import dataclass, field, fields
from typing import Any

from appc_conformance.conformance import adapter, grading, vectors
from appc_conformance.conformance.adapter import AdapterSession
from appc_conformance.conformance.vectors import Case

TRANSPORT_VERDICTS: dict[str, grading.Verdict] = {
    "crash": grading.CRASH,
    "timeout": grading.TIMEOUT,
    "protocol-error": grading.PROTOCOL_ERROR,
}


@dataclass
class Record:
    id: str
    profile: str
    area: str
    op: str
    requirements: list
    ambiguities: list
    strength: str
    description: str
    verdict: grading.Verdict = grading.FAIL
    message: str = ""
    expected: Any = None
    actual: Any = None
    stderr: str = ""
    time_s: float = 0.0
    extra: dict = field(default_factory=dict)
    # A pass on an error of kind ``other`` where the case named specific kinds (grading.Grade).
    unclassified: bool = False
    # Discovery cases: the requirement IDs cited by the case's request assertions beyond its own
    # ``requirements``, and, when the case failed, the IDs the failure is filed under (those of
    # the failing assertions, and the case's own when the answer itself was wrong).
    assertion_requirements: list = field(default_factory=list)
    failed_requirements: list = field(default_factory=list)
    # The answer was larger than the harness keeps: ``actual`` holds the start of its JSON text.
    actual_truncated: bool = False
    # The request was sent again after its first process was stopped: what happened to it.
    retried: str = ""

    def to_json(self) -> dict:
        # A shallow copy: every field already holds JSON data (``dataclasses.asdict`` would
        # deep-copy it, a tenth of a millisecond per case for nothing).
        d = {f.name: getattr(self, f.name) for f in _FIELDS}
        for name in _OPTIONAL:  # written only when set
            if not d[name]:
                d.pop(name)
        return d


_OPTIONAL = ("extra", "unclassified", "assertion_requirements", "failed_requirements", "actual_truncated", "retried")


_FIELDS = fields(Record)


def new_record(case: Case, profile: str) -> Record:
    raw = case.raw
    return Record(
        id=case.id,
        profile=profile,
        area=case.area,
        op=case.op,
        requirements=list(raw["requirements"]),
        ambiguities=list(raw.get("ambiguities", [])),
        strength=raw["strength"],
        description=raw["description"],
        expected=raw["expect"],
    )


def run_case(case: Case, profile: str, session: AdapterSession, ticket: int | None = None) -> Record:
    """``ticket``: the request was already sent (``AdapterSession.submit``); collect its answer."""
    rec = new_record(case, profile)
    start = time.monotonic()
    try:
        if case.op in vectors.NETWORK_OPS:
            from appc_conformance.conformance import discovery_runner  # noqa: PLC0415 - the mock servers are only needed here

            with case_timeout(case, session):
                discovery_runner.run(case, profile, session, rec)
        else:
            exchange_and_grade(session, case.op, case.raw["input"], case.raw["expect"], rec, ticket=ticket)
    finally:
        rec.time_s = round(time.monotonic() - start, 6)
    return rec


@contextlib.contextmanager
def case_timeout(case: Case, session: AdapterSession):
    """A case that tests a bound may say how long the harness waits for its answer (its
    ``timeout``, in seconds): it applies when shorter than the session's. The adapter is started
    first, so that its start is not part of the case's time (docs/VECTORS.md)."""
    bound = case.raw.get("timeout")
    if bound is None or bound >= session.timeout:
        yield
        return
    session.ensure()
    saved, session.timeout = session.timeout, bound
    try:
        yield
    finally:
        session.timeout = saved


def exchange_and_grade(
    session: AdapterSession,
    op: str,
    args: dict,
    expect: dict,
    rec: Record,
    timeout: float | None = None,
    ticket: int | None = None,
) -> None:
    hello = session.ensure()
    if not hello.ok:
        if hello.status in TRANSPORT_VERDICTS:
            rec.verdict = TRANSPORT_VERDICTS[hello.status]
        else:
            rec.verdict = grading.NOT_IMPLEMENTED
        rec.message = f"profile {session.profile}: {hello.reason}"
        return
    if op not in hello.ops:
        rec.verdict = grading.NOT_IMPLEMENTED
        rec.message = f"the adapter does not implement {op!r}"
        return
    ex = session.request(op, args, timeout=timeout, ticket=ticket)
    try:
        rec.stderr = ex.stderr
        rec.actual = {k: v for k, v in ex.answer.items() if k != "id"} if ex.answer else ex.answer
        if ex.status != "answer":
            rec.verdict = TRANSPORT_VERDICTS[ex.status]
            rec.message = ex.message
            return
        assert ex.answer is not None  # an "answer" exchange carries its answer
        g = grading.grade(expect, ex.answer)
        rec.verdict, rec.message, rec.unclassified = g.verdict, g.message, g.unclassified
    finally:
        transport_notes(ex, rec)


def transport_notes(ex, rec: Record) -> None:
    """What the transport did to the answer, in the record: a large answer (or message) kept as
    an excerpt (graded whole), replaced characters, a request sent again (docs/ADAPTERS.md, 9.1)."""
    notes = list(ex.notes)
    if len(rec.message) > adapter.ACTUAL_KEEP:  # it may quote the answer (an unsupported reason)
        notes.insert(
            0, f"the record keeps the first {adapter.ACTUAL_KEEP} of {len(rec.message)} characters of the message"
        )
        rec.message = rec.message[: adapter.ACTUAL_KEEP] + " ..."
    if ex.size > adapter.ACTUAL_KEEP and rec.actual is not None:
        text = json.dumps(rec.actual, ensure_ascii=False)
        if len(text) > adapter.ACTUAL_KEEP:
            rec.actual = text[: adapter.ACTUAL_KEEP]
            rec.actual_truncated = True
            notes.append(f"the answer is {ex.size} bytes: the record keeps its first {adapter.ACTUAL_KEEP} characters")
    if ex.retried:
        rec.retried = ex.retried
        notes.append(f"sent again: {ex.retried}")
    if notes:
        rec.message = "; ".join([rec.message, *notes] if rec.message else notes)
