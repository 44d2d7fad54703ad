"""The benchmark script's verdicts are computed, and can come out either way."""

from __future__ import annotations

import importlib.util

from tests.helpers import ROOT

spec = importlib.util.spec_from_file_location("appc_benchmark", ROOT / "scripts" / "benchmark.py")
benchmark = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark)


def rows(per_case, quadratic=0.0, fixed=0.5, n=767, factors=(1, 5, 10, 20)):
    return [
        {"factor": f, "case_runs": n * f, "wall_s": fixed + per_case * n * f + quadratic * (n * f) ** 2}
        for f in factors
    ]


def test_linear_growth_is_called_linear():
    assert benchmark.growth_verdict(rows(300e-6)).startswith("yes")


def test_a_cost_per_case_that_rises_with_the_cases_is_not_linear():
    verdict = benchmark.growth_verdict(rows(300e-6, quadratic=300e-6 / 15340))
    assert verdict.startswith("no"), verdict


def test_growth_needs_three_sizes():
    assert benchmark.growth_verdict(rows(300e-6, factors=(1, 10))).startswith("not measured")


def _compat(concurrent_s, same=True):
    run = lambda w: {"wall_s": w, "walls_s": [w], "rc": 1, "maxrss_kb": 70000, "cpu_s": 20.0, "case_runs": 2276}  # noqa: E731
    return {
        "concurrent": run(concurrent_s),
        "serial": run(60.0),
        "same_verdicts": same,
        "differences": [] if same else ["go-appc x [appc-0.8.11]: pass vs timeout (serial)"],
    }


def test_the_compat_target_is_computed():
    assert "**met** (12.0 s" in "\n".join(benchmark.render_compat(_compat(12.0)))
    assert "**not met** (16.0 s" in "\n".join(benchmark.render_compat(_compat(16.0)))


def test_different_verdicts_of_the_two_modes_are_shown():
    text = "\n".join(benchmark.render_compat(_compat(12.0, same=False)))
    assert "**DIFFERENT**" in text and "pass vs timeout" in text
