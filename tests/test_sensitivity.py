"""The suite's measured sensitivity: every catalogued bug (tests/fakes/mutants.py) is caught by at
least one case, every reading the spec allows passes every case, and the mutants' copies of the
reference, with no bug switched on, pass everything (so each mutant differs by its bug alone).

Each mutant runs as a user would run it (a pytest subprocess with --adapter-cmd and --results),
only against the vector areas meant to catch it, two at a time. The whole-suite figures come
from ``python scripts/sensitivity.py``.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT, VECTORS

pytestmark = pytest.mark.slow


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


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    work = tmp_path_factory.mktemp("sensitivity")
    out = sensitivity.run_all(mutants.CATALOGUE + mutants.READINGS, focused=True, jobs=2, workdir=work)
    out["report"] = sensitivity.analyse(mutants.CATALOGUE + mutants.READINGS, out)
    return out


def test_catalogue_is_well_formed():
    catalog = json.loads((VECTORS / "requirements.json").read_text())
    known = {r["id"] for r in catalog["requirements"]} | {a["id"] for a in catalog["ambiguities"]}
    assert len(BUGS) >= 30
    assert len(set(BUGS + READINGS)) == len(BUGS) + len(READINGS)
    families = {b.family for b in mutants.CATALOGUE}
    assert {"parsing", "resolution", "merging", "manifests", "matching", "discovery", "security"} <= families
    for b in mutants.CATALOGUE + mutants.READINGS:
        assert b.description and b.requirements, b.name
        assert set(b.requirements) <= known, (b.name, set(b.requirements) - known)
        assert len(sensitivity.area_paths(b.areas)) == len(b.areas), (b.name, b.areas)
    for r in mutants.READINGS:
        assert all(x.startswith("AMB-") for x in r.requirements), r.name


def test_list_is_printable():
    out = subprocess.run([sys.executable, str(sensitivity.MUTANTS), "--list", "--json"],
                         capture_output=True, text=True, check=True, timeout=60)
    doc = json.loads(out.stdout)
    assert [b["name"] for b in doc["bugs"]] == BUGS
    assert [b["name"] for b in doc["readings"]] == READINGS


def test_control_passes_every_case(outcome):
    control = outcome["control"]
    assert control["ok"], control.get("output")
    assert control["cases"], "the control ran no case"
    assert outcome["report"]["control_problems"] == []


@pytest.mark.parametrize("bug", BUGS)
def test_bug_is_caught(outcome, bug):
    row = next(b for b in outcome["report"]["bugs"] if b["name"] == bug)
    assert row["run_ok"], row["error"]
    assert row["caught"], f"{bug}: no case of {', '.join(row['areas'])} catches it ({row['cases_run']} case runs)"


@pytest.mark.parametrize("reading", READINGS)
def test_reading_is_accepted(outcome, reading):
    row = next(r for r in outcome["report"]["readings"] if r["name"] == reading)
    assert row["run_ok"]
    assert row["cases_run"] > 0
    assert row["accepted"], "\n".join(row["failing_cases"])
