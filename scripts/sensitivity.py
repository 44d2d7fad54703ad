#!/usr/bin/env python3
"""Measured sensitivity of the suite: run it against every catalogued mutant and report what catches what.

    python scripts/sensitivity.py                  # every bug, whole vector set; Markdown on stdout
    python scripts/sensitivity.py --json out.json  # and the report as JSON
    python scripts/sensitivity.py --focused        # each bug only against the areas meant to catch it
    python scripts/sensitivity.py --bug one-alias-hop --bug phase1-skipped

Each mutant (tests/fakes/mutants.py) is the reference adapter with one realistic bug. The suite
runs as ``appc-conformance run`` runs it (``run.pytest_command``: a pytest subprocess with
--adapter-cmd and --results), at most --jobs at a time. A case *catches* a bug when its verdict is fail, error, crash, timeout or protocol-error;
an ambiguous case that accepts the mutant's answer passes, and rightly does not count.

The catalogue also lists *readings*: behaviours the spec leaves open (AMB-xx). They are not bugs,
so every case must pass against them; a case that fails one is stricter than the spec.

First the control runs (every patched copy, no bug switched on): it must pass every case, or the
copies in mutants.py have drifted from the reference and no figure below would mean anything.

Exit status: 0 when every bug is caught by at least one case and every reading passes; 1 when some
bug is caught by none or some reading is failed; 2 when the control does not pass or a run
produced no results file.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conformance import run  # noqa: E402  (the command line of a vector run)

VECTORS = ROOT / "vectors"
MUTANTS = ROOT / "tests" / "fakes" / "mutants.py"
CATCHING = ("fail", "error", "crash", "timeout", "protocol-error")
SHOWN = 5


def load_catalogue():
    """The mutants module (imported from its file: tests/ is not a package on every path)."""
    spec = importlib.util.spec_from_file_location("appc_mutants", MUTANTS)
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("appc_mutants", mod)
    spec.loader.exec_module(mod)
    return mod


def mutant_cmd(bug: str) -> str:
    return f"{sys.executable} {MUTANTS} {bug}"


def run_suite(bug: str, paths: list, workdir: Path, timeout: float = 10.0, extra=()) -> dict:
    """Run the suite against one mutant; the results document (plus the run's own timing)."""
    results = workdir / f"{bug}.json"
    argv = run.pytest_command(*(str(p) for p in paths), "--adapter-cmd", mutant_cmd(bug), "--results", str(results),
                              "--adapter-timeout", str(timeout), *extra)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=env, timeout=1800)
    wall = time.monotonic() - t0
    if not results.exists():
        return {"bug": bug, "ok": False, "wall_s": wall, "returncode": proc.returncode,
                "output": (proc.stdout + proc.stderr)[-3000:], "cases": []}
    doc = json.loads(results.read_text())
    return {"bug": bug, "ok": True, "wall_s": wall, "returncode": proc.returncode, "cases": doc["cases"]}


def area_paths(areas, vectors_root: Path = VECTORS) -> list:
    """Vector paths of a bug's areas: an area folder (``merging``) or one file (``discovery/walk``)."""
    out = []
    for a in areas:
        if (vectors_root / a).is_dir():
            out.append(vectors_root / a)
        elif (vectors_root / f"{a}.json").is_file():
            out.append(vectors_root / f"{a}.json")
    return out


def _outermost(paths: list) -> list:
    """Drop paths inside another path of the list (pytest would collect those files twice)."""
    return [p for p in paths if not any(q != p and q in p.parents for q in paths)]


def run_all(bugs: list, *, focused: bool, jobs: int = 2, timeout: float = 10.0,
            vectors_root: Path = VECTORS, workdir: Path | None = None, progress=None) -> dict:
    """Run the control and every bug; ``{"control": run, "runs": {bug: run}}``."""
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="appc-sensitivity-")
        workdir = Path(tmp.name)
    try:
        def paths_for(bug) -> list:
            return area_paths(bug.areas, vectors_root) if focused else [vectors_root]

        all_areas = sorted({a for b in bugs for a in b.areas}) if focused else None
        control_paths = _outermost(area_paths(all_areas, vectors_root)) if focused else [vectors_root]
        jobs = max(1, min(jobs, 2))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            control_f = pool.submit(run_suite, "none", control_paths, workdir, timeout)
            futures = {b.name: pool.submit(run_suite, b.name, paths_for(b), workdir, timeout) for b in bugs}
            runs = {}
            for name, f in futures.items():
                runs[name] = f.result()
                if progress:
                    progress(name, runs[name])
            control = control_f.result()
        return {"control": control, "runs": runs}
    finally:
        if tmp is not None:
            tmp.cleanup()


def analyse_readings(readings: list, outcome: dict) -> list:
    out = []
    for r in readings:
        run = outcome["runs"].get(r.name)
        if run is None:
            continue
        failing = [f"{c['id']} [{c['profile']}]: {c['verdict']}: {c['message']}"
                   for c in run["cases"] if c["verdict"] in CATCHING]
        out.append({"name": r.name, "ambiguities": list(r.requirements), "description": r.description,
                    "run_ok": run["ok"], "cases_run": len(run["cases"]), "accepted": run["ok"] and not failing,
                    "failing_cases": failing[:20]})
    return out


def analyse(catalogue: list, outcome: dict) -> dict:
    control = outcome["control"]
    bad_control = [f"{c['id']} [{c['profile']}]: {c['verdict']}: {c['message']}"
                   for c in control["cases"] if c["verdict"] != "pass"]
    areas: dict = {}
    for c in control["cases"]:
        areas.setdefault(c["area"], set()).add(c["id"])
    bugs = []
    for b in catalogue:
        run = outcome["runs"].get(b.name)
        if run is None or b.family == "reading":
            continue
        catching = [c for c in run["cases"] if c["verdict"] in CATCHING]
        ids = list(dict.fromkeys(c["id"] for c in catching))
        by_area: dict = {}
        for c in catching:
            by_area.setdefault(c["area"], set()).add(c["id"])
        verdicts: dict = {}
        for c in catching:
            verdicts[c["verdict"]] = verdicts.get(c["verdict"], 0) + 1
        bugs.append({
            "name": b.name, "family": b.family, "description": b.description,
            "requirements": list(b.requirements), "areas": list(b.areas),
            "run_ok": run["ok"], "cases_run": len(run["cases"]), "wall_s": round(run["wall_s"], 2),
            "caught": bool(catching), "catching_items": len(catching), "catching_cases": len(ids),
            "first_cases": ids[:SHOWN], "catching_by_area": {a: len(s) for a, s in sorted(by_area.items())},
            "verdicts": verdicts,
            "caught_in_own_areas": any(a.split("/")[0] in by_area for a in b.areas),
            "error": None if run["ok"] else run.get("output", ""),
        })
    for a in {a for b in bugs for a in b["catching_by_area"]}:
        areas.setdefault(a, set())
    n = len(bugs)
    area_rows = {}
    for a in sorted(areas):
        caught_by = [b["name"] for b in bugs if a in b["catching_by_area"]]
        area_rows[a] = {"cases": len(areas[a]), "bugs_caught": len(caught_by),
                        "share": round(len(caught_by) / n, 3) if n else 0.0, "bugs": caught_by}
    families: dict = {}
    for b in bugs:
        f = families.setdefault(b["family"], {"bugs": 0, "caught": 0})
        f["bugs"] += 1
        f["caught"] += int(b["caught"])
    uncaught = [b["name"] for b in bugs if not b["caught"]]
    readings = analyse_readings([b for b in catalogue if b.family == "reading"], outcome)
    return {
        "format": "appc-conformance-sensitivity", "format_version": 1,
        "summary": {"bugs": n, "caught": n - len(uncaught), "uncaught": uncaught,
                    "control_passes": not bad_control and control["ok"],
                    "control_cases": len(control["cases"]),
                    "failed_runs": [b["name"] for b in bugs + readings if not b["run_ok"]],
                    "readings": len(readings), "readings_rejected": [r["name"] for r in readings if not r["accepted"]]},
        "control_problems": bad_control[:50],
        "bugs": bugs, "areas": area_rows, "families": families, "readings": readings,
    }


def markdown(report: dict, *, focused: bool) -> str:
    s = report["summary"]
    out = ["# Sensitivity of the appc conformance suite", "",
           f"{s['caught']} of {s['bugs']} catalogued bugs are caught "
           f"({'each against the areas meant to catch it' if focused else 'whole vector set'}); "
           f"control: {'passes every case' if s['control_passes'] else 'DOES NOT PASS'} "
           f"({s['control_cases']} case runs).", ""]
    if s["uncaught"]:
        out += ["**Caught by no case:** " + ", ".join(f"`{u}`" for u in s["uncaught"]), ""]
    if report["control_problems"]:
        out += ["**Control failures** (the mutant copies differ from the reference):", ""]
        out += [f"- {p}" for p in report["control_problems"]] + [""]
    out += ["## Per bug", "", "| bug | family | breaks | caught by (case runs / cases) | first catching cases |",
            "|---|---|---|---|---|"]
    for b in report["bugs"]:
        count = f"{b['catching_items']} / {b['catching_cases']}" if b["caught"] else "**none**"
        first = "<br>".join(f"`{i}`" for i in b["first_cases"])
        out.append(f"| `{b['name']}` | {b['family']} | {', '.join(b['requirements'])} | {count} | {first} |")
    out += ["", "## Per vector family (area)", "", "| area | cases | bugs caught | share of all bugs |",
            "|---|---|---|---|"]
    for a, r in report["areas"].items():
        out.append(f"| {a} | {r['cases']} | {r['bugs_caught']} | {r['share'] * 100:.0f}% |")
    out += ["", "## Per bug family", "", "| family | bugs | caught |", "|---|---|---|"]
    for f, r in sorted(report["families"].items()):
        out.append(f"| {f} | {r['bugs']} | {r['caught']} |")
    if report["readings"]:
        out += ["", "## Readings the spec allows (must pass every case)", "",
                "| reading | ambiguity | cases run | verdict |", "|---|---|---|---|"]
        for r in report["readings"]:
            verdict = "accepted" if r["accepted"] else "**rejected**: " + "; ".join(r["failing_cases"][:3])
            out.append(f"| `{r['name']}` | {', '.join(r['ambiguities'])} | {r['cases_run']} | {verdict} |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    ap.add_argument("--bug", action="append", metavar="NAME", help="only this bug or reading (repeatable)")
    ap.add_argument("--no-readings", action="store_true", help="skip the readings the spec allows")
    ap.add_argument("--focused", action="store_true",
                    help="run each bug only against the vector areas meant to catch it (faster)")
    ap.add_argument("--jobs", type=int, default=2, help="suite runs at once (at most 2)")
    ap.add_argument("--adapter-timeout", type=float, default=10.0,
                    help="per-request timeout of each run (default 10, as the plugin)")
    ap.add_argument("--vectors", default=str(VECTORS), help="vector set folder")
    args = ap.parse_args(argv)
    mod = load_catalogue()
    bugs = mod.CATALOGUE + ([] if args.no_readings else mod.READINGS)
    if args.bug:
        unknown = [n for n in args.bug if n not in mod.BY_NAME]
        if unknown:
            ap.error(f"unknown bugs: {', '.join(unknown)}")
        bugs = [mod.BY_NAME[n] for n in args.bug]
    t0 = time.monotonic()

    def progress(name, run):
        caught = sum(1 for c in run["cases"] if c["verdict"] in CATCHING)
        print(f"  {name}: {caught} catching case runs ({run['wall_s']:.1f} s)", file=sys.stderr, flush=True)

    outcome = run_all(bugs, focused=args.focused, jobs=args.jobs, timeout=args.adapter_timeout,
                      vectors_root=Path(args.vectors).resolve(), progress=progress)
    report = analyse(bugs, outcome)
    report["run"] = {"focused": args.focused, "jobs": min(args.jobs, 2), "wall_s": round(time.monotonic() - t0, 1),
                     "command": "python scripts/sensitivity.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    sys.stdout.write(markdown(report, focused=args.focused))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    s = report["summary"]
    if not s["control_passes"] or s["failed_runs"]:
        return 2
    return 1 if s["uncaught"] or s["readings_rejected"] else 0


if __name__ == "__main__":
    sys.exit(main())
