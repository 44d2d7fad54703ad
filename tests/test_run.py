"""``appc-conformance run`` and the speed of a run: side-by-side network cases give the verdicts
of a serial run; the CLI reads only what this run wrote, stops its children, and says what it
does (progress, failures, start-up errors). Small vector subsets (--case) keep these quick."""
from __future__ import annotations

import pytest

from conformance import registry
from tests.helpers import run_suite

# The discovery cases whose servers hang, trickle or never end on purpose, and a few others
# of the same files and of another area.
WAIT_BOUND = ["discovery/limits/endless-page", "discovery/limits/slow-drip-page",
              "discovery/limits/endless-image-tags-document", "discovery/walk/leaf-hangs",
              "discovery/walk/slow-leaf-answers"]
SUBSET = [*WAIT_BOUND, "discovery/redirects/*", "app-strings/basic/*"]


def _verdicts(doc: dict) -> list:
    return [(c["id"], c["profile"], c["verdict"]) for c in doc["cases"]]


def _case_args(patterns) -> list:
    return [a for p in patterns for a in ("--case", p)]


@pytest.mark.parametrize("impl, patterns", [
    ("reference", SUBSET),
    # go-appc has no timeout of its own: its wait-bound cases would cost the harness's timeout
    # each; the rest of the subset is cheap.
    ("go-appc", ["discovery/redirects/*", "discovery/walk/slow-leaf-answers", "app-strings/basic/*"]),
])
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

import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from tests.helpers import BROKEN, ROOT, broken_cmd  # noqa: E402


def run_cli(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "conformance", "run", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


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
    _, doc = run_suite(tmp_path, "--impl", "reference", "--case", "app-strings/basic/*")
    stale = out / "results-custom.json"
    stale.write_text(json.dumps(doc))
    proc = run_cli("--adapter-cmd", str(tmp_path / "no-such-adapter"), "--case", "app-strings/basic/*",
                   "--out", out)
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
    _, doc = run_suite(tmp_path, "--impl", "reference", "--case", "app-strings/basic/*")
    (out / "results-custom.json").write_text(json.dumps(doc))
    proc = run_cli("--adapter-cmd", broken_cmd("crash"), "--case", "app-strings/basic/*", "--out", out)
    assert proc.returncode == 1, proc.stderr
    fresh = json.loads((out / "results-custom.json").read_text())
    assert fresh["cases"] and all(c["verdict"] != "pass" for c in fresh["cases"])
    assert " pass" not in proc.stderr.split("custom:")[1].splitlines()[0]


def _start_cli(tmp_path, *extra):
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    adapter = f"{sys.executable} {BROKEN} hang {tmp_path}"  # the folder in its command line marks it
    return out, subprocess.Popen(
        [sys.executable, "-m", "conformance", "run", "--adapter-cmd", adapter, "--case", "app-strings/basic/*",
         "--adapter-timeout", "120", "--out", str(out), *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


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
        assert _wait_for(lambda: not _procs_with(str(tmp_path)), 15), \
            f"left running: {_procs_with(str(tmp_path))}"
        assert not (out / "results-custom.json").exists()
    finally:
        for pid in _procs_with(str(tmp_path)):
            os.kill(pid, signal.SIGKILL)


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
        assert not (out / "results-custom.json").exists()
        assert not list(out.glob(".run-*"))  # its private folder is gone too
    finally:
        cli.kill()
        for pid in _procs_with(str(tmp_path)):
            os.kill(pid, signal.SIGKILL)
