"""Synthetic results files for the report tests: small, deterministic, valid format v1."""

from __future__ import annotations

import copy

HASH = "sha256:" + "ab" * 32

# (id, op, requirements, strength, ambiguities, expected)
CASES = [
    (
        "app-strings/colon/version-label",
        "parse_app",
        ["APP-01", "APP-02"],
        "library",
        [],
        {"result": {"name": "example.com/reduce-worker", "tag": None, "labels": {"version": "1.0.0"}}},
    ),
    (
        "app-strings/colon/empty-name",
        "parse_app",
        ["APP-01"],
        "library",
        [],
        {"error": ["invalid-app-string", "invalid-identifier"]},
    ),
    (
        "app-strings/labels/equals-in-value",
        "parse_app",
        ["APP-03"],
        "library",
        [],
        {"result": {"name": "example.com/app", "tag": None, "labels": {"k": "a=b"}}},
    ),
    ("imagetags/document/not-an-object", "validate_imagetags", ["TAG-01"], "must", [], {"error": "invalid-imagetags"}),
    ("imagetags/document/minimal", "validate_imagetags", ["TAG-01", "TAG-02"], "must", [], {"result": {"valid": True}}),
    (
        "resolution/alias/cycle",
        "resolve_tag",
        ["TAG-05"],
        "ambiguous",
        ["AMB-19"],
        {"any_of": [{"error": "alias-cycle"}, {"error": "tag-not-found"}]},
    ),
    (
        "discovery/walk-up/404-then-parent",
        "discover",
        ["DISC-13"],
        "must",
        [],
        {"result": {"aci": ["https://127.0.0.1:8443/app.aci"]}},
    ),
    (
        "discovery/meta/should-prefer-https",
        "discover",
        ["DISC-08"],
        "should",
        [],
        {"result": {"aci": ["https://127.0.0.1:8443/app.aci"]}},
    ),
]

#: What each case sends (the record's ``input``; discovery cases also have ``hosts``).
INPUTS = {
    "app-strings/colon/version-label": {"app": "example.com/reduce-worker:1.0.0"},
    "app-strings/colon/empty-name": {"app": ":1.0.0"},
    "app-strings/labels/equals-in-value": {"app": "example.com/app,k=a=b"},
    "imagetags/document/not-an-object": {"document": "[1, 2]"},
    "imagetags/document/minimal": {"document": {"latest": {"version": "1.0.0"}}},
    "resolution/alias/cycle": {"document": {"a": "b", "b": "a"}, "tag": "a"},
    "discovery/walk-up/404-then-parent": {"app": "{{a.host}}/project/sub", "what": ["aci"]},
    "discovery/meta/should-prefer-https": {"app": "{{a.host}}/app", "what": ["aci"]},
}
HOSTS = {
    "a": {"paths": {"/project?ac-discovery=1": {"meta": [["ac-discovery", "{{a.host}} https://{{a}}/{name}.{ext}"]]}}}
}

PROFILE_OF = {"imagetags": ["appc-imagetags"], "resolution": ["appc-imagetags"]}

CATALOG = {
    "requirements": [
        {
            "id": "APP-01",
            "section": "b",
            "strength": "library",
            "summary": "app string syntax",
            "profiles": ["appc-0.8.11", "appc-imagetags"],
        },
        {
            "id": "APP-02",
            "section": "b",
            "strength": "library",
            "summary": "labels after commas",
            "profiles": ["appc-0.8.11", "appc-imagetags"],
        },
        {
            "id": "APP-03",
            "section": "b",
            "strength": "library",
            "summary": "split on the first =",
            "profiles": ["appc-0.8.11", "appc-imagetags"],
        },
        {
            "id": "TAG-01",
            "section": "g",
            "strength": "must",
            "summary": "document is an object",
            "profiles": ["appc-imagetags"],
        },
        {
            "id": "TAG-02",
            "section": "g",
            "strength": "must",
            "summary": "labels are objects",
            "profiles": ["appc-imagetags"],
        },
        {
            "id": "TAG-05",
            "section": "g",
            "strength": "must",
            "summary": "aliases resolve",
            "profiles": ["appc-imagetags"],
        },
        {
            "id": "TAG-09",
            "section": "g",
            "strength": "should",
            "summary": "never tested here",
            "profiles": ["appc-imagetags"],
        },
        {
            "id": "DISC-08",
            "section": "d",
            "strength": "should",
            "summary": "prefer https",
            "profiles": ["appc-0.8.11", "appc-imagetags"],
        },
        {
            "id": "DISC-13",
            "section": "d",
            "strength": "must",
            "summary": "walk up the name",
            "profiles": ["appc-0.8.11", "appc-imagetags"],
        },
        {
            "id": "DISC-30",
            "section": "d",
            "strength": "informative",
            "summary": "server side",
            "profiles": ["appc-0.8.11"],
            "untestable_reason": "a duty of the server, not the client",
        },
    ],
    "ambiguities": [{"id": "AMB-19", "summary": "cycle error kind"}],
}


def answer_for(expected: dict):
    o = expected["any_of"][0] if "any_of" in expected else expected
    if "result" in o:
        return {"ok": copy.deepcopy(o["result"])}
    kind = o["error"] if isinstance(o["error"], str) else o["error"][0]
    return {"error": {"kind": kind, "message": "rejected"}}


def make_results(
    impl_id: str = "reference",
    name: str = "appc reference",
    version: str = "0.1.0",
    verdicts: dict | None = None,
    profiles=("appc-0.8.11", "appc-imagetags"),
    drop: tuple = (),
    available: bool = True,
    known: dict | None = None,
) -> dict:
    """A results document; ``verdicts`` maps "id" or "id@profile" to a verdict (default pass);
    ``known`` maps "id" or "id@profile" to a known-failure reason (the record's ``known_failure``)."""
    verdicts = verdicts or {}
    known = known or {}
    cases = []
    if available:
        for cid, op, reqs, strength, ambs, expected in CASES:
            area = cid.split("/", 1)[0]
            for profile in PROFILE_OF.get(area, ["appc-0.8.11", "appc-imagetags"]):
                if profile not in profiles or cid in drop or f"{cid}@{profile}" in drop:
                    continue
                v = verdicts.get(f"{cid}@{profile}", verdicts.get(cid, "pass"))
                actual = answer_for(expected)
                message, stderr = "", ""
                if v == "fail":
                    actual = {"ok": {"name": "example.com/wrong", "tag": None, "labels": {}}}
                    message = 'name: expected "example.com/reduce-worker", got "example.com/wrong"'
                elif v == "error":
                    actual = {"error": {"kind": "invalid-app-string", "message": "bad <input> & such"}}
                    message = "rejected input that must be accepted: invalid-app-string"
                elif v == "crash":
                    actual = None
                    message = "adapter exited with status 2"
                    stderr = "panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1"
                elif v == "timeout":
                    actual, message = None, "no answer within 10 s"
                elif v == "not-implemented":
                    actual, message = None, f"the adapter does not implement {op!r}"
                elif v == "unsupported":
                    actual, message = {"unsupported": "no https"}, "adapter: unsupported: no https"
                elif v == "protocol-error":
                    actual, message = None, "answer is not JSON"
                cases.append(
                    {
                        "id": cid,
                        "profile": profile,
                        "area": area,
                        "op": op,
                        "requirements": list(reqs),
                        "ambiguities": list(ambs),
                        "strength": strength,
                        "description": f"checks {cid.rsplit('/', 1)[1].replace('-', ' ')}",
                        "verdict": v,
                        "message": message,
                        "expected": copy.deepcopy(expected),
                        "actual": actual,
                        "stderr": stderr,
                        "time_s": 0.0012,
                    }
                )
                cases[-1]["input"] = copy.deepcopy(INPUTS[cid])
                if op == "discover":
                    cases[-1]["hosts"] = copy.deepcopy(HOSTS)
                reason = known.get(f"{cid}@{profile}", known.get(cid))
                if reason is not None:
                    cases[-1]["known_failure"] = reason
    return {
        "format": "appc-conformance-results",
        "format_version": 1,
        "run": {
            "suite_version": "0.1.0",
            "commit": "0" * 40,
            "vectors_hash": HASH,
            "profiles": list(profiles),
            "started": "2026-11-27T17:00:00+00:00",
            "duration_s": 1.5,
            "argv": ["vectors", "--impl", impl_id or "x"],
            "problems": [],
        },
        "implementation": {
            "id": impl_id,
            "name": name,
            "version": version if available else None,
            "language": "python",
            "homepage": None,
            "available": available,
            "unavailable_reason": None
            if available
            else "Go is not installed; install it with: apt-get install golang-go",
            "command": ["python3", "-m", "appc_conformance.conformance.adapters.reference"],
        },
        "cases": cases,
    }


#: The Go library's verdicts other than pass in ``three_runs``.
GO_VERDICTS = {
    "app-strings/colon/version-label": "fail",
    "app-strings/colon/empty-name": "crash",
    "discovery/meta/should-prefer-https": "not-implemented",
}


def go_results(**kw) -> dict:
    """``make_results`` of the Go library (one profile), with ``kw`` (verdicts, known, ...)."""
    return make_results("go-appc", "appc/spec (Go)", "0.8.11", profiles=("appc-0.8.11",), **kw)


def three_runs(folder) -> dict:
    """Three results files in ``folder``: the reference (all pass), a Go library with failures
    (one profile), and an implementation that is not available."""
    from appc_conformance.reports.results import write_results

    ref = write_results(folder / "results-reference.json", make_results())
    go = write_results(folder / "results-go-appc.json", go_results(verdicts=GO_VERDICTS))
    act = write_results(
        folder / "results-actool.json", make_results("actool", "actool", available=False, profiles=("appc-0.8.11",))
    )
    return {"reference": ref, "go": go, "actool": act}
