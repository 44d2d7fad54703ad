"""Run one discovery case: start the mock hosts it describes, ask the adapter, grade the
answer, then check the request log against the case's ``requests`` assertions."""

from __future__ import annotations

from appc_conformance import servers
from appc_conformance.conformance import grading
from appc_conformance.conformance.adapter import AdapterSession
from appc_conformance.conformance.case_runner import Record, exchange_and_grade
from appc_conformance.conformance.vectors import Case

LOG_KEEP = 60  # request log lines kept in the record
MESSAGE_KEEP = 16384  # characters of the request assertions' problems in the record's message
LINE_KEEP = 300  # characters of a request's target (and note) in each line (the log keeps 2048)


def run(case: Case, profile: str, session: AdapterSession, rec: Record) -> None:
    hello = session.ensure()
    if not hello.ok or case.op not in hello.ops:
        # exchange_and_grade gives the verdict (not-implemented, or the handshake's) without a
        # request: no mock host is stood up and no port lock taken for a case nobody will ask
        exchange_and_grade(session, case.op, {}, case.raw["expect"], rec)
        return
    port_mode = servers.CUSTOM if "custom-port" in hello.features else servers.DEFAULT
    fetch = case.op == "fetch"  # fetch cases: the harness builds archives, keys and signatures
    try:
        with servers.scenario(
            case.raw["hosts"],
            port_mode=port_mode,
            artefacts=case.raw.get("artefacts") if fetch else None,
            key_refs=case.raw["input"] if fetch else None,
        ) as sc:
            args = sc.adapter_args(case.raw["input"])
            expect = sc.substitute(case.raw["expect"])
            rec.expected = expect
            exchange_and_grade(session, case.op, args, expect, rec)
            rec.extra["request"] = args
    except servers.PortsUnavailable as exc:
        rec.verdict, rec.message = grading.SKIPPED, exc.reason
        return
    except servers.artefacts.ArtefactError as exc:  # no gpg on this machine, say
        rec.verdict, rec.message = grading.SKIPPED, f"the case's artefacts could not be made: {exc}"
        return
    seen = sc.log.entries()
    lines = [e.line(LINE_KEEP) for e in seen[:LOG_KEEP]]
    rec.extra["requests_seen"] = [text for text, _ in lines]
    cut = sc.log.cut_summary() or {}
    if len(seen) > LOG_KEEP or any(c for _, c in lines):
        cut = cut or {"made": sc.log.made, "kept": len(seen), "trimmed": 0}
    if cut:  # the record says what it and the log left out (docs/REPORTS.md)
        rec.extra["requests_cut"] = {**cut, "listed": len(lines), "lines_cut": sum(c for _, c in lines)}
    if sc.leaked:
        rec.extra["leaked"] = sc.leaked
    # this run's addresses and ports back to the case's placeholders: records compare across runs
    rec.expected, rec.actual, rec.extra = (
        sc.unsubstitute(rec.expected),
        sc.unsubstitute(rec.actual),
        sc.unsubstitute(rec.extra),
    )
    rec.message, rec.stderr = sc.unsubstitute(rec.message), sc.unsubstitute(rec.stderr)
    if sc.port is not None:
        rec.extra["request"]["port"] = "{{port}}"
    if rec.verdict in grading.SKIPPING or rec.verdict in grading.BROKE_DOWN:
        return
    spec = case.raw.get("requests")
    own = list(case.requirements)
    rec.assertion_requirements = [r for r in servers.log.cited(spec) if r not in own]
    problems = servers.log.check_groups(sc.substitute(spec), sc.log) if spec else []
    if problems:
        # Each failing assertion is filed under its own requirement IDs (default: the case's).
        texts, broken = [], []
        for problem, reqs in problems:
            reqs = reqs or own
            texts.append(f"requests ({', '.join(reqs)}): {sc.unsubstitute(problem)}")
            broken += [r for r in reqs if r not in broken]
        text = "; ".join(texts)
        if len(text) > MESSAGE_KEEP:  # the problems quote requests: bounded like an answer's message
            text = f"{text[:MESSAGE_KEEP]} ... (the record keeps the first {MESSAGE_KEEP} of {len(text)} characters)"
        if rec.verdict == grading.PASS:
            rec.verdict, rec.message, rec.unclassified = grading.FAIL, text, False
            rec.failed_requirements = broken
        else:  # the answer was wrong too: the case's own requirements are broken as well
            rec.message = f"{rec.message}; {text}"
            rec.failed_requirements = own + [r for r in broken if r not in own]
