#!/usr/bin/env python3
"""Speed of the suite: what one case costs at each layer, whole-suite times, growth with size.

    python scripts/benchmark.py            # every figure (a few minutes)
    python scripts/benchmark.py --quick    # fewer repeats and sizes, no x10 run of the discovery cases
    python scripts/benchmark.py --json out.json

Per-case cost, on the non-network cases (every op but discover/resolve), both profiles:
  (a) the reference called in-process (its ``handle`` function; this measurement script is the
      only place that imports an implementation);
  (b) one adapter round trip without pytest: ``AdapterSession.request`` to the reference adapter
      process (started once; the start is not counted);
  (c) one case through the whole pytest harness: the slope between a run of the N non-network
      case runs and a run of the same set multiplied by K (20, or 10 with --quick), so pytest's
      start-up and collection of the plugin cancel out: (T(K N) - T(N)) / ((K - 1) N).
Then c/b (the harness's own overhead) and b/a (the process boundary's).

(c) is measured with pytest started as ``appc-conformance run`` starts it (``run_verb.pytest_command``:
this harness and pytest's core only), and again with ``--pipeline 0``, with ``--pytest-protocol``
and as plain ``pytest vectors`` starts (every plugin installed in the environment); an empty
pytest item is measured the same way with both plugin sets.

Whole suite: the vector set's wall time for every bundled implementation that is available here
(reference, go-appc, actool), started as ``appc-conformance run`` starts it.

The whole compatibility run: ``appc-conformance run --all`` (three implementations, both
profiles, every report), side by side (the default) and ``--serial``, best of 3 (1 with
--quick), with the two modes' verdicts compared case by case; ``--compat-only`` runs only this.

Growth: the non-network cases copied 5, 10 and 20 times, the whole set 10 times (each copy's case
IDs get a suffix), run through the harness; wall time and the peak RSS of the largest process of the run (resource.getrusage of the
children, measured in a fresh wrapper process per run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from appc_conformance.conformance import registry, vectors  # noqa: E402
from appc_conformance.conformance import run_verb as run  # noqa: E402
from appc_conformance.conformance.adapter import AdapterSession  # noqa: E402


# Runs a command and prints its children's resource use (peak RSS of the largest one, CPU time).
WRAPPER = r"""
import json, resource, subprocess, sys, time
t0 = time.monotonic()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "wall_s": wall, "maxrss_kb": ru.ru_maxrss, "cpu_s": ru.ru_utime + ru.ru_stime}))
"""


def env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def local_cases(vs) -> list:
    """(case, profile) pairs of every non-network case."""
    return [(c, p) for c in vs.cases if c.op not in vectors.NETWORK_OPS for p in c.profiles]


# --- (a) in-process --------------------------------------------------------------------------------


def bench_inprocess(pairs: list, repeats: int) -> dict:
    from appc_conformance.conformance.adapters.reference import __main__ as ref  # noqa: PLC0415 - the measurement needs it in-process
    from appc_conformance.conformance.adapters.reference.errors import RefError, Unsupported  # noqa: PLC0415 - imported only when this path runs (start-up time)

    def once():
        for case, profile in pairs:
            try:
                ref.handle(case.op, case.raw["input"], profile, None)
            except (RefError, Unsupported):
                pass

    once()  # warm (imports, regex caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    best = min(times)
    return {
        "per_case_s": best / len(pairs),
        "runs": len(pairs),
        "repeats": repeats,
        "median_per_case_s": statistics.median(times) / len(pairs),
    }


# --- (b) adapter round trip ------------------------------------------------------------------------


def bench_roundtrip(pairs: list, repeats: int, argv: list) -> dict:
    sessions = {p: AdapterSession(argv, p, timeout=10) for p in vectors.PROFILES}
    try:
        for s in sessions.values():
            assert s.ensure().ok
        for case, profile in pairs[:50]:  # warm
            sessions[profile].request(case.op, case.raw["input"])
        times, failures = [], 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            for case, profile in pairs:
                ex = sessions[profile].request(case.op, case.raw["input"])
                failures += ex.status != "answer"
            times.append(time.perf_counter() - t0)
    finally:
        for s in sessions.values():
            s.close()
    best = min(times)
    return {
        "per_case_s": best / len(pairs),
        "runs": len(pairs),
        "repeats": repeats,
        "median_per_case_s": statistics.median(times) / len(pairs),
        "transport_failures": failures,
    }


# --- vector sets multiplied ------------------------------------------------------------------------


def multiplied_set(src: Path, dest: Path, factor: int, areas=None) -> Path:
    """A vector set at ``dest`` with every file of ``src`` (only ``areas`` if given) ``factor`` times.

    Copy 0 keeps its IDs; copy k (k >= 1) goes to FILE-xK.json with "/xK" appended to every ID.
    """
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(src / "schema", dest / "schema")
    shutil.copy2(src / "requirements.json", dest / "requirements.json")
    for path in vectors.vector_files(src):
        rel = path.relative_to(src)
        if areas is not None and rel.parts[0] not in areas:
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        (dest / rel.parent).mkdir(parents=True, exist_ok=True)
        for k in range(factor):
            copy = dict(doc)
            if k:
                copy["cases"] = [dict(c, id=f"{c['id']}/x{k}") for c in doc["cases"]]
            name = rel.name if k == 0 else f"{rel.stem}-x{k}.json"
            # The schema reference is relative to the file; files stay at the same depth.
            (dest / rel.parent / name).write_text(json.dumps(copy, ensure_ascii=False), encoding="utf-8")
    return dest


# pytest as a user starts it by hand: every plugin installed in the environment, the built-in ones.
PLAIN_PYTEST = (
    sys.executable,
    "-m",
    "pytest",
    "-p",
    "appc_conformance.conformance.plugin",
    "-q",
    "-p",
    "no:cacheprovider",
)


def pytest_argv(vector_root: Path, impl: str, paths=None, extra=(), plain=False) -> list:
    """A vector run's command line: as ``appc-conformance run`` starts pytest, or (``plain``) as
    ``pytest vectors`` does in this environment."""
    args = [*(str(p) for p in (paths or [vector_root])), "--vectors", str(vector_root), "--impl", impl, *extra]
    return [*PLAIN_PYTEST, *args] if plain else run.pytest_command(*args)


def measured_run(argv: list) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", WRAPPER, *argv], capture_output=True, text=True, cwd=ROOT, env=env(), timeout=3600
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def count_items(vector_root: Path, areas=None) -> int:
    vs = vectors.load(vector_root)
    return sum(len(c.profiles) for c in vs.cases if areas is None or c.area in areas)


def timed_load(root: Path, cache: bool) -> float:
    t0 = time.perf_counter()
    vectors.load(root, cache=cache)
    return time.perf_counter() - t0


def bench_harness(
    tmp: Path, repeats: int, factors=(1, 10), areas=None, impl="reference", extra=(), plain=False
) -> list:
    """Harness runs over the set multiplied by each factor: wall time, peak RSS, case runs.

    The repeats are interleaved (x1, x10, x1, x10, ...), so that a slow spell of the machine falls
    on every factor alike; each factor keeps its best run. The vector files' schema-check cache is
    filled before the timed runs (a user's second run onwards); the load is also timed without
    the cache (a first run).
    """
    sets = {}
    for f in factors:
        root = multiplied_set(vectors.default_vectors_dir(), tmp / f"x{f}", f, areas)
        load_cold_s = timed_load(root, cache=False)
        timed_load(root, cache=True)  # fills the cache
        sets[f] = {
            "root": root,
            "n": count_items(root),
            "load_cold_s": load_cold_s,
            "results": tmp / f"x{f}.results.json",
            "runs": [],
        }
    for _ in range(repeats):
        for st in sets.values():
            argv = pytest_argv(st["root"], impl, extra=["--results", str(st["results"]), *extra], plain=plain)
            st["runs"].append(measured_run(argv))
    rows = []
    for f, st in sets.items():
        best = min(st["runs"], key=lambda r: r["wall_s"])
        cases = json.loads(st["results"].read_text())["cases"] if st["results"].exists() else []
        rows.append(
            {
                "factor": f,
                "case_runs": st["n"],
                "wall_s": best["wall_s"],
                "maxrss_kb": best["maxrss_kb"],
                "cpu_s": best["cpu_s"],
                "rc": best["rc"],
                "repeats": repeats,
                "passed": sum(c["verdict"] == "pass" for c in cases),
                "runner_s": sum(c["time_s"] for c in cases),
                "load_s": timed_load(st["root"], cache=True),
                "load_cold_s": st["load_cold_s"],
            }
        )
        shutil.rmtree(st["root"])
    return rows


def slope(rows: list) -> dict:
    """Per-case cost between the first and the last row, and where it goes."""
    g1, g10 = rows[0], rows[-1]
    dn = g10["case_runs"] - g1["case_runs"]
    per = (g10["wall_s"] - g1["wall_s"]) / dn
    out = {
        "per_case_s": per,
        "n": g1["case_runs"],
        "factor": g10["factor"],
        "fixed_s": g1["wall_s"] - per * g1["case_runs"],
        # where it goes: loading the vector files (schema checks cached), the runner (request and
        # grading, as timed in each record), and pytest's own item protocol (the rest)
        "load_per_case_s": (g10["load_s"] - g1["load_s"]) / dn,
        "load_cold_per_case_s": (g10["load_cold_s"] - g1["load_cold_s"]) / dn,
        "runner_per_case_s": (g10["runner_s"] - g1["runner_s"]) / dn,
    }
    out["pytest_per_case_s"] = per - out["load_per_case_s"] - out["runner_per_case_s"]
    return out


def bench_empty_items(tmp: Path, n: int, repeats: int, plain=False) -> dict:
    """pytest's own cost of an item that does nothing, by the same slope and with the same plugins as
    a vector run (``plain``: as ``pytest`` starts by hand)."""
    argvs = {}
    for f in (1, 10):
        d = tmp / f"empty-x{f}{'-plain' if plain else ''}"
        d.mkdir()
        (d / "test_empty.py").write_text(
            "import pytest\n\n\n@pytest.mark.parametrize('i', range(%d))\ndef test_nothing(i):\n    pass\n" % (n * f)
        )
        argvs[f] = [*PLAIN_PYTEST, str(d / "test_empty.py")] if plain else run.pytest_command(str(d / "test_empty.py"))
    walls = {f: float("inf") for f in argvs}
    for _ in range(repeats):  # interleaved, as in bench_harness
        for f, argv in argvs.items():
            walls[f] = min(walls[f], measured_run(argv)["wall_s"])
    return {"per_case_s": (walls[10] - walls[1]) / (9 * n), "n": n}


# --- whole suite per implementation ----------------------------------------------------------------


def bench_implementations(names: list) -> list:
    rows = []
    for name in names:
        try:
            registry.command(name)  # builds the Go adapter once, outside the timing
        except registry.NotAvailable as exc:
            rows.append({"impl": name, "available": False, "reason": str(exc)})
            continue
        with tempfile.TemporaryDirectory() as td:
            results = Path(td) / "r.json"
            argv = pytest_argv(vectors.default_vectors_dir(), name, extra=["--results", str(results)])
            r = measured_run(argv)
            counts: dict = {}
            if results.exists():
                for c in json.loads(results.read_text())["cases"]:
                    counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
        rows.append(
            {
                "impl": name,
                "available": True,
                "wall_s": r["wall_s"],
                "maxrss_kb": r["maxrss_kb"],
                "case_runs": sum(counts.values()),
                "verdicts": counts,
            }
        )
    return rows


# --- the whole compatibility run -----------------------------------------------------------------------


def bench_compat(repeats: int) -> dict:
    """``appc-conformance run --all`` (every bundled implementation, both profiles, every report),
    as tox -e compat runs it, side by side (the default) and with ``--serial``; the Go adapter is
    built first (a warm build cache). The two runs' verdicts are compared case by case."""
    for name in registry.IMPLEMENTATIONS:
        try:
            registry.command(name)
        except registry.NotAvailable:
            pass
    fig: dict = {}
    verdicts: dict = {}
    for mode, extra in (("concurrent", []), ("serial", ["--serial"])):
        runs = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="appc-bench-compat-") as td:
                r = measured_run([sys.executable, "-m", "appc_conformance", "run", "--all", "--out", td, *extra])
                got = {}
                for f in sorted(Path(td).glob("results-*.json")):
                    for c in json.loads(f.read_text())["cases"]:
                        got[(f.stem, c["id"], c["profile"])] = c["verdict"]
                r["case_runs"] = len(got)
                runs.append(r)
                verdicts.setdefault(mode, got)
        best = min(runs, key=lambda r: r["wall_s"])
        fig[mode] = {
            "wall_s": best["wall_s"],
            "walls_s": [r["wall_s"] for r in runs],
            "rc": best["rc"],
            "maxrss_kb": best["maxrss_kb"],
            "cpu_s": best["cpu_s"],
            "case_runs": best["case_runs"],
        }
    a, b = verdicts["concurrent"], verdicts["serial"]
    fig["same_verdicts"] = a == b
    fig["differences"] = [
        f"{k[0]} {k[1]} [{k[2]}]: {a.get(k)} vs {b.get(k)} (serial)"
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k)
    ][:20]
    return fig


def render_compat(fig: dict) -> list:
    c, s = fig["concurrent"], fig["serial"]
    lines = [
        "## The whole compatibility run (`appc-conformance run --all`, every report)",
        "",
        "| mode | wall time (best) | every run | CPU time | peak RSS | case runs |",
        "|---|---|---|---|---|---|",
    ]
    for title, r in (("side by side (the default)", c), ("`--serial`", s)):
        lines.append(
            f"| {title} | {r['wall_s']:.1f} s | {', '.join(f'{w:.1f}' for w in r['walls_s'])} s | "
            f"{r['cpu_s']:.1f} s | {r['maxrss_kb'] / 1024:.0f} MiB | {r['case_runs']} |"
        )
    lines += [
        "",
        f"Target of issue 13, at most 15 s from a warm Go build cache: "
        f"**{'met' if c['wall_s'] <= 15 else 'not met'}** ({c['wall_s']:.1f} s; serial {s['wall_s']:.1f} s). "
        f"Verdicts of the two modes, case by case: **{'the same' if fig['same_verdicts'] else 'DIFFERENT'}**.",
    ]
    lines += [f"- {d}" for d in fig["differences"]]
    return lines + [""]


# --- report ----------------------------------------------------------------------------------------


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs" if seconds < 0.01 else f"{seconds * 1e3:,.1f} ms"


def render(fig: dict) -> str:
    a, b, c = fig["a"]["per_case_s"], fig["b"]["per_case_s"], fig["c"]["per_case_s"]
    e, e_plain = fig["empty_item"]["per_case_s"], fig["empty_item_plain"]["per_case_s"]
    row = lambda title, key, how="the same": f"| {title} | {us(fig[key]['per_case_s'])} | {how} |"  # noqa: E731
    lines = [
        f"# appc conformance suite: benchmark ({fig['when']})",
        "",
        f"Machine: {fig['machine']}; load average at start {fig['load_start']}, at end {fig['load_end']}.",
        f"Command: `{fig['command']}`",
        "",
        f"## Per-case cost (non-network cases, {fig['a']['runs']} case runs of both profiles)",
        "",
        "| layer | per case | how measured |",
        "|---|---|---|",
        f"| (a) reference in-process | {us(a)} | best of {fig['a']['repeats']} passes over every case |",
        f"| (b) adapter round trip, no pytest | {us(b)} | AdapterSession.request, best of {fig['b']['repeats']} passes |",
        f"| (c) one case through the harness, as `appc-conformance run` starts pytest | {us(c)} | "
        f"(T({fig['c']['factor']}N) - T(N)) / {fig['c']['factor'] - 1}N, N = {fig['c']['n']} case runs |",
        row("(c) with `--pipeline 0` (one request at a time)", "c_serial", "(T(10N) - T(N)) / 9N"),
        row("(c) with `--pytest-protocol` (pytest's setup, call and teardown hooks)", "c_pytest_protocol"),
        row("(c) as plain `pytest vectors` starts (every plugin installed here)", "c_plain"),
        f"| an empty pytest item (`def test(): pass`), plugins as (c) | {us(e)} | (T(10N) - T(N)) / 9N |",
        f"| an empty pytest item, plugins as plain `pytest` | {us(e_plain)} | the same |",
        "",
        "Where (c) goes, per case run:",
        "",
        f"- loading the vector files: {us(fig['c']['load_per_case_s'])} with the schema checks cached "
        f"(every run after the first), {us(fig['c']['load_cold_per_case_s'])} without",
        f"- the runner (sending ahead, reading the answer, grading, as timed in each record): "
        f"{us(fig['c']['runner_per_case_s'])}",
        f"- pytest (collection, the item's protocol, the reports) and the plugin hooks: "
        f"{us(fig['c']['pytest_per_case_s'])}",
        "",
        f"Ratios: **c/b = {c / b:.2f}** (harness overhead per case), **b/a = {b / a:.1f}** "
        f"(process boundary); plain `pytest vectors`: c/b = {fig['c_plain']['per_case_s'] / b:.2f}; "
        f"an empty pytest item against a round trip: {e / b:.2f} with the plugins of (c), "
        f"{e_plain / b:.2f} with every plugin.",
        f"Fixed cost of a pytest run (start-up, collection, adapter start): {fig['c']['fixed_s']:.2f} s.",
        "",
        f"Targets of issue 5: c within 3 times b: **{'met' if c <= 3 * b else 'not met'}** "
        f"(c/b = {c / b:.2f}); growth linear: {growth_verdict(fig['growth_local'])}.",
        "",
        "## Whole suite per implementation (as `appc-conformance run --impl NAME` starts pytest)",
        "",
        "| implementation | case runs | wall time | peak RSS | verdicts |",
        "|---|---|---|---|---|",
    ]
    for r in fig["impls"]:
        if not r["available"]:
            lines.append(f"| {r['impl']} | - | not available | - | {r['reason']} |")
            continue
        v = ", ".join(f"{n} {k}" for k, n in sorted(r["verdicts"].items()))
        lines.append(
            f"| {r['impl']} | {r['case_runs']} | {r['wall_s']:.1f} s | {r['maxrss_kb'] / 1024:.0f} MiB | {v} |"
        )
    for title, rows in (("non-network cases", fig["growth_local"]), ("whole vector set", fig.get("growth_all"))):
        if not rows:
            continue
        base = rows[0]
        lines += [
            "",
            f"## Growth with the vector set multiplied ({title}, reference)",
            "",
            "| factor | case runs | wall time | time vs x1 | marginal cost per added case run | peak RSS |",
            "|---|---|---|---|---|---|",
        ]
        prev = None
        for r in rows:
            marginal = (
                "-" if prev is None else us((r["wall_s"] - prev["wall_s"]) / (r["case_runs"] - prev["case_runs"]))
            )
            lines.append(
                f"| x{r['factor']} | {r['case_runs']} | {r['wall_s']:.2f} s | "
                f"{r['wall_s'] / base['wall_s']:.2f} | {marginal} | {r['maxrss_kb'] / 1024:.0f} MiB |"
            )
            prev = r
        lines.append("")
        lines.append(
            "Linear growth shows as a constant marginal cost from row to row; the x1 wall time "
            "includes the fixed cost of a run."
        )
    if fig.get("compat"):
        lines += [""] + render_compat(fig["compat"])
    return "\n".join(lines) + "\n"


def growth_verdict(rows: list) -> str:
    """Linear when the last step's marginal cost per case run is within 25% of the one before it.

    The sizes are x1 < ... < x(M) < x(L). The last step (x(M) to x(L)) is compared with everything
    before it (x1 to x(M)): a cost per case that rises with the number of cases makes the last
    step the dearer one (for a quadratic cost, up to (M + L) / (1 + M) times). Both are
    differences over many cases, so this machine's noise weighs less on them than on a small step.
    """
    if len(rows) < 3:
        return "not measured (needs three sizes)"
    first, mid, last = rows[0], rows[-2], rows[-1]
    m_last = (last["wall_s"] - mid["wall_s"]) / (last["case_runs"] - mid["case_runs"])
    m_before = (mid["wall_s"] - first["wall_s"]) / (mid["case_runs"] - first["case_runs"])
    ratio = m_last / m_before
    return (
        f"{'yes' if ratio <= 1.25 else 'no'} (marginal cost per case run from x{mid['factor']} to "
        f"x{last['factor']}: {us(m_last)}, {ratio:.2f} times that from x{first['factor']} "
        f"to x{mid['factor']}, {us(m_before)})"
    )


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats; no x10 run of the whole vector set")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ap.add_argument(
        "--impl", action="append", help="implementations for the whole-suite times (default: every bundled one)"
    )
    ap.add_argument(
        "--compat-only", action="store_true", help="only the whole compatibility run, side by side and serial"
    )
    args = ap.parse_args(argv)
    repeats = 2 if args.quick else 5
    fig = {
        "when": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_start": loadavg(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
        "command": "python scripts/benchmark.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    say = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    if args.compat_only:
        say("the whole compatibility run, side by side and serial ...")
        fig["compat"] = bench_compat(1 if args.quick else 3)
        fig["load_end"] = loadavg()
        sys.stdout.write(
            "\n".join(
                [
                    f"# appc conformance suite: benchmark ({fig['when']})",
                    "",
                    f"Machine: {fig['machine']}; load average at start {fig['load_start']}, at end {fig['load_end']}.",
                    f"Command: `{fig['command']}`",
                    "",
                    *render_compat(fig["compat"]),
                ]
            )
        )
        if args.json:
            Path(args.json).write_text(json.dumps(fig, indent=1) + "\n")
        return 0
    vs = vectors.load()
    pairs = local_cases(vs)
    local_areas = sorted({c.area for c, _ in pairs})
    say(f"(a) in-process over {len(pairs)} case runs ...")
    fig["a"] = bench_inprocess(pairs, repeats * 4)
    say("(b) adapter round trips ...")
    fig["b"] = bench_roundtrip(pairs, repeats, registry.command("reference"))
    with tempfile.TemporaryDirectory(prefix="appc-bench-") as td:
        tmp = Path(td)
        # Steps of at least 4 N cases: a smaller step's time is within this machine's noise.
        factors = (1, 5, 10) if args.quick else (1, 5, 10, 20)
        say(f"(c) and growth: the non-network cases {', '.join(f'x{f}' for f in factors)} through pytest ...")
        fig["growth_local"] = bench_harness(tmp, 1 if args.quick else 5, factors, areas=local_areas)
        fig["c"] = slope(fig["growth_local"])
        reps = 1 if args.quick else 3
        for key, title, kw in (
            ("c_serial", "one request at a time (--pipeline 0)", {"extra": ["--pipeline", "0"]}),
            (
                "c_pytest_protocol",
                "pytest's own runtest protocol (--pytest-protocol)",
                {"extra": ["--pytest-protocol"]},
            ),
            ("c_plain", "as plain `pytest vectors` starts (every installed plugin)", {"plain": True}),
        ):
            say(f"(c) again, {title} ...")
            fig[key] = slope(bench_harness(tmp, reps, (1, 10), areas=local_areas, **kw))
        say("an empty pytest item, for comparison ...")
        fig["empty_item"] = bench_empty_items(tmp, fig["c"]["n"], reps)
        fig["empty_item_plain"] = bench_empty_items(tmp, fig["c"]["n"], reps, plain=True)
        if not args.quick:
            say("growth of the whole vector set (discovery included) x1, x10 ...")
            fig["growth_all"] = bench_harness(tmp, 1, (1, 10))
    say("whole suite per implementation ...")
    fig["impls"] = bench_implementations(args.impl or list(registry.IMPLEMENTATIONS))
    say("the whole compatibility run, side by side and serial ...")
    fig["compat"] = bench_compat(1 if args.quick else 3)
    fig["load_end"] = loadavg()
    fig["ratios"] = {
        "c_over_b": fig["c"]["per_case_s"] / fig["b"]["per_case_s"],
        "b_over_a": fig["b"]["per_case_s"] / fig["a"]["per_case_s"],
    }
    sys.stdout.write(render(fig))
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
