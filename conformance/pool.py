"""Network cases side by side: a few extra adapter sessions that run the discovery cases.

A discovery case mostly waits: on its mock servers, and for the few that serve a hanging,
trickling or endless answer on purpose, on the adapter's own timeout or the harness's. Run one
after another, those waits add up; here they overlap. ``NetworkPool`` starts the network cases
of a run on ``workers`` threads as soon as the run starts; each thread has its own adapter
session per profile (its own process), so no two requests share an adapter. The pytest item of
a network case then only collects its record, in the run's order: the records, the reports and
the verdicts are those of a serial run (tests/test_run.py compares them case by case).

Cases whose mock servers wait on purpose (a ``delay`` or an ``endless`` body) start first: they
set the run's floor, and everything else fits beside them.

An adapter without the ``custom-port`` feature is served on ports 443 and 80, where two
scenarios cannot listen on the same address at once: each thread serves its scenarios on an
address block of its own (127.0.K.x for the K-th thread; servers.scenario.set_address_block),
so those cases run side by side too. docs/ARCHITECTURE.md, "Speed of a run", has the reasons.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import threading
from typing import Callable

from appc_conformance.conformance import vectors
from appc_conformance.conformance.adapter import AdapterSession
from appc_conformance.conformance.case_runner import Record, run_case

DEFAULT_WORKERS = 4


def waits_on_purpose(case) -> bool:
    """Whether a case's mock servers hold the client on purpose (``delay`` of a second or more,
    or an ``endless`` body): such cases start first."""
    for host in (case.raw.get("hosts") or {}).values():
        if not isinstance(host, dict):
            continue
        for resp in (host.get("paths") or {}).values():
            if isinstance(resp, dict) and (resp.get("endless") or _number(resp.get("delay")) >= 1):
                return True
    return False


def _own_timeout(case) -> float:
    """The case's own time limit (``timeout``), or infinity for the run's limit."""
    t = _number(case.raw.get("timeout"))
    return t if t > 0 else float("inf")


def _number(v) -> float:
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else 0


class NetworkPool:
    """Runs the network cases of ``items`` (objects with ``case`` and ``profile``) on
    ``workers`` threads; ``record(item)`` waits for one and returns its Record."""

    def __init__(self, new_session: Callable[[str], AdapterSession], workers: int = DEFAULT_WORKERS):
        self.new_session = new_session
        self.workers = max(1, workers)
        self._local = threading.local()
        self._sessions: list[AdapterSession] = []
        self._lock = threading.Lock()  # guards _sessions and _closed
        self._blocks = itertools.count()  # a default-ports address block per thread
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._futures: dict[int, concurrent.futures.Future] = {}
        self._closed = False
        self.started = False

    @staticmethod
    def is_network(item) -> bool:
        return item.case.op in vectors.NETWORK_OPS

    def start(self, items: list) -> None:
        self.started = True
        todo = [it for it in items if self.is_network(it)]
        if not todo:
            return
        # Waiting cases first, the longest wait first (a case's own timeout, else the run's, which
        # is the longer in practice), so that they spread over the threads; stable otherwise.
        todo.sort(key=lambda it: (not waits_on_purpose(it.case), -_own_timeout(it.case)))
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=min(self.workers, len(todo)), thread_name_prefix="appc-network"
        )
        for it in todo:
            self._futures[id(it)] = self._executor.submit(self._run, it.case, it.profile)

    def __contains__(self, item) -> bool:
        return id(item) in self._futures

    def record(self, item) -> Record:
        return self._futures[id(item)].result()

    def _session(self, profile: str) -> AdapterSession:
        sessions = getattr(self._local, "sessions", None)
        if sessions is None:
            sessions = self._local.sessions = {}
        if profile not in sessions:
            s = self.new_session(profile)
            with self._lock:
                if self._closed:
                    raise concurrent.futures.CancelledError()
                self._sessions.append(s)
            sessions[profile] = s
        return sessions[profile]

    def _run(self, case, profile: str) -> Record:
        session = self._session(profile)
        hello = session.ensure()
        custom = hello is not None and hello.ok and "custom-port" in hello.features
        if not custom and getattr(self._local, "block", None) is None:
            from appc_conformance.servers.scenario import set_address_block  # noqa: PLC0415 (imported with the servers)

            self._local.block = next(self._blocks)  # ports 443/80 on 127.0.BLOCK.x, this thread's own
            set_address_block(self._local.block)
        return run_case(case, profile, session)

    def sessions(self) -> list[AdapterSession]:
        with self._lock:
            return list(self._sessions)

    def close(self) -> None:
        """Cancel what has not started, stop every adapter (which ends a case in progress),
        then wait for the threads."""
        with self._lock:
            self._closed = True
            sessions = list(self._sessions)
        if self._executor is not None:
            for f in self._futures.values():
                f.cancel()
        for s in sessions:
            s.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            for s in self.sessions():  # a case that was ending may have restarted its adapter
                s.close()
