"""``appc-conformance serve CASE``: one case's mock hosts stood up by hand, on loopback, their
addresses and the CA file printed, kept up until interrupted (issue 22, item 9)."""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.helpers import ROOT, checkout_env


def _start(*args):
    env = checkout_env()
    return subprocess.Popen(
        [sys.executable, "-m", "appc_conformance", "serve", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_until(proc, pattern: str, timeout: float = 60) -> list[str]:
    lines, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        ln = proc.stdout.readline()
        if not ln:
            break
        lines.append(ln)
        if re.search(pattern, ln):
            return lines
    raise AssertionError(
        "never printed " + pattern + ":\n" + "".join(lines) + proc.stderr.read()
        if proc.poll() is not None
        else "".join(lines)
    )


@pytest.mark.parametrize("case_id", ["discovery/walk/404-up-to-host", "publisher/host/good/0.8.11"])
def test_serve_stands_up_a_cases_hosts_until_interrupted(case_id):
    proc = _start(case_id)
    try:
        lines = _read_until(proc, r"^ca_file: ")
        text = "".join(lines)
        hosts = re.findall(r"^host (\w+): https://(127\.0\.0\.\d+):(\d+)", text, re.M)
        assert hosts, text
        ca_file = re.search(r"^ca_file: (\S+)", text, re.M)[1]
        assert os.path.isfile(ca_file)
        _read_until(proc, r"Ctrl-C")
        # the hosts answer, over TLS verified with that CA, on loopback only
        sym, addr, port = hosts[0]
        ctx = ssl.create_default_context(cafile=ca_file)
        try:
            urllib.request.urlopen(f"https://{addr}:{port}/no-such-path", context=ctx, timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
        seen = _read_until(proc, r"GET /no-such-path")  # each request is shown as it comes
        assert any(sym in ln for ln in seen)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert not os.path.exists(ca_file), "the CA folder outlived serve"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    "args, says",
    [
        (["no/such/case"], "no case"),
        (["app-strings/basic/name-only"], "stands up no host"),
    ],
)
def test_serve_refuses_what_it_cannot_serve(args, says):
    proc = _start(*args)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, out + err
    assert says in err
