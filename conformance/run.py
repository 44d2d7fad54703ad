"""``appc-conformance run``: the suite against one or every bundled implementation.

Each implementation runs in its own pytest process (``pytest VECTORS --impl NAME --results
FILE``), so a crash of one never touches another. An implementation that is not available
(Go or actool missing) gets a results file that says so, with the install command, and no
cases. Then every report is written from the results files.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from conformance import __version__, registry, vectors

DEFAULT_OUT = Path("out")

# How a vector run starts pytest: with this harness and pytest's core only. Plugins installed in
# the environment are not loaded (--disable-plugin-autoload: pytest-httpserver and hypothesis
# serve the project's own tests, and a stray plugin would tax every case); nor are the built-in
# ones a vector run has no use for (log capture, warning capture, unraisable and thread exception
# capture, output capture: the harness keeps each adapter's stderr with its case itself, and the
# run's output goes to a log). Together they cost a case more than the case itself: see
# docs/BENCHMARK.md. Give ``--pytest-arg=-p --pytest-arg=NAME`` to load a plugin.
PYTEST_ARGS = ("--disable-plugin-autoload", "-p", "conformance.plugin", "-q", "-p", "no:cacheprovider",
               "-p", "no:logging", "-p", "no:warnings", "-p", "no:unraisableexception",
               "-p", "no:threadexception", "--capture=no")


def pytest_command(*args: str) -> list[str]:
    """The command line of a vector run: ``pytest`` with PYTEST_ARGS, then ``args``."""
    return [sys.executable, "-m", "pytest", *PYTEST_ARGS, *args]


def add_arguments(p: argparse.ArgumentParser) -> None:
    who = p.add_mutually_exclusive_group()
    who.add_argument("--impl", action="append", metavar="NAME",
                     help=f"a bundled implementation (repeatable): {', '.join(registry.IMPLEMENTATIONS)}")
    who.add_argument("--all", action="store_true", help="every bundled implementation (the default)")
    who.add_argument("--adapter-cmd", metavar="COMMAND", help="any other adapter's command line")
    p.add_argument("--name", default="custom", help="file name stem for --adapter-cmd results (default: custom)")
    p.add_argument("--profile", action="append", choices=vectors.PROFILES, help="profile (repeatable; default: all)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT}/)")
    p.add_argument("--vectors", type=Path, default=None, help="vector set folder (default: the bundled one)")
    p.add_argument("--case", action="append", metavar="PATTERN", help="only cases whose ID matches (repeatable)")
    p.add_argument("--adapter-timeout", type=vectors.adapter_timeout, default=None, metavar="SECONDS")
    p.add_argument("--expectations", type=Path, default=None,
                   help="folder of expectation files (IMPL.json); default: the bundled expectations/")
    p.add_argument("--no-report", action="store_true", help="write the results files only")
    p.add_argument("--publish", type=Path, default=None, metavar="FILE",
                   help="also write the Markdown compatibility summary to FILE (the committed "
                        "reports/COMPATIBILITY.md is made this way)")
    p.add_argument("--pytest-arg", action="append", default=[], metavar="ARG",
                   help="an extra argument for pytest (repeatable)")


def unavailable_results(impl_id: str, reason: str, profiles: list[str]) -> dict:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return {"format": "appc-conformance-results", "format_version": 1,
            "run": {"suite_version": __version__, "commit": None, "vectors_hash": None,
                    "profiles": profiles, "started": now, "duration_s": 0.0, "argv": [], "problems": []},
            "implementation": {"id": impl_id, "name": impl_id, "version": None, "language": None,
                               "homepage": None, "available": False, "unavailable_reason": reason,
                               "command": []},
            "cases": []}


def run_one(label: str, selector: list[str], args, results: Path) -> tuple[int, dict | None]:
    root = args.vectors.resolve() if args.vectors else vectors.default_vectors_dir()
    argv = pytest_command("--rootdir", str(root), str(root), "--vectors", str(root), "--results", str(results),
                          *selector)
    profiles = args.profile or []
    if not profiles and selector[0] == "--impl":  # a bundled implementation: the profiles it has
        profiles = list(registry.get(label).profiles)
    for prof in profiles:
        argv += ["--profile", prof]
    for pat in args.case or []:
        argv += ["--case", pat]
    if args.adapter_timeout:
        argv += ["--adapter-timeout", str(args.adapter_timeout)]
    exp_dir = args.expectations or (vectors.project_root() / "expectations")
    if (exp_dir / f"{label}.json").is_file():
        argv += ["--expectations", str(exp_dir / f"{label}.json")]
    argv += args.pytest_arg
    log = results.with_suffix(".log")
    with open(log, "w") as fh:
        code = subprocess.call(argv, stdout=fh, stderr=subprocess.STDOUT)
    if not results.exists():
        return code, None
    from reports.results import ResultsError, parse  # noqa: PLC0415
    try:
        return code, parse(results.read_text(encoding="utf-8"), results)
    except ResultsError as exc:
        print(f"{label}: {exc}", file=sys.stderr)
        return code, None


def _counts(doc: dict) -> str:
    counts: dict[str, int] = {}
    for c in doc["cases"]:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "no case ran"


def run(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    profiles = args.profile or list(vectors.PROFILES)
    if args.adapter_cmd:
        plan = [(args.name, ["--adapter-cmd", args.adapter_cmd])]
    else:
        names = args.impl or list(registry.IMPLEMENTATIONS)
        plan = []
        for name in names:
            try:
                registry.get(name)
            except registry.UnknownImplementation as exc:
                print(f"run: {exc}", file=sys.stderr)
                return 2
            plan.append((name, ["--impl", name]))
    files, worst = [], 0
    for label, selector in plan:
        results = (args.out / f"results-{label}.json").resolve()
        if selector[0] == "--impl":
            try:
                registry.command(label)  # builds the Go adapter on first use
            except registry.NotAvailable as exc:
                print(f"{label}: not available: {exc}", file=sys.stderr)
                _write(results, unavailable_results(label, str(exc), profiles))
                files.append(results)
                continue
        t0 = time.monotonic()
        print(f"{label}: running ...", file=sys.stderr, flush=True)
        code, doc = run_one(label, selector, args, results)
        if doc is None:
            print(f"{label}: the run wrote no results (pytest exit {code}); see {results.with_suffix('.log')}",
                  file=sys.stderr)
            worst = 2
            continue
        files.append(results)
        print(f"{label}: {_counts(doc)} ({time.monotonic() - t0:.1f} s) -> {results}", file=sys.stderr)
        worst = max(worst, 1 if code == 1 else (0 if code == 0 else 2))
    if not args.no_report and files:
        from reports import cli as reports_cli  # the report verbs own the formats
        reports_cli.write_all(files, args.out)
        print(f"reports: {args.out}/", file=sys.stderr)
        if args.publish:
            args.publish.write_bytes((args.out / "summary.md").read_bytes())
            print(f"published: {args.publish}", file=sys.stderr)
    return worst


def _write(path: Path, doc: dict) -> None:
    from reports.results import write_results
    write_results(path, doc)
