"""pytest wiring of the generated differential cases.

The implementation under test comes from the plugin's options (``--impl``, ``--adapter-cmd``,
``--profile``, ``--adapter-timeout``; the reference when none is given); the expected answers
come from a second adapter process running the reference. Each test is run once per profile.
"""

from __future__ import annotations

import os
import shlex

import pytest

from appc_conformance.conformance import registry, vectors
from appc_conformance.conformance.adapter import AdapterSession
from appc_conformance.conformance.plugin import STASH, ca_bundle

from . import budget as budgetmod
from .differential import Differential, NotTestable, ReferenceProblem

_HARNESS = pytest.StashKey["GeneratedHarness"]()


class GeneratedHarness:
    def __init__(self, config):
        self.config = config
        try:
            self.budget = budgetmod.current()
        except budgetmod.BudgetError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.plugin = config.stash.get(STASH, None)
        opt = config.option
        self.profiles = list(opt.profile or vectors.PROFILES)
        self.timeout = getattr(opt, "adapter_timeout", 10.0) or 10.0
        self.ca_file = ca_bundle()
        if self.plugin is not None:
            self.label = self.plugin.impl_id or " ".join(self.plugin.argv)
        else:  # no implementation chosen: the reference against itself
            self.label = "reference"
        self.ref_argv = registry.command("reference")
        self.own: dict = {}
        self.differentials: dict = {}

    def impl_session(self, profile: str) -> AdapterSession:
        if self.plugin is not None:
            return self.plugin.session(profile)
        if ("impl", profile) not in self.own:
            self.own[("impl", profile)] = AdapterSession(
                self.ref_argv, profile, timeout=self.timeout, ca_file=self.ca_file
            )
        return self.own[("impl", profile)]

    def differential(self, profile: str) -> Differential:
        if profile not in self.differentials:
            ref = AdapterSession(self.ref_argv, profile, timeout=self.timeout, ca_file=self.ca_file)
            self.own[("reference", profile)] = ref
            self.differentials[profile] = Differential(
                self.impl_session(profile), ref, self.label, ignore=budgetmod.ignored()
            )
        return self.differentials[profile]

    def replay_command(self) -> str:
        """The command that runs the current test again, with the same budget and seed."""
        node = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
        opt = self.config.option
        args = [node]
        if opt.impl:
            args += ["--impl", opt.impl]
        if opt.adapter_cmd:
            args += ["--adapter-cmd", opt.adapter_cmd]
        for p in opt.profile or []:
            args += ["--profile", p]
        return (self.budget.replay_env() + "python -m pytest " + " ".join(shlex.quote(a) for a in args)).strip()

    def run(self, op: str, profile: str, strategy, name: str, weight: float = 1.0) -> None:
        d = self.differential(profile)
        try:
            d.require(op)
        except NotTestable as exc:
            pytest.skip(str(exc))
        d.context = {"budget": self.budget.describe(), "replay": self.replay_command()}
        budgetmod.run(f"{name}[{profile}]", strategy, lambda args: d.check(op, args), self.budget, weight)

    def run_discovery(self, op: str, profile: str, strategy, name: str, weight: float = 1.0) -> None:
        """As ``run``, for generated discovery cases served by mock hosts (servers/)."""
        d = self.differential(profile)
        try:
            d.require(op)
            d.port_mode()
        except NotTestable as exc:
            pytest.skip(str(exc))
        d.context = {"budget": self.budget.describe(), "replay": self.replay_command()}
        budgetmod.run(f"{name}[{profile}]", strategy, lambda case: d.check_discovery(op, case), self.budget, weight)

    def close(self) -> None:
        for s in self.own.values():
            s.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "profiles(*names): the profiles a generated test applies to")


def pytest_generate_tests(metafunc):
    if "profile" not in metafunc.fixturenames:
        return
    config = metafunc.config
    wanted = list(config.option.profile or vectors.PROFILES)
    marker = metafunc.definition.get_closest_marker("profiles")
    if marker is not None:
        wanted = [p for p in wanted if p in marker.args]
    metafunc.parametrize("profile", wanted, ids=wanted)


@pytest.fixture(scope="session")
def generated(request):
    config = request.config
    if _HARNESS not in config.stash:
        config.stash[_HARNESS] = GeneratedHarness(config)
    harness = config.stash[_HARNESS]
    yield harness


def pytest_unconfigure(config):
    harness = config.stash.get(_HARNESS, None)
    if harness is not None:
        harness.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    harness = config.stash.get(_HARNESS, None)
    if harness is None:
        return
    terminalreporter.section("generated differential cases")
    terminalreporter.write_line(f"implementation: {harness.label}; expected answers: the reference adapter")
    terminalreporter.write_line(f"budget: {harness.budget.describe()}")
    for profile, d in sorted(harness.differentials.items()):
        s = d.stats
        terminalreporter.write_line(
            f"{profile}: {s['checked']} answers compared, {s['excluded']} inputs "
            f"excluded (outside the reference's scope), {s['unsupported']} unsupported"
            + (f", {s['ignored']} known disagreements passed over" if s["ignored"] else "")
        )


__all__ = ["GeneratedHarness", "ReferenceProblem"]
