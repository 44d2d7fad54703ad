# Loads the harness when running from a source checkout (an installed package loads it
# through its pytest11 entry point, under the same name, so it is never loaded twice).
pytest_plugins = ["appc_conformance.conformance.plugin"]

import os  # noqa: E402

import pytest  # noqa: E402


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """``-n auto`` (tox -e quick, tox -e tests): twice as many workers as there are cores.

    Tests run the harness in their own process now, but still wait on adapters, mock hosts and
    timeouts on purpose: measured, half of each worker's time was waiting, and on two cores
    four workers ran the quick loop about 2 s faster than three (docs/ARCHITECTURE.md, "The
    project's test loops")."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(2, cores * 2)
