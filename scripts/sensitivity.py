#!/usr/bin/env python3
"""Measured sensitivity of the suite: run it against every catalogued mutant and report what catches what.

    python scripts/sensitivity.py                  # every bug, whole vector set; Markdown on stdout
    python scripts/sensitivity.py --json out.json  # and the report as JSON
    python scripts/sensitivity.py --reach          # each bug against the cases it can reach: the same
                                                   # figures as the whole set, in a fraction of the time
    python scripts/sensitivity.py --staged         # what tests/test_sensitivity.py runs (below)
    python scripts/sensitivity.py --focused        # each bug only against the areas meant to catch it
    python scripts/sensitivity.py --bug one-alias-hop --bug phase1-skipped

Each mutant (tests/fakes/mutants.py) is the reference adapter with one realistic bug. The suite
runs as ``appc-conformance run`` runs it (``run_verb.pytest_command``: a pytest subprocess with
--adapter-cmd and --results), at most --jobs at a time. A case *catches* a bug when its verdict is fail, error, crash, timeout or protocol-error;
an ambiguous case that accepts the mutant's answer passes, and rightly does not count.

The catalogue also lists *readings*: behaviours the spec leaves open (AMB-xx). They are not bugs,
so every case must pass against them; a case that fails one is stricter than the spec. And
*alternatives*: other behaviours the spec allows where the suite still grades a rule of the
adapter protocol or the Go library (strength library): they may fail such cases, but no
must-level case (a must-level case that fails one overstates the spec).

First the control runs (every patched copy, no bug switched on): it must pass every case, or the
copies in mutants.py have drifted from the reference and no figure below would mean anything.

The reach rule (docs/SENSITIVITY.md, "Which cases a mutant can reach"): a mutant differs from the
control only inside the functions its bug switches (``on("BUG")`` in mutants.py, or the rule it
replaces). A case whose op never runs those functions gets the control's answer, so it passes;
running it cannot change a figure. ``REACH`` below says which ops can run each patched function
(the reference's call graph); an op it does not name, or a bug found in no function it knows, is
taken to reach everything. Where an op reaches a function only through ``parse_app`` of the
case's app string (discover, resolve, fetch reach the app string parser that way), the case is
in reach only when the mutant parses that app string differently from the control (asked
through the adapter protocol before the run). The whole-set run checks the rule: a catching case
outside the reach is reported and makes the exit status 1.

Staged (the project's tests): the control on the whole set; each bug first on the areas meant to
catch it (a catch there is a catch of the whole set: more cases can only add catches), and a bug
no case of its areas catches is run again on its whole reach, so "caught by no case" is exact;
each reading on its whole reach (every case must pass, so no subset would do).

Exit status: 0 when every bug is caught by at least one case and every reading passes; 1 when some
bug is caught by none, some reading is failed, or (whole set) a case outside a bug's reach
catches it; 2 when the control does not pass or a run produced no results file.
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
import ast
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from appc_conformance.conformance import run_verb as run, vectors  # noqa: E402  (the command line of a vector run; the cases)

VECTORS = ROOT / "vectors"
MUTANTS = ROOT / "tests" / "fakes" / "mutants.py"
CATCHING = ("fail", "error", "crash", "timeout", "protocol-error")
# Adapter sessions per run for the network cases (the plugin's --network-sessions): two runs go
# at once, so two each keep the waits of the hanging-server cases overlapped without starting
# the plugin's default four mutant processes per profile in every run (most of a run's CPU).
NETWORK_SESSIONS = 2
SHOWN = 5
#: Areas where each rule must be checked by two cases at least: a bug meant to be caught there
#: (one of its areas is in the area) must be caught by two of its cases (issue: one case per rule
#: is one rewrite away from none).
TWO_CASE_AREAS = ("fetch",)


def load_catalogue():
    """The mutants module (imported from its file: tests/ is not a package on every path)."""
    spec = importlib.util.spec_from_file_location("appc_mutants", MUTANTS)
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("appc_mutants", mod)
    spec.loader.exec_module(mod)
    return mod


def mutant_cmd(bug: str) -> str:
    return f"{sys.executable} {MUTANTS} {bug}"


# --- the reach rule ---------------------------------------------------------------------------------

ALL = "all"  # every case of the op is in reach
APP = "app"  # only cases whose app string the mutant parses differently from the control

_TAGS_DOC = {"validate_imagetags": ALL, "resolve_tag": ALL, "merge_tag": ALL, "resolve": ALL, "fetch": ALL}
_MANIFEST = {"validate_manifest": ALL, "match_manifest": ALL, "fetch": ALL}
_DISCOVERY = {"discover": ALL, "resolve": ALL, "fetch": ALL}
#: The ops whose code paths are known (the reference's conformance/adapters/reference/__main__.py).
KNOWN_OPS = {
    "parse_app",
    "validate_imagetags",
    "resolve_tag",
    "merge_tag",
    "validate_manifest",
    "match_manifest",
    "discover",
    "resolve",
    "fetch",
}
#: Which ops can run each patched function of mutants.py, and how (read from the reference:
#: core.py, discovery.py, fetch.py). An identifier check runs in every op; discover reaches it
#: only through parse_app of its app string (discovery.py calls no other identifier check).
REACH = {
    "_is_ident": {
        "parse_app": ALL,
        "validate_imagetags": ALL,
        "resolve_tag": ALL,
        "merge_tag": ALL,
        "validate_manifest": ALL,
        "match_manifest": ALL,
        "discover": APP,
        "resolve": ALL,
        "fetch": ALL,
    },
    "_parse_app": {"parse_app": ALL, "match_manifest": ALL, "discover": APP, "resolve": APP, "fetch": APP},
    "_resolve_tag": {"resolve_tag": ALL, "merge_tag": ALL, "resolve": ALL, "fetch": ALL},
    "_merge_tag": {"merge_tag": ALL, "resolve": ALL, "fetch": ALL},
    "_value_matches": {"match_manifest": ALL},
    "_match_manifest": {"match_manifest": ALL},
    **{f: _TAGS_DOC for f in ("_null_members_accepted", "_unknown_member_rejected", "_dangling_alias_invalid")},
    **{
        f: _DISCOVERY
        for f in ("_Transport", "_meta_tags", "_render", "_prefix_ok", "_usable", "_walk", "_render_labels", "_resolve")
    },
}
REACH["_check_identifier"] = REACH["_is_ident"]
#: The reference's rule functions a bug may replace (RULE_BUGS, FETCH_BUGS of mutants.py).
RULE_REACH = {
    **{
        r: _TAGS_DOC
        for r in ("imagetags_members", "check_alias_target", "check_tag_label_name", "check_tag_label_value")
    }
}
MANIFEST_RULE_REACH = _MANIFEST  # every other rule of core.py is a manifest check (load_manifest)
FETCH_RULE_REACH = {"fetch": ALL}


def switch_sites(source: str | None = None) -> dict:
    """{bug: {function}}: the top-level functions and classes of mutants.py in which ``on("BUG")`` occurs."""
    tree = ast.parse(source if source is not None else MUTANTS.read_text(encoding="utf-8"))
    sites: dict = {}
    for top in tree.body:
        if not isinstance(top, (ast.FunctionDef, ast.ClassDef)):
            continue
        for node in ast.walk(top):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "on"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                sites.setdefault(node.args[0].value, set()).add(top.name)
    return sites


def _merge_reach(into: dict, more: dict) -> None:
    for op, how in more.items():
        if into.get(op) != ALL:
            into[op] = how


def bug_reach(name: str, mod, sites: dict | None = None) -> dict | None:
    """{op: ALL | APP} a bug can reach, or None for "everything" (a site the rule does not know)."""
    sites = switch_sites() if sites is None else sites
    reach: dict = {}
    found = False
    for fn in sorted(sites.get(name, ())):
        if fn not in REACH:
            return None
        _merge_reach(reach, REACH[fn])
        found = True
    for rule in getattr(mod, "RULE_BUGS", {}).get(name, {}):
        _merge_reach(reach, RULE_REACH.get(rule, MANIFEST_RULE_REACH))
        found = True
    if name in getattr(mod, "FETCH_BUGS", {}):
        _merge_reach(reach, FETCH_RULE_REACH)
        found = True
    return reach if found else None


class ParseProbe:
    """parse_app answers of a mutant and of the control, through the adapter protocol."""

    def __init__(self, timeout: float = 10.0):
        self.timeout = timeout
        self.control: dict = {}

    def _answers(self, bug: str, wanted: list) -> dict:
        from appc_conformance.conformance.adapter import AdapterSession  # noqa: PLC0415

        out = {}
        for profile in sorted({p for _a, p in wanted}):
            session = AdapterSession(mutant_cmd(bug).split(), profile, timeout=self.timeout)
            try:
                for app, p in wanted:
                    if p == profile:
                        answer = dict(session.request("parse_app", {"app": app}).answer or {})
                        answer.pop("id", None)
                        out[(app, p)] = json.dumps(answer, sort_keys=True)
            finally:
                session.close()
        return out

    def differing(self, bug: str, wanted: list) -> set:
        """The (app, profile) pairs the bug parses differently from the control."""
        missing = [w for w in wanted if w not in self.control]
        if missing:
            self.control.update(self._answers("none", missing))
        mine = self._answers(bug, wanted)
        return {w for w in wanted if mine.get(w) != self.control.get(w)}


SAMPLE_PORT = 54321  # a port as the custom-port mode puts it into {{host}} placeholders


def spec_netloc(text: str) -> bool:
    """Does ``text`` hold a ``{{host}}`` placeholder (address and port), not only ``{{host.host}}``?"""
    from appc_conformance.servers import spec  # noqa: PLC0415

    return any(m.group(2) is None for m in spec.PLACEHOLDER.finditer(text))


def app_strings(case) -> list | None:
    """The app strings the adapter can be sent for a case: its input's ``app`` with the host
    placeholders replaced as the mock servers replace them (loopback addresses from 127.0.0.2 on,
    with a port in the custom-port mode and without one on 443/80). None when that cannot be
    told (no string app, an unknown placeholder): the case is then in reach."""
    app = case.raw.get("input", {}).get("app")
    if not isinstance(app, str):
        return None
    if "{{" not in app:
        return [app]
    from appc_conformance.servers import spec  # noqa: PLC0415

    symbols = list(case.raw.get("hosts") or {})
    out = []
    for port in ("", f":{SAMPLE_PORT}"):
        values = {
            sym: {"netloc": f"127.0.0.{2 + i}{port}", "host": f"127.0.0.{2 + i}"} for i, sym in enumerate(symbols)
        }
        try:
            text = spec.substitute(app, values)
        except Exception:  # noqa: BLE001 - any doubt puts the case in reach
            return None
        if "{{" in text:
            return None
        out.append(text)
    return sorted(set(out))


def reach_selection(name: str, mod, vs, probe: ParseProbe | None = None, sites: dict | None = None) -> list:
    """The case IDs a bug can reach in the vector set ``vs`` (every case when the rule cannot tell)."""
    reach = bug_reach(name, mod, sites)
    if reach is None:
        return [c.id for c in vs.cases]
    apps = {c.id: app_strings(c) for c in vs.cases if reach.get(c.op) == APP}
    differ: set = set()
    wanted = sorted({(a, p) for c in vs.cases if apps.get(c.id) for a in apps[c.id] for p in c.profiles})
    if wanted:
        probe = probe or ParseProbe()
        differ = probe.differing(name, wanted)
    out = []
    for c in vs.cases:
        how = reach.get(c.op, ALL if c.op not in KNOWN_OPS else None)
        if how == ALL or (
            how == APP and (apps[c.id] is None or any((a, p) in differ for a in apps[c.id] for p in c.profiles))
        ):
            out.append(c.id)
    return out


def selection_args(case_ids: list, vs, vectors_root: Path) -> tuple[list, list]:
    """(paths, extra pytest args) that run exactly ``case_ids``: their files, and --case for each
    when a file holds other cases too."""
    wanted = set(case_ids)
    files = sorted({c.file for c in vs.cases if c.id in wanted})
    complete = all(c.id in wanted for c in vs.cases if c.file in files)
    paths = [Path(vs.root).parent / f for f in files]  # Case.file is relative to the set's parent
    extra = [] if complete else [a for cid in sorted(wanted) for a in ("--case", cid)]
    return paths, extra


def run_suite(bug: str, paths: list, workdir: Path, timeout: float = 10.0, extra=(), tag: str = "") -> dict:
    """Run the suite against one mutant; the results document (plus the run's own timing)."""
    results = workdir / f"{bug}{tag}.json"
    argv = run.pytest_command(
        *(str(p) for p in paths),
        "--adapter-cmd",
        mutant_cmd(bug),
        "--results",
        str(results),
        "--adapter-timeout",
        str(timeout),
        "--network-sessions",
        str(NETWORK_SESSIONS),
        *extra,
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=env, timeout=1800)
    wall = time.monotonic() - t0
    if not results.exists():
        return {
            "bug": bug,
            "ok": False,
            "wall_s": wall,
            "returncode": proc.returncode,
            "output": (proc.stdout + proc.stderr)[-3000:],
            "cases": [],
        }
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


MODES = ("whole", "reach", "focused", "staged")


def run_all(
    bugs: list,
    *,
    mode: str = "whole",
    focused: bool | None = None,
    jobs: int = 2,
    timeout: float = 10.0,
    vectors_root: Path = VECTORS,
    workdir: Path | None = None,
    progress=None,
) -> dict:
    """Run the control and every bug; ``{"control": run, "runs": {bug: run}, "mode": mode}``.

    Each run records what it ran (``selection``: whole, areas or reach) and, where the reach rule
    was applied, how many cases the bug can reach (``reach_cases``). ``focused`` is the old
    spelling of ``mode="focused"``."""
    if focused is not None:
        mode = "focused" if focused else "whole"
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="appc-sensitivity-")
        workdir = Path(tmp.name)
    mod = load_catalogue()
    sites = switch_sites()
    vs = vectors.load(vectors_root)
    probe = ParseProbe(timeout)
    import threading  # noqa: PLC0415

    probe_lock = threading.Lock()

    def reach_ids(bug) -> list:
        with probe_lock:  # one control session at a time; answers are cached
            return reach_selection(bug.name, mod, vs, probe, sites)

    def job(bug, selection: str) -> dict:
        extra: list = []
        reach_n = None
        if selection == "whole":
            paths = [vectors_root]
        elif selection == "areas":
            paths = area_paths(bug.areas, vectors_root)
        else:
            ids = reach_ids(bug)
            reach_n = len(ids)
            paths, extra = selection_args(ids, vs, vectors_root) if ids else ([], [])
        if not paths:
            out = {"bug": bug.name, "ok": True, "wall_s": 0.0, "returncode": 0, "cases": []}
        else:
            out = run_suite(bug.name, paths, workdir, timeout, extra, tag=f"-{selection}")
        out["selection"] = selection
        if reach_n is not None:
            out["reach_cases"] = reach_n
        return out

    def first_selection(bug) -> str:
        if mode == "whole":
            return "whole"
        if mode == "focused" or (mode == "staged" and bug.family not in ("reading", "alternative")):
            return "areas"
        return "reach"

    class _Control:
        name, areas, family = "none", tuple(sorted({a for b in bugs for a in b.areas})), "control"

    try:
        jobs = max(1, min(jobs, 2))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            control_sel = "areas" if mode == "focused" else "whole"
            if control_sel == "areas":
                control_f = pool.submit(
                    lambda: {
                        **run_suite(
                            "none", _outermost(area_paths(_Control.areas, vectors_root)), workdir, timeout, tag="-areas"
                        ),
                        "selection": "areas",
                    }
                )
            else:
                control_f = pool.submit(job, _Control, "whole")
            futures = {b.name: pool.submit(job, b, first_selection(b)) for b in bugs}
            runs = {}
            second = {}
            for b in bugs:
                runs[b.name] = futures[b.name].result()
                r = runs[b.name]
                if (
                    mode == "staged"
                    and b.family not in ("reading", "alternative")
                    and r["ok"]
                    and not any(c["verdict"] in CATCHING for c in r["cases"])
                ):
                    second[b.name] = pool.submit(job, b, "reach")  # not caught in its areas: its whole reach
                elif progress:
                    progress(b.name, r)
            for name, f in second.items():
                runs[name] = f.result()
                if progress:
                    progress(name, runs[name])
            control = control_f.result()
        if mode == "whole":
            for b in bugs:  # the reach rule's check: no catch (or failed reading case) outside the reach
                reach = set(reach_ids(b))
                runs[b.name]["outside_reach"] = sorted(
                    {c["id"] for c in runs[b.name]["cases"] if c["verdict"] in CATCHING and c["id"] not in reach}
                )
                runs[b.name]["reach_cases"] = len(reach)
        return {"control": control, "runs": runs, "mode": mode}
    finally:
        if tmp is not None:
            tmp.cleanup()


def analyse_readings(readings: list, outcome: dict) -> list:
    out = []
    for r in readings:
        run = outcome["runs"].get(r.name)
        if run is None:
            continue
        failing = [
            f"{c['id']} [{c['profile']}]: {c['verdict']}: {c['message']}"
            for c in run["cases"]
            if c["verdict"] in CATCHING
        ]
        out.append(
            {
                "name": r.name,
                "ambiguities": list(r.requirements),
                "description": r.description,
                "run_ok": run["ok"],
                "cases_run": len(run["cases"]),
                "accepted": run["ok"] and not failing,
                "failing_cases": failing[:20],
                "selection": run.get("selection", "whole"),
                "reach_cases": run.get("reach_cases"),
                "outside_reach": run.get("outside_reach", []),
            }
        )
    return out


def analyse_alternatives(alternatives: list, outcome: dict) -> list:
    out = []
    for r in alternatives:
        run = outcome["runs"].get(r.name)
        if run is None:
            continue
        failing = [c for c in run["cases"] if c["verdict"] in CATCHING]
        must = [
            f"{c['id']} [{c['profile']}]: {c['verdict']}: {c['message']}"
            for c in failing
            if c.get("strength") == "must"
        ]
        out.append(
            {
                "name": r.name,
                "requirements": list(r.requirements),
                "description": r.description,
                "run_ok": run["ok"],
                "cases_run": len(run["cases"]),
                "accepted": run["ok"] and not must,
                "failing_must_cases": must[:20],
                "failing_other_cases": sorted(
                    {f"{c['id']} ({c.get('strength')})" for c in failing if c.get("strength") != "must"}
                ),
                "selection": run.get("selection", "whole"),
                "reach_cases": run.get("reach_cases"),
                "outside_reach": run.get("outside_reach", []),
            }
        )
    return out


def analyse(catalogue: list, outcome: dict) -> dict:
    control = outcome["control"]
    bad_control = [
        f"{c['id']} [{c['profile']}]: {c['verdict']}: {c['message']}"
        for c in control["cases"]
        if c["verdict"] != "pass"
    ]
    areas: dict = {}
    for c in control["cases"]:
        areas.setdefault(c["area"], set()).add(c["id"])
    bugs = []
    for b in catalogue:
        run = outcome["runs"].get(b.name)
        if run is None or b.family in ("reading", "alternative"):
            continue
        catching = [c for c in run["cases"] if c["verdict"] in CATCHING]
        ids = list(dict.fromkeys(c["id"] for c in catching))
        by_area: dict = {}
        for c in catching:
            by_area.setdefault(c["area"], set()).add(c["id"])
        verdicts: dict = {}
        for c in catching:
            verdicts[c["verdict"]] = verdicts.get(c["verdict"], 0) + 1
        bugs.append(
            {
                "name": b.name,
                "family": b.family,
                "description": b.description,
                "requirements": list(b.requirements),
                "areas": list(b.areas),
                "run_ok": run["ok"],
                "cases_run": len(run["cases"]),
                "wall_s": round(run["wall_s"], 2),
                "caught": bool(catching),
                "catching_items": len(catching),
                "catching_cases": len(ids),
                "first_cases": ids[:SHOWN],
                "catching_by_area": {a: len(s) for a, s in sorted(by_area.items())},
                "verdicts": verdicts,
                "caught_in_own_areas": any(a.split("/")[0] in by_area for a in b.areas),
                "selection": run.get("selection", "whole"),
                "reach_cases": run.get("reach_cases"),
                "outside_reach": run.get("outside_reach", []),
                "error": None if run["ok"] else run.get("output", ""),
            }
        )
    for a in {a for b in bugs for a in b["catching_by_area"]}:
        areas.setdefault(a, set())
    n = len(bugs)
    area_rows = {}
    for a in sorted(areas):
        caught_by = [b["name"] for b in bugs if a in b["catching_by_area"]]
        area_rows[a] = {
            "cases": len(areas[a]),
            "bugs_caught": len(caught_by),
            "share": round(len(caught_by) / n, 3) if n else 0.0,
            "bugs": caught_by,
        }
    families: dict = {}
    for b in bugs:
        f = families.setdefault(b["family"], {"bugs": 0, "caught": 0})
        f["bugs"] += 1
        f["caught"] += int(b["caught"])
    uncaught = [b["name"] for b in bugs if not b["caught"]]
    under_two = [
        f"{b['name']} ({area}: {b['catching_by_area'].get(area, 0)})"
        for b in bugs
        for area in TWO_CASE_AREAS
        if any(a.split("/")[0] == area for a in b["areas"]) and b["catching_by_area"].get(area, 0) < 2
    ]
    readings = analyse_readings([b for b in catalogue if b.family == "reading"], outcome)
    alternatives = analyse_alternatives([b for b in catalogue if b.family == "alternative"], outcome)
    return {
        "format": "appc-conformance-sensitivity",
        "format_version": 1,
        "summary": {
            "bugs": n,
            "caught": n - len(uncaught),
            "uncaught": uncaught,
            "control_passes": not bad_control and control["ok"],
            "control_cases": len(control["cases"]),
            "failed_runs": [b["name"] for b in bugs + readings + alternatives if not b["run_ok"]],
            "readings": len(readings),
            "readings_rejected": [r["name"] for r in readings if not r["accepted"]],
            "mode": outcome.get("mode", "whole"),
            "rules_under_two_cases": under_two,
            "alternatives": len(alternatives),
            "alternatives_failing_must": [r["name"] for r in alternatives if not r["accepted"]],
            "reach_violations": [b["name"] for b in bugs + readings if b["outside_reach"]],
        },
        "control_problems": bad_control[:50],
        "bugs": bugs,
        "areas": area_rows,
        "families": families,
        "readings": readings,
        "alternatives": alternatives,
    }


MODE_TEXT = {
    "whole": "each against the whole vector set",
    "reach": "each against every case it can reach, which gives the whole set's figures",
    "focused": "each against the areas meant to catch it",
    "staged": "each against the areas meant to catch it, then its whole reach when those catch nothing",
}


def markdown(report: dict, *, focused: bool | None = None) -> str:
    s = report["summary"]
    mode = ("focused" if focused else "whole") if focused is not None else s.get("mode", "whole")
    out = [
        "# Sensitivity of the appc conformance suite",
        "",
        f"{s['caught']} of {s['bugs']} catalogued bugs are caught "
        f"({MODE_TEXT[mode]}); "
        f"control: {'passes every case' if s['control_passes'] else 'DOES NOT PASS'} "
        f"({s['control_cases']} case runs).",
        "",
    ]
    if mode == "whole":
        bad = s.get("reach_violations", [])
        out += [
            (
                "The reach rule holds: no case outside a bug's reach catches it."
                if not bad
                else "**The reach rule is broken** (a case outside the reach catches): "
                + ", ".join(f"`{n}`" for n in bad)
            ),
            "",
        ]
    if s["uncaught"]:
        out += ["**Caught by no case:** " + ", ".join(f"`{u}`" for u in s["uncaught"]), ""]
    if s.get("rules_under_two_cases"):
        out += [
            f"**Caught by fewer than two cases of {', '.join(TWO_CASE_AREAS)}:** "
            + ", ".join(f"`{u}`" for u in s["rules_under_two_cases"]),
            "",
        ]
    else:
        out += [
            f"Every bug meant to be caught in {', '.join(TWO_CASE_AREAS)} is caught there by two cases or more.",
            "",
        ]
    if report["control_problems"]:
        out += ["**Control failures** (the mutant copies differ from the reference):", ""]
        out += [f"- {p}" for p in report["control_problems"]] + [""]
    out += [
        "## Per bug",
        "",
        "| bug | family | breaks | caught by (case runs / cases) | first catching cases |",
        "|---|---|---|---|---|",
    ]
    for b in report["bugs"]:
        count = f"{b['catching_items']} / {b['catching_cases']}" if b["caught"] else "**none**"
        first = "<br>".join(f"`{i}`" for i in b["first_cases"])
        out.append(f"| `{b['name']}` | {b['family']} | {', '.join(b['requirements'])} | {count} | {first} |")
    out += [
        "",
        "## Per vector family (area)",
        "",
        "| area | cases | bugs caught | share of all bugs |",
        "|---|---|---|---|",
    ]
    for a, r in report["areas"].items():
        out.append(f"| {a} | {r['cases']} | {r['bugs_caught']} | {r['share'] * 100:.0f}% |")
    out += ["", "## Per bug family", "", "| family | bugs | caught |", "|---|---|---|"]
    for f, r in sorted(report["families"].items()):
        out.append(f"| {f} | {r['bugs']} | {r['caught']} |")
    if report["readings"]:
        out += [
            "",
            "## Readings the spec allows (must pass every case)",
            "",
            "| reading | ambiguity | cases run | verdict |",
            "|---|---|---|---|",
        ]
        for r in report["readings"]:
            verdict = "accepted" if r["accepted"] else "**rejected**: " + "; ".join(r["failing_cases"][:3])
            out.append(f"| `{r['name']}` | {', '.join(r['ambiguities'])} | {r['cases_run']} | {verdict} |")
    if report.get("alternatives"):
        out += [
            "",
            "## Other behaviours the spec allows (must fail no must-level case)",
            "",
            "| behaviour | requirements | cases run | must-level failures | other cases it fails |",
            "|---|---|---|---|---|",
        ]
        for r in report["alternatives"]:
            must = "none" if r["accepted"] else "**" + "; ".join(r["failing_must_cases"][:3]) + "**"
            other = "<br>".join(f"`{x}`" for x in r["failing_other_cases"]) or "none"
            out.append(f"| `{r['name']}` | {', '.join(r['requirements'])} | {r['cases_run']} | {must} | {other} |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    ap.add_argument("--bug", action="append", metavar="NAME", help="only this bug or reading (repeatable)")
    ap.add_argument("--no-readings", action="store_true", help="skip the readings the spec allows")
    how = ap.add_mutually_exclusive_group()
    how.add_argument(
        "--reach",
        dest="mode",
        action="store_const",
        const="reach",
        help="run each bug against the cases it can reach (the whole set's figures, faster)",
    )
    how.add_argument(
        "--staged",
        dest="mode",
        action="store_const",
        const="staged",
        help="each bug against its areas, then its reach if those catch nothing (the tests' run)",
    )
    how.add_argument(
        "--focused",
        dest="mode",
        action="store_const",
        const="focused",
        help="run each bug only against the vector areas meant to catch it (fastest)",
    )
    ap.add_argument("--jobs", type=int, default=2, help="suite runs at once (at most 2)")
    ap.add_argument(
        "--adapter-timeout",
        type=float,
        default=10.0,
        help="per-request timeout of each run (default 10, as the plugin)",
    )
    ap.add_argument("--vectors", default=str(VECTORS), help="vector set folder")
    args = ap.parse_args(argv)
    mod = load_catalogue()
    bugs = mod.CATALOGUE + ([] if args.no_readings else mod.READINGS + mod.ALTERNATIVES)
    if args.bug:
        unknown = [n for n in args.bug if n not in mod.BY_NAME]
        if unknown:
            ap.error(f"unknown bugs: {', '.join(unknown)}")
        bugs = [mod.BY_NAME[n] for n in args.bug]
    t0 = time.monotonic()

    def progress(name, run):
        caught = sum(1 for c in run["cases"] if c["verdict"] in CATCHING)
        print(f"  {name}: {caught} catching case runs ({run['wall_s']:.1f} s)", file=sys.stderr, flush=True)

    mode = args.mode or "whole"
    outcome = run_all(
        bugs,
        mode=mode,
        jobs=args.jobs,
        timeout=args.adapter_timeout,
        vectors_root=Path(args.vectors).resolve(),
        progress=progress,
    )
    report = analyse(bugs, outcome)
    report["run"] = {
        "mode": mode,
        "focused": mode == "focused",
        "jobs": min(args.jobs, 2),
        "wall_s": round(time.monotonic() - t0, 1),
        "command": "python scripts/sensitivity.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    sys.stdout.write(markdown(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    s = report["summary"]
    if not s["control_passes"] or s["failed_runs"]:
        return 2
    return (
        1
        if (
            s["uncaught"]
            or s["readings_rejected"]
            or s["reach_violations"]
            or s.get("alternatives_failing_must")
            or s.get("rules_under_two_cases")
        )
        else 0
    )


if __name__ == "__main__":
    sys.exit(main())
