"""``appc-conformance run`` and the speed of a run: side-by-side network cases give the verdicts
of a serial run; the CLI reads only what this run wrote, stops its children, and says what it
does (progress, failures, start-up errors). Small vector subsets (--case) keep these quick."""

from __future__ import annotations

import pytest

from appc_conformance.conformance import registry
from tests.helpers import run_suite

# The discovery cases whose servers hang, trickle or never end on purpose, and a few others
# of the same files and of another area.
WAIT_BOUND = [
    "discovery/limits/endless-page",
    "discovery/limits/slow-drip-page",
    "discovery/limits/endless-image-tags-document",
    "discovery/walk/leaf-hangs",
    "discovery/walk/slow-leaf-answers",
]
SUBSET = [*WAIT_BOUND, "discovery/redirects/*", "app-strings/basic/*"]


def _verdicts(doc: dict) -> list:
    return [(c["id"], c["profile"], c["verdict"]) for c in doc["cases"]]


def _case_args(patterns) -> list:
    return [a for p in patterns for a in ("--case", p)]


@pytest.mark.parametrize(
    "impl, patterns",
    [
        ("reference", SUBSET),
        # go-appc has no timeout of its own: its wait-bound cases would cost the harness's timeout
        # each; the rest of the subset is cheap.
        ("go-appc", ["discovery/redirects/*", "discovery/walk/slow-leaf-answers", "app-strings/basic/*"]),
    ],
)
@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_side_by_side_network_cases_give_the_serial_verdicts(tmp_path, impl, patterns):
    if impl != "reference":
        try:
            registry.command(impl)
        except registry.NotAvailable as exc:
            pytest.skip(str(exc))
    args = ["--impl", impl, *_case_args(patterns)]
    if impl == "reference":
        args += ["--profile", "appc-0.8.11"]  # the wait-bound cases cost 3 s each in the reference
    _, serial = run_suite(tmp_path, *args, "--network-sessions", "1")
    _, side = run_suite(tmp_path, *args, "--network-sessions", "4")
    assert serial is not None and side is not None
    assert len(serial["cases"]) > 20
    if impl == "reference":
        assert {c["id"] for c in serial["cases"]} >= set(WAIT_BOUND) - {"discovery/limits/endless-image-tags-document"}
    # case by case, in the same order
    assert _verdicts(side) == _verdicts(serial)


# --- appc-conformance run: the CLI ------------------------------------------------------------------

import fnmatch  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from appc_conformance.conformance import vectors  # noqa: E402
from tests.helpers import BROKEN, ROOT, VECTORS, broken_cmd, run_cli  # noqa: E402
from tests.report_fixtures import make_results  # noqa: E402


def _procs_with(marker: str) -> list[int]:
    """Live processes (not zombies) whose command line contains ``marker``."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmd and state != "Z":
            pids.append(int(d.name))
    return pids


def _wait_for(pred, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def test_a_stale_results_file_is_never_read_as_this_run(tmp_path):
    """Issue 10: a run whose child wrote no results reported the results file an earlier run left
    in OUT ("1033 pass" for a run whose adapter broke every case)."""
    out = tmp_path / "out"
    out.mkdir()
    stale = out / "results-custom.json"
    stale.write_text(json.dumps(make_results()))  # an earlier run's: every case passed
    proc = run_cli("--adapter-cmd", str(tmp_path / "no-such-adapter"), "--case", "app-strings/basic/*", "--out", out)
    assert proc.returncode == 2, proc.stderr
    assert "pass" not in proc.stderr.replace("pass_", "")
    assert "wrote no results" in proc.stderr
    assert not stale.exists()  # not left in OUT to be taken for this run's
    assert not (out / "report.html").exists()
    # the start-up error is on the console, not only in the log
    assert "command not found" in proc.stderr and "no-such-adapter" in proc.stderr


def test_a_broken_adapter_is_reported_as_broken_even_with_a_stale_file(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results-custom.json").write_text(json.dumps(make_results()))  # an earlier run's: every case passed
    # a few cases: the adapter dies on each one and is started again
    proc = run_cli("--adapter-cmd", broken_cmd("crash"), "--case", "app-strings/basic/name-*", "--out", out)
    assert proc.returncode == 1, proc.stderr
    fresh = json.loads((out / "results-custom.json").read_text())
    assert fresh["cases"] and all(c["verdict"] != "pass" for c in fresh["cases"])
    assert " pass" not in proc.stderr.split("custom:")[1].splitlines()[0]


def _start_cli(tmp_path, *extra):
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    adapter = f"{sys.executable} {BROKEN} hang {tmp_path}"  # the folder in its command line marks it
    return out, subprocess.Popen(
        [
            sys.executable,
            "-m",
            "appc_conformance",
            "run",
            "--adapter-cmd",
            adapter,
            "--case",
            "app-strings/basic/*",
            "--adapter-timeout",
            "120",
            "--out",
            str(out),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _adapter_running(tmp_path) -> bool:
    """The hanging adapter itself runs (not only the CLI, whose arguments name it too)."""
    for pid in _procs_with(str(tmp_path)):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[1:3] == [str(BROKEN).encode(), b"hang"]:
            return True
    return False


def test_sigkill_of_the_cli_stops_the_pytest_child_and_its_adapters(tmp_path):
    out, cli = _start_cli(tmp_path)
    try:
        assert _wait_for(lambda: _adapter_running(tmp_path), 60), "the adapter never started"
        cli.kill()
        cli.wait()
        assert _wait_for(lambda: not _procs_with(str(tmp_path)), 15), f"left running: {_procs_with(str(tmp_path))}"
        assert not (out / "results-custom.json").exists()
    finally:
        for pid in _procs_with(str(tmp_path)):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow  # long waits, builds or bombs on purpose: in tox -e tests, not in tox -e quick
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sigint_or_sigterm_of_the_cli_stops_its_children(tmp_path, sig):
    out, cli = _start_cli(tmp_path)
    try:
        assert _wait_for(lambda: _adapter_running(tmp_path), 60), "the adapter never started"
        cli.send_signal(sig)
        _, err = cli.communicate(timeout=30)
        assert cli.returncode == 128 + sig
        assert "interrupted" in err
        assert not _procs_with(str(tmp_path)), "a child outlived the CLI"
        # what the run graded is kept, marked incomplete (issue 22: it used to keep nothing);
        # the adapter hung on its first case, so nothing was graded and everything did not run
        kept = json.loads((out / "results-custom.json").read_text())
        assert kept["run"]["incomplete"] is True and kept["run"]["not_run"]
        assert not any(c["verdict"] == "pass" for c in kept["cases"])
        assert not list(out.glob(".run-*"))  # its private folder is gone too
    finally:
        cli.kill()
        for pid in _procs_with(str(tmp_path)):
            os.kill(pid, signal.SIGKILL)


# --- issue 12: what the console says ---------------------------------------------------------------


@pytest.mark.slow  # long waits, builds or bombs on purpose: in tox -e tests, not in tox -e quick
def test_progress_lines_in_a_ci_log(tmp_path):
    # discovery/walk/leaf-hangs keeps the reference 3 s: long enough for progress lines, however
    # loaded the machine (half a second was not, in a full test run on three workers)
    proc = run_cli(
        "--impl",
        "reference",
        "--profile",
        "appc-0.8.11",
        "--case",
        "discovery/walk/leaf-hangs",
        "--case",
        "app-strings/basic/*",
        "--out",
        tmp_path,
        "--progress-interval",
        "0.1",
        "--no-report",
    )
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("reference ")]
    assert lines, proc.stderr
    counts = [ln for ln in lines if ln != "reference starting" and not ln.startswith("reference starting,")]
    assert counts, proc.stderr
    assert all(re.match(r"reference \d+/\d+ \(\d+ failing\), \d+ s$", ln) for ln in counts), counts
    assert re.search(r"^reference: \d+ pass \(", proc.stderr, re.M)


def test_failing_cases_are_listed_capped_with_the_report_path(tmp_path):
    proc = run_cli("--adapter-cmd", broken_cmd("wrong"), "--case", "app-strings/colon/*", "--out", tmp_path)
    assert proc.returncode == 1, proc.stderr
    listed = [ln for ln in proc.stderr.splitlines() if ln.startswith("  custom  app-strings/colon/")]
    assert len(listed) == 20
    assert "failing cases: 29" in proc.stderr
    assert f"... and 9 more: see {tmp_path / 'report.html'}" in proc.stderr


def test_known_failures_are_shown_as_known_and_a_fixed_one_as_news(tmp_path):
    out = tmp_path / "out"
    ids = [c.id for c in vectors.load(VECTORS).cases if fnmatch.fnmatchcase(c.id, "app-strings/basic/*")]
    known = ids[0]
    exp = tmp_path / "broken-wrong.json"
    exp.write_text(
        json.dumps(
            {"implementation": "broken-wrong", "known_failures": [{"id": known, "reason": "a test: listed as known"}]}
        )
    )
    proc = run_cli(
        "--adapter-cmd",
        broken_cmd("wrong"),
        "--name",
        "broken-wrong",
        "--case",
        "app-strings/basic/*",
        "--expectations",
        exp,
        "--out",
        out,
    )
    assert f"broken-wrong: expectations {exp}" in proc.stderr
    assert f"  known: broken-wrong  {known} [" in proc.stderr
    assert f"  broken-wrong  {ids[-1]} [" in proc.stderr  # a new failure: not marked known
    # the reference passes the case this file lists as known: news
    exp2 = tmp_path / "reference.json"
    exp2.write_text(
        json.dumps(
            {
                "implementation": "reference",
                "known_failures": [{"id": known, "reason": "a test: listed, but it passes"}],
            }
        )
    )
    proc = run_cli(
        "--impl", "reference", "--case", "app-strings/basic/*", "--expectations", exp2, "--out", out, "--no-report"
    )
    assert f"news: known failure now passes (remove it from {exp2}): reference  {known} [" in proc.stderr


def test_expectations_folder_says_which_file_per_implementation(tmp_path):
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "reference.json").write_text(json.dumps({"implementation": "reference", "known_failures": []}))
    proc = run_cli(
        "--impl",
        "reference",
        "--case",
        "app-strings/basic/*",
        "--expectations",
        folder,
        "--out",
        tmp_path / "out",
        "--no-report",
    )
    assert proc.returncode == 0, proc.stderr
    assert f"reference: expectations {folder / 'reference.json'}" in proc.stderr


@pytest.mark.parametrize(
    "args, says",
    [
        (["--case", "no/such/case*"], "--case 'no/such/case*' matches no case"),
        (["--case", "publisher/*"], "--case 'publisher/*' matches only publisher cases: they test the suite's own"),
        (["--expectations", "no-such-expectations"], "--expectations no-such-expectations: no such file or folder"),
        (["--adapter-timeout", "nan"], "--adapter-timeout"),
        (["--adapter-timeout", "0"], "--adapter-timeout"),
    ],
)
def test_bad_selections_are_errors_that_say_so(tmp_path, args, says):
    proc = run_cli("--impl", "reference", "--out", tmp_path, *args)
    assert proc.returncode == 2
    assert says in proc.stderr
    assert not list(tmp_path.glob("results-*.json"))


def test_a_handshake_failure_is_on_the_console(tmp_path):
    proc = run_cli(
        "--adapter-cmd", f"{sys.executable} -c pass", "--case", "app-strings/basic/*", "--out", tmp_path, "--no-report"
    )
    assert proc.returncode == 1
    assert "custom: the adapter did not start: " in proc.stderr
    assert "handshake failed" in proc.stderr


def test_impl_and_adapter_cmd_in_one_report(tmp_path):
    proc = run_cli(
        "--impl",
        "reference",
        "--adapter-cmd",
        broken_cmd("wrong"),
        "--name",
        "mine",
        "--case",
        "app-strings/basic/*",
        "--out",
        tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert (tmp_path / "results-reference.json").is_file() and (tmp_path / "results-mine.json").is_file()
    summary = (tmp_path / "summary.md").read_text()
    assert "broken-wrong" in summary and "reference" in summary


def test_run_and_report_share_the_default_output_folder_and_run_documents_its_options():
    from appc_conformance.conformance import cli

    parser = cli.build_parser()
    run_args = parser.parse_args(["run"])
    report_args = parser.parse_args(["report", "x.json"])
    assert run_args.out == report_args.out
    sub = next(a for a in parser._actions if a.dest == "verb").choices["run"]
    helps = {a.dest: a.help for a in sub._actions}
    assert helps["adapter_timeout"] and helps["pipeline"]


def test_building_the_go_adapter_is_announced(monkeypatch, capsys):
    from appc_conformance.conformance import run_verb as runmod

    def slow(name):
        time.sleep(0.3)
        return ["true"]

    monkeypatch.setattr(runmod, "ANNOUNCE_BUILD_AFTER", 0.1)
    monkeypatch.setattr(runmod.registry, "command", slow)
    jobs = [runmod.Job("go-appc", ["--impl", "go-appc"], Path("unused.json"))]
    assert runmod.prepare(jobs, ["appc-0.8.11"], runmod.Console()) == jobs
    err = capsys.readouterr().err
    assert "go-appc: building its adapter" in err and "go-appc: adapter built" in err


# --- a case that tests a bound says how long the harness waits ------------------------------------


def _one_case_set(tmp_path, timeout) -> Path:
    import shutil

    root = tmp_path / "vectors"
    shutil.copytree(VECTORS / "schema", root / "schema")
    shutil.copy(VECTORS / "requirements.json", root / "requirements.json")
    doc = json.loads((VECTORS / "discovery" / "walk.json").read_text())
    doc["cases"] = [c for c in doc["cases"] if c["id"] == "discovery/walk/leaf-hangs"]
    doc["cases"][0]["timeout"] = timeout
    doc["cases"][0]["profiles"] = ["appc-0.8.11"]
    (root / "discovery").mkdir()
    (root / "discovery" / "walk.json").write_text(json.dumps(doc))
    return root


@pytest.mark.parametrize("case_timeout, adapter_timeout, waited", [(1, "10", "1"), (5, "1", "1")])
def test_the_case_timeout_applies_when_shorter(tmp_path, case_timeout, adapter_timeout, waited):
    root = _one_case_set(tmp_path, case_timeout)
    _, doc = run_suite(
        tmp_path,
        "--adapter-cmd",
        broken_cmd("hang"),
        "--vectors",
        str(root),
        "--adapter-timeout",
        adapter_timeout,
        paths=[root],
    )
    [rec] = doc["cases"]
    assert rec["verdict"] == "timeout"
    assert rec["message"].startswith(f"no answer within {waited} s"), rec["message"]


def test_the_bundled_wait_bound_cases_say_how_long_they_take():
    """The discovery cases whose servers hang, trickle or never end all carry a bound (else one
    of them holds a run for the whole per-request timeout); the reference passes them within it
    (test_side_by_side_network_cases_give_the_serial_verdicts)."""
    from appc_conformance.conformance import pool, vectors

    bound = {
        c.id: c.raw.get("timeout")
        for c in vectors.load(VECTORS).cases
        if c.op in ("discover", "resolve") and pool.waits_on_purpose(c)
    }
    assert set(bound) >= set(WAIT_BOUND) - {"discovery/walk/slow-leaf-answers"}
    assert all(bound.values()), bound


# --- the pool: ports 443/80 hold one scenario at a time ---------------------------------------------


class _FakeHello:
    def __init__(self, features):
        self.ok, self.features, self.ops = True, features, ["discover"]


class _FakeSession:
    def __init__(self, features):
        self.hello = _FakeHello(features)

    def ensure(self):
        return self.hello

    def close(self):
        pass


class _FakeCase:
    op, raw = "discover", {"hosts": {}}

    def __init__(self, n):
        self.id = f"discovery/x/{n}"


class _FakeItem:
    def __init__(self, n):
        self.case, self.profile = _FakeCase(n), "appc-0.8.11"


@pytest.mark.parametrize("features", [["custom-port"], []])
def test_the_pool_runs_default_port_scenarios_each_on_its_own_address_block(monkeypatch, features):
    """Side by side in both modes; on ports 443/80 no two scenarios at once on one address block
    (127.0.BLOCK.x), since two cannot listen on one address."""
    import threading
    from appc_conformance.conformance import pool
    from appc_conformance.servers.scenario import address_block

    lock, now, peak, busy, clashes = threading.Lock(), [0], [0], set(), []

    def fake_run_case(case, profile, session):
        block = address_block()
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
            if block in busy and not features:
                clashes.append(block)
            busy.add(block)
        time.sleep(0.2)
        with lock:
            now[0] -= 1
            busy.discard(block)
        return case.id

    monkeypatch.setattr(pool, "run_case", fake_run_case)
    p = pool.NetworkPool(lambda profile: _FakeSession(features), workers=4)
    items = [_FakeItem(n) for n in range(8)]
    p.start(items)
    assert [p.record(i) for i in items] == [i.case.id for i in items]  # each item gets its own record
    p.close()
    assert peak[0] > 1  # side by side
    assert clashes == []  # ports 443/80: never two scenarios on one address block at once


def test_publish_leaves_the_published_summary_alone_when_an_implementation_is_missing(tmp_path):
    """tox -e compat on a machine without actool (an optional tool) must not rewrite the
    committed summary into one that lists actool as not available: the checkout stays clean."""
    published = tmp_path / "COMPATIBILITY.md"
    published.write_text("the committed summary\n")
    bindir = tmp_path / "bin"  # a PATH with Python and go, without actool
    bindir.mkdir()
    for tool in ("go",):
        found = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        if found:
            os.symlink(found, bindir / tool)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{Path(sys.executable).parent}", "ACTOOL": ""}
    env.pop("ACTOOL")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "appc_conformance",
            "run",
            "--impl",
            "reference",
            "--impl",
            "actool",
            "--out",
            str(tmp_path / "out"),
            "--case",
            "app-strings/basic/name-only",
            "--publish",
            str(published),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "actool: not available" in proc.stderr + proc.stdout, proc.stderr[-2000:]
    assert published.read_text() == "the committed summary\n"
    assert "not published" in proc.stderr + proc.stdout


def test_the_pool_starts_the_longest_waits_first(monkeypatch):
    """Cases that wait on purpose start first, those with the run's own (longer) limit before
    those with a shorter limit of their own, so that the waits spread over the threads."""
    from appc_conformance.conformance import pool

    started = []

    def fake_run_case(case, profile, session):
        started.append(case.id)
        return case.id

    monkeypatch.setattr(pool, "run_case", fake_run_case)

    class Case(_FakeCase):
        def __init__(self, n, timeout=None, waits=False):
            super().__init__(n)
            paths = {"/x": {"endless": {"chunk": 16}}} if waits else {}
            self.raw = {"hosts": {"a": {"paths": paths}}, **({"timeout": timeout} if timeout else {})}

    class Item:
        def __init__(self, case):
            self.case, self.profile = case, "appc-0.8.11"

    items = [Item(Case(0)), Item(Case(1, 6, waits=True)), Item(Case(2, waits=True)), Item(Case(3, 8, waits=True))]
    p = pool.NetworkPool(lambda profile: _FakeSession(["custom-port"]), workers=1)
    p.start(items)
    [p.record(i) for i in items]
    p.close()
    assert started == ["discovery/x/2", "discovery/x/3", "discovery/x/1", "discovery/x/0"]
