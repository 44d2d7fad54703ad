"""One input through two adapters: the implementation under test and the reference.

``Differential.check(op, args)`` builds the accepted answers from the reference (``expectation``),
sends the input to the implementation, and grades its answer exactly as a vector case would be
graded (``appc_conformance.conformance.grading``). A mismatch raises a ``Disagreement``. Each kind of
disagreement gets its own exception class (from a signature: the operation, both outcomes, and
the shape of the rejecting side's message), so hypothesis shrinks and reports every distinct
one of a run instead of only the first.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Optional

from hypothesis import event

from appc_conformance.conformance import grading
from appc_conformance.conformance.adapter import AdapterSession

from . import expectation as expmod


class ReferenceProblem(RuntimeError):
    """The reference adapter broke the transport or declined an input: a harness problem."""


class NotTestable(Exception):
    """The implementation cannot be tested for this op/profile (skip, with the reason)."""


@dataclass
class Finding:
    op: str
    profile: str
    args: dict
    expectation: expmod.Expectation
    impl: str  # label of the implementation under test
    answer: Optional[dict] = None  # its protocol answer, when it gave one
    transport: str = ""  # crash / timeout / protocol-error
    message: str = ""  # why the answer is not accepted (grading's words)
    stderr: str = ""
    context: dict = field(default_factory=dict)  # test name, budget: for the report
    hosts: Optional[dict] = None  # discovery cases: the mock hosts (with placeholders)

    def signature(self) -> str:
        if self.transport:
            return f"{self.op}|transport|{self.transport}"
        ref, ans = self.expectation.cause, self.answer or {}

        def side(a):
            return "ok" if "ok" in a else f"error:{a.get('error', {}).get('kind')}"

        if "error" in ref and "ok" in ans:
            detail = shape(ref["error"].get("message", ""))
        elif "ok" in ref and "error" in ans:
            detail = shape(ans["error"].get("message", ""))
        elif "error" in ref and "error" in ans:
            detail = ""
        else:
            want, got = ref.get("ok") or {}, ans.get("ok") or {}
            detail = "differs:" + ",".join(sorted(k for k in want if got.get(k) != want.get(k)))
        return f"{self.op}|{side(ref)}|{side(ans)}|{detail}"


def shape(message: str) -> str:
    """A message with its particulars removed: quoted text, numbers, long tails."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`|%q", "Q", str(message))
    text = re.sub(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?", "N", text)
    text = re.sub(r"\s+", " ", text).strip()
    return " ".join(text.split(" ")[:8])


class Disagreement(AssertionError):
    """The implementation's answer is not among the answers the reference accepts."""

    def __init__(self, finding: Finding):
        super().__init__(finding.signature())
        self.finding = finding
        self._text: Optional[str] = None

    def __str__(self) -> str:
        if self._text is None:
            from . import to_vector  # noqa: PLC0415 - rendering validates the vector: only for reported failures

            try:
                self._text = to_vector.report(self.finding)
            except Exception as exc:  # noqa: BLE001 - the finding must still be shown
                self._text = f"{self.finding.signature()} (could not render the vector: {exc!r})"
        return self._text


_CLASSES: dict = {}


def signature_key(signature: str) -> str:
    return hashlib.sha256(signature.encode()).hexdigest()[:10]


def disagreement_class(signature: str) -> type:
    key = signature_key(signature)
    if key not in _CLASSES:
        _CLASSES[key] = type(f"Disagreement_{key}", (Disagreement,), {"__module__": __name__})
    return _CLASSES[key]


class Differential:
    """The implementation under test and the reference, for one profile."""

    def __init__(
        self,
        impl: AdapterSession,
        reference: AdapterSession,
        impl_label: str,
        context: Optional[dict] = None,
        ignore: frozenset = frozenset(),
    ):
        if impl.profile != reference.profile:
            raise ValueError("both sessions must run the same profile")
        self.impl = impl
        self.reference = reference
        self.profile = impl.profile
        self.impl_label = impl_label
        self.context = dict(context or {})
        self._cache: dict = {}
        self.ignore = ignore
        self.stats = {"checked": 0, "excluded": 0, "unsupported": 0, "ignored": 0}

    # -- the reference ----------------------------------------------------------------------
    def ask_reference(self, op: str, args: dict) -> dict:
        key = (op, json.dumps(args, sort_keys=True))
        if key in self._cache:
            return self._cache[key]
        ex = self.reference.request(op, args)
        if ex.status != "answer" or ex.answer is None:
            raise ReferenceProblem(
                f"the reference adapter failed on {op} {json.dumps(args)[:300]}: {ex.status}: {ex.message}\n{ex.stderr}"
            )
        if len(self._cache) > 50000:
            self._cache.clear()
        self._cache[key] = ex.answer
        return ex.answer

    # -- readiness --------------------------------------------------------------------------
    def require(self, op: str) -> None:
        """Raise NotTestable when the implementation does not offer ``op`` in this profile."""
        ref = self.reference.ensure()
        if not ref.ok:
            raise ReferenceProblem(f"the reference adapter cannot run {self.profile}: {ref.reason}")
        if op not in ref.ops:
            raise NotTestable(f"the reference does not offer {op!r}")
        hello = self.impl.ensure()
        if not hello.ok:
            if hello.status != "answer":
                raise AssertionError(
                    f"{self.impl_label}: the adapter broke its handshake ({hello.status}): {hello.reason}"
                )
            raise NotTestable(f"not-implemented: {self.impl_label} declines profile {self.profile}: {hello.reason}")
        if op not in hello.ops:
            raise NotTestable(f"not-implemented: {self.impl_label} does not implement {op!r}")

    def port_mode(self) -> str:
        """Custom ports when both adapters honour ``port``, else the default ports 443/80."""
        from appc_conformance import servers  # noqa: PLC0415 - only discovery needs the mock servers

        both = [s.ensure() for s in (self.impl, self.reference)]
        if all("custom-port" in h.features for h in both):
            return servers.CUSTOM
        why = servers.default_ports_available()
        if why:
            raise NotTestable(
                f"{self.impl_label} has no custom-port feature and the default ports are unavailable: {why}"
            )
        return servers.DEFAULT

    def check_discovery(self, op: str, case: dict) -> None:
        """One generated discovery case: start its hosts, ask both adapters, compare."""
        from appc_conformance import servers  # noqa: PLC0415

        with servers.scenario(case["hosts"], port_mode=self.port_mode()) as sc:
            args = sc.adapter_args(case["input"])

            def ask(o, a):  # never cached: ports and pages change from one scenario to the next
                ex = self.reference.request(o, a)
                if ex.status != "answer":
                    raise ReferenceProblem(
                        f"the reference adapter failed on {o}: {ex.status}: {ex.message}\n{ex.stderr}"
                    )
                return ex.answer

            exp = expmod.build_discovery(ask, op, self.profile, args, case.get("flags") or {})
            if exp is None:
                self.stats["excluded"] += 1
                return
            ex = self.impl.request(op, args)
        back = sc.unsubstitute
        exp = expmod.Expectation(
            back(exp.outcomes),
            exp.ambiguities,
            back(exp.reference),
            exp.notes,
            back(exp.relaxed) if exp.relaxed is not None else None,
        )
        finding = Finding(
            op,
            self.profile,
            dict(case["input"]),
            exp,
            self.impl_label,
            answer=back(ex.answer) if ex.answer is not None else None,
            stderr=back(ex.stderr),
            context=dict(self.context),
            hosts=case["hosts"],
        )
        self._judge(finding, ex, args_expect=exp)

    def _judge(self, finding: Finding, ex, args_expect) -> None:
        if ex.status != "answer":
            finding.transport, finding.message = ex.status, ex.message
            return self._raise(finding)
        assert finding.answer is not None  # built from this "answer" exchange's answer
        if "unsupported" in ex.answer:
            self.stats["unsupported"] += 1
            event("the implementation answered unsupported")
            return
        self.stats["checked"] += 1
        grade = grading.grade(args_expect.expect, finding.answer)
        if grade.verdict == grading.PASS:
            return
        finding.message = f"{grade.verdict}: {grade.message}"
        self._raise(finding)

    # -- one input --------------------------------------------------------------------------
    def check(self, op: str, args: dict) -> None:
        exp = expmod.build(self.ask_reference, op, self.profile, args)
        if exp is None:
            self.stats["excluded"] += 1
            event("excluded: outside what the reference covers")
            return
        if exp.ambiguities:
            event(f"ambiguous: {' '.join(exp.ambiguities)}")
        ex = self.impl.request(op, args)
        finding = Finding(
            op, self.profile, args, exp, self.impl_label, answer=ex.answer, stderr=ex.stderr, context=dict(self.context)
        )
        self._judge(finding, ex, args_expect=exp)

    def _raise(self, finding: Finding) -> None:
        sig = finding.signature()
        if signature_key(sig) in self.ignore:
            self.stats["ignored"] += 1
            event("disagreement passed over (APPC_GENERATED_IGNORE)")
            return
        raise disagreement_class(sig)(finding)
