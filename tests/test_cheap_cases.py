"""Issue 22, item 4: a case whose op the adapter does not offer costs nothing. The hanging-host
discovery cases (discovery/limits/slow-drip-page) cost 1 to 29 s for an adapter without
``discover``, because their mock hosts were stood up before the op was looked at."""

from __future__ import annotations


import pytest

from appc_conformance import servers
from appc_conformance.conformance import case_runner, grading, vectors
from appc_conformance.conformance.adapter import Hello
from tests.helpers import VECTORS


class _Session:
    profile = "appc-0.8.11"
    timeout = 10.0

    def __init__(self, ops):
        self.hello = Hello(ok=True, ops=list(ops), profiles=[self.profile])

    def ensure(self):
        return self.hello

    def request(self, *a, **kw):  # pragma: no cover - must not be reached
        raise AssertionError("a request was sent for an op the adapter does not offer")


@pytest.mark.parametrize("case_id", ["discovery/limits/slow-drip-page", "fetch/signatures/trusted-key-none"])
def test_a_network_case_of_an_op_not_offered_stands_up_no_host(monkeypatch, case_id):
    case = next(c for c in vectors.load(VECTORS).cases if c.id == case_id)

    def no_hosts(*a, **kw):
        raise AssertionError(f"mock hosts stood up for {case.id}, whose op the adapter does not offer")

    monkeypatch.setattr(servers, "scenario", no_hosts)
    rec = case_runner.run_case(case, "appc-0.8.11", _Session(["parse_app"]))
    assert rec.verdict == grading.NOT_IMPLEMENTED, rec.message
    assert case.op in rec.message


def test_the_pool_takes_no_port_lock_for_a_case_the_adapter_cannot_take(monkeypatch):
    """On ports 443/80 a scenario holds its address block's lock: a case that stands up no host
    must not wait for that lock (it waited behind another session's hanging-host case)."""
    from appc_conformance.conformance import pool as poolmod
    from appc_conformance.servers.scenario import DefaultPortsLock

    case = next(c for c in vectors.load(VECTORS).cases if c.id == "discovery/limits/slow-drip-page")
    p = poolmod.NetworkPool(lambda profile: _Session(["parse_app"]), workers=1)
    monkeypatch.setattr(servers, "scenario", lambda *a, **kw: (_ for _ in ()).throw(AssertionError("hosts")))
    held = DefaultPortsLock(wait=60, block=0)  # the pool's first thread serves on block 0
    held.acquire()  # held by another case's scenario
    ex = poolmod.concurrent.futures.ThreadPoolExecutor(1)
    try:
        fut = ex.submit(p._run, case, "appc-0.8.11")
        try:
            rec = fut.result(timeout=5)
        except poolmod.concurrent.futures.TimeoutError:
            pytest.fail("the case waited for the port lock although it stands up no host")
    finally:
        held.release()
        ex.shutdown(wait=True)
    assert rec.verdict == grading.NOT_IMPLEMENTED
