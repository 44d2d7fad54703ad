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
