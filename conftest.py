# Loads the harness when running from a source checkout (an installed package loads it
# through its pytest11 entry point, under the same name, so it is never loaded twice).
pytest_plugins = ["appc_conformance.conformance.plugin"]

import os  # noqa: E402

import pytest  # noqa: E402


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """``-n auto`` (tox -e quick, tox -e tests): half as many workers again as there are cores.

    Most tests start processes and then wait on them (pipes, sockets, timeouts on purpose):
    measured, a third of each worker's time is spent waiting, so two workers on two cores
    leave a core idle that a third fills (docs/ARCHITECTURE.md, "The project's test loops")."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(2, cores * 3 // 2)
