"""The generated differential cases (conformance/generated), tested as a user runs them.

- Against the reference itself they find no disagreement.
- Against a deliberately broken adapter they fail, and every vector case they print is valid
  against the vector schema, passes against the reference and fails against the broken adapter
  when run through the ordinary vector harness.
- A mutant with one realistic bug (tests/fakes/mutants.py, when present) is caught and shrunk.
- The accepted answers they build are never stricter than a hand-written vector's.

The tests that run the generated suite (a pytest subprocess with hypothesis's CI budget) are
marked slow: they are left out of the quick loop (tox -e quick) and run in the full one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from appc_conformance.conformance import grading, registry, vectors
from appc_conformance.conformance.adapter import AdapterSession
from appc_conformance.conformance.generated import budget, expectation
from appc_conformance.conformance.generated.to_vector import extract_cases, validate_case

from .helpers import ROOT, broken_cmd

GENERATED = ROOT / "conformance" / "generated"
MUTANTS = ROOT / "tests" / "fakes" / "mutants.py"


def run_generated(*args: str, env: dict | None = None, timeout: float = 600):
    argv = [sys.executable, "-m", "pytest", str(GENERATED), "-q", "-p", "no:cacheprovider", *args]
    full_env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for name in (budget.ENV_EXAMPLES, budget.ENV_SEED, budget.ENV_IGNORE, budget.ENV_FIRST):
        full_env.pop(name, None)
    full_env.update(env or {})
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=full_env)


def vector_dir_with(tmp_path: Path, cases: list) -> Path:
    """A vector set holding only ``cases`` (one file per area), with the schema and catalog."""
    root = tmp_path / "vectors"
    shutil.copytree(ROOT / "vectors" / "schema", root / "schema")
    shutil.copy(ROOT / "vectors" / "requirements.json", root / "requirements.json")
    by_area: dict = {}
    for case in cases:
        by_area.setdefault(case["id"].split("/", 1)[0], []).append(case)
    for area, group in by_area.items():
        (root / area).mkdir()
        (root / area / "generated-findings.json").write_text(
            json.dumps(
                {
                    "$schema": "../schema/vector-file.schema.json",
                    "area": area,
                    "description": "cases printed by a generated run",
                    "cases": group,
                },
                indent=1,
            )
        )
    return root


def run_vectors(root: Path, *args: str):
    argv = [sys.executable, "-m", "pytest", str(root), "--vectors", str(root), "-q", "-p", "no:cacheprovider", *args]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.slow
def test_reference_finds_no_disagreement_with_itself():
    proc = run_generated("--impl", "reference")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
    assert "generated differential cases" in proc.stdout


@pytest.mark.slow
def test_broken_adapter_fails_and_prints_valid_vectors(tmp_path):
    proc = run_generated(
        "--adapter-cmd",
        broken_cmd("wrong"),
        "-k",
        "parse_app or validate_manifest or resolve_tag",
        env={budget.ENV_FIRST: "1"},
    )  # one shrunk failure per test is all this needs
    out = proc.stdout
    assert proc.returncode == 1, out[-4000:] + proc.stderr[-2000:]
    cases = extract_cases(out)
    assert cases, out[-4000:]
    assert "Falsifying example" in out
    areas = {c["id"].split("/", 1)[0] for c in cases}
    assert {"app-strings", "manifests", "resolution"} <= areas
    for case in cases:
        assert validate_case(case) == [], case
        assert case["id"].split("/")[1] == "generated"
    # Ready to add: the ordinary harness passes them on the reference and fails them on the adapter.
    root = vector_dir_with(tmp_path, cases)
    ok = run_vectors(root, "--impl", "reference")
    assert ok.returncode == 0, ok.stdout[-3000:]
    bad = run_vectors(root, "--adapter-cmd", broken_cmd("wrong"))
    assert bad.returncode == 1
    assert f"{len([1 for c in cases for _ in c['profiles']])} failed" in bad.stdout, bad.stdout[-3000:]


@pytest.mark.slow
def test_ignored_signatures_are_passed_over():
    first = run_generated(
        "--adapter-cmd", broken_cmd("wrong"), "-k", "validate_manifest and 0.8.11", env={budget.ENV_FIRST: "1"}
    )
    keys = [line.split("(key ")[1].split(")")[0] for line in first.stdout.splitlines() if "(key " in line]
    assert first.returncode == 1 and keys
    again = run_generated(
        "--adapter-cmd",
        broken_cmd("wrong"),
        "-k",
        "validate_manifest and 0.8.11",
        env={budget.ENV_IGNORE: ",".join(keys), budget.ENV_FIRST: "1"},
    )
    again_keys = {line.split("(key ")[1].split(")")[0] for line in again.stdout.splitlines() if "(key " in line}
    assert not (again_keys & set(keys))


def _mutants() -> list:
    if not MUTANTS.exists():
        return []
    listing = subprocess.run(
        [sys.executable, str(MUTANTS), "--list", "--json"], capture_output=True, text=True, cwd=ROOT
    )
    try:
        return [b["name"] for b in json.loads(listing.stdout)["bugs"]]
    except (ValueError, KeyError, TypeError):
        return []


# One bug per family the generated cases search; each must be caught within the CI budget.
MUTANT_CASES = [
    ("duplicate-last-wins", "parse_app", "app-strings"),
    ("one-alias-hop", "resolve_tag", "resolution"),
    ("resolved-labels-override", "merge_tag", "merging"),
    # (not dependency-size-unchecked: the generated runs caught it only through "size": null,
    # which is a reading since the strength audit, AMB-30)
    ("duplicate-labels-allowed", "validate_manifest", "manifests"),
    ("name-ignored", "match_manifest", "matching"),
]


@pytest.mark.slow
@pytest.mark.parametrize("bug,test,area", MUTANT_CASES, ids=[m[0] for m in MUTANT_CASES])
def test_mutant_is_caught_with_a_shrunk_vector(bug, test, area):
    if bug not in _mutants():
        pytest.skip(f"tests/fakes/mutants.py has no bug {bug!r}")
    proc = run_generated("--adapter-cmd", f"{sys.executable} {MUTANTS} {bug}", "-k", test)
    assert proc.returncode == 1, proc.stdout[-3000:]
    cases = [c for c in extract_cases(proc.stdout) if c["id"].startswith(area + "/")]
    assert cases, proc.stdout[-3000:]
    for case in cases:
        assert validate_case(case) == []
        assert len(json.dumps(case["input"])) < 400, case["input"]  # shrunk, not a random blob


def test_expectations_never_stricter_than_hand_written_vectors():
    """For every non-discovery vector, each answer the vector accepts is accepted by the
    expectation built from the reference: generated cases fail nothing the vectors allow."""
    vs = vectors.load()
    sessions = {p: AdapterSession(registry.command("reference"), p) for p in vectors.PROFILES}
    problems = []
    try:
        for case in vs.cases:
            if case.op not in expectation.OPS:
                continue
            for profile in case.profiles:
                s = sessions[profile]
                exp = expectation.build(
                    lambda op, args, s=s: s.request(op, args).answer, case.op, profile, case.raw["input"]
                )
                if exp is None:
                    continue  # excluded from generation (escapes, annotation formats)
                for outcome in grading.outcomes(case.raw["expect"]):
                    if "result" in outcome:
                        answers = [{"ok": outcome["result"]}]
                    else:
                        kinds = [outcome["error"]] if isinstance(outcome["error"], str) else outcome["error"]
                        answers = [{"error": {"kind": k, "message": ""}} for k in kinds]
                    for answer in answers:
                        if grading.grade(exp.expect, answer).verdict != grading.PASS:
                            problems.append(f"{case.id} [{profile}]: {answer} not accepted by {exp.expect}")
    finally:
        for s in sessions.values():
            s.close()
    assert not problems, "\n".join(problems[:20])


def test_budget_from_environment():
    ci = budget.current({})
    assert ci.examples == budget.CI_EXAMPLES and ci.seed is None and not ci.exploratory
    assert budget.seed_for(ci, "t") == budget.seed_for(budget.current({}), "t")
    explore = budget.current({budget.ENV_EXAMPLES: "2000"})
    assert explore.examples == 2000 and explore.exploratory and explore.seed is not None
    fixed = budget.current({budget.ENV_EXAMPLES: "500", budget.ENV_SEED: "42"})
    assert fixed.seed == 42 and "APPC_GENERATED_SEED=42" in fixed.replay_env()
    with pytest.raises(budget.BudgetError):
        budget.current({budget.ENV_EXAMPLES: "many"})
    assert budget.ignored({budget.ENV_IGNORE: "Disagreement_ab12, cd34"}) == {"ab12", "cd34"}
