"""The mock discovery hosts (servers/): real requests over loopback, with the test CA."""

from __future__ import annotations

import http.client
import importlib
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from appc_conformance import servers
from appc_conformance.servers.log import RequestLog

META_PAGE = {
    "meta": [
        ["ac-discovery", "{{a.host}} https://{{a}}/{name}.{ext}"],
        ["ac-discovery-pubkeys", "{{a.host}} https://{{a}}/keys.gpg"],
    ]
}


def _threads():
    return {t for t in threading.enumerate() if t.name.startswith("appc-mock")}


@pytest.fixture(autouse=True)
def no_leaked_threads():
    before = _threads()
    yield
    deadline = time.monotonic() + 2
    while _threads() - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _threads() - before == set()


def ctx(sc, verify=True):
    c = ssl.create_default_context(cafile=sc.ca_file)
    if not verify:
        c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE
    return c


def get(sc, url, headers=None, verify=True, timeout=5):
    """One GET, no redirects followed: (status, headers, body)."""
    scheme, rest = url.split("://", 1)
    netloc, _, target = rest.partition("/")
    target = "/" + target
    host, _, port = netloc.partition(":")
    port = int(port) if port else (443 if scheme == "https" else 80)
    if scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx(sc, verify))
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", target, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def test_meta_page_over_https_with_the_test_ca():
    with servers.scenario({"a": {"paths": {"/app?ac-discovery=1": META_PAGE}}}) as sc:
        a = sc.values["a"]["netloc"]
        status, headers, body = get(sc, f"https://{a}/app?ac-discovery=1")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        text = body.decode()
        assert f'<meta name="ac-discovery" content="127.0.0.2 https://{a}/{{name}}.{{ext}}">' in text
        assert sc.check({"first": "https a /app?ac-discovery=1"}) == []
        entry = sc.log.requests()[0]
        assert (entry.scheme, entry.host, entry.address, entry.port) == ("https", "a", "127.0.0.2", sc.port)
        assert (entry.method, entry.path, entry.query) == ("GET", "/app", "ac-discovery=1")


def test_unknown_path_is_404_and_star_is_the_fallback():
    hosts = {"a": {"paths": {"/x": {"body": "x"}}}, "b": {"paths": {"*": {"status": 500}}}}
    with servers.scenario(hosts) as sc:
        assert get(sc, f"https://{sc.values['a']['netloc']}/nope")[0] == 404
        assert get(sc, f"https://{sc.values['a']['netloc']}/x?q=1")[0] == 404  # query is part of the target
        assert get(sc, f"https://{sc.values['b']['netloc']}/anything?at=all")[0] == 500


def test_tls_and_plain_http_on_one_port():
    hosts = {"a": {"paths": {"/p": {"https": {"body": "secure"}, "http": {"body": "plain"}}}}}
    with servers.scenario(hosts) as sc:
        a = sc.values["a"]["netloc"]
        assert get(sc, f"https://{a}/p")[2] == b"secure"
        assert get(sc, f"http://{a}/p")[2] == b"plain"
        assert [(e.scheme, e.port) for e in sc.log.requests()] == [("https", sc.port), ("http", sc.port)]


def test_per_scheme_answer_missing_scheme_is_404():
    with servers.scenario({"a": {"paths": {"/p": {"http": {"body": "plain only"}}}}}) as sc:
        a = sc.values["a"]["netloc"]
        assert get(sc, f"https://{a}/p")[0] == 404
        assert get(sc, f"http://{a}/p")[0] == 200


def test_hosts_have_distinct_addresses_and_share_the_port():
    hosts = {"a": {}, "b": {}, "c": {}}
    with servers.scenario(hosts) as sc:
        assert [sc.values[s]["host"] for s in "abc"] == ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
        for s in "abc":
            assert sc.values[s]["netloc"] == f"127.0.0.{2 + 'abc'.index(s)}:{sc.port}"
            assert get(sc, f"https://{sc.values[s]['netloc']}/")[0] == 404


def test_untrusted_and_wrong_host_certificates_are_refused_by_a_verifying_client():
    hosts = {
        "a": {"cert": "untrusted", "paths": {"/": {"body": "a"}}},
        "b": {"cert": "wrong-host", "paths": {"/": {"body": "b"}}},
        "c": {"cert": "expired", "paths": {"/": {"body": "c"}}},
    }
    with servers.scenario(hosts) as sc:
        for s in "abc":
            with pytest.raises(ssl.SSLCertVerificationError):
                get(sc, f"https://{sc.values[s]['netloc']}/")
            assert get(sc, f"https://{sc.values[s]['netloc']}/", verify=False)[2] == s.encode()
        time.sleep(0.05)
        failed = [e for e in sc.log if e.kind == "tls-error"]
        assert sorted(e.host for e in failed) == ["a", "b", "c"]
        assert sc.check({"count": [{"match": "https * /", "min": 3, "max": 3}]}) == []


def test_http_only_and_https_only_hosts():
    hosts = {"a": {"https": False, "paths": {"/": {"body": "a"}}}, "b": {"http": False, "paths": {"/": {"body": "b"}}}}
    with servers.scenario(hosts) as sc:
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            get(sc, f"https://{sc.values['a']['netloc']}/")
        assert get(sc, f"http://{sc.values['a']['netloc']}/")[2] == b"a"
        with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
            get(sc, f"http://{sc.values['b']['netloc']}/")
        # the plain request to b is still logged (it was made), unanswered
        assert sc.check({"some": ["http b /"], "never": [{"kind": "refused", "host": "b"}]}) == []
        assert sc.check({"some": [{"kind": "refused", "host": "a"}]}) == []


def test_redirect_chain_across_hosts_and_schemes():
    hosts = {
        "a": {"paths": {"/1": {"redirect": "https://{{b}}/2", "status": 301}}},
        "b": {"paths": {"/2": {"redirect": "http://{{a}}/3", "status": 308}}},
        "a2": {},
    }
    hosts["a"]["paths"]["/3"] = {"redirect": "/4", "status": 307}
    hosts["a"]["paths"]["/4"] = {"body": "end"}
    with servers.scenario(hosts) as sc:
        status, headers, _ = get(sc, f"https://{sc.values['a']['netloc']}/1")
        assert status == 301 and headers["Location"] == f"https://{sc.values['b']['netloc']}/2"
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx(sc)))
        with opener.open(f"https://{sc.values['a']['netloc']}/1", timeout=5) as r:
            assert r.read() == b"end"
        assert sc.check({"sequence": ["https a /1", "https b /2", "http a /3", "http a /4"]}) == []


def test_redirect_loop_is_logged_and_bounded_by_the_client():
    hosts = {"a": {"paths": {"/loop1": {"redirect": "/loop2"}, "/loop2": {"redirect": "https://{{a}}/loop1"}}}}
    with servers.scenario(hosts) as sc:
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx(sc)))
        with pytest.raises(urllib.error.HTTPError) as info:
            opener.open(f"https://{sc.values['a']['netloc']}/loop1", timeout=5)
        assert "redirect" in str(info.value).lower()
        info.value.close()  # the error holds the last response open
        n = len(sc.log.requests())
        assert 5 <= n <= 12
        assert sc.check({"count": [{"match": "a /loop*", "max": 12}]}) == []
        assert sc.check({"count": [{"match": "a /loop*", "max": 2}]}) != []


def test_401_unless_the_header_is_present():
    hosts = {"a": {"paths": {"/secret": {"require_header": {"Authorization": "Bearer t0k3n"}, "body": "ok"}}}}
    with servers.scenario(hosts) as sc:
        url = f"https://{sc.values['a']['netloc']}/secret"
        status, headers, _ = get(sc, url)
        assert status == 401 and "WWW-Authenticate" in headers
        assert get(sc, url, {"Authorization": "Bearer wrong"})[0] == 401
        assert get(sc, url, {"Authorization": "Bearer t0k3n"})[:3:2] == (200, b"ok")
        spec = {"headers": [{"match": "https a /secret", "present": {"authorization": None}}]}
        assert len(sc.check(spec)) == 1  # the first request lacked it
        spec = {
            "headers": [
                {"match": {"host": "a", "has_header": "Authorization"}, "present": {"Authorization": "Bearer wrong"}}
            ]
        }
        assert len(sc.check(spec)) == 1  # one of the two carried another value


def test_custom_headers_status_and_json():
    hosts = {
        "a": {
            "paths": {
                "/t.json": {"json": {"labels": {}}, "headers": {"X-One": ["1", "2"]}},
                "/gone": {"status": 410, "body": "gone"},
            }
        }
    }
    with servers.scenario(hosts) as sc:
        conn = http.client.HTTPSConnection("127.0.0.2", sc.port, timeout=5, context=ctx(sc))
        conn.request("GET", "/t.json")
        r = conn.getresponse()
        assert r.getheader("Content-Type") == "application/json"
        assert r.msg.get_all("X-One") == ["1", "2"]
        assert r.read() == b'{"labels": {}}'
        conn.close()
        assert get(sc, f"https://{sc.values['a']['netloc']}/gone")[0] == 410


def test_delay_is_served_and_cut_short_by_stop():
    hosts = {"a": {"paths": {"/slow": {"delay": 0.3, "body": "late"}, "/hang": {"delay": 100, "body": "x"}}}}
    sc = servers.scenario(hosts).start()
    try:
        t = time.monotonic()
        assert get(sc, f"https://{sc.values['a']['netloc']}/slow")[2] == b"late"
        assert time.monotonic() - t >= 0.3
        result = {}

        def hang():
            try:
                get(sc, f"https://{sc.values['a']['netloc']}/hang", timeout=30)
            except Exception as exc:  # noqa: BLE001
                result["exc"] = exc

        th = threading.Thread(target=hang)
        th.start()
        time.sleep(0.2)
    finally:
        t = time.monotonic()
        sc.stop()
    assert time.monotonic() - t < 2
    th.join(5)
    assert "exc" in result and sc.leaked == []


def test_padded_body_has_the_size_asked():
    with servers.scenario({"a": {"paths": {"/big": {"meta": [["x", "y"]], "pad_to": 3_000_000}}}}) as sc:
        status, headers, body = get(sc, f"https://{sc.values['a']['netloc']}/big")
        assert len(body) == 3_000_000 == int(headers["Content-Length"])
        assert body.startswith(b"<!DOCTYPE html>")


def test_endless_body_is_streamed_until_the_client_stops_reading():
    with servers.scenario({"a": {"paths": {"/inf": {"body": "<html>", "endless": {"interval": 0.001}}}}}) as sc:
        conn = http.client.HTTPSConnection("127.0.0.2", sc.port, timeout=5, context=ctx(sc))
        conn.request("GET", "/inf")
        r = conn.getresponse()
        assert r.getheader("Content-Length") is None
        data = r.read(1_000_000)
        assert len(data) == 1_000_000 and data.startswith(b"<html><p>yyy")
        conn.close()


def test_endless_body_stops_at_its_bound():
    spec = {"body": "", "endless": {"chunk": 1000, "interval": 0.001, "max_bytes": 5000}}
    with servers.scenario({"a": {"paths": {"/inf": spec}}}) as sc:
        assert len(get(sc, f"https://{sc.values['a']['netloc']}/inf")[2]) == 5000


def test_stop_cuts_idle_connections_and_joins_threads():
    sc = servers.scenario({"a": {}}).start()
    idle = socket.create_connection(("127.0.0.2", sc.port))
    idle2 = socket.create_connection(("127.0.0.2", sc.port))
    idle2.sendall(b"\x16\x03\x01")  # a TLS record header, then silence
    time.sleep(0.1)
    t = time.monotonic()
    sc.stop()
    assert time.monotonic() - t < 2 and sc.leaked == []
    idle.close()
    idle2.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", sc.port), timeout=1)


def test_ports_are_released_after_stop():
    for _ in range(3):
        with servers.scenario({"a": {"paths": {"/": {"body": "x"}}}, "b": {}}) as sc:
            assert get(sc, f"https://{sc.values['b']['netloc']}/")[0] == 404


def test_default_ports_mode():
    reason = servers.default_ports_available("127.0.0.2")
    if reason:
        pytest.skip(reason)
    hosts = {"a": {"paths": {"/": {"https": {"body": "tls"}, "http": {"body": "plain"}}}}}
    with servers.scenario(hosts, port_mode="default") as sc:
        assert sc.port is None and sc.values["a"]["netloc"] == "127.0.0.2"
        assert get(sc, "https://127.0.0.2/")[2] == b"tls"
        assert get(sc, "http://127.0.0.2/")[2] == b"plain"
        assert [(e.scheme, e.port) for e in sc.log.requests()] == [("https", 443), ("http", 80)]


# Another process of the machine: takes the default ports' lock as a scenario does (waiting for
# a scenario of another test worker to end), says so, and holds it until its stdin closes or it
# is killed.
HOLDER = """
import sys
from appc_conformance.servers.scenario import DefaultPortsLock
lock = DefaultPortsLock(wait=600)  # held as long as the object lives
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize("ends", ["exits", "is-killed"])
def test_default_ports_are_one_scenario_at_a_time_on_the_machine(monkeypatch, ends):
    """Another process holding the default ports' lock (another run, another test worker) is
    waited for; a scenario that waits too long is unavailable, never a run on taken ports."""
    scmod = importlib.import_module("appc_conformance.servers.scenario")  # servers.scenario: the function
    reason = servers.default_ports_available("127.0.0.2")
    if reason:
        pytest.skip(reason)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        hosts = {"a": {"paths": {"/": {"https": {"body": "tls"}}}}}
        monkeypatch.setattr(scmod, "DEFAULT_PORTS_WAIT", 0.3)
        with pytest.raises(servers.PortsUnavailable, match="another run on this machine"):
            servers.scenario(hosts, port_mode="default").start()
        assert "another run on this machine" in servers.default_ports_available("127.0.0.2")
        monkeypatch.setattr(scmod, "DEFAULT_PORTS_WAIT", 60)
        threading.Timer(0.5, holder.stdin.close if ends == "exits" else holder.kill).start()
        t0 = time.monotonic()
        with servers.scenario(hosts, port_mode="default") as sc:
            assert time.monotonic() - t0 >= 0.4  # it waited for the holder
            assert get(sc, "https://127.0.0.2/")[2] == b"tls"
    finally:
        holder.kill()
        holder.wait()
    assert sc._ports_lock._sock is None  # released at stop


def test_default_ports_scenarios_of_two_address_blocks_run_at_once():
    """Two threads with address blocks of their own serve ports 443/80 side by side."""
    import threading
    from appc_conformance.servers.scenario import set_address_block

    reason = servers.default_ports_available("127.0.0.2")
    if reason:
        pytest.skip(reason)
    hosts = {"a": {"paths": {"/x": {"body": "x"}}}}
    started, errors, addresses = threading.Barrier(2, timeout=60), [], []

    def serve(block):
        try:
            set_address_block(block)
            with servers.scenario(hosts, port_mode="default") as sc:
                addresses.append(sc.addresses["a"])
                started.wait()  # both listen at once
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            started.abort()

    threads = [threading.Thread(target=serve, args=(b,)) for b in (5, 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(addresses) == ["127.0.5.2", "127.0.6.2"]
    with pytest.raises(ValueError):
        set_address_block(256)


def test_default_ports_unavailable_is_a_specific_exception(monkeypatch):
    from appc_conformance.servers import mock

    def refuse(address, port):
        if port in (80, 443):
            raise PermissionError(13, "Permission denied")
        return real(address, port)

    real = mock.bind
    monkeypatch.setattr(mock, "bind", refuse)
    with pytest.raises(servers.PortsUnavailable) as info:
        servers.scenario({"a": {}}, port_mode="default").start()
    assert "not permitted" in info.value.reason


def test_substitution_everywhere_and_unknown_symbols():
    with servers.scenario({"a": {}, "b": {}}) as sc:
        got = sc.substitute(
            {"app": "{{a.host}}/app", "expect": ["https://{{b}}/{name}.{ext}"], "headers": {"{{a}}": {"X": ["1"]}}}
        )
        assert got == {
            "app": "127.0.0.2/app",
            "expect": [f"https://127.0.0.3:{sc.port}/{{name}}.{{ext}}"],
            "headers": {f"127.0.0.2:{sc.port}": {"X": ["1"]}},
        }
        with pytest.raises(servers.HostsError):
            sc.substitute("{{zz}}")
        args = sc.adapter_args({"app": "{{a.host}}/x", "what": ["aci"]})
        assert args == {"app": "127.0.0.2/x", "what": ["aci"], "port": sc.port, "insecure": [], "headers": {}}


def test_malformed_hosts_are_rejected_before_binding():
    with pytest.raises(servers.HostsError):
        servers.scenario({"a": {"paths": {"/x": {"stauts": 200}}}})
    with pytest.raises(servers.HostsError):
        servers.scenario({"a": {"paths": {"/x": {"redirect": "https://{{nobody}}/"}}}})
    assert servers.lint_case(
        {"hosts": {"a": {}}, "input": {"app": "{{b.host}}/x"}, "requests": {"never": ["http c *"]}}
    ) == [
        "input: placeholder {{b}} names no host of the case",
        "requests: matcher 'http c *' names host 'c', which the case does not describe",
    ]


def test_check_reports_readable_problems():
    log = RequestLog()
    for target in ("/a/b?ac-discovery=1", "/a?ac-discovery=1", "/?ac-discovery=1"):
        p, _, q = target.partition("?")
        log.add(
            kind="request",
            scheme="https",
            host="a",
            address="127.0.0.2",
            port=1,
            method="GET",
            path=p,
            query=q,
            headers=[["Host", "127.0.0.2"]],
            status=404,
        )
    ok = {
        "first": "https a /a/b?ac-discovery=1",
        "sequence": ["a /a/b?ac-discovery=1", "a /?ac-discovery=1"],
        "never": ["http * *"],
        "some": ["a /a*"],
        "headers": [{"match": "a *", "present": {"host": "127.0.0.2"}, "absent": ["authorization"]}],
    }
    assert servers.log.check(ok, log) == []
    bad = {"sequence": ["a /?ac-discovery=1", "a /a?ac-discovery=1"], "never": ["https a /a*"], "first": "a /"}
    problems = servers.log.check(bad, log)
    assert len(problems) == 3
    assert any(p.startswith("sequence: no request matching a /a?ac-discovery=1") for p in problems)
    assert servers.log.check({"bogus": 1}, log) == [
        "requests: unknown key 'bogus' (known: count, first, headers, never, requirements, sequence, some)"
    ]


def test_every_discovery_vector_passes_the_servers_lint():
    import json
    from pathlib import Path

    files = sorted((Path(__file__).resolve().parent.parent / "vectors" / "discovery").glob("*.json"))
    assert files
    for f in files:
        for case in json.loads(f.read_text())["cases"]:
            assert servers.lint_case(case) == [], f"{f.name}: {case['id']}"
