"""How many examples, which seed, and the hypothesis settings that follow from them.

CI (the default): a small budget per test and a fixed seed per test, so every run draws the
same inputs. Exploratory: ``APPC_GENERATED_EXAMPLES=N`` raises the budget and draws a fresh
random seed per run (printed, so a finding can be replayed); ``APPC_GENERATED_SEED=S`` fixes it.
``APPC_GENERATED_IGNORE=KEY,...`` passes over disagreements already triaged (their signature
keys, printed with each finding), so that a run searches for new ones.
Nothing is written to the repository: hypothesis' example database is off, and its storage
directory points to a temporary folder (set when the package is imported).
"""

from __future__ import annotations

import os
import random
import re
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from hypothesis import HealthCheck, Phase, given, seed, settings

ENV_EXAMPLES = "APPC_GENERATED_EXAMPLES"
ENV_SEED = "APPC_GENERATED_SEED"
ENV_IGNORE = "APPC_GENERATED_IGNORE"  # signature keys of disagreements already triaged
# "1": each test stops at its first disagreement and shrinks that one only (hypothesis'
# report_multiple_bugs off). The project's own tests use it against adapters that disagree on
# every input, where finding and shrinking every distinct failure costs minutes and proves nothing
# more; an exploratory run keeps the default and reports every distinct disagreement.
ENV_FIRST = "APPC_GENERATED_FIRST_ONLY"
CI_EXAMPLES = 100


class BudgetError(ValueError):
    pass


@dataclass(frozen=True)
class Budget:
    examples: int
    seed: Optional[int]  # None: a fixed seed per test, derived from its name (CI)
    exploratory: bool

    def describe(self) -> str:
        if self.seed is None:
            return f"{self.examples} examples per test, fixed seeds (the same inputs on every run)"
        return f"{self.examples} examples per test, seed {self.seed} (replay: {ENV_SEED}={self.seed})"

    def replay_env(self) -> str:
        if self.seed is None:
            return ""
        return f"{ENV_EXAMPLES}={self.examples} {ENV_SEED}={self.seed} "


def ignored(env: Optional[Mapping[str, str]] = None) -> frozenset:
    """Signature keys (``Disagreement_<key>``) to pass over, so a run looks for new ones."""
    env = os.environ if env is None else env
    return frozenset(k.strip().removeprefix("Disagreement_") for k in env.get(ENV_IGNORE, "").split(",") if k.strip())


def _int_env(name: str, env: Mapping[str, str]) -> Optional[int]:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BudgetError(f"{name}={raw!r} is not an integer") from None
    if value < (1 if name == ENV_EXAMPLES else 0):
        raise BudgetError(f"{name}={raw!r} is out of range")
    return value


_RUN_SEED = random.SystemRandom().randrange(2**32)  # one per process: every test reports the same


def current(env: Optional[Mapping[str, str]] = None) -> Budget:
    env = os.environ if env is None else env
    examples = _int_env(ENV_EXAMPLES, env)
    fixed_seed = _int_env(ENV_SEED, env)
    if examples is None:
        return Budget(CI_EXAMPLES, fixed_seed, exploratory=False)
    return Budget(examples, fixed_seed if fixed_seed is not None else _RUN_SEED, exploratory=True)


def hypothesis_settings(budget: Budget, weight: float = 1.0, env: Optional[Mapping[str, str]] = None) -> settings:
    env = os.environ if env is None else env
    return settings(
        max_examples=max(1, int(budget.examples * weight)),
        derandomize=False,  # the seed is always given (seed_for), so runs can be replayed
        database=None,
        deadline=None,
        print_blob=False,
        report_multiple_bugs=env.get(ENV_FIRST, "").strip() != "1",
        phases=(Phase.explicit, Phase.generate, Phase.target, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )


def seed_for(budget: Budget, name: str) -> int:
    """The seed of one test: fixed by its name in CI, mixed with the run's seed when exploring."""
    return zlib.crc32(name.encode()) ^ (budget.seed or 0)


def run(name: str, strategy, body: Callable[[Any], None], budget: Optional[Budget] = None, weight: float = 1.0) -> None:
    """Run ``body`` on examples of ``strategy`` under the budget; hypothesis shrinks failures."""
    budget = budget or current()

    def generated(example):
        body(example)

    generated.__name__ = generated.__qualname__ = re.sub(r"\W", "_", name)
    test = given(example=strategy)(generated)
    test = hypothesis_settings(budget, weight)(test)
    test = seed(seed_for(budget, name))(test)
    test()
