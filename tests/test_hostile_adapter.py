"""Hostile adapters: nothing an adapter sends (or fails to read) may lose, falsify or hang a run.

Each test drives a mode of tests/fakes/broken.py against the harness's limits (docs/ADAPTERS.md,
"Limits and guarantees"): a bad handshake, invalid Unicode, deep nesting, a full stdin pipe, a
stderr flood, a grandchild that holds stdout, huge answers, and deaths in a pipeline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from appc_conformance.conformance import adapter, vectors
from appc_conformance.conformance.adapter import AdapterSession
from appc_conformance.conformance.case_runner import run_case
from tests import miniatures
from tests.helpers import BROKEN, NON_NETWORK, PYTEST, ROOT, SLICE, VECTORS, broken_cmd, run_suite, verdicts
from tests.miniatures import command as miniature


def start(mode: str, *args: str, timeout: float = 5.0) -> AdapterSession:
    return AdapterSession([sys.executable, str(BROKEN), mode, *args], "appc-0.8.11", timeout=timeout)


def bounded(fn, limit: float):
    """``fn()`` in a thread; fails the test (instead of hanging it) when it takes over ``limit``."""
    out: dict = {}

    def body():
        t0 = time.monotonic()
        out["value"] = fn()
        out["wall"] = time.monotonic() - t0

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(limit)
    assert not t.is_alive(), f"still running after {limit} s"
    return out["value"], out["wall"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead
    except OSError:
        return False


def pids(folder) -> list[int]:
    return [int(p.read_text()) for p in folder.glob("*.pid")]


def no_survivors(folder, wait: float = 3.0) -> list[int]:
    deadline = time.monotonic() + wait
    while True:
        left = [p for p in pids(folder) if alive(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


# -- 1. the handshake is validated like any answer -------------------------------------------
BAD_HELLOS = {
    "impl-string": "implementation",
    "name-int": "name",
    "version-list": "version",
    "name-empty": "name",
    "ops-string": "ops",
    "ops-ints": "ops",
    "profiles-string": "profiles",
    "features-dict": "features",
    "protocol-2": "protocol",
}


@pytest.mark.parametrize("variant", sorted(BAD_HELLOS))
def test_a_bad_hello_is_a_protocol_error_for_every_case(variant):
    with miniatures.session(f"hello:{variant}") as s:
        hello = s.ensure()
        assert not hello.ok and hello.status == "protocol-error", hello
        assert BAD_HELLOS[variant] in hello.reason
        case = vectors.load(VECTORS).cases[0]
        for _ in range(3):  # later cases too: no exception, the same verdict
            rec = run_case(case, "appc-0.8.11", s)
            assert rec.verdict == "protocol-error" and BAD_HELLOS[variant] in rec.message


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
@pytest.mark.parametrize("variant", ["impl-string", "name-int", "name-empty"])
def test_a_bad_hello_leaves_a_readable_results_file(tmp_path, variant):
    proc, doc = run_suite(tmp_path, "--adapter-cmd", miniature(f"hello:{variant}"), *SLICE, paths=NON_NETWORK)
    assert doc is not None, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert len(doc["cases"]) >= 8 and {c["verdict"] for c in doc["cases"]} == {"protocol-error"}
    assert proc.returncode == 1
    assert "handshake" in proc.stdout


def test_an_adapter_without_operations_is_warned_about(tmp_path):
    proc, doc = run_suite(tmp_path, "--adapter-cmd", miniature("hello:no-ops"), *SLICE, paths=NON_NETWORK)
    assert {c["verdict"] for c in doc["cases"]} == {"not-implemented"}
    assert "warning: the adapter declares no operations" in proc.stdout, proc.stdout[-2000:]


def test_the_hello_request_announces_protocol_1_2():
    s = start("scripted")
    try:
        assert s.ensure().ok
        assert adapter.PROTOCOL == 1 and adapter.PROTOCOL_MINOR == 2
    finally:
        s.close()


# -- 2. invalid Unicode in answers ------------------------------------------------------------
def test_lone_surrogates_are_replaced_where_answers_are_read():
    s = start("surrogate")
    try:
        ex = s.request("parse_app", {"app": "example.com/app"})
        assert ex.status == "answer"
        assert ex.answer["ok"]["note"] == "lone \ufffd surrogate"
        json.dumps(ex.answer, ensure_ascii=False).encode("utf-8")  # any writer can write it
        assert any("surrogate" in n for n in ex.notes)
    finally:
        s.close()


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_lone_surrogates_leave_a_readable_results_file(tmp_path):
    proc, doc = run_suite(tmp_path, "--adapter-cmd", broken_cmd("surrogate"), *SLICE, paths=NON_NETWORK)
    assert doc is not None, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert len(doc["cases"]) >= 8
    with_note = [c for c in doc["cases"] if isinstance(c["actual"], dict) and "note" in str(c["actual"])]
    assert with_note and all("surrogate" in c["message"] for c in with_note)
    proc, doc = run_suite(tmp_path, "--adapter-cmd", miniature("hello:surrogate"), *SLICE, paths=NON_NETWORK)
    assert doc is not None, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert doc["implementation"]["name"] == "broken\ufffd"


# -- 3. depth ------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["deep", f"deep:{adapter.MAX_DEPTH + 1}"])
def test_deep_answers_are_protocol_errors(mode):
    with miniatures.session(mode) as s:
        for _ in range(2):
            ex = s.request("parse_app", {"app": "example.com/app"})
            assert ex.status == "protocol-error" and f"deeper than {adapter.MAX_DEPTH}" in ex.message


def test_an_answer_at_the_depth_limit_is_read():
    with miniatures.session(f"deep:{adapter.MAX_DEPTH - 3}") as s:  # the answer object and "ok" hold the list
        assert s.request("parse_app", {"app": "example.com/app"}).status == "answer"


def test_a_deep_hello_is_a_protocol_error_and_later_cases_still_get_verdicts():
    with miniatures.session("hello:deep") as s:
        case = vectors.load(VECTORS).cases[0]
        for _ in range(3):
            rec = run_case(case, "appc-0.8.11", s)
            assert rec.verdict == "protocol-error" and "deeper" in rec.message


def test_deep_answers_leave_a_readable_results_file(tmp_path):
    proc, doc = run_suite(tmp_path, "--adapter-cmd", miniature("deep"), *SLICE, paths=NON_NETWORK)
    assert doc is not None, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert len(doc["cases"]) >= 8 and {c["verdict"] for c in doc["cases"]} == {"protocol-error"}


# -- 4. writes are bounded by the deadline ----------------------------------------------------
def test_a_large_request_to_an_adapter_that_stopped_reading_times_out():
    with miniatures.session("deaf", timeout=1.0) as s:
        assert s.ensure().ok
        ex, wall = bounded(lambda: s.request("parse_app", {"app": "x" * 300_000}), 20)
        assert ex.status == "timeout" and wall < 5, (ex, wall)
        assert "read" in ex.message  # says the adapter did not take its input


# -- 5. stderr: a bounded tail, the deadline checked while it streams -------------------------
def test_a_stderr_flood_without_newlines_costs_linear_time_and_keeps_a_bounded_tail():
    s = start("stderr-flood:96", timeout=30)
    try:
        ex, wall = bounded(lambda: s.request("parse_app", {"app": "example.com/app"}), 60)
        assert ex.status == "answer", ex.message
        assert wall < 10, wall
        assert 0 < len(ex.stderr) <= adapter.STDERR_EXCERPT
        assert sum(len(x) for x in s._proc.stderr) + len(s._proc._err_partial) <= 2 * adapter.STDERR_KEEP_BYTES
    finally:
        s.close()


def test_the_deadline_fires_while_stderr_streams():
    s = start("stderr-endless", timeout=1.0)
    try:
        assert s.ensure().ok  # started outside the measured time
        ex, wall = bounded(lambda: s.request("parse_app", {"app": "example.com/app"}), 30)
        assert ex.status == "timeout" and wall < 4, (ex.status, wall)
    finally:
        s.close()


# -- 6. process groups ----------------------------------------------------------------------
@pytest.mark.parametrize("pidfd", [True, False])
def test_an_adapter_that_exits_while_a_grandchild_holds_stdout_is_a_crash(tmp_path, monkeypatch, pidfd):
    if not pidfd:  # where the system has no pidfd, the exit is polled
        monkeypatch.delattr(os, "pidfd_open", raising=False)
    s = start("grandchild", str(tmp_path), timeout=5)
    try:
        assert s.ensure().ok  # started outside the measured time
        ex, wall = bounded(lambda: s.request("parse_app", {"app": "example.com/app"}), 30)
        assert ex.status == "crash" and wall < 3, (ex.status, wall)
        assert pids(tmp_path) and not no_survivors(tmp_path)
    finally:
        s.close()


@pytest.mark.parametrize("mode", ["grandchild", "daemon"])
def test_no_grandchild_survives_a_run(tmp_path, mode):
    folder = tmp_path / "pids"
    folder.mkdir()
    proc, doc = run_suite(
        tmp_path, "--adapter-cmd", broken_cmd(f"{mode} {folder}"), "--adapter-timeout", "10", *SLICE, paths=NON_NETWORK
    )
    assert doc is not None and len(doc["cases"]) >= 8, proc.stdout[-2000:]
    assert {c["verdict"] for c in doc["cases"]} == ({"crash"} if mode == "grandchild" else {"pass"})
    if mode == "grandchild":
        # a crash at once (each case includes starting a fresh adapter), not the 10 s timeout
        assert all(c["time_s"] < 6 for c in doc["cases"]), [c["time_s"] for c in doc["cases"]]
    assert pids(folder)
    assert not no_survivors(folder)


# -- 7. what is kept of an answer is bounded ---------------------------------------------------
@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_large_answers_are_kept_as_bounded_excerpts(tmp_path):
    results = tmp_path / "results.json"
    argv = [
        *PYTEST,
        str(VECTORS / "app-strings"),
        "--results",
        str(results),
        "--adapter-cmd",
        broken_cmd("big:1024"),
        "--case",
        "app-strings/[a-l]*",
    ]
    # the run's peak memory: measured in a child of its own, which has no other children
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", probe, *argv], cwd=ROOT, capture_output=True, text=True, env=env, timeout=600
    )
    wall = time.monotonic() - t0
    peak_mib = int(out.stdout.split()[-1]) / 1024
    from appc_conformance.reports.results import parse

    doc = parse(results.read_text(), results)
    n = len(doc["cases"])
    assert n >= 100, n
    assert all(c.get("actual_truncated") is True for c in doc["cases"])
    assert all(isinstance(c["actual"], str) and len(c["actual"]) <= adapter.ACTUAL_KEEP for c in doc["cases"])
    assert all("the record keeps its first" in c["message"] for c in doc["cases"])
    # graded on the whole answer: the reference's answer plus padding passes
    assert {c["verdict"] for c in doc["cases"]} == {"pass"}
    size = results.stat().st_size
    assert size < n * (adapter.ACTUAL_KEEP + 8192), size  # not n MiB
    print(f"{n} answers of 1 MiB: peak {peak_mib:.0f} MiB, results {size} bytes, {wall:.0f} s")
    assert peak_mib < 250, peak_mib  # n MiB of answers went through; far less was held
    assert wall < 300, wall


def test_a_large_message_in_an_answer_is_kept_bounded():
    s = start("big-unsupported:1024")
    try:
        case = vectors.load(VECTORS).cases[0]
        rec = run_case(case, "appc-0.8.11", s)
        assert rec.verdict == "unsupported"
        assert len(rec.message) <= adapter.ACTUAL_KEEP + 200 and "characters of the message" in rec.message
        assert rec.actual_truncated and len(rec.actual) <= adapter.ACTUAL_KEEP
    finally:
        s.close()


# -- 8. a request that killed its process never silently passes ------------------------------
def test_every_request_that_killed_its_process_is_reported_in_a_pipeline(tmp_path):
    log = tmp_path / "fatal.jsonl"
    s = start("crash-nth:3", str(log), timeout=5)
    try:
        apps = [f"example.com/app-{i}" for i in range(12)]
        assert s.ensure().ok
        tickets = {}
        outcome = {}
        # as the plugin does: send ahead, then claim in order while sending more
        for i, app in enumerate(apps):
            for j in range(i, min(i + 8, len(apps))):
                s.ensure()
                if j not in tickets or tickets[j] is None:
                    tickets[j] = s.submit("parse_app", {"app": apps[j]})
            time.sleep(0.05)  # the adapter works (and dies) meanwhile
            outcome[app] = s.request("parse_app", {"app": app}, ticket=tickets[i])
        fatal = [json.loads(line)["args"]["app"] for line in log.read_text().splitlines()]
        assert len(fatal) >= 3
        for app in fatal:
            ex = outcome[app]
            assert ex.status == "crash" or getattr(ex, "retried", None), (app, ex)
    finally:
        s.close()


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
@pytest.mark.parametrize("depth", ["8", "0"])
def test_every_fatal_request_of_a_run_gets_crash_or_a_recorded_retry(tmp_path, depth):
    log = tmp_path / "fatal.jsonl"
    proc, doc = run_suite(
        tmp_path,
        "--adapter-cmd",
        broken_cmd(f"crash-nth:5 {log}"),
        "--pipeline",
        depth,
        paths=[VECTORS / "app-strings", VECTORS / "resolution"],
    )
    assert doc is not None, proc.stdout[-2000:]
    cases = {c.id: c for c in vectors.load(VECTORS).cases}
    reported: dict = {}
    for rec in doc["cases"]:
        if rec["verdict"] == "crash" or rec.get("retried"):
            case = cases[rec["id"]]
            key = (rec["profile"], case.op, json.dumps(case.raw["input"], sort_keys=True))
            reported[key] = reported.get(key, 0) + 1
    fatal: dict = {}
    for line in log.read_text().splitlines():
        f = json.loads(line)
        key = (f["profile"], f["op"], json.dumps(f["args"], sort_keys=True))
        fatal[key] = fatal.get(key, 0) + 1
    assert len(fatal) >= 10
    silent = {k: n for k, n in fatal.items() if reported.get(k, 0) < n}
    assert not silent, f"{len(silent)} of {len(fatal)} fatal requests passed silently: {list(silent)[:3]}"
    if depth == "0":
        assert not any(c.get("retried") for c in doc["cases"])
    by = verdicts(doc)
    assert len(by["crash"]) == sum(fatal.values()) and "pass" in by


SLEEPER = """
import json, os, sys, time
for line in sys.stdin:
    req = json.loads(line)
    if req.get("op") == "hello":
        print(json.dumps({"ok": {"implementation": {"name": "sleeper"}, "profiles": ["appc-0.8.11"],
                                 "ops": ["parse_app"], "features": []}}), flush=True)
        continue
    with open(sys.argv[1], "w") as fh:
        fh.write(str(os.getpid()))
    time.sleep(3600)  # ignores stdin from now on: only a kill ends it
"""


def test_an_adapter_outlives_no_harness_killed_with_sigkill(tmp_path):
    """What the harness cannot catch (SIGKILL) must still end its adapters: a watcher process
    holds a pipe from the harness and kills the adapters' process groups when it breaks."""
    script = tmp_path / "sleeper.py"
    script.write_text(SLEEPER)
    marker = tmp_path / "pid"
    proc = subprocess.Popen(
        [
            *PYTEST,
            str(VECTORS / "app-strings"),
            "--case",
            "app-strings/basic/*",
            "--pipeline",
            "0",
            "--profile",
            "appc-0.8.11",
            "--adapter-timeout",
            "300",
            "--adapter-cmd",
            f"{sys.executable} {script} {marker}",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not (marker.exists() and marker.read_text()):
            assert proc.poll() is None and time.monotonic() < deadline, "the adapter never got a case"
            time.sleep(0.05)
        pid = int(marker.read_text())
        assert alive(pid)
        proc.kill()
        proc.wait()
        end = time.monotonic() + 10
        while alive(pid) and time.monotonic() < end:
            time.sleep(0.05)
        assert not alive(pid), "the adapter outlived the harness killed with SIGKILL"
    finally:
        if proc.poll() is None:
            proc.kill()
        if marker.exists() and marker.read_text() and alive(int(marker.read_text())):
            os.kill(int(marker.read_text()), 9)
