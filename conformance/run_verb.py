"""``appc-conformance run``: the suite against one or every bundled implementation, or any adapter.

Each implementation runs in its own pytest process (``pytest VECTORS --impl NAME --results
FILE``), so a crash of one never touches another; the processes run side by side (``--serial``:
one after another). An implementation that is not available (Go or actool missing) gets a
results file that says so, with the install command, and no cases. Then every report is
written from the results files.

What a run reads is what it wrote: each child writes into a folder this run created
(``OUT/.run-PID-XXXX``), and only a file found there is moved to ``OUT/results-NAME.json``.
Before anything runs, what an earlier run wrote into OUT (its results files, logs and
reports: ``previous_output``) is removed, so the folder never mixes two runs. The children stop
with the CLI: SIGINT and SIGTERM are passed on to them (and, after a grace period, SIGKILL to
their process groups); each child writes what it graded, marked incomplete (``run.incomplete``,
``run.not_run``), and the CLI keeps those files and writes the reports from them before it
exits with 128 + the signal. If the CLI is killed outright, each child sees the end of a pipe
the CLI held open and stops its adapters and exits without writing results.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from appc_conformance.conformance import __version__, grading, registry, vectors
from appc_conformance.text import printable

if TYPE_CHECKING:  # imported when a run reads expectations files (cli), not by every child
    from appc_conformance.reports.expectations import Expectations

DEFAULT_OUT = Path("appc-conformance-out")  # the default of ``appc-conformance report`` too; a name of
# its own, so a run from an implementer's repository never writes into a reports/ folder of theirs
PROGRESS_EVERY_S = 5.0  # a progress line per implementation at most this often in a CI log
FAILING_SHOWN = 20  # failing cases listed on the console at the end; the reports have the rest
GRACE_S = 5.0  # after SIGINT, how long a child may take to stop before its group gets SIGKILL

# How a vector run starts pytest: with this harness and pytest's core only. Plugins installed in
# the environment are not loaded (--disable-plugin-autoload: pytest-httpserver and hypothesis
# serve the project's own tests, and a stray plugin would tax every case); nor are the built-in
# ones a vector run has no use for (log capture, warning capture, unraisable and thread exception
# capture, output capture: the harness keeps each adapter's stderr with its case itself, and the
# run's output goes to a log). Together they cost a case more than the case itself: see
# docs/BENCHMARK.md. Give ``--pytest-arg=-p --pytest-arg=NAME`` to load a plugin.
PYTEST_ARGS = (
    "--disable-plugin-autoload",
    "-p",
    "appc_conformance.conformance.plugin",
    "-q",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:logging",
    "-p",
    "no:warnings",
    "-p",
    "no:unraisableexception",
    "-p",
    "no:threadexception",
    "--capture=no",
)


# pytest started so that the current folder is not on its import path (``python -m`` would put
# it first): run from an implementer's repository, a package of theirs named like one of pytest's
# plugins or dependencies is never imported in place of it. The harness is handed to pytest
# already imported: for a plugin named by ``-p`` alone, pytest first reads the entry points of
# every installed distribution (a tenth of a second of each run's start-up, more in a large
# environment); the ``-p`` in PYTEST_ARGS then finds it registered under the same name.
PYTEST_MAIN = (
    "import sys; del sys.path[0]; import pytest; "
    "from appc_conformance.conformance import plugin; sys.exit(pytest.main(plugins=[plugin]))"
)


def pytest_command(*args: str) -> list[str]:
    """The command line of a vector run: ``pytest`` with PYTEST_ARGS, then ``args``."""
    return [sys.executable, "-c", PYTEST_MAIN, *PYTEST_ARGS, *args]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--impl",
        action="append",
        metavar="NAME",
        help=f"a bundled implementation (repeatable): {', '.join(registry.IMPLEMENTATIONS)}",
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="every bundled implementation (the default unless --impl or --adapter-cmd is given)",
    )
    p.add_argument(
        "--adapter-cmd",
        metavar="COMMAND",
        help="any other adapter's command line (with --impl or --all: in the same reports)",
    )
    p.add_argument("--name", default="custom", help="file name stem for --adapter-cmd results (default: custom)")
    p.add_argument("--profile", action="append", choices=vectors.PROFILES, help="profile (repeatable; default: all)")
    p.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"output folder (default: {DEFAULT_OUT}/, as for appc-conformance report)",
    )
    p.add_argument("--vectors", type=Path, default=None, help="vector set folder (default: the bundled one)")
    p.add_argument(
        "--case",
        action="append",
        metavar="PATTERN",
        help="only cases whose ID matches this glob (repeatable); a pattern that matches no case is an error",
    )
    p.add_argument(
        "--adapter-timeout",
        type=getattr(vectors, "adapter_timeout", float),
        default=None,
        metavar="SECONDS",
        help="how long the harness waits for one answer of the adapter before the case "
        "gets the verdict timeout (default 10)",
    )
    p.add_argument(
        "--pipeline",
        type=int,
        default=None,
        metavar="DEPTH",
        help="requests sent ahead to an adapter while earlier cases are recorded (default 8; 0: one request at a time)",
    )
    p.add_argument(
        "--serial",
        action="store_true",
        help="one implementation after another, and the discovery cases one at a time "
        "(the default runs them side by side: docs/ARCHITECTURE.md, 'Speed of a run')",
    )
    p.add_argument(
        "--progress-interval",
        type=float,
        default=PROGRESS_EVERY_S,
        metavar="SECONDS",
        help="when stderr is not a terminal (a CI log): a progress line per implementation "
        f"at most this often (default {PROGRESS_EVERY_S:g}); on a terminal one line is kept up to date",
    )
    p.add_argument(
        "--expectations",
        type=Path,
        default=None,
        metavar="FILE_OR_DIR",
        help="known failures: a folder of IMPL.json files, or one file (for the "
        "implementation it names); default: the bundled expectations/",
    )
    p.add_argument(
        "--spec-src",
        metavar="DIR",
        default=None,
        help="go-appc: build the Go adapter against this appc/spec checkout (e.g. a spec "
        "change) instead of Debian's library; its results are results-go-appc-NAME.json, "
        "its expectations go-appc-NAME.json, its profiles the ones the build claims "
        "(README, 'Gating a spec change')",
    )
    p.add_argument(
        "--spec-name",
        metavar="NAME",
        default=None,
        help="with --spec-src: the tree's name in the version, the results and the expectations "
        "file names (default: the folder's name)",
    )
    p.add_argument("--no-report", action="store_true", help="write the results files only")
    p.add_argument(
        "--publish",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the Markdown compatibility summary to FILE (the committed "
        "reports/COMPATIBILITY.md is made this way)",
    )
    p.add_argument(
        "--rkt-src",
        type=Path,
        default=None,
        metavar="DIR",
        help="an rkt source tree (a checkout of github.com/rkt/rkt) to build the rkt adapter "
        "against (default: $RKT_SRC; without one, rkt is not available)",
    )
    p.add_argument(
        "--validate-adapter",
        action="store_true",
        help="check every protocol message against its JSON Schema (passed to the pytest "
        "plugin): a message that breaks it is a protocol-error",
    )
    p.add_argument(
        "--pytest-arg", action="append", default=[], metavar="ARG", help="an extra argument for pytest (repeatable)"
    )


def unavailable_results(impl_id: str, reason: str, profiles: list[str]) -> dict:
    now = datetime_now()
    return {
        "format": "appc-conformance-results",
        "format_version": 1,
        "run": {
            "suite_version": __version__,
            "commit": None,
            "vectors_hash": None,
            "profiles": profiles,
            "started": now,
            "duration_s": 0.0,
            "argv": [],
            "problems": [],
        },
        "implementation": {
            "id": impl_id,
            "name": impl_id,
            "version": None,
            "language": None,
            "homepage": None,
            "available": False,
            "unavailable_reason": reason,
            "command": [],
        },
        "cases": [],
    }


def datetime_now() -> str:
    from datetime import datetime, timezone  # noqa: PLC0415

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class UsageError(Exception):
    """A bad command line: printed as ``run: MESSAGE``, exit 2."""


# --- the plan ------------------------------------------------------------------------------------


@dataclass
class Job:
    label: str
    selector: list
    results: Path  # OUT/results-LABEL.json, where the results end up
    expectations: Expectations | None = None
    stem: str = ""  # the results and expectations file stem (the label, or go-appc-NAME for --spec-src)
    profiles: list | None = None  # the profiles to run by default (None: the registry's)
    # set while it runs
    private: Path | None = None  # this run's own file for the child's results
    progress_path: Path | None = None
    proc: subprocess.Popen | None = None
    log_fh: IO[str] | None = None
    t0: float = 0.0
    total: int | None = None
    done: int = 0
    failing: int = 0
    known: int = 0
    offset: int = 0
    code: int | None = None
    doc: dict | None = None
    elapsed: float = 0.0
    reported: tuple = field(default_factory=tuple)

    @property
    def log(self) -> Path:
        return self.results.with_suffix(".log")


def _vector_root(args) -> Path:
    return args.vectors.resolve() if args.vectors else vectors.default_vectors_dir()


def check_cases(args) -> None:
    """Every --case pattern matches at least one case of the vector set."""
    if not args.case:
        return
    vs = vectors.load(_vector_root(args))
    ids = [c.id for c in vs.cases]
    empty = [p for p in args.case if not any(fnmatch.fnmatchcase(i, p) for i in ids)]
    suite = [p for p in empty if any(fnmatch.fnmatchcase(c.id, p) for c in vs.suite_cases)]
    if suite:  # publisher cases: they test the suite's own check, never an adapter
        raise UsageError(
            f"--case {', '.join(repr(p) for p in suite)} matches only publisher cases: they test "
            f"the suite's own check-publisher, not an implementation, so no run sends them to an "
            f"adapter (the project's tests run them: tests/test_publisher.py; docs/VECTORS.md)"
        )
    if empty:
        raise UsageError(
            f"--case {', '.join(repr(p) for p in empty)} matches no case of the vector set "
            f"in {_vector_root(args)} ({len(ids)} cases; {vectors.like_pattern(empty[0], ids)})"
        )


def load_expectations(args, labels: list[str], stems: dict | None = None) -> dict:
    """{label: Expectations} from --expectations (a file or a folder) or the bundled folder."""
    from appc_conformance.reports import expectations as expmod  # noqa: PLC0415

    path = args.expectations
    if path is not None and not path.exists():
        raise UsageError(f"--expectations {path}: no such file or folder")
    out = {}
    try:
        if path is not None and path.is_file():
            exp = expmod.load(path)
            by_stem = {(stems or {}).get(label, label): label for label in labels}
            if exp.implementation not in by_stem:
                raise UsageError(
                    f"--expectations {path} is for implementation {exp.implementation!r}, "
                    f"which this run does not run ({', '.join(by_stem)})"
                )
            out[by_stem[exp.implementation]] = exp
        else:
            folder = path if path is not None else expmod.default_dir()
            for label in labels:
                f = folder / f"{(stems or {}).get(label, label)}.json"
                if f.is_file():
                    out[label] = expmod.load(f)
                elif path is not None:  # a folder given on purpose: say which implementation it misses
                    print(
                        f"run: no expectations file for {label} in {folder} (looked for {f.name}): every "
                        f"failure of {label} counts",
                        file=sys.stderr,
                    )
    except expmod.ExpectationsError as exc:
        raise UsageError(f"--expectations: {exc}") from None
    return out


def warn_expectations(args, exps: dict, console: "Console") -> None:
    """A TODO reason, or an entry that names no case of the vector set: said, never taken silently."""
    if not exps:
        return
    from appc_conformance.reports import expectations as expmod  # noqa: PLC0415

    ids = [c.id for c in vectors.load(_vector_root(args)).cases]
    for exp in exps.values():
        for line in expmod.usage_warnings(exp, ids):
            console.line(f"run: warning: {line}")


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")  # --name: it names files (results-NAME.json)


def check_output_options(args) -> None:
    """--name, --publish and --no-report, checked before anything runs (a usage error, not a
    traceback at the end of a run, nor a silent no-op)."""
    if args.adapter_cmd and not NAME.match(args.name or ""):
        raise UsageError(
            f"--name {args.name!r}: a name of letters, digits, '.', '_' and '-' (at most 64, "
            f"starting with a letter or digit): it names the results file results-NAME.json"
        )
    if args.publish is not None:
        if args.no_report:
            raise UsageError(
                "--publish writes the Markdown summary of the reports, and --no-report makes none: give one of them"
            )
        folder = args.publish.parent
        if not folder.is_dir():
            raise UsageError(f"--publish {args.publish}: the folder {folder} does not exist")
        if args.publish.is_dir():
            raise UsageError(f"--publish {args.publish}: a folder, not a file")


def make_plan(args) -> list[Job]:
    check_output_options(args)
    names = list(dict.fromkeys(args.impl or []))
    if args.all or (not names and not args.adapter_cmd):
        names = list(dict.fromkeys([*names, *registry.IMPLEMENTATIONS]))
    for name in names:
        try:
            registry.get(name)
        except registry.UnknownImplementation as exc:
            raise UsageError(str(exc)) from None
    plan = [(n, ["--impl", n]) for n in names]
    if args.adapter_cmd:
        if args.name in names:
            raise UsageError(
                f"--name {args.name!r} is a bundled implementation of this run: give "
                f"the --adapter-cmd results another --name"
            )
        plan.append((args.name, ["--adapter-cmd", args.adapter_cmd]))
    out = args.out.resolve()
    jobs = [Job(label, sel, out / f"results-{label}.json", stem=label) for label, sel in plan]
    tree = spec_tree(args)
    for job in jobs:
        if tree is not None and job.label == "go-appc" and job.selector[0] == "--impl":
            job.stem = f"go-appc-{tree.name}"
            job.results = out / f"results-{job.stem}.json"
    return jobs


def spec_tree(args):
    """--spec-src: the tree go-appc builds against (exported as APPC_SPEC_SRC and APPC_SPEC_NAME,
    which the build reads here and in the children), or None for Debian's library."""
    if not getattr(args, "spec_src", None):
        if getattr(args, "spec_name", None):
            raise UsageError("--spec-name needs --spec-src")
        return None
    from appc_conformance.conformance.adapters.go import build as go_build  # noqa: PLC0415

    try:
        tree = go_build.spec_tree(args.spec_src, args.spec_name, env={})
    except go_build.SpecTreeError as exc:
        raise UsageError(f"--spec-src: {exc}") from None
    os.environ[go_build.ENV_SPEC_SRC] = str(tree.path)
    if args.spec_name:
        os.environ[go_build.ENV_SPEC_NAME] = args.spec_name
    else:
        os.environ.pop(go_build.ENV_SPEC_NAME, None)
    return None if tree.default else tree


def child_argv(job: Job, args, stop_fd: int) -> list[str]:
    root = _vector_root(args)
    argv = pytest_command(
        "--rootdir",
        str(root),
        str(root),
        "--vectors",
        str(root),
        "--results",
        str(job.private),
        "--progress-file",
        str(job.progress_path),
        "--stop-on-eof",
        str(stop_fd),
        *job.selector,
    )
    profiles = args.profile or []
    if not profiles and job.selector[0] == "--impl":  # a bundled implementation: the profiles it has
        profiles = job.profiles or list(registry.get(job.label).profiles)
    for prof in profiles:
        argv += ["--profile", prof]
    for pat in args.case or []:
        argv += ["--case", pat]
    if args.adapter_timeout:
        argv += ["--adapter-timeout", str(args.adapter_timeout)]
    if args.pipeline is not None:
        argv += ["--pipeline", str(args.pipeline)]
    if args.serial:
        argv += ["--network-sessions", "1"]
    if args.validate_adapter:
        argv += ["--validate-adapter"]
    if job.expectations is not None:
        argv += ["--expectations", str(job.expectations.path)]
    return argv + args.pytest_arg


# --- the children ----------------------------------------------------------------------------------


class Interrupted(Exception):
    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum, frame):
    raise Interrupted(signum)


def _clean_stale_private(out: Path) -> None:
    """Remove the private folders of runs whose CLI is gone (killed before it could clean up)."""
    for d in out.glob(".run-*-*"):
        try:
            pid = int(d.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        try:
            os.kill(pid, 0)
            continue  # that run is still going
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except PermissionError:
            continue


#: What a run writes into its output folder (reports/cli.py writes the reports): an earlier run's
#: files of these names are removed before a run starts. Nothing else in the folder is touched.
PREVIOUS_OUTPUT = (
    "results-*.json",
    "results-*.log",
    "report.html",
    "summary.md",
    "junit.xml",
    "coverage.md",
    "coverage.json",
    "badge-*.json",
    "badge-*.svg",
)


def previous_output(out: Path) -> list[Path]:
    """The files an earlier run (or ``report``) left in ``out``."""
    return sorted({p for pat in PREVIOUS_OUTPUT for p in out.glob(pat) if p.is_file() or p.is_symlink()})


def clear_previous_output(out: Path, console: "Console") -> None:
    gone = previous_output(out)
    for p in gone:
        p.unlink(missing_ok=True)
    if gone:
        console.line(f"run: removed {len(gone)} files of an earlier run from {out}/ (results, logs, reports)")


def start(job: Job, args, private: Path, stop_fd: int) -> None:
    job.private = private / f"results-{job.label}.json"
    job.progress_path = private / f"progress-{job.label}.txt"
    job.progress_path.touch()
    for stale in (job.results, job.log):
        stale.unlink(missing_ok=True)
    job.log_fh = open(job.log, "w")
    job.t0 = time.monotonic()
    job.proc = subprocess.Popen(
        child_argv(job, args, stop_fd),
        stdout=job.log_fh,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        pass_fds=(stop_fd,),
        start_new_session=True,
    )


def read_progress(job: Job) -> None:
    if job.progress_path is None:  # not started
        return
    try:
        with open(job.progress_path, "rb") as fh:
            fh.seek(job.offset)
            data = fh.read()
    except OSError:
        return
    end = data.rfind(b"\n") + 1
    job.offset += end
    for line in data[:end].decode("utf-8", "replace").splitlines():
        kind, _, rest = line.partition("\t")
        if kind == "total":
            job.total = int(rest)
            continue
        job.done += 1
        if kind != grading.PASS and kind not in grading.SKIPPING:
            case_id, _, profile = rest.rpartition(" [")
            if job.expectations is not None and job.expectations.lookup(case_id, profile.rstrip("]")):
                job.known += 1
            else:
                job.failing += 1


def _status(job: Job) -> str:
    if job.total is None:
        return f"{job.label} starting"
    total = job.total
    extra = f", {job.known} known" if job.known else ""
    return f"{job.label} {job.done}/{total} ({job.failing} failing{extra})"


def stop_children(jobs: list[Job]) -> None:
    """SIGINT to every running child's process group; SIGKILL to those still there after GRACE_S."""
    running = [j.proc for j in jobs if j.proc is not None and j.proc.poll() is None]
    for proc in running:
        _killpg(proc.pid, signal.SIGINT)
    deadline = time.monotonic() + GRACE_S
    for proc in running:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _killpg(proc.pid, signal.SIGKILL)  # whatever is left of its group
        proc.wait()


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def finish(job: Job) -> None:
    proc, log_fh, private = job.proc, job.log_fh, job.private
    assert proc is not None and log_fh is not None and private is not None, "finish() of a job start() never started"
    job.code = proc.wait()
    job.elapsed = time.monotonic() - job.t0
    log_fh.close()
    read_progress(job)
    if not private.exists():  # only this run's own file counts
        return
    from appc_conformance.reports.results import ResultsError, parse  # noqa: PLC0415

    try:
        job.doc = parse(private.read_text(encoding="utf-8"), job.results)
    except ResultsError as exc:
        print(f"{job.label}: {exc}", file=sys.stderr)
        return
    os.replace(private, job.results)


class Console:
    """Progress on stderr: one rewritten line on a terminal, a line per change every few
    seconds otherwise (CI logs)."""

    def __init__(self, stream=None, every: float = PROGRESS_EVERY_S):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = every
        self.last = time.monotonic()
        self.shown = False

    def line(self, text: str) -> None:
        self.clear()
        print(printable(text), file=self.stream, flush=True)  # adapter text: no terminal control

    def clear(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\r\x1b[K")
            self.shown = False

    def progress(self, jobs: list[Job], force: bool = False) -> None:
        live = [j for j in jobs if j.proc is not None and j.code is None]
        if not live:
            return
        now = time.monotonic()
        if self.tty:
            if now - self.last >= 0.2 or force:
                self.stream.write("\r\x1b[K" + printable(" | ".join(_status(j) for j in live)))
                self.stream.flush()
                self.shown, self.last = True, now
            return
        if now - self.last < self.every and not force:
            return
        self.last = now
        for j in live:
            state = (j.done, j.failing, j.known)
            if state != j.reported:
                j.reported = state
                print(printable(f"{_status(j)}, {now - j.t0:.0f} s"), file=self.stream, flush=True)


def run_jobs(jobs: list[Job], args, console: Console) -> int | None:
    """Run the jobs; returns None, or the number of the signal that interrupted the run (the
    children were stopped and what they wrote is kept)."""
    out = args.out.resolve()
    _clean_stale_private(out)
    private = Path(tempfile.mkdtemp(prefix=f".run-{os.getpid()}-", dir=out))
    stop_r, stop_w = os.pipe()  # the children read stop_r: its end (EOF) means the CLI is gone
    try:
        waiting = list(jobs)
        while waiting or any(j.proc is not None and j.code is None for j in jobs):
            running = [j for j in jobs if j.proc is not None and j.code is None]
            if waiting and (not args.serial or not running):
                job = waiting.pop(0)
                console.line(f"{job.label}: running ...")
                start(job, args, private, stop_r)
                continue
            for j in running:
                read_progress(j)
                if j.proc is not None and j.proc.poll() is not None:
                    finish(j)
                    console.line(done_line(j))
                    report_startup_problem(j, console)
            console.progress(jobs)
            time.sleep(0.1)
        return None
    except Interrupted as exc:
        console.line(
            f"run: interrupted ({signal.Signals(exc.signum).name}); stopping the "
            f"implementations' runs; what they graded is kept, marked incomplete"
        )
        stop_children(jobs)
        for j in jobs:
            if j.proc is not None and j.code is None:
                finish(j)
                console.line(done_line(j))
            elif j.proc is None:
                console.line(f"{j.label}: not run (interrupted before it started)")
        return exc.signum
    finally:
        os.close(stop_w)
        os.close(stop_r)
        shutil.rmtree(private, ignore_errors=True)


def done_line(job: Job) -> str:
    if job.doc is None:
        return f"{job.label}: the run wrote no results (pytest exit {job.code}); see {job.log}"
    counts: dict[str, int] = {}
    for c in job.doc["cases"]:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    text = ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "no case ran"
    # counted from the results, as the summary at the end counts them (the progress lines may
    # stop short of the last cases)
    known = sum(
        1
        for c in job.doc["cases"]
        if c["verdict"] != grading.PASS
        and c["verdict"] not in grading.SKIPPING
        and job.expectations is not None
        and job.expectations.lookup(c["id"], c["profile"]) is not None
    )
    if known:
        text += f" ({known} known failures)"
    if job.doc["run"].get("incomplete") is True:
        text += f"; INCOMPLETE: {len(job.doc['run'].get('not_run') or [])} case runs did not run"
    return f"{job.label}: {text} ({job.elapsed:.1f} s) -> {job.results}"


def report_startup_problem(job: Job, console: Console) -> None:
    """An adapter that did not start, or a child that stopped before running anything: say why
    on the console, not only in the log."""
    if job.doc is None:
        try:
            lines = job.log.read_text(errors="replace").splitlines()
        except OSError:
            lines = []
        errors = [ln for ln in lines if ln.startswith(("ERROR", "INTERNALERROR", "E   "))] or lines[-8:]
        for ln in errors[:12]:
            console.line(f"{job.label}:   {ln}")
        return
    cases = job.doc["cases"]
    if cases and not any(c["verdict"] == grading.PASS for c in cases):
        said = set()  # each profile whose start failed, once
        for c in cases:
            msg = c.get("message") or ""
            if ("handshake" in msg or "cannot start adapter" in msg) and c["profile"] not in said:
                said.add(c["profile"])
                console.line(f"{job.label}: the adapter did not start: {msg[:600]}")


def report_vector_problems(jobs: list[Job], console: Console) -> None:
    """Broken vector files (``run.problems``), each named once with its reason: their cases did
    not run, which alone makes the run fail."""
    problems = list(dict.fromkeys(p for j in jobs if j.doc is not None for p in j.doc["run"].get("problems", [])))
    if not problems:
        return
    console.line(
        f"broken vector files: {len(problems)} problem{'' if len(problems) == 1 else 's'} (the cases "
        f"of a broken file did not run; every other case did; the run fails for it):"
    )
    for p in problems[:FAILING_SHOWN]:
        console.line(f"  {p}")
    if len(problems) > FAILING_SHOWN:
        console.line(f"  ... and {len(problems) - FAILING_SHOWN} more: appc-conformance lint --vectors DIR lists them")


# --- the end -----------------------------------------------------------------------------------------


def summarize_failures(jobs: list[Job], report_path: Path | None, console: Console) -> None:
    new: list[tuple[Job, dict]] = []
    known: list[tuple[Job, dict]] = []
    fixed: list[tuple[Job, dict, str]] = []  # with the expectations file that lists the case
    for j in jobs:
        for c in (j.doc or {}).get("cases", []):
            entry = j.expectations.lookup(c["id"], c["profile"]) if j.expectations is not None else None
            if c["verdict"] == grading.PASS:
                if entry is not None and j.expectations is not None:
                    fixed.append((j, c, j.expectations.path))
            elif c["verdict"] not in grading.SKIPPING:
                (known if entry is not None else new).append((j, c))
    if not (new or known or fixed):
        return
    shown = 0
    if new:
        console.line(f"failing cases: {len(new)}" + (f" (and {len(known)} known failures)" if known else ""))
    elif known:
        console.line(f"no new failure; {len(known)} known failures")
    for tag, items in (("", new), ("known: ", known)):
        for j, c in items:
            if shown >= FAILING_SHOWN:
                break
            shown += 1
            msg = (c.get("message") or "").replace("\n", " ")
            console.line(f"  {tag}{j.label}  {c['id']} [{c['profile']}]  {c['verdict']}: {msg[:120]}")
    rest = len(new) + len(known) - shown
    if rest > 0:
        where = report_path if report_path is not None else ", ".join(str(j.results) for j in jobs if j.doc)
        console.line(f"  ... and {rest} more: see {where}")
    for j, c, listed_in in fixed:
        console.line(
            f"news: known failure now passes (remove it from {listed_in}): {j.label}  {c['id']} [{c['profile']}]"
        )


#: Seconds an adapter may take to be ready before the console says it is being built.
ANNOUNCE_BUILD_AFTER = 1.0


def prepare(jobs: list[Job], profiles: list[str], console: Console) -> list[Job]:
    """Resolve each bundled implementation's adapter (building the Go one if needed); an
    implementation that is not available gets its results file now. Returns the jobs to run."""
    from appc_conformance.reports.results import validate  # noqa: PLC0415

    runnable = []
    for job in jobs:
        if job.selector[0] != "--impl":
            runnable.append(job)
            continue
        outcome: dict = {}
        worker = threading.Thread(target=_resolve, args=(job.label, outcome), daemon=True)
        worker.start()
        worker.join(ANNOUNCE_BUILD_AFTER)
        if worker.is_alive():
            console.line(f"{job.label}: building its adapter (a first Go build takes about a minute) ...")
            t0 = time.monotonic()
            worker.join()
            console.line(f"{job.label}: adapter built ({time.monotonic() - t0:.0f} s)")
        if "error" in outcome:
            console.line(f"{job.label}: not available: {outcome['error']}")
            job.results.unlink(missing_ok=True)
            job.doc = unavailable_results(job.stem or job.label, outcome["error"], profiles)
            validate(job.doc, job.results)  # as every doc a job holds: the reports take it as read
            _write(job.results, job.doc)
            continue
        runnable.append(job)
    return runnable


def _resolve(label: str, outcome: dict) -> None:
    try:
        registry.command(label)
    except registry.NotAvailable as exc:
        outcome["error"] = str(exc)
    except Exception as exc:  # noqa: BLE001 - a failed build: said, and the run goes on
        outcome["error"] = f"{type(exc).__name__}: {exc}"


def run(args: argparse.Namespace) -> int:
    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run(args)
    except Interrupted as exc:  # before the implementations ran, or a second signal while they stopped
        print(f"run: interrupted ({signal.Signals(exc.signum).name})", file=sys.stderr)
        return 128 + exc.signum
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _run(args: argparse.Namespace) -> int:
    console = Console(every=args.progress_interval)
    if getattr(args, "rkt_src", None) is not None:  # read by the rkt adapter's build, here and in the children
        os.environ["RKT_SRC"] = str(args.rkt_src.expanduser().resolve())
    try:
        jobs = make_plan(args)
        check_cases(args)
        exps = load_expectations(args, [j.label for j in jobs], {j.label: j.stem for j in jobs})
    except UsageError as exc:
        print(f"run: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    clear_previous_output(args.out, console)
    profiles = args.profile or list(vectors.PROFILES)
    for job in jobs:
        job.expectations = exps.get(job.label)
        if job.expectations is not None:
            console.line(f"{job.label}: expectations {job.expectations.path}")
    warn_expectations(args, exps, console)
    t0 = time.monotonic()
    runnable = prepare(jobs, profiles, console)
    for job in runnable:
        if job.stem != job.label:  # go-appc on a --spec-src tree: the profiles its build claims
            from appc_conformance.conformance.adapters.go import build as go_build  # noqa: PLC0415

            job.profiles = go_build.api()["profiles"]
            console.line(
                f"{job.label}: built against the appc/spec tree {job.stem[len('go-appc-') :]}, "
                f"which claims {', '.join(job.profiles)}"
                + ("" if job.expectations is not None else f"; no expectations file {job.stem}.json applies")
            )
    interrupted = run_jobs(runnable, args, console)
    report_vector_problems(runnable, console)
    worst = 0
    for j in runnable:
        if j.doc is None:
            worst = 2
        else:
            worst = max(worst, 1 if j.code == 1 else (0 if j.code == 0 else 2))
    files = [j.results for j in jobs if j.doc is not None and j.results.exists()]
    report = None
    if not args.no_report and files:
        from appc_conformance.reports import cli as reports_cli  # noqa: PLC0415 - the report verbs own the formats

        reports_cli.write_all(files, args.out, parsed={j.results: j.doc for j in jobs if j.doc is not None})
        report = args.out / "report.html"
        console.line(f"reports: {args.out}/")
        if args.publish:
            # The published summary speaks for every implementation asked for: a run where one is
            # missing (an optional tool not installed) or wrote no results leaves it as it is, so a
            # checkout stays clean on a machine without Go or actool.
            missing = [j.label for j in jobs if j.doc is None or not j.doc["implementation"]["available"]]
            if missing:
                console.line(
                    f"not published: {args.publish} left as it is ({', '.join(missing)} not available "
                    f"or without results); the summary of this run is {args.out / 'summary.md'}"
                )
            else:
                try:
                    args.publish.write_bytes((args.out / "summary.md").read_bytes())
                    console.line(f"published: {args.publish}")
                except OSError as exc:  # checked at the start; the folder may have gone since
                    console.line(f"not published: {args.publish}: {exc}")
                    worst = 2
    summarize_failures(runnable, report, console)
    if interrupted is not None:
        console.line(
            f"run: INCOMPLETE, interrupted ({signal.Signals(interrupted).name}) after "
            f"{time.monotonic() - t0:.1f} s: the results and reports in {args.out}/ are of the "
            f"cases graded before it (run.incomplete, run.not_run)"
        )
        return 128 + interrupted
    console.line(f"run: {time.monotonic() - t0:.1f} s")
    return worst


def _write(path: Path, doc: dict) -> None:
    from appc_conformance.reports.results import write_results  # noqa: PLC0415 - imported only when this path runs (start-up time)

    write_results(path, doc)
