"""The fetch cases' test keys (servers/artefacts.py, Keyring): RSA keys an ACE of the spec's time
can read, signatures that are the same in every run and never a byte short, and a GnuPG home
(private keys, agent) that does not outlive its run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from appc_conformance.servers import artefacts
from tests.helpers import ROOT, checkout_env

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="GnuPG (gpg) is not installed")

ENV = checkout_env()


def _rsa_packet(value: bytes, alg: int = 1) -> bytes:
    """A v4 signature packet (old format, two-byte length) whose one MPI is ``value``."""
    hashed = bytes([0, 5, 2, 0, 0, 0, 1])  # one subpacket: a creation time
    body = (
        bytes([4, 0x00, alg, 8])
        + len(hashed).to_bytes(2, "big")
        + hashed
        + (0).to_bytes(2, "big")
        + b"\xab\xcd"
        + (int.from_bytes(value, "big").bit_length()).to_bytes(2, "big")
        + value.lstrip(b"\0")
    )
    return bytes([0x89]) + len(body).to_bytes(2, "big") + body


def test_a_signature_one_byte_shorter_than_the_modulus_is_short():
    full = b"\x80" + b"\x11" * 255
    short = b"\x00" + b"\x11" * 255
    assert not artefacts.rsa_signature_is_short(_rsa_packet(full), armor=False)
    assert artefacts.rsa_signature_is_short(_rsa_packet(short), armor=False)
    assert artefacts.rsa_signature_is_short(_rsa_packet(b"\x00\x00" + b"\x11" * 254), armor=False)
    assert not artefacts.rsa_signature_is_short(_rsa_packet(short, alg=22), armor=False)  # EdDSA: no such edge


def test_a_short_signature_is_made_again_at_the_next_second(monkeypatch):
    ring = artefacts.Keyring()
    try:
        ring._fpr["k"] = "F" * 40
        times = []

        def fake_gpg(home, args, data=None):
            times.append(args[args.index("--faked-system-time") + 1])
            return _rsa_packet((b"\x00" if len(times) == 1 else b"\x80") + b"\x22" * 255)

        monkeypatch.setattr(artefacts, "_gpg", fake_gpg)
        sig = ring.sign("k", b"archive", armor=False)
        assert not artefacts.rsa_signature_is_short(sig, armor=False)
        assert times == [f"{artefacts.SIGNATURE_TIME}!", f"{artefacts.SIGNATURE_TIME + 1}!"]
    finally:
        ring.close()


def _algorithms(home: str) -> dict:
    listing = subprocess.run(
        ["gpg", "--homedir", home, "--batch", "--with-colons", "--list-keys"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    out, algo = {}, None
    for line in listing.splitlines():
        f = line.split(":")
        if f[0] == "pub":
            algo = (f[3], f[2], f[5])  # algorithm number, bits, creation time
        if f[0] == "uid":
            out[f[9].split()[3]] = algo
    return out


def test_keys_are_rsa_2048_unless_the_symbol_asks_for_ed25519_and_signatures_are_fixed():
    ring = artefacts.Keyring()
    try:
        first = ring.sign("alice", b"an archive")
        armoured = ring.sign("ed25519-carol", b"an archive")
        algos = _algorithms(ring.home)
        assert algos["alice"] == ("1", "2048", str(artefacts.KEY_TIME))  # RSA
        assert algos["ed25519-carol"][0] == "22"  # EdDSA
        assert b"BEGIN PGP SIGNATURE" in armoured
        ring._signed.clear()  # made again by gpg: the same key and data give the same bytes
        assert ring.sign("alice", b"an archive") == first
        assert not artefacts.rsa_signature_is_short(first, armor=True)
        binary = ring.sign("alice", b"an archive", armor=False)
        assert artefacts._packet_body(binary)[2] == 1 and not artefacts.rsa_signature_is_short(binary, armor=False)
    finally:
        ring.close()


HOLDER = """
import sys, time
sys.path.insert(0, {root!r})
from appc_conformance.servers import artefacts
ring = artefacts.keyring()
ring.sign("alice", b"data")
print(ring.home, flush=True)
time.sleep(120)
"""


@pytest.fixture
def short_tmp():
    """A temporary folder with a short path: the agent's socket path must fit in 108 bytes."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="k", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _holder(tmp_path: Path):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(root=str(ROOT))],
        cwd=ROOT,
        env=dict(ENV, TMPDIR=str(tmp_path)),
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    assert line, "the process made no keyring"
    return proc, Path(line)


def _agents(home: Path) -> list:
    """Processes whose command line names this home (its gpg-agent)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if str(home).encode() in cmd and b"gpg-agent" in cmd:
                found.append(int(pid))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_the_keys_go_with_their_process(short_tmp, sig):
    tmp_path = short_tmp
    proc, home = _holder(tmp_path)
    assert home.is_dir() and home.parent == tmp_path / f"appc-conformance-{os.getuid()}"
    assert oct(home.parent.stat().st_mode & 0o777) == "0o700"
    assert _agents(home), "the signing key was used through no agent"
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert not home.exists() and not _agents(home)


def test_what_a_killed_run_left_agent_included_goes_with_the_next_keyring(short_tmp):
    tmp_path = short_tmp
    proc, home = _holder(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert home.is_dir() and _agents(home)  # nothing runs at SIGKILL
    nxt, home2 = _holder(tmp_path)
    try:
        assert not home.exists() and home2.exists()
        assert not _agents(home)
    finally:
        nxt.send_signal(signal.SIGTERM)
        nxt.wait(timeout=30)
    assert not home2.exists()
