"""JUnit XML: one ``<testsuite>`` per implementation and profile, one ``<testcase>`` per case.

Mapping: ``fail`` and ``error`` verdicts are ``<failure>`` (the implementation answered, wrongly);
``crash``, ``timeout``, ``protocol-error`` and ``adapter-error`` are ``<error>`` (the adapter broke
down, or said that it or its tool could not run);
``not-implemented``, ``unsupported`` and ``skipped`` are ``<skipped>``. An unavailable implementation is a
suite with one skipped test case that carries the reason.

A known failure (a failing verdict of a case the run's expectations file lists) is
``<skipped type="known-failure">`` with the reason and the verdict in its message and the details
as its text, as pytest writes an expected failure (``xfail``), so CI readers do not count it as a
failure. A known failure that now passes is a passed test case with the property
``known_failure_now_passes`` (and a line in ``<system-out>``). Each suite's properties count both.

A pass that rests on a rejection of unknown reason (the record's ``unclassified``) has the test
case property ``unclassified``, and each suite counts them (``unclassified_passes``). A suite of
an incomplete run has the properties ``incomplete`` and ``not_run`` (how many did not run).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from appc_conformance.conformance.grading import BROKE_DOWN, ERROR as GRADE_ERROR, FAIL, SKIPPING
from appc_conformance.reports.model import Model, is_known, public_path
from appc_conformance.reports.results import FAILING

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FAILURE = (FAIL, GRADE_ERROR)
ERROR = BROKE_DOWN  # reported as <error>: the run broke down (grading.BROKE_DOWN)
SKIPPED = SKIPPING


def _clean(text) -> str:
    return _XML_BAD.sub("\ufffd", "" if text is None else str(text))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def _sent(c: dict, key: str, keep: int = 2000) -> str:
    v = c[key]
    text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    cut = c.get(f"{key}_truncated") or len(text) > keep
    return text[:keep] + (" … (truncated)" if cut else "")


def _details(c: dict) -> str:
    lines = [c.get("message", "")]
    if "input" in c:
        lines.append("input:    " + _sent(c, "input"))
    if (c.get("extra") or {}).get("request") is not None:
        lines.append("request:  " + json.dumps(c["extra"]["request"], ensure_ascii=False)[:2000])
    if "hosts" in c:
        lines.append("hosts:    " + _sent(c, "hosts"))
    lines += [
        "expected: " + json.dumps(c.get("expected"), ensure_ascii=False),
        ("actual (truncated): " if c.get("actual_truncated") else "actual:   ")
        + json.dumps(c.get("actual"), ensure_ascii=False),
    ]
    if c.get("requirements"):
        lines.append("requirements: " + ", ".join(c["requirements"]) + f" ({c.get('strength', '')})")
    return _clean("\n".join(lines))


def render(model: Model) -> bytes:
    root = ET.Element("testsuites", name="appc-conformance")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for col in model.columns:
        impl = col.impl
        run = col.results.run
        key = _slug(impl.get("id") or impl["name"])
        if not col.available:
            suite = ET.SubElement(
                root,
                "testsuite",
                name=_clean(f"{col.label} (unavailable)"),
                tests="1",
                failures="0",
                errors="0",
                skipped="1",
                time="0",
                timestamp=_clean(run.get("started", "")),
            )
            tc = ET.SubElement(suite, "testcase", classname=key, name="implementation available", time="0")
            ET.SubElement(tc, "skipped", message=_clean(impl.get("unavailable_reason") or "not available"))
            totals["tests"] += 1
            totals["skipped"] += 1
            continue
        for profile in run.get("profiles", []):
            rows = [r for r in model.rows if r.profile == profile and r.cells[col.index] is not None]
            suite = ET.SubElement(
                root,
                "testsuite",
                name=_clean(f"{col.label} [{profile}]"),
                timestamp=_clean(run.get("started", "")),
                hostname="localhost",
            )
            props = ET.SubElement(suite, "properties")
            for name, value in (
                ("implementation", impl.get("id") or impl["name"]),
                ("implementation.version", impl.get("version") or ""),
                ("profile", profile),
                ("suite_version", run.get("suite_version", "")),
                ("commit", run.get("commit") or ""),
                ("vectors_hash", run.get("vectors_hash", "")),
                ("port_mode", run.get("port_mode") or ""),
                ("results", public_path(col.results.path)),
            ):
                ET.SubElement(props, "property", name=name, value=_clean(value))
            n = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
            known = sum(1 for r in rows if is_known(r.cells[col.index]) and r.cells[col.index]["verdict"] in FAILING)
            fixed = sum(1 for r in rows if is_known(r.cells[col.index]) and r.cells[col.index]["verdict"] == "pass")
            ET.SubElement(props, "property", name="known_failures", value=str(known))
            ET.SubElement(props, "property", name="known_failures_now_passing", value=str(fixed))
            unclassified = sum(
                1
                for r in rows
                if r.cells[col.index].get("unclassified") is True and r.cells[col.index]["verdict"] == "pass"
            )
            ET.SubElement(props, "property", name="unclassified_passes", value=str(unclassified))
            if run.get("incomplete") is not None:
                ET.SubElement(props, "property", name="incomplete", value=str(bool(run["incomplete"])).lower())
                ET.SubElement(props, "property", name="not_run", value=str(len(run.get("not_run") or [])))
            for r in rows:
                c = r.cells[col.index]
                t = c.get("time_s") or 0.0
                tc = ET.SubElement(
                    suite, "testcase", classname=_clean(f"{key}.{profile}.{r.area}"), name=_clean(r.id), time=f"{t:.6f}"
                )
                v = c["verdict"]
                n["tests"] += 1
                n["time"] += t
                if is_known(c) and v in FAILING:
                    el = ET.SubElement(
                        tc,
                        "skipped",
                        type="known-failure",
                        message=_clean(f"known failure: {c['known_failure']} ({v}: {c.get('message', '')})"),
                    )
                    el.text = _details(c)
                    n["skipped"] += 1
                elif is_known(c) and v == "pass":
                    tp = ET.SubElement(tc, "properties")
                    ET.SubElement(tp, "property", name="known_failure_now_passes", value=_clean(c["known_failure"]))
                    ET.SubElement(tc, "system-out").text = _clean(
                        f"known failure now passes: remove it from the expectations file ({c['known_failure']})"
                    )
                elif v == "pass" and c.get("unclassified") is True:
                    tp = ET.SubElement(tc, "properties")
                    ET.SubElement(tp, "property", name="unclassified", value="rejected, reason unknown")
                elif v in FAILURE:
                    el = ET.SubElement(tc, "failure", type=v, message=_clean(f"{v}: {c.get('message', '')}"))
                    el.text = _details(c)
                    n["failures"] += 1
                elif v in ERROR:
                    el = ET.SubElement(tc, "error", type=v, message=_clean(f"{v}: {c.get('message', '')}"))
                    el.text = _details(c)
                    n["errors"] += 1
                elif v in SKIPPED:
                    ET.SubElement(tc, "skipped", message=_clean(f"{v}: {c.get('message', '')}"))
                    n["skipped"] += 1
                if c.get("stderr") and v != "pass":
                    ET.SubElement(tc, "system-err").text = _clean(c["stderr"])
            for k in ("tests", "failures", "errors", "skipped"):
                suite.set(k, str(n[k]))
                totals[k] += n[k]
            suite.set("time", f"{n['time']:.3f}")
            totals["time"] += n["time"]
    for k in ("tests", "failures", "errors", "skipped"):
        root.set(k, str(totals[k]))
    root.set("time", f"{totals['time']:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
