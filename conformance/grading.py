"""Grade one adapter answer against one case's expectation (docs/DECISIONS.md, "Verdicts")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

# The verdicts, defined here once: the results files (reports/results.py) and the reports use
# these names, and the results schema's enum is checked against VERDICTS (tests/test_reports.py).
Verdict = Literal[
    "pass",
    "fail",
    "error",
    "not-implemented",
    "unsupported",
    "skipped",
    "crash",
    "timeout",
    "protocol-error",
    "adapter-error",
]
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
PASS: Final = "pass"
FAIL: Final = "fail"
ERROR: Final = "error"
NOT_IMPLEMENTED: Final = "not-implemented"
UNSUPPORTED: Final = "unsupported"
SKIPPED: Final = "skipped"  # the environment cannot run the case (e.g. ports 443/80 not permitted)
CRASH: Final = "crash"
TIMEOUT: Final = "timeout"
PROTOCOL_ERROR: Final = "protocol-error"
ADAPTER_ERROR: Final = "adapter-error"  # the adapter answered ``failed``: it or the tool could not run
# Neither pass nor failure (pytest skips them).
SKIPPING: tuple[Verdict, ...] = (NOT_IMPLEMENTED, UNSUPPORTED, SKIPPED)
# A conformance failure (pytest fails them).
FAILING: tuple[Verdict, ...] = (FAIL, ERROR, CRASH, TIMEOUT, PROTOCOL_ERROR, ADAPTER_ERROR)
# Verdicts after which nothing else about the case is checked (its request log included).
BROKE_DOWN: tuple[Verdict, ...] = (CRASH, TIMEOUT, PROTOCOL_ERROR, ADAPTER_ERROR)
OTHER = "other"  # the error kind of a rejection the adapter cannot classify


@dataclass
class Grade:
    verdict: Verdict
    message: str = ""
    # A pass that rests on an error of kind ``other`` where the case named specific kinds:
    # the implementation rejected the input, for a reason nobody can check.
    unclassified: bool = False


def outcomes(expect: dict) -> list[dict]:
    return expect["any_of"] if "any_of" in expect else [expect]


def _kinds(outcome: dict) -> list[str]:
    e = outcome["error"]
    return [e] if isinstance(e, str) else list(e)


def _short(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 300 else text[:297] + "..."


def describe(outcome: dict) -> str:
    """One accepted answer, for a failure message."""
    if "result" in outcome:
        return f"result {_short(outcome['result'])}"
    return "error " + " or ".join(_kinds(outcome))


def _accepted(accepted: list[dict]) -> str:
    """Every accepted answer of a case that accepts several (empty for one)."""
    if len(accepted) < 2:
        return ""
    return "; accepted answers: " + "; ".join(describe(o) for o in accepted)


def result_matches(expected: dict, actual: Any) -> str | None:
    """None if every key of ``expected`` is in ``actual`` with an equal value, else why not."""
    if not isinstance(actual, dict):
        return f"result is not an object: {_short(actual)}"
    for key, want in expected.items():
        if key not in actual:
            return f"result has no {key!r} (expected {_short(want)})"
        if actual[key] != want or type(actual[key]) is not type(want):
            return f"{key}: expected {_short(want)}, got {_short(actual[key])}"
    return None


def grade(expect: dict, answer: dict) -> Grade:
    """``answer`` is a protocol answer already checked for shape (adapter.check_answer)."""
    if "failed" in answer:  # protocol 1.1: the adapter or the tool could not run
        return Grade(ADAPTER_ERROR, f"adapter failed: {answer['failed'].get('message', '')}")
    if "unsupported" in answer:
        return Grade(UNSUPPORTED, f"adapter: unsupported: {answer['unsupported']}")
    accepted = outcomes(expect)
    results = [o for o in accepted if "result" in o]
    errors = [o for o in accepted if "error" in o]
    also = _accepted(accepted)
    if "error" in answer:
        kind = answer["error"].get("kind")
        msg = answer["error"].get("message", "")
        if errors and any(kind in _kinds(o) for o in errors):
            return Grade(PASS)
        if errors and kind == OTHER:  # docs/ADAPTERS.md, section 4: accepted, but counted apart
            return Grade(PASS, unclassified=True)
        if errors:
            want = sorted({k for o in errors for k in _kinds(o)})
            return Grade(FAIL, f"wrong error kind: expected {' or '.join(want)}, got {kind!r} ({msg})" + also)
        wanted = " or ".join(_short(o["result"]) for o in results)
        return Grade(ERROR, f"rejected input that must be accepted: {kind}: {msg}; expected {wanted}")
    actual = answer["ok"]
    reasons = []
    for o in results:
        why = result_matches(o["result"], actual)
        if why is None:
            return Grade(PASS)
        reasons.append(why)
    if not results:
        want = sorted({k for o in errors for k in _kinds(o)})
        return Grade(
            ERROR, f"accepted input that must be rejected (expected error {' or '.join(want)}), got {_short(actual)}"
        )
    if len(accepted) == 1:
        return Grade(FAIL, reasons[0])
    tried = [f"{describe(o)} ({why})" for o, why in zip(results, reasons)]
    return Grade(FAIL, "matches none of the accepted answers: " + "; ".join(tried + [describe(o) for o in errors]))
