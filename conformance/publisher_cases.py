"""Publisher cases: the publisher check (``check-publisher``) driven by vectors.

A case of the area ``publisher`` (op ``check_publisher``) describes mock hosts in the format of
the discovery and fetch cases (``hosts``, ``artefacts``: servers/README.md), the app string
to check, and the status the check must give each of its rules::

    "expect": {"result": {"checks": {"meta-tags": "pass", "template-ext": "fail", ...},
                          "ok": false, "messages": {"template-ext": "has no {ext}"}}}

These cases test the suite's own check, not an implementation: the suite runs them itself
(``tests/test_publisher.py``), and no adapter run collects them (``vectors.SUITE_OPS``). They
cover the rules that constrain servers (DISC-06, DISC-12, DISC-PR-01, ...), which the coverage
table then shows as covered by publisher checks (docs/ARCHITECTURE.md, "Publisher cases").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appc_conformance.conformance import publisher

RULE_NAMES = tuple(r for r, _, _ in publisher.RULES)
#: Every requirement a publisher rule checks: what a publisher case may cite.
RULE_REQUIREMENTS = {rid: rule for rule, reqs, _ in publisher.RULES for rid in reqs}


@dataclass
class Outcome:
    """What running one case gave: the report, and why it is not what the case expects."""

    case_id: str
    profile: str
    report: Any = None  # publisher.Report
    mismatches: list = field(default_factory=list)
    skipped: str | None = None  # why the case could not run (no gpg, say)

    @property
    def ok(self) -> bool:
        return self.skipped is None and not self.mismatches

    def text(self) -> str:
        head = f"{self.case_id} [{self.profile}]"
        if self.skipped:
            return f"{head}: skipped: {self.skipped}"
        if not self.mismatches:
            return f"{head}: as expected"
        return f"{head}:\n  " + "\n  ".join(self.mismatches) + "\n" + (self.report.text() if self.report else "")


def problems(raw: dict) -> list[tuple[str, str]]:
    """What the schema cannot say about a publisher case: (field, message) pairs."""
    out = []
    for j, rid in enumerate(raw.get("requirements", [])):
        if rid not in RULE_REQUIREMENTS:
            out.append(
                (
                    f"requirements[{j}]",
                    f"{rid} is checked by no rule of check-publisher (its rules "
                    f"check {', '.join(sorted(RULE_REQUIREMENTS))})",
                )
            )
    arts = raw["artefacts"] if isinstance(raw.get("artefacts"), dict) else {}
    for j, name in enumerate(raw.get("input", {}).get("keys", [])):
        if not isinstance(arts.get(name), dict) or "public_key" not in arts[name]:
            out.append((f"input.keys[{j}]", f"{name!r} names no public_key artefact of the case"))
    if "artefacts" not in raw:  # servers.lint_case checks the references of cases that have some
        for sym, host in (raw.get("hosts") or {}).items():
            for target, resp in (host.get("paths") or {}).items() if isinstance(host, dict) else ():
                if isinstance(resp, dict) and "artefact" in resp:
                    out.append((f"hosts.{sym}.paths[{target!r}].artefact", "the case has no artefacts"))
    messages = raw.get("expect", {}).get("result", {}).get("messages", {})
    for rule in messages if isinstance(messages, dict) else ():
        if rule not in RULE_NAMES:
            out.append((f"expect.result.messages.{rule}", f"no rule of check-publisher is called {rule!r}"))
    return out


def mismatches(expected: dict, report) -> list[str]:
    """How ``report`` (publisher.Report) differs from a case's expected result ([]: it does not)."""
    out = []
    for rule, want in expected["checks"].items():
        c = report.checks.get(rule)
        got = c.status if c is not None else "missing"
        if got != want:
            said = "; ".join(c.messages) if c is not None and c.messages else "no message"
            out.append(f"rule {rule}: expected {want}, the check gave {got} ({said})")
    if "ok" in expected and expected["ok"] != (not report.failed):
        out.append(f"ok: expected {str(expected['ok']).lower()}, the check gave {str(not report.failed).lower()}")
    for rule, needle in expected.get("messages", {}).items():
        c = report.checks.get(rule)
        if c is None or not any(needle in m for m in c.messages):
            out.append(f"rule {rule}: no message contains {needle!r} (messages: {c.messages if c else []})")
    return out


def run(case, profile: str) -> Outcome:
    """Start the case's mock hosts, run the publisher check against them, compare.

    ``case``: a ``vectors.Case`` of op check_publisher. Mock hosts listen on one ephemeral port
    of 127.0.0.x (the check is the suite's own code, so it always takes the custom port).
    """
    from appc_conformance import servers  # noqa: PLC0415 (the mock hosts)

    raw = case.raw
    out = Outcome(case.id, profile)
    try:
        with servers.scenario(raw["hosts"], artefacts=raw.get("artefacts")) as sc:
            inp = sc.substitute(raw["input"])
            built = sc.built.data if sc.built is not None else {}  # lint: every key names an artefact
            keys = [built[name] for name in inp.get("keys", [])]
            headers = {netloc: list(h.items()) for netloc, h in inp.get("headers", {}).items()}
            client = publisher.Client(sc.port, sc.ca_file, False, headers)
            try:
                out.report = publisher.check(inp["app"], profile, client, keys)
            except ValueError as exc:  # the case's app string is not one the check takes
                out.mismatches = [f"input.app {raw['input']['app']!r}: {exc}"]
                return out
            expected = sc.substitute(raw["expect"]["result"])
            out.mismatches = [sc.unsubstitute(m) for m in mismatches(expected, out.report)]
    except servers.PortsUnavailable as exc:
        out.skipped = exc.reason
    except servers.artefacts.ArtefactError as exc:
        out.skipped = f"the case's artefacts could not be made: {exc}"
    return out
