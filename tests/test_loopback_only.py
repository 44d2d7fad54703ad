"""The discovery suite needs nothing but loopback, and its servers leave nothing behind.

The suite runs inside a new network namespace (``unshare -n``) whose only interface is
``lo``: a request to any other address fails at once there, so a case that passes inside
reached no other address. Skipped where network namespaces are not permitted.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess

import pytest

from tests.helpers import PYTEST, ROOT, VECTORS


def _netns_ok() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.slow  # long waits, builds or bombs on purpose: in tox -e tests, not in tox -e quick
@pytest.mark.skipif(not _netns_ok(), reason="network namespaces (unshare -n) are not permitted here")
def test_discovery_suite_passes_with_only_loopback_and_leaks_nothing(tmp_path):
    results = tmp_path / "results.json"
    pytest_cmd = shlex.join([*PYTEST, str(VECTORS / "discovery"), "--impl", "reference", "--results", str(results)])
    script = f"ip link set lo up && ip -o addr show | grep -v ' lo ' ; {pytest_cmd}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        ["unshare", "-n", "sh", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env
    )
    assert results.exists(), proc.stdout[-3000:] + proc.stderr[-2000:]
    doc = json.loads(results.read_text())
    not_passing = [(c["id"], c["profile"], c["verdict"]) for c in doc["cases"] if c["verdict"] != "pass"]
    assert not not_passing
    assert len(doc["cases"]) > 200
    # servers stopped cleanly after every case: no thread outlived its scenario
    assert not [c["id"] for c in doc["cases"] if c.get("extra", {}).get("leaked")]
    assert proc.returncode == 0
