"""An adapter's requests to the mock hosts are untrusted input: the request log (servers/log.py)
keeps a bounded amount of each request and of each case, and the results record
(conformance/discovery_runner.py) a bounded excerpt, and both say what they cut."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from appc_conformance.servers import log as logmod
from tests.helpers import BROKEN, ROOT

CASE = "discovery/resolve/version-from-colon/0.8.11"

PROBE = """
import json, resource, sys
from appc_conformance.conformance import vectors
from appc_conformance.conformance.adapter import AdapterSession
from appc_conformance.conformance.case_runner import run_case
case = next(c for c in vectors.load().cases if c.id == sys.argv[1])
def peak_mib():  # this process's own peak (ru_maxrss also counts the parent's size when it was spawned)
    try:
        return int(next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")).split()[1]) // 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
before = peak_mib()
s = AdapterSession([sys.executable, sys.argv[2], sys.argv[3]], "appc-0.8.11", timeout=120)
try:
    rec = run_case(case, "appc-0.8.11", s)
finally:
    s.close()
print(json.dumps({"before": before, "rss": peak_mib(),
                  "record": rec.to_json(), "size": len(json.dumps(rec.to_json()))}))
"""


def probe(mode: str) -> dict:
    """Run the case against ``broken.py MODE`` in a child harness; its peak memory (MiB, the
    adapter's not included: it is another process), and the record."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, CASE, str(BROKEN), mode], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_large_requests_cost_the_harness_bounded_memory():
    """40 requests of 90 headers of 60 KiB (216 MiB sent to the mock hosts, as the issue's 888 MB
    case but smaller): a mock host reads 128 KiB of a request's head (then answers 431) and the
    log keeps 1 KiB of each header value, so the harness's peak stays within 30 MiB of what it
    had before the case (before the bound: about 90 MiB more, growing with the requests)."""
    out = probe("request-flood:40,90,60,1")
    assert out["rss"] - out["before"] < 30, out["rss"] - out["before"]
    cut = out["record"]["extra"]["requests_cut"]
    assert cut["made"] >= 40 and cut["trimmed"] >= 40 and cut["kept"] == cut["made"], cut
    assert sum(line.endswith("-> 431") for line in out["record"]["extra"]["requests_seen"]) >= 40


def test_long_request_paths_keep_the_record_small():
    """60 requests with 60 KiB paths: the issue's 3.6 MB record is a few dozen KiB, and it says
    what it cut."""
    out = probe("request-flood:60,1,1,60")
    assert out["size"] < 64 * 1024, out["size"]
    extra = out["record"]["extra"]
    assert extra["requests_cut"]["lines_cut"] >= 1, extra["requests_cut"]
    assert all(len(line) <= 300 + 120 for line in extra["requests_seen"])
    assert any("more characters cut]" in line for line in extra["requests_seen"])
    # the results schema takes the marker (and refuses a malformed one)
    from appc_conformance.reports.results import ResultsError, validate
    from tests.test_integrity import minimal_results

    validate(minimal_results([out["record"]]))
    bad = json.loads(json.dumps(out["record"]))
    bad["extra"]["requests_cut"]["made"] = "many"
    with pytest.raises(ResultsError):
        validate(minimal_results([bad]))


# -- the log's rules, one at a time ----------------------------------------------------------


def add(log, path="/x", headers=(), **kw):
    return log.add(
        kind=logmod.REQUEST,
        scheme="https",
        host="a",
        address="127.0.0.2",
        port=1,
        method="GET",
        path=path,
        query=None,
        headers=[list(h) for h in headers],
        **kw,
    )


def test_a_cut_value_never_matches_a_shorter_one_and_keeps_its_prefix():
    log = logmod.RequestLog()
    long_path = "/a" + "b" * 5000
    e = add(log, long_path, [("Authorization", "x" * 5000), ("X-" + "n" * 400, "v")])
    assert e.cut and log.cut_summary() == {"made": 1, "kept": 1, "trimmed": 1}
    assert len(e.path) < 2100 and e.path.startswith("/ab")
    assert logmod.matches(logmod.parse_matcher("https a /ab*"), e)
    assert not logmod.matches(logmod.parse_matcher("https a " + long_path[:2048]), e)
    assert e.header_values("Authorization") != ["x" * 1024]
    assert logmod.matches(logmod.parse_matcher({"has_header": "Authorization"}), e)
    assert e.to_json()["cut"] is True
    assert "cut" not in add(log).to_json()


def test_a_case_over_the_log_bound_fails_its_assertions_saying_why(monkeypatch):
    """Requests beyond what the log keeps are counted, not kept; since they could break any
    assertion ('never', 'count'), every assertion group gets a problem naming the bound."""
    monkeypatch.setattr(logmod, "ENTRIES_KEEP", 5)
    log = logmod.RequestLog()
    for _ in range(8):
        add(log)
    assert len(log) == 5 and log.dropped == 3
    assert log.cut_summary() == {"made": 8, "kept": 5, "trimmed": 0}
    spec = {"never": ["https a /secret"]}
    problems = logmod.check_groups(spec, log)
    assert len(problems) == 1 and "8 requests were made, over what the log keeps" in problems[0][0]


def test_the_log_keeps_a_bounded_number_of_characters_per_case(monkeypatch):
    monkeypatch.setattr(logmod, "LOG_KEEP_CHARS", 10_000)
    log = logmod.RequestLog()
    for _ in range(20):
        add(log, headers=[("X-A", "v" * 1000)])
    kept = sum(len(e.path) + sum(len(n) + len(v) for n, v in e.headers) for e in log.entries())
    assert kept <= 10_000 and log.dropped > 0 and log.made == 20


@pytest.mark.parametrize("n", [0, 1])
def test_a_log_that_kept_everything_is_not_marked(n):
    log = logmod.RequestLog()
    for _ in range(n):
        add(log, headers=[("Host", "a")])
    assert log.cut_summary() is None
