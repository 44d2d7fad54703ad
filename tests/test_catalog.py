"""The requirement catalog against the cases: every verdict stands on spec text (docs/AUDIT.md).

- every requirement carries a ``basis``: the document and section, the keyword as written, the
  term, and the rule in the project's words;
- every case graded must or should cites a requirement of that strength (``implied`` counts as
  must), or says in its notes what it stands on (``basis:``);
- every requirement that a protocol op can test has at least one case that cites it;
- ambiguities that cases name are in the catalog, and each new reading is used by a case.
"""

from __future__ import annotations

import collections

import pytest

from appc_conformance.conformance import vectors

VS = vectors.load()  # the cache gives the same cases and problems (docs/VECTORS.md, "Lint")
CATALOG = vectors.load_catalog(VS.root)
REQS = {r["id"]: r for r in CATALOG["requirements"]}
SUPPORTS = {"must": {"must", "implied"}, "should": {"should"}}


def test_the_vector_set_loads_without_problems():
    assert VS.problems == []


@pytest.mark.parametrize("rid", sorted(REQS))
def test_every_requirement_has_a_basis(rid):
    basis = REQS[rid].get("basis")
    assert isinstance(basis, dict), f"{rid} has no basis"
    for key in ("source", "keyword", "term", "rule"):
        assert isinstance(basis.get(key), str) and basis[key].strip(), f"{rid}: basis.{key} is empty"


def _graded_without_basis():
    out = []
    for c in VS.cases:
        strength = c.raw["strength"]
        if strength not in SUPPORTS:
            continue
        cited = {REQS[r]["strength"] for r in c.raw["requirements"]}
        if not cited & SUPPORTS[strength] and "basis:" not in c.raw.get("notes", ""):
            out.append(c.id)
    return out


def test_every_must_or_should_case_stands_on_a_requirement_of_its_strength_or_says_why():
    assert _graded_without_basis() == []


def test_the_check_above_can_fail():
    """A must case citing only a should requirement, with no basis in its notes, is reported."""
    fake = vectors.Case(
        id="manifests/x/y", file="x.json", index=0, raw={"strength": "must", "requirements": ["DEP-05"], "notes": ""}
    )
    VS.cases.append(fake)
    try:
        assert _graded_without_basis() == ["manifests/x/y"]
    finally:
        VS.cases.remove(fake)


def _testable():
    """Requirements an op of the adapter protocol can test (not those of the publisher check)."""
    ops = set(vectors.OPS)
    return sorted(
        r["id"]
        for r in CATALOG["requirements"]
        if ops & set(r.get("testable_by") or []) and not r.get("untestable_reason")
    )


def test_every_testable_requirement_has_a_case_of_its_own():
    assert _testable(), "no requirement is testable by an op: the check below would pass vacuously"
    cited = collections.Counter(r for c in VS.cases for r in c.raw["requirements"])
    missing = [rid for rid in _testable() if not cited[rid]]
    assert missing == []


def test_every_ambiguity_named_by_a_case_is_in_the_catalog_and_new_ones_are_used():
    known = {a["id"] for a in CATALOG["ambiguities"]}
    named = {a for c in VS.cases for a in c.raw.get("ambiguities", [])}
    assert named <= known
    for amb in ("AMB-29", "AMB-30", "AMB-31", "AMB-32"):
        assert amb in named, f"{amb} is registered but no case accepts its readings"


def test_ac_version_cases_cite_the_ac_version_requirement():
    assert any("/acversion-" in c.id for c in VS.cases), "no ac-version case: nothing checked"
    for c in VS.cases:
        if "/acversion-" in c.id:
            assert {"TYPE-10", "TYPE-11"} & set(c.raw["requirements"]), c.id
            assert "TYPE-06" not in c.raw["requirements"], c.id


def test_the_spec_example_with_adjacent_separators_is_accepted_either_way():
    """types.md's example.com/~user/app_v1 breaks its own regex (AMB-26): catalog and cases agree."""
    assert "AMB-26" in REQS["TYPE-05"]["summary"]
    uses = [c for c in VS.cases if "~user/app_v1" in str(c.raw["input"])]
    assert uses
    for c in uses:
        outcomes = c.raw["expect"].get("any_of", [c.raw["expect"]])
        assert any("error" in o for o in outcomes) and any("result" in o for o in outcomes), c.id
        assert "AMB-26" in c.raw.get("ambiguities", []), c.id


def test_null_for_a_typed_optional_member_is_never_a_must():
    """AMB-30: a case whose only difference from a valid document is a null optional member accepts both answers."""
    checked = 0
    for c in VS.cases:
        if c.id.startswith(("manifests/generated/", "imagetags/")) and (
            c.id.endswith("-null") or c.id.endswith("/null")
        ):
            if c.id in ("imagetags/top-level/null", "manifests/generated/label-entry-null"):
                continue  # not an optional member: every reading rejects these
            assert c.raw["strength"] == "ambiguous" and "AMB-30" in c.raw["ambiguities"], c.id
            checked += 1
    assert checked, "no null-member case found: nothing checked"
