"""A (shrunk) disagreement as a ready-to-add vector case, checked against the vector schema.

The case expects what the reference accepts (``Expectation``), so the reference passes it and
the implementation that disagreed fails it. Its ID is ``AREA/generated/<hash of the input>``
(stable: the same input gives the same ID); its requirements are a guess from the operation and
the message of the side that rejected, to be reviewed before the case is added.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from pathlib import Path
from typing import Any
from typing import Optional

from appc_conformance.conformance import vectors

from .differential import Finding, signature_key

AREA = {
    "parse_app": "app-strings",
    "validate_imagetags": "imagetags",
    "resolve_tag": "resolution",
    "merge_tag": "merging",
    "validate_manifest": "manifests",
    "match_manifest": "matching",
    "discover": "discovery",
    "resolve": "discovery",
}

DEFAULT_REQUIREMENTS = {
    ("parse_app", "appc-0.8.11"): ["APP-01"],
    ("parse_app", "appc-imagetags"): ["APP-01", "APP-PR-01"],
    ("validate_manifest", None): ["TYPE-06"],
    ("match_manifest", None): ["VAL-01", "VAL-02"],
    ("validate_imagetags", None): ["TAG-01"],
    ("resolve_tag", None): ["TAG-03", "TAG-04"],
    ("merge_tag", None): ["TAG-09"],
    ("discover", None): ["DISC-05", "DISC-13"],
}

# Words of the rejecting side's message that point to a more precise requirement.
KEYWORDS = {
    "parse_app": [
        (r"more than once|multiple values", "APP-06"),
        (r"colon", "APP-03"),
        (r"no value|without a value", "APP-04"),
        (r"label name|label key", "APP-05"),
        (r"image name|ACIdentifier|AC Identifier", "APP-09"),
    ],
    "validate_manifest": [
        (r"acVersion|semver|SemVer", "TYPE-06"),
        (r"appears twice|duplicate", "LBL-02"),
        (r"called 'name'|\"name\"", "LBL-03"),
        (r"\bos\b|\barch\b", "LBL-06"),
        (r"imageID|hash", "TYPE-09"),
        (r"size", "DEP-05"),
        (r"imageName", "DEP-02"),
        (r"dependencies", "DEP-04"),
        (r"labels|[Ll]abel", "LBL-01"),
    ],
    "validate_imagetags": [
        (r"label name|AC Identifier", "TAG-02"),
        (r"label .* not a string|not an object", "LBL-PR-01"),
    ],
    "resolve_tag": [(r"loop|cycle", "TAG-06"), (r"label name|AC Identifier", "TAG-02")],
    "merge_tag": [(r"version", "TAG-07"), (r"loop|cycle", "TAG-06"), (r"has no labels|not found", "TAG-04")],
    "discover": [(r"prefix", "DISC-08"), (r"render|template|variable", "DISC-09"), (r"pubkeys|keys", "DISC-15")],
}


def _catalog() -> dict:
    cat = vectors.load_catalog(vectors.default_vectors_dir())
    return {r["id"]: r for r in cat["requirements"]}


def guess_requirements(f: Finding) -> list:
    ref, ans = f.expectation.cause, f.answer or {}
    rejecting = ref if "error" in ref else ans
    message = (rejecting.get("error") or {}).get("message", "") if isinstance(rejecting, dict) else ""
    out = list(DEFAULT_REQUIREMENTS.get((f.op, f.profile)) or DEFAULT_REQUIREMENTS.get((f.op, None)) or [])
    for pattern, req in KEYWORDS.get(f.op, []):
        if message and re.search(pattern, message):
            out = [req] + [r for r in out if r != req]
            break
    known = _catalog()
    return [r for r in out if r in known] or out[:1]


def strength_for(requirements: list, ambiguous: bool) -> str:
    if ambiguous:
        return "ambiguous"
    known = _catalog()
    levels = {known.get(r, {}).get("strength") for r in requirements}
    if levels and levels <= {"library"}:
        return "library"
    for level in ("should", "may"):
        if levels == {level}:
            return level
    return "must"  # must, and "implied" (follows from the spec's definitions)


def case_id(f: Finding) -> str:
    digest = hashlib.sha256(json.dumps([f.op, f.profile, f.args], sort_keys=True).encode()).hexdigest()[:10]
    return f"{AREA[f.op]}/generated/{digest}"


def _short(obj, limit: int = 200) -> str:
    text = json.dumps(obj, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def build_case(f: Finding) -> dict:
    exp = f.expectation
    reqs = guess_requirements(f)
    ambiguous = "any_of" in exp.expect
    case: dict[str, Any] = {
        "id": case_id(f),
        "description": f"Generated differential case: {f.op} of this input must give the reference's answer.",
        "requirements": reqs,
    }
    if exp.ambiguities:
        case["ambiguities"] = list(exp.ambiguities)
    got = f.answer if f.answer is not None else {"transport": f.transport}
    case.update(
        {
            "profiles": [f.profile],
            "strength": strength_for(reqs, ambiguous),
            "op": f.op,
            "input": f.args,
            **({"hosts": f.hosts} if f.hosts is not None else {}),
            "expect": exp.expect,
            "notes": (
                f"Found by conformance/generated: {f.impl} answered {_short(_answer_only(got))}; "
                f"requirements guessed from the operation, review before adding."
            ),
        }
    )
    return case


def _answer_only(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "id"}


def validate_case(case: dict) -> list:
    """Problems of the case as the lint sees them (schema, catalog IDs, area), [] when it is fine."""
    area = case["id"].split("/", 1)[0]
    root = vectors.default_vectors_dir()
    doc = {
        "$schema": "../schema/vector-file.schema.json",
        "area": area,
        "description": "generated differential cases",
        "cases": [case],
    }
    with tempfile.TemporaryDirectory(prefix="appc-generated-") as tmp:
        path = Path(tmp) / area / "generated-check.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(doc, ensure_ascii=False))
        vs = vectors.load(root, [path])
    problems = [p.message if not p.field else f"{p.field}: {p.message}" for p in vs.problems]
    if case.get("op") in vectors.NETWORK_OPS:
        from appc_conformance import servers  # noqa: PLC0415 - the hosts format belongs to the mock servers

        problems += servers.lint_case(case)
    return problems


BEGIN = "----- BEGIN GENERATED VECTOR CASE -----"
END = "----- END GENERATED VECTOR CASE -----"


def report(f: Finding, case: Optional[dict] = None) -> str:
    case = case or build_case(f)
    problems = validate_case(case)
    exp = f.expectation
    ctx = f.context
    lines = [
        f"{f.impl} disagrees with the reference on {f.op} [{f.profile}]",
        f"  input:       {json.dumps(f.args, ensure_ascii=False)}",
        f"  reference:   {json.dumps(_answer_only(exp.reference), ensure_ascii=False)}",
        f"  accepted:    {json.dumps(exp.expect, ensure_ascii=False)}"
        + (f"  (readings of {', '.join(exp.ambiguities)})" if exp.ambiguities else ""),
        f"  {f.impl}:".ljust(15)
        + (
            json.dumps(_answer_only(f.answer), ensure_ascii=False)
            if f.answer is not None
            else f"{f.transport}: {f.message}"
        ),
        f"  verdict:     {f.message}",
        f"  signature:   {f.signature()} (key {signature_key(f.signature())})",
    ]
    if ctx.get("budget"):
        lines.append(f"  budget:      {ctx['budget']}")
    if ctx.get("replay"):
        lines.append(f"  replay:      {ctx['replay']}")
    if f.stderr:
        lines.append("  adapter stderr:\n    " + f.stderr[-1500:].replace("\n", "\n    "))
    area = case["id"].split("/", 1)[0]
    if problems:
        lines.append("The vector case below does NOT validate against the vector schema: " + "; ".join(problems))
    else:
        lines.append(
            f"Ready-to-add vector case (valid against vectors/schema/vector-file.schema.json; "
            f"for example in vectors/{area}/generated-findings.json):"
        )
    lines += [BEGIN, json.dumps(case, indent=2, ensure_ascii=False), END]
    return "\n".join(lines)


def _unprefixed(line: str) -> str:
    """A line of pytest's output without its decorations ("E   ", the "|" of exception groups)."""
    line = line.strip()
    while line[:1] in ("E", "|") and line[1:2] in (" ", "\t", ""):
        line = line[1:].strip()
    return line


def extract_cases(text: str) -> list:
    """Every vector case printed in ``text`` (pytest's output, or a report) as a dict."""
    out: list[dict] = []
    block: list[str] | None = None  # the lines of the case being read
    for raw in text.splitlines():
        line = _unprefixed(raw)
        if line == BEGIN:
            block = []
        elif line == END and block is not None:
            out.append(json.loads("\n".join(block)))
            block = None
        elif block is not None:
            block.append(line)
    return out
