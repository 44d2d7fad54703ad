"""Hostile hosts against ``check-publisher`` (it talks to hosts nobody vouches for): a host that
drips, one that breaks HTTP, one whose image expands without end, one that redirects an HTTPS
page to plain HTTP. Each host is tests/fakes/hostile_host.py on loopback; each test states the
bound (time or memory) that the check keeps (conformance/publisher.py, docs/FETCH.md)."""

from __future__ import annotations

import io
import json
import lzma
import subprocess
import sys
import tarfile
import time
import zlib

import pytest

from appc_conformance.conformance import cli, publisher
from tests.fakes.hostile_host import HostileHost, answer, tls_drip
from tests.helpers import ROOT
from tests.rawadapter import make_test_ca

NAME = "127.0.0.1/app"


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_test_ca(tmp_path_factory)


def page(port: int, scheme: str = "https") -> bytes:
    return (
        f'<meta name="ac-discovery" content="{NAME} {scheme}://127.0.0.1:{port}/img/{{name}}-{{version}}.{{ext}}">'
    ).encode()


def check(port, ca_file, app=NAME + ",version=1.0.0"):
    client = publisher.Client(port, str(ca_file), False, {})
    return publisher.check(app, "appc-0.8.11", client, [])


def bounded_call(fn, limit):
    """``fn()`` in a thread; the test fails (instead of hanging) when it takes over ``limit`` s."""
    import threading

    out = {}

    def body():
        t0 = time.monotonic()
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - shown by the assertion below
            out["error"] = exc
        out["wall"] = time.monotonic() - t0

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(limit)
    assert not t.is_alive(), f"still running after {limit} s"
    if "error" in out:
        raise out["error"]
    return out["value"], out["wall"]


# -- 1. time: each download and the whole check are bounded -------------------------------------


def drip(host, head: bytes = b"HTTP/1.1 200 OK\r\n"):
    """A handler that sends ``head`` and then one byte every 0.3 s (well under the 5 s of silence
    a connection may keep), for up to 30 s."""

    def handler(path, sock):
        sock.sendall(head)
        for _ in range(100):
            if host.stopping.wait(0.3):
                return
            sock.sendall(b"x")

    return handler


@pytest.mark.slow  # long waits, builds or bombs on purpose: in tox -e tests, not in tox -e quick
@pytest.mark.parametrize("where", ["headers", "body"])
def test_a_dripping_host_holds_one_download_no_longer_than_its_bound(tls, monkeypatch, where):
    ctx, ca_file = tls
    monkeypatch.setattr(publisher, "DOWNLOAD_SECONDS", 1.5, raising=False)
    head = b"HTTP/1.1 200 OK\r\n" if where == "headers" else b"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n"
    host = HostileHost(None, ctx)
    host.handler = drip(host, head)
    with host:
        report, wall = bounded_call(lambda: check(host.port, ca_file), 20)
    assert wall < 1.5 * 2 + 3, wall  # two pages (the name and its parent), then nothing to fetch
    assert report.checks["meta-tags"].status == "fail"
    assert all("over the download's time limit (1.5 s)" in p["result"] for p in report.pages), report.pages


@pytest.mark.slow  # long waits, builds or bombs on purpose: in tox -e tests, not in tox -e quick
def test_a_host_that_drips_its_tls_handshake_holds_a_download_no_longer_than_its_bound(tls, monkeypatch):
    ctx, ca_file = tls
    monkeypatch.setattr(publisher, "DOWNLOAD_SECONDS", 1.5, raising=False)
    host = HostileHost(None, raw=True)
    host.handler = tls_drip(ctx, host.stopping)
    with host:
        report, wall = bounded_call(lambda: check(host.port, ca_file), 20)
    assert wall < 1.5 * 2 + 3, wall
    assert all("over the download's time limit (1.5 s)" in p["result"] for p in report.pages), report.pages


@pytest.mark.slow  # long waits, builds or bombs on purpose: in tox -e tests, not in tox -e quick
def test_a_dripping_host_holds_the_whole_check_no_longer_than_its_bound(tls, monkeypatch):
    """Five discovery levels, each dripping: the check's bound (not five download bounds) holds."""
    ctx, ca_file = tls
    monkeypatch.setattr(publisher, "DOWNLOAD_SECONDS", 2.0, raising=False)
    monkeypatch.setattr(publisher, "CHECK_SECONDS", 3.0, raising=False)
    host = HostileHost(None, ctx)
    host.handler = drip(host)
    with host:
        report, wall = bounded_call(lambda: check(host.port, ca_file, "127.0.0.1/a/b/c/d/e"), 30)
    assert wall < 3.0 + 3, wall
    results = [p["result"] for p in report.pages]
    assert any("over the check's time limit (3 s)" in r for r in results), results
    assert any("not fetched, the check's time limit (3 s) is reached" in r for r in results), results
    assert report.failed


@pytest.mark.slow  # long waits, builds or bombs on purpose: in tox -e tests, not in tox -e quick
def test_the_verb_takes_a_time_limit(tls, capsys):
    ctx, ca_file = tls
    host = HostileHost(None, ctx)
    host.handler = drip(host)
    with host:
        code, wall = bounded_call(
            lambda: cli.main(
                ["check-publisher", NAME, "--port", str(host.port), "--ca-file", str(ca_file), "--time-limit", "1"]
            ),
            20,
        )
    assert code == 1 and wall < 1 + 3, wall
    assert "time limit (1 s)" in capsys.readouterr().out
    for bad in ("0", "nan", "inf", "-1", "soon"):
        with pytest.raises(SystemExit) as exc:
            cli.main(["check-publisher", NAME, "--time-limit", bad])
        assert exc.value.code == 2
        assert "--time-limit" in capsys.readouterr().err


# -- 2. malformed HTTP is a FAIL of the rule that needed the answer --------------------------------

MALFORMED = {
    "bad-status-line": (b"HTTP/1.1 two hundred\r\n\r\n", "BadStatusLine"),
    "no-status-line": (b"hello there\r\n\r\n", "BadStatusLine"),
    "broken-chunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", "malformed"),
    "too-many-headers": (b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 300 + b"\r\n", "more than 100 headers"),
    "too-long-header": (b"HTTP/1.1 200 OK\r\nX-A: " + b"b" * 100_000 + b"\r\n\r\n", "LineTooLong"),
    "short-body": (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", "IncompleteRead"),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_http_is_a_fail_of_the_rule_with_the_reason(tls, kind, tmp_path, capsys):
    ctx, ca_file = tls
    raw, reason = MALFORMED[kind]

    def handler(path, sock):
        if "ac-discovery=1" in path:
            answer(sock, page(host.port))
        else:
            sock.sendall(raw)

    host = HostileHost(handler, ctx)
    with host:
        out = tmp_path / "r.json"
        code = cli.main(
            [
                "check-publisher",
                NAME + ",version=1.0.0",
                "--port",
                str(host.port),
                "--ca-file",
                str(ca_file),
                "--json",
                str(out),
            ]
        )
    assert code == 1
    checks = {c["rule"]: c for c in json.loads(out.read_text())["checks"]}
    assert checks["image"]["status"] == "fail"
    assert any(reason in m and "/img/127.0.0.1/app-1.0.0.aci" in m for m in checks["image"]["messages"]), checks
    assert checks["meta-tags"]["status"] == "pass"


def test_a_malformed_discovery_page_is_a_fail_of_meta_tags(tls):
    ctx, ca_file = tls
    host = HostileHost(lambda path, sock: sock.sendall(MALFORMED["bad-status-line"][0]), ctx)
    with host:
        report = check(host.port, ca_file)
    assert report.checks["meta-tags"].status == "fail"
    assert "BadStatusLine" in report.pages[0]["result"]


# -- 3. what is decompressed is bounded ----------------------------------------------------------


def bomb(kind: str, total: int = 2 << 30) -> bytes:
    """An image archive whose first member claims ``total`` bytes of zeros (no manifest before
    it): one compressed stream of 64 MiB repeated (gzip and xz readers take concatenated
    streams), so the bomb is cheap to build and about 1/2000 of what it expands to."""
    hdr = tarfile.TarInfo("rootfs/zero")
    hdr.size = total
    head = hdr.tobuf(format=tarfile.GNU_FORMAT)
    piece = bytes(64 << 20)
    if kind == "gzip":

        def comp(b):
            c = zlib.compressobj(9, zlib.DEFLATED, 31)
            return c.compress(b) + c.flush()
    else:

        def comp(b):
            return lzma.compress(b, preset=0)

    zeros = comp(piece)
    return comp(head) + zeros * (total // len(piece))


MEMORY_PROBE = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from appc_conformance.conformance import publisher
data = open(sys.argv[1], "rb").read()
t0 = time.monotonic()
try:
    publisher.read_manifest(data)
    print("READ")
except ValueError as exc:
    print("VALUEERROR", exc)
def peak_mib():  # this process's own peak (ru_maxrss also counts the parent's size when it was spawned)
    try:
        return int(next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")).split()[1]) // 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(time.monotonic() - t0, peak_mib())
"""


@pytest.mark.slow  # long waits, builds or bombs on purpose: in tox -e tests, not in tox -e quick
@pytest.mark.parametrize("kind", ["gzip", "xz"])
def test_an_image_that_expands_without_end_costs_bounded_memory_and_time(tmp_path, kind):
    """2 GiB of zeros in a ~1 MB archive: read in a child limited to 1 GiB of address space, the
    manifest search stops at MAX_UNPACKED (512 MiB) decompressed, in under 100 MiB of memory."""
    f = tmp_path / "bomb"
    f.write_bytes(bomb(kind))
    assert f.stat().st_size < 4 << 20
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(f)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    verdict, figures = proc.stdout.strip().splitlines()
    seconds, rss_mib = figures.split()
    assert verdict == "VALUEERROR over 512 MiB decompressed without a manifest", proc.stdout
    assert int(rss_mib) < 100, proc.stdout
    assert float(seconds) < 60, proc.stdout


def _tar(members: dict, pax: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            if pax:
                info.pax_headers = pax
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_a_huge_manifest_or_extended_header_is_refused_before_it_is_read():
    big = b" " * (publisher.MAX_MANIFEST + 1)
    with pytest.raises(ValueError, match="the manifest is .* bytes, over"):
        publisher.read_manifest(_tar({"manifest": big}))
    with pytest.raises(ValueError, match="an extended header of"):
        publisher.read_manifest(_tar({"manifest": b"{}"}, pax={"comment": "x" * (publisher.MAX_MANIFEST + 1)}))
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ValueError, match="the manifest is not JSON"):
        publisher.read_manifest(_tar({"manifest": deep}))
    good = json.dumps({"acKind": "ImageManifest", "name": "x"}).encode()
    assert publisher.read_manifest(_tar({"rootfs/a": b"x" * 5000, "manifest": good}))["name"] == "x"


def test_a_bomb_served_by_a_host_fails_image_manifest(tls, monkeypatch):
    ctx, ca_file = tls
    monkeypatch.setattr(publisher, "MAX_UNPACKED", 8 << 20, raising=False)
    data = bomb("gzip", 64 << 20)

    def handler(path, sock):
        answer(sock, page(host.port) if "ac-discovery=1" in path else data)

    host = HostileHost(handler, ctx)
    with host:
        report = check(host.port, ca_file)
    assert report.checks["image"].status == "pass"
    assert report.checks["image-manifest"].status == "fail"
    assert "over 8 MiB decompressed without a manifest" in report.checks["image-manifest"].messages[0]


# -- 4. an HTTPS page redirected to plain HTTP is refused; the URL that answered is reported --------


def test_a_redirect_from_https_to_plain_http_is_refused(tls):
    ctx, ca_file = tls
    plain = HostileHost(lambda path, sock: answer(sock, page(plain.port)), None)

    def handler(path, sock):
        answer(sock, b"", "302 Found", (f"Location: http://127.0.0.1:{plain.port}{path}",))

    host = HostileHost(handler, ctx)
    with plain, host:
        report = check(host.port, ca_file)
    assert plain.requests == []  # never asked
    assert report.checks["meta-tags"].status == "fail"
    assert "a downgrade from HTTPS, refused" in report.pages[0]["result"], report.pages


def test_the_report_names_the_url_that_answered(tls):
    ctx, ca_file = tls

    def handler(path, sock):
        if path.startswith("/app?"):
            answer(sock, b"", "301 Moved", ("Location: /moved/app?ac-discovery=1",))
        elif path.startswith("/moved/"):
            answer(sock, page(host.port))
        elif path.startswith("/img/") and path.endswith(".aci"):
            answer(sock, b"", "302 Found", ("Location: /store/app.aci",))
        elif path == "/store/app.aci":
            answer(sock, b"not an archive")
        else:
            answer(sock, b"", "404 Not Found")

    host = HostileHost(handler, ctx)
    with host:
        report = check(host.port, ca_file)
    base = f"https://127.0.0.1:{host.port}"
    assert report.pages[0]["url"] == f"{base}/moved/app?ac-discovery=1", report.pages
    assert f"redirected from {base}/app?ac-discovery=1" in report.pages[0]["result"]
    assert report.checks["image"].messages == [
        f"{base}/store/app.aci (redirected from {base}/img/127.0.0.1/app-1.0.0.aci)"
    ]


def test_a_hosts_text_reaches_the_console_without_control_characters(tls, capsys):
    """A template carries terminal escapes (clear screen, a window title) that the report prints."""
    ctx, ca_file = tls
    evil = "https://127.0.0.1:{port}/img/{{name}}\x1b[2J\x1b]0;owned\x07.{{ext}}"

    def handler(path, sock):
        if "ac-discovery=1" in path:
            answer(sock, f'<meta name="ac-discovery" content="{NAME} {evil.format(port=host.port)}">'.encode())
        else:
            answer(sock, b"", "404 Not Found")

    host = HostileHost(handler, ctx)
    with host:
        assert cli.main(["check-publisher", NAME, "--port", str(host.port), "--ca-file", str(ca_file)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out
    assert "\\x1b[2J\\x1b]0;owned\\x07" in out
