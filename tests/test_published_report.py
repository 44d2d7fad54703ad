"""The committed compatibility summary (reports/COMPATIBILITY.md) is what the report command
makes now. It is made with every bundled implementation, so it is checked only where all of
them are installed (CI installs them)."""
from __future__ import annotations

import difflib
import subprocess
import sys

import pytest

from appc_conformance.conformance import registry
from tests.helpers import ROOT

PUBLISHED = ROOT / "reports" / "COMPATIBILITY.md"


def _missing() -> list[str]:
    out = []
    for name in registry.IMPLEMENTATIONS:
        try:
            registry.command(name)
        except registry.NotAvailable as exc:
            out.append(f"{name}: {exc}")
    return out


@pytest.mark.slow
def test_published_compatibility_report_is_current(tmp_path):
    missing = _missing()
    if missing:
        pytest.skip("the published report needs every bundled implementation: " + "; ".join(missing))
    fresh = tmp_path / "COMPATIBILITY.md"
    proc = subprocess.run([sys.executable, "-m", "appc_conformance", "run", "--all", "--out", str(tmp_path / "out"),
                           "--publish", str(fresh)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert fresh.exists(), proc.stderr[-3000:]
    # run exits 1 only on failures not listed in expectations/IMPL.json
    assert proc.returncode == 0, proc.stderr[-3000:]
    new, old = fresh.read_text(), PUBLISHED.read_text() if PUBLISHED.exists() else ""
    if new != old:
        diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                            "reports/COMPATIBILITY.md (committed)", "fresh run", n=1))
        pytest.fail("reports/COMPATIBILITY.md is stale; regenerate it with `tox -e compat` "
                    "and commit it:\n" + diff[:6000])
