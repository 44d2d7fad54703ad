"""The suite's measured sensitivity: every catalogued bug (tests/fakes/mutants.py) is caught by at
least one case of the whole vector set, every reading the spec allows passes every case, and the
mutants' copies of the reference, with no bug switched on, pass everything (so each mutant
differs by its bug alone).

Each mutant runs as a user would run it (a pytest subprocess with --adapter-cmd and --results),
two at a time, staged (scripts/sensitivity.py --staged; docs/SENSITIVITY.md): first against the
areas meant to catch it, where a catch is a catch of the whole set (more cases only add
catches); a bug those areas miss runs again against every case it can reach (the reach rule),
so "caught by none" is a statement about the whole set. Readings run against their whole reach.
The control runs against the whole set. The reach rule itself is checked here on every
non-network case for one bug of each patched function, and on the whole set (network cases
too) by ``python scripts/sensitivity.py``, whose report lists any catch outside a reach.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from appc_conformance.conformance import vectors
from tests.helpers import ROOT, VECTORS


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, mod)
    spec.loader.exec_module(mod)
    return mod


sensitivity = _load("appc_sensitivity_script", ROOT / "scripts" / "sensitivity.py")
mutants = sensitivity.load_catalogue()
BUGS = [b.name for b in mutants.CATALOGUE]
READINGS = [b.name for b in mutants.READINGS]
ALTERNATIVES = [b.name for b in mutants.ALTERNATIVES]
TWO_CASE_BUGS = [
    b.name for b in mutants.CATALOGUE if any(a.split("/")[0] in sensitivity.TWO_CASE_AREAS for a in b.areas)
]
NETWORK_OPS = {"discover", "resolve", "fetch"}
pytestmark = pytest.mark.xdist_group("sensitivity")  # one worker computes the outcome, once


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    work = tmp_path_factory.mktemp("sensitivity")
    every = mutants.CATALOGUE + mutants.READINGS + mutants.ALTERNATIVES
    out = sensitivity.run_all(every, mode="staged", jobs=2, workdir=work)
    out["report"] = sensitivity.analyse(every, out)
    return out


# ----------------------------------------------------------------------------- the catalogue


def test_catalogue_is_well_formed():
    catalog = json.loads((VECTORS / "requirements.json").read_text())
    known = {r["id"] for r in catalog["requirements"]} | {a["id"] for a in catalog["ambiguities"]}
    assert len(BUGS) >= 30
    assert len(set(BUGS + READINGS + ALTERNATIVES)) == len(BUGS) + len(READINGS) + len(ALTERNATIVES)
    assert {"signature-first", "plain-http-image-urls"} <= set(ALTERNATIVES)
    families = {b.family for b in mutants.CATALOGUE}
    assert {"parsing", "resolution", "merging", "manifests", "matching", "discovery", "security"} <= families
    for b in mutants.CATALOGUE + mutants.READINGS + mutants.ALTERNATIVES:
        assert b.description and b.requirements, b.name
        assert set(b.requirements) <= known, (b.name, set(b.requirements) - known)
        assert len(sensitivity.area_paths(b.areas)) == len(b.areas), (b.name, b.areas)
    for r in mutants.READINGS:
        assert all(x.startswith("AMB-") for x in r.requirements), r.name


def test_list_is_printable():
    out = subprocess.run(
        [sys.executable, str(sensitivity.MUTANTS), "--list", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    doc = json.loads(out.stdout)
    assert [b["name"] for b in doc["bugs"]] == BUGS
    assert [b["name"] for b in doc["readings"]] == READINGS
    assert [b["name"] for b in doc["alternatives"]] == ALTERNATIVES


# ----------------------------------------------------------------------------- the reach rule


def test_every_bug_is_located_in_a_function_whose_reach_is_known():
    """Each bug's switch sits in a patched function (or replaces a rule) that the reach table
    names; a new patched function needs its reach written down (otherwise the rule falls back
    to the whole set: sound, but slow)."""
    sites = sensitivity.switch_sites()
    unknown = {}
    for b in mutants.CATALOGUE + mutants.READINGS + mutants.ALTERNATIVES:
        if sensitivity.bug_reach(b.name, mutants, sites) is None:
            unknown[b.name] = sorted(sites.get(b.name, ())) or "no on() switch, RULE_BUGS or FETCH_BUGS entry"
    assert not unknown, f"add these to REACH in scripts/sensitivity.py: {unknown}"
    assert set(sites) <= set(BUGS + READINGS + ALTERNATIVES), set(sites) - set(BUGS + READINGS + ALTERNATIVES)


def test_reach_covers_the_areas_meant_to_catch_each_bug():
    """The rule and the catalogue agree: a bug can reach every area meant to catch it. (Not
    asked of readings: an area a reading cannot reach passes against it, as it must.)"""
    vs = vectors.load()
    ops_of_area: dict = {}
    for c in vs.cases:
        rel = c.file.split("/", 1)[1] if c.file.startswith("vectors/") else c.file
        ops_of_area.setdefault(rel.split("/")[0], set()).add(c.op)
        ops_of_area.setdefault(rel.rsplit(".", 1)[0], set()).add(c.op)
    sites = sensitivity.switch_sites()
    for b in mutants.CATALOGUE:
        reach = sensitivity.bug_reach(b.name, mutants, sites)
        for area in b.areas:
            assert ops_of_area[area] & set(reach), (b.name, area, reach)


def test_switch_sites_reads_functions_and_classes():
    src = (
        "def f(x):\n    if on('a') or on(\"b\"):\n        return 1\n"
        "class T:\n    def m(self):\n        return on('c')\n"
        "def g():\n    return other('d')\n"
    )
    assert sensitivity.switch_sites(src) == {"a": {"f"}, "b": {"f"}, "c": {"T"}}


def test_unknown_ops_and_unknown_sites_are_in_every_reach(tmp_path):
    """Sound by default: an op the table does not know, or a bug in an unlisted function, reaches everything."""

    class Case:
        def __init__(self, cid, op, app=None):
            self.id, self.op, self.file = cid, op, cid.split("/")[0] + "/x.json"
            self.raw = {"input": {"app": app} if app else {}}
            self.profiles = ["appc-0.8.11"]

    class VS:
        cases = [
            Case("a/x/parse", "parse_app", "example.com/a"),
            Case("b/x/new", "brand_new_op"),
            Case("c/x/match", "match_manifest", "example.com/a"),
        ]

    assert sensitivity.reach_selection("name-ignored", mutants, VS()) == ["b/x/new", "c/x/match"]
    assert sensitivity.reach_selection("a-bug-nobody-wrote", mutants, VS(), sites={}) == [
        "a/x/parse",
        "b/x/new",
        "c/x/match",
    ]


def test_selection_args_run_exactly_the_reach(tmp_path):
    vs = vectors.load()
    matching = [c.id for c in vs.cases if c.op == "match_manifest"]
    paths, extra = sensitivity.selection_args(matching, vs, VECTORS)
    assert paths == [VECTORS.parent / f for f in sorted({c.file for c in vs.cases if c.op == "match_manifest"})]
    assert all(p.is_file() for p in paths)
    assert extra == []  # whole files: no --case needed
    one = matching[:1]
    paths, extra = sensitivity.selection_args(one, vs, VECTORS)
    assert extra == ["--case", one[0]]


def test_discovery_cases_are_in_a_parser_bugs_reach_only_where_it_parses_their_app_differently():
    vs = vectors.load()
    probe = sensitivity.ParseProbe()
    discover = {c.id for c in vs.cases if c.op == "discover"}
    # trim-whitespace changes nothing for the discovery cases' app strings (none has blanks) ...
    ids = set(sensitivity.reach_selection("trim-whitespace", mutants, vs, probe))
    assert not (ids & discover)
    assert {c.id for c in vs.cases if c.op in ("parse_app", "match_manifest")} <= ids
    # The app strings asked about are those the adapter is sent: placeholders replaced by loopback
    # addresses, with and without a port.
    for case in [c for c in vs.cases if c.op == "discover" and "{{" in c.raw["input"]["app"]]:
        sent = sensitivity.app_strings(case)
        assert sent and all("{{" not in a and "127.0.0." in a for a in sent), (case.id, sent)
        assert len(sent) == (2 if sensitivity.spec_netloc(case.raw["input"]["app"]) else 1), (case.id, sent)
    # ... and a case whose app string a bug parses differently is in reach.
    pairs = [("Example.com/app", "appc-0.8.11"), ("example.com/app", "appc-0.8.11")]
    assert probe.differing("name-case-folded", pairs) == {pairs[0]}


# One bug for each patched function and rule family: run against every non-network case outside
# its reach, where the rule says the answers are the control's, so every case must pass.
REPRESENTATIVES = [
    "trim-whitespace",
    "identifier-empty-allowed",
    "imagetags-label-names-unchecked",
    "one-alias-hop",
    "phase1-skipped",
    "no-os-arch-whitelist",
    "name-ignored",
    "no-walk-up",
    "signature-skipped",
]


@pytest.mark.slow
@pytest.mark.parametrize("bug", [b for b in REPRESENTATIVES if b in BUGS])
def test_no_catch_outside_the_reach(bug, tmp_path):
    vs = vectors.load()
    reach = set(sensitivity.reach_selection(bug, mutants, vs))
    outside = [c.id for c in vs.cases if c.id not in reach and c.op not in NETWORK_OPS]
    if not outside:
        pytest.skip(f"{bug} reaches every non-network case")
    paths, extra = sensitivity.selection_args(outside, vs, VECTORS)
    run = sensitivity.run_suite(bug, paths, tmp_path, extra=extra)
    assert run["ok"], run.get("output")
    assert len({c["id"] for c in run["cases"]}) == len(outside)
    caught = [
        f"{c['id']} [{c['profile']}]: {c['verdict']}" for c in run["cases"] if c["verdict"] in sensitivity.CATCHING
    ]
    assert not caught, f"{bug} is caught outside its reach: the reach rule is wrong: {caught[:10]}"


# ----------------------------------------------------------------------------- the staged run


@pytest.mark.slow
def test_control_passes_every_case(outcome):
    control = outcome["control"]
    assert control["ok"], control.get("output")
    assert control["selection"] == "whole"
    adapter_cases = {c.id for c in vectors.load().cases if c.op not in getattr(vectors, "SUITE_OPS", ())}
    assert adapter_cases <= {c["id"] for c in control["cases"]}  # the whole set ran
    assert outcome["report"]["control_problems"] == []


@pytest.mark.slow
@pytest.mark.parametrize("bug", BUGS)
def test_bug_is_caught(outcome, bug):
    row = next(b for b in outcome["report"]["bugs"] if b["name"] == bug)
    assert row["run_ok"], row["error"]
    assert row["caught"], (
        f"{bug}: no case catches it, neither in {', '.join(row['areas'])} nor in "
        f"the {row['reach_cases']} cases it can reach ({row['cases_run']} case runs)"
    )


@pytest.mark.slow
@pytest.mark.parametrize("reading", READINGS)
def test_reading_is_accepted(outcome, reading):
    row = next(r for r in outcome["report"]["readings"] if r["name"] == reading)
    assert row["run_ok"]
    assert row["selection"] == "reach" and row["cases_run"] > 0
    assert row["accepted"], "\n".join(row["failing_cases"])


@pytest.mark.slow
@pytest.mark.parametrize("bug", TWO_CASE_BUGS)
def test_every_fetch_rule_is_checked_by_two_cases(outcome, bug):
    """Each bug meant to be caught by the fetch cases is caught by two of them at least (at the
    default adapter timeout): no fetch rule rests on a single case."""
    row = next(b for b in outcome["report"]["bugs"] if b["name"] == bug)
    for area in sensitivity.TWO_CASE_AREAS:
        if any(a.split("/")[0] == area for a in row["areas"]):
            assert row["catching_by_area"].get(area, 0) >= 2, (bug, row["catching_by_area"], row["first_cases"])


@pytest.mark.slow
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_other_behaviours_the_spec_allows_fail_no_must_level_case(outcome, alternative):
    """A signature fetched before its document or image, plain-HTTP image URLs (the spec restricts
    no scheme): the suite may grade the protocol's rules against them (library), never a must."""
    row = next(r for r in outcome["report"]["alternatives"] if r["name"] == alternative)
    assert row["run_ok"] and row["cases_run"] > 0
    assert row["accepted"], "\n".join(row["failing_must_cases"])
