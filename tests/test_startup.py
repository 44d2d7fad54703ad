"""What a process of the suite imports before it needs it: loading the vectors (every run, the
lint) checks the network cases' hosts, and that check must not bring in the mock servers' TLS
and socket machinery (trustme and cryptography alone are a tenth of a second per process)."""

from __future__ import annotations

import json
import subprocess
import sys

from appc_conformance.conformance import vectors
from tests.helpers import ROOT, checkout_env

HEAVY = ("trustme", "cryptography", "appc_conformance.servers.mock", "appc_conformance.servers.artefacts", "tarfile")


def _imported_after(code: str, env: dict | None = None) -> set:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env or checkout_env(), capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_loading_the_vectors_imports_no_tls_or_socket_module_of_the_mock_servers(tmp_path, monkeypatch):
    """As a run loads them: the files' full checks are cached (a load in this process), the
    loopback check of the network cases runs on every load (the new process's)."""
    cache = str(tmp_path / "cache")
    monkeypatch.setenv(vectors.CACHE_ENV, cache)
    assert not vectors.load().problems  # checked here, recorded in the cache folder
    load = (
        "from appc_conformance.conformance import vectors\n"
        "vs = vectors.load()\n"
        "assert not vs.problems and any(c.op == 'discover' for c in vs.cases)"
    )
    mods = _imported_after(load, dict(checkout_env(), APPC_CONFORMANCE_CACHE=cache))
    assert not mods & set(HEAVY), sorted(mods & set(HEAVY))


def test_the_hosts_lint_imports_no_tls_or_socket_module():
    mods = _imported_after(
        "from appc_conformance import servers\n"
        "assert servers.lint_case({'op': 'discover', 'hosts': {'a': {'paths': {}}}, 'input': {}, 'expect': {}}) == []"
    )
    assert not mods & set(HEAVY), sorted(mods & set(HEAVY))


def test_the_servers_package_still_offers_what_it_documents():
    mods = _imported_after(
        "from appc_conformance import servers\n"
        "assert servers.ca.CERT_KINDS and servers.Pki and servers.scenario and servers.artefacts.ArtefactError\n"
        "assert servers.PortsUnavailable and servers.DEFAULT and servers.CUSTOM"
    )
    assert "appc_conformance.servers.artefacts" in mods  # asked for, it is there


def test_making_a_ca_brings_trustme():
    mods = _imported_after("from appc_conformance import servers\nassert servers.Pki().ca_file")
    assert "trustme" in mods
