"""Run one discovery case: start the mock hosts it describes, ask the adapter, grade the
answer, then check the request log against the case's ``requests`` assertions."""
from __future__ import annotations

import servers
from conformance import grading
from conformance.adapter import AdapterSession
from conformance.runner import Record, exchange_and_grade
from conformance.vectors import Case

LOG_KEEP = 60  # request log lines kept in the record


def run(case: Case, profile: str, session: AdapterSession, rec: Record) -> None:
    hello = session.ensure()
    if not hello.ok:  # exchange_and_grade gives the verdict without starting any server
        exchange_and_grade(session, case.op, {}, case.raw["expect"], rec)
        return
    port_mode = servers.CUSTOM if "custom-port" in hello.features else servers.DEFAULT
    fetch = case.op == "fetch"  # fetch cases: the harness builds archives, keys and signatures
    try:
        with servers.scenario(case.raw["hosts"], port_mode=port_mode,
                              artefacts=case.raw.get("artefacts") if fetch else None,
                              key_refs=case.raw["input"] if fetch else None) as sc:
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
    rec.extra["requests_seen"] = [str(e) for e in sc.log.entries()][:LOG_KEEP]
    if sc.leaked:
        rec.extra["leaked"] = sc.leaked
    # this run's addresses and ports back to the case's placeholders: records compare across runs
    rec.expected, rec.actual, rec.extra = sc.unsubstitute(rec.expected), sc.unsubstitute(rec.actual), \
        sc.unsubstitute(rec.extra)
    rec.message, rec.stderr = sc.unsubstitute(rec.message), sc.unsubstitute(rec.stderr)
    if sc.port is not None:
        rec.extra["request"]["port"] = "{{port}}"
    if rec.verdict in grading.SKIPPING or rec.verdict in grading.BROKE_DOWN:
        return
    problems = sc.check(case.raw.get("requests"))
    if problems:
        text = "requests: " + "; ".join(problems)
        if rec.verdict == grading.PASS:
            rec.verdict, rec.message = grading.FAIL, text
        else:
            rec.message = f"{rec.message}; {text}"
