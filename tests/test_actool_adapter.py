"""The actool adapter (conformance/adapters/actool) as a process, through the protocol only.

It runs the real ``actool discover`` against an HTTPS server on 127.0.0.1
(pytest-httpserver, with a trustme CA given to actool through SSL_CERT_FILE).
Skipped when actool is not installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.rawadapter import AdapterProcess, adapter_env, make_test_ca, page

ROOT = Path(__file__).resolve().parent.parent
PROFILE = "appc-0.8.11"


ACTOOL = os.environ.get("ACTOOL") or shutil.which("actool") or "/usr/bin/actool"
pytestmark = pytest.mark.skipif(
    not os.access(ACTOOL, os.X_OK), reason="actool is not installed (apt-get install appc-spec)"
)


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_test_ca(tmp_path_factory)


@pytest.fixture(scope="module")
def server(tls):
    from pytest_httpserver import HTTPServer

    srv = HTTPServer(host="127.0.0.1", port=0, ssl_context=tls[0], threaded=True)
    srv.start()
    base = f"https://127.0.0.1:{srv.port}"
    q = "ac-discovery=1"
    srv.expect_request("/app", query_string=q).respond_with_data(
        page(
            ("ac-discovery", "127.0.0.1/app", base + "/{name}-{version}.{ext}"),
            ("ac-discovery-pubkeys", "127.0.0.1/app", base + "/pubkeys.gpg"),
        ),
        content_type="text/html",
    )
    # Images found at the host root after two failed prefixes, keys at the root too.
    srv.expect_request("/", query_string=q).respond_with_data(
        page(
            ("ac-discovery", "127.0.0.1/deep", base + "/deep/{name}-{version}.{ext}"),
            ("ac-discovery-pubkeys", "127.0.0.1/deep", base + "/deep.gpg"),
            ("ac-discovery", "127.0.0.1/nokeys", base + "/nokeys/{name}.{ext}"),
            ("ac-discovery", "127.0.0.1/osarch", base + "/{name}-{os}-{arch}.{ext}"),
            ("ac-discovery-pubkeys", "127.0.0.1/osarch", base + "/osarch.gpg"),
        ),
        content_type="text/html",
    )
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def adapter(tls):
    proc = AdapterProcess([sys.executable, "-m", "appc_conformance.conformance.adapters.actool"], adapter_env(tls[1]))
    answer = proc.hello()
    assert "ok" in answer, answer
    yield proc
    proc.close()


def discover(adapter, app, port, what=("aci", "pubkeys"), insecure=(), headers=None):
    return adapter.call("discover", app=app, what=list(what), port=port, insecure=list(insecure), headers=headers or {})


# ----------------------------------------------------------------------------- hello


def test_hello_reports_actool(tls):
    version = subprocess.run([ACTOOL, "version"], capture_output=True, text=True).stdout.split()[-1]
    proc = AdapterProcess([sys.executable, "-m", "appc_conformance.conformance.adapters.actool"], adapter_env(tls[1]))
    try:
        answer = proc.hello()
    finally:
        proc.close()
    assert "id" not in answer
    ok = answer["ok"]
    assert ok["implementation"]["name"] == "actool"
    assert ok["implementation"]["version"] == version
    assert ok["implementation"]["language"] == "go"
    assert ok["profiles"] == [PROFILE]
    assert ok["ops"] == ["discover"]
    assert ok["features"] == ["custom-port"]


def test_other_profiles_are_declined(tls):
    proc = AdapterProcess([sys.executable, "-m", "appc_conformance.conformance.adapters.actool"], adapter_env(tls[1]))
    try:
        assert set(proc.hello(profile="appc-imagetags")) == {"unsupported"}
    finally:
        proc.close()


def test_missing_actool_declines_the_profile(tmp_path):
    proc = AdapterProcess(
        [sys.executable, "-m", "appc_conformance.conformance.adapters.actool"],
        adapter_env(None, ACTOOL=str(tmp_path / "no-such-actool")),
    )
    try:
        answer = proc.hello()
    finally:
        proc.close()
    assert "apt-get install appc-spec" in answer["unsupported"]


# ----------------------------------------------------------------------------- transport


def test_malformed_lines_are_answered_and_the_adapter_goes_on(adapter, server):
    garbage = adapter.send_raw("{not json")
    assert garbage["id"] is None and garbage["error"]["kind"] == "other"
    bad_args = adapter.send_raw('{"id": 41, "op": "discover", "args": "x"}')
    assert bad_args["id"] == 41 and bad_args["error"]["kind"] == "other"
    no_app = adapter.send_raw('{"id": 42, "op": "discover", "args": {"what": ["aci"]}}')
    assert no_app["id"] == 42 and no_app["error"]["kind"] == "other"
    assert "ok" in discover(adapter, "127.0.0.1/app", server.port)


def test_other_ops_are_unsupported(adapter):
    assert "unsupported" in adapter.call("parse_app", app="example.com/app")
    assert "unsupported" in adapter.call("resolve", app="example.com/app", port=None, insecure=[], headers={})


def test_what_actool_cannot_do_is_unsupported(adapter, server):
    host = f"127.0.0.1:{server.port}"
    for kwargs in (
        dict(insecure=["tls"]),
        dict(insecure=["http"]),
        dict(what=["imagetags"]),
        dict(headers={host: {"X-A": ["b"]}}),
    ):
        answer = discover(adapter, "127.0.0.1/app", server.port, **kwargs)
        assert "unsupported" in answer, (kwargs, answer)


# ----------------------------------------------------------------------------- discover


def test_discover_with_custom_port(adapter, server):
    base = f"https://127.0.0.1:{server.port}"
    ok = discover(adapter, "127.0.0.1/app:1.0", server.port)["ok"]
    assert ok["aci"] == [{"aci": base + "/127.0.0.1/app-1.0.aci", "asc": base + "/127.0.0.1/app-1.0.aci.asc"}]
    assert ok["pubkeys"] == [base + "/pubkeys.gpg"]
    assert ok["attempts"] == []


def test_discover_reports_only_the_kinds_asked(adapter, server):
    ok = discover(adapter, "127.0.0.1/app", server.port, what=["pubkeys"])["ok"]
    assert "aci" not in ok and len(ok["pubkeys"]) == 1


def test_discover_walk_attempts_are_parsed(adapter, server):
    ok = discover(adapter, "127.0.0.1/deep/app:2", server.port)["ok"]
    assert ok["aci"][0]["aci"] == f"https://127.0.0.1:{server.port}/deep/127.0.0.1/deep/app-2.aci"
    assert ok["pubkeys"] == [f"https://127.0.0.1:{server.port}/deep.gpg"]
    prefixes = [(a["what"], a["prefix"]) for a in ok["attempts"]]
    assert prefixes == [
        ("aci", "127.0.0.1/deep/app"),
        ("aci", "127.0.0.1/deep"),
        ("pubkeys", "127.0.0.1/deep/app"),
        ("pubkeys", "127.0.0.1/deep"),
    ]
    assert all("500" in a["error"] for a in ok["attempts"])


def test_actool_fills_in_os_and_arch(adapter, server):
    """actool adds its own os and arch labels, so {os} and {arch} templates render."""
    ok = discover(adapter, "127.0.0.1/osarch", server.port)["ok"]
    url = ok["aci"][0]["aci"]
    assert "{os}" not in url and "{arch}" not in url and url.endswith(".aci")


def test_no_keys_found_is_a_failure_even_for_images(adapter, server):
    """AMB-13: actool exits 1 when no key is found, so the images it found are lost too."""
    answer = discover(adapter, "127.0.0.1/nokeys", server.port, what=["aci"])
    assert answer["error"]["kind"] == "discovery-failed"
    assert "public keys" in answer["error"]["message"]


def test_nothing_found_fails(adapter, server):
    answer = discover(adapter, "127.0.0.1/missing", server.port)
    assert answer["error"]["kind"] == "discovery-failed"


def test_invalid_app_string_is_an_error_not_a_crash(adapter, server):
    # actool 0.8.11 dereferences the app before checking the parse error and panics.
    answer = discover(adapter, "127.0.0.1/App", server.port)
    assert answer["error"]["kind"] in ("other", "invalid-app-string", "invalid-identifier")
    assert "ok" in discover(adapter, "127.0.0.1/app", server.port)


def test_insecure_allows_plain_http_on_the_same_port(adapter):
    from pytest_httpserver import HTTPServer

    plain = HTTPServer(host="127.0.0.1", port=0)
    plain.start()
    try:
        plain.expect_request("/app", query_string="ac-discovery=1").respond_with_data(
            page(
                ("ac-discovery", "127.0.0.1/app", "http://127.0.0.1/{name}.{ext}"),
                ("ac-discovery-pubkeys", "127.0.0.1/app", "http://127.0.0.1/k.gpg"),
            ),
            content_type="text/html",
        )
        assert discover(adapter, "127.0.0.1/app", plain.port)["error"]["kind"] == "discovery-failed"
        ok = discover(adapter, "127.0.0.1/app", plain.port, insecure=["tls", "http"])["ok"]
        assert ok["aci"][0]["aci"] == "http://127.0.0.1/127.0.0.1/app.aci"
        assert ok["pubkeys"] == ["http://127.0.0.1/k.gpg"]
    finally:
        plain.clear()
        plain.stop()


def test_a_hanging_actool_is_killed(tls):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections in the kernel, never answers
    proc = AdapterProcess(
        [sys.executable, "-m", "appc_conformance.conformance.adapters.actool"],
        adapter_env(tls[1], APPC_ACTOOL_TIMEOUT="1"),
    )
    try:
        assert "ok" in proc.hello()
        start = time.monotonic()
        answer = discover(proc, "127.0.0.1/app", listener.getsockname()[1])
        assert time.monotonic() - start < 15
        assert answer["error"]["kind"] == "other"
        assert "killed" in answer["error"]["message"]
    finally:
        proc.close()
        listener.close()
