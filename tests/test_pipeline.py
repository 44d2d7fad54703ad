"""Requests sent ahead (pipelining): every answer reaches its own case, whatever fails between."""

from __future__ import annotations

import re

import pytest

from appc_conformance.conformance import adapter
from appc_conformance.conformance.adapter import AdapterSession
from tests import miniatures
from tests.helpers import VECTORS, run_suite


@pytest.fixture
def session():
    """The ``scripted`` miniature (tests/miniatures.py): the transport, without a process."""
    with miniatures.installed():
        s = AdapterSession(miniatures.command("scripted").split(), "appc-0.8.11", timeout=0.5)
        assert s.ensure().ok
        yield s
        s.close()


def send_all(session, apps):
    tickets = [session.submit("parse_app", {"app": a}) for a in apps]
    assert None not in tickets
    return tickets


def claim(session, app, ticket):
    return session.request("parse_app", {"app": app}, ticket=ticket)


def test_answers_reach_their_tickets_in_any_claim_order(session):
    apps = [f"app-{i}" for i in range(6)]
    tickets = send_all(session, apps)
    for i in (3, 0, 1, 5, 2, 4):
        ex = claim(session, apps[i], tickets[i])
        assert ex.status == "answer" and ex.answer["ok"]["name"] == apps[i]
        assert ex.answer["id"] == tickets[i]


# crash-after:2 dies once the two requests behind it reached it (a plain crash could die before
# they are sent, and then they would not be sent ahead at all).
@pytest.mark.parametrize(
    "bad,verdict", [("crash-after:2", "crash"), ("hang", "timeout"), ("garbage", "protocol-error")]
)
def test_a_failure_is_the_failing_request_s_alone(session, bad, verdict):
    apps = ["before-1", "before-2", bad, "after-1", "after-2"]
    tickets = send_all(session, apps)
    results = [claim(session, a, t) for a, t in zip(apps, tickets)]
    assert [r.status for r in results] == ["answer", "answer", verdict, "answer", "answer"]
    assert [r.answer["ok"]["name"] for r in results[:2] + results[3:]] == ["before-1", "before-2", "after-1", "after-2"]
    first_pid = results[0].answer["ok"]["pid"]
    assert results[1].answer["ok"]["pid"] == first_pid
    # the requests sent behind the failure went again, to a fresh process
    assert results[3].answer["ok"]["pid"] == results[4].answer["ok"]["pid"] != first_pid


def test_a_failure_found_while_reading_ahead_is_kept_for_its_own_case(session):
    apps = ["ok-1", "crash-after:1", "ok-2"]
    tickets = send_all(session, apps)
    last = claim(session, apps[2], tickets[2])  # read past the crash to reach it
    assert last.status == "answer" and last.answer["ok"]["name"] == "ok-2"
    assert claim(session, apps[1], tickets[1]).status == "crash"
    assert claim(session, apps[0], tickets[0]).answer["ok"]["name"] == "ok-1"


def test_each_request_s_timeout_runs_from_the_previous_answer(session):
    # three requests of 0.3 s each, sent at once, with a 0.5 s timeout: 0.9 s in all,
    # but no request waits more than 0.3 s once the adapter can start on it
    apps = ["slow:300"] * 3
    tickets = send_all(session, apps)
    results = [claim(session, a, t) for a, t in zip(apps, tickets)]
    assert [r.status for r in results] == ["answer"] * 3
    assert all(0.25 <= r.elapsed < 0.5 for r in results), [r.elapsed for r in results]


def test_an_adapter_that_writes_to_stderr_gets_one_request_at_a_time(session):
    """Once stderr has lines, nothing is sent ahead, so each case keeps exactly its own lines."""
    first = session.request("parse_app", {"app": "err:written-once"})
    assert "written-once" in first.stderr
    assert session.submit("parse_app", {"app": "ahead"}) is None
    assert session.quiet is False
    apps = ["quiet-1", "err:said-by-the-second", "quiet-3", "err:said-by-the-fourth"]
    results = [session.request("parse_app", {"app": a}) for a in apps]
    assert [r.stderr for r in results] == ["", "said-by-the-second", "", "said-by-the-fourth"]


def test_stderr_marks_survive_the_kept_lines_limit(session):
    for i in range(adapter.STDERR_KEEP + 20):
        ex = session.request("parse_app", {"app": f"err:line-{i}"})
        assert ex.stderr == f"line-{i}"


def test_requests_in_flight_are_bounded_in_bytes(session):
    assert session.submit("parse_app", {"app": "small"}) is not None
    big = "x" * adapter.PIPELINE_BYTES
    assert session.submit("parse_app", {"app": big}) is None  # would not fit behind the first
    ex = session.request("parse_app", {"app": big})  # sent on its own, after the first
    assert ex.status == "answer" and ex.answer["ok"]["name"] == big


def test_nothing_is_sent_ahead_to_an_adapter_without_the_op(session):
    assert session.submit("validate_manifest", {"document": "{}"}) is None


def test_the_run_is_the_same_with_and_without_pipelining(tmp_path):
    paths = [VECTORS / "app-strings", VECTORS / "resolution"]
    runs = [run_suite(tmp_path, "--pipeline", depth, paths=paths) for depth in ("0", "8")]
    strip = [[(c["id"], c["profile"], c["verdict"], c["actual"]) for c in doc["cases"]] for _, doc in runs]
    assert strip[0] == strip[1] and len(strip[0]) > 100
    # and the second run really sent requests ahead (the first did not)
    ahead = [int(re.search(r"requests sent ahead \(--pipeline \d+\): (\d+)", proc.stdout).group(1)) for proc, _ in runs]
    assert ahead[0] == 0 and ahead[1] > 100, ahead
