"""The TLS contexts made once and shared (server side per PKI, reference client per process)
still present and check exactly what a fresh one would."""

import os
import socket
import ssl
import threading

import pytest

from appc_conformance.conformance.adapters.reference import discovery
from appc_conformance.servers import ca as camod


@pytest.fixture
def pki(tmp_path):
    p = camod.Pki(str(tmp_path / "ca"))
    yield p
    p.close()


def _handshake(server_ctx, client_ctx, server_hostname="127.0.0.2"):
    """Handshake over a socket pair; the client's error, or None."""
    a, b = socket.socketpair()
    errors = []

    def serve():
        try:
            with server_ctx.wrap_socket(a, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass

    t = threading.Thread(target=serve)
    t.start()
    try:
        with client_ctx.wrap_socket(b, server_hostname=server_hostname):
            pass
    except ssl.SSLError as exc:
        errors.append(exc)
    finally:
        b.close()
        t.join(5)
        a.close()
    return errors[0] if errors else None


def test_server_context_is_made_once_per_address_and_kind(pki):
    first = pki.server_context("127.0.0.2")
    assert pki.server_context("127.0.0.2") is first
    assert pki.server_context("127.0.0.2", "untrusted") is not first
    assert pki.server_context("127.0.0.3") is not first
    # the key passed through the PKI's folder and did not stay there
    assert sorted(os.listdir(pki.directory)) == ["appc-mock-ca.pem"]


def test_shared_server_context_still_presents_the_right_certificate(pki):
    client = pki.client_context()
    for _ in range(2):  # fresh, then cached
        assert _handshake(pki.server_context("127.0.0.2"), client) is None
        assert isinstance(
            _handshake(pki.server_context("127.0.0.2", "untrusted"), client), ssl.SSLCertVerificationError
        )
        assert isinstance(
            _handshake(pki.server_context("127.0.0.2", "wrong-host"), client), ssl.SSLCertVerificationError
        )


def test_reference_client_context_is_cached_per_ca_file_and_flag(pki):
    strict = discovery._client_context(pki.ca_file, False)
    assert discovery._client_context(pki.ca_file, False) is strict
    loose = discovery._client_context(pki.ca_file, True)
    assert loose is not strict and loose.verify_mode == ssl.CERT_NONE and not loose.check_hostname
    assert strict.verify_mode == ssl.CERT_REQUIRED and strict.check_hostname
    assert _handshake(pki.server_context("127.0.0.2"), strict) is None
    assert _handshake(pki.server_context("127.0.0.2", "untrusted"), strict) is not None
    assert _handshake(pki.server_context("127.0.0.2", "untrusted"), loose) is None


def test_reference_client_context_follows_a_rewritten_ca_file(tmp_path):
    folder = str(tmp_path / "same")
    old = camod.Pki(folder)
    try:
        ctx_old = discovery._client_context(old.ca_file, False)
        assert _handshake(old.server_context("127.0.0.2"), ctx_old) is None
    finally:
        old.close()
    new = camod.Pki(folder)  # a new CA written to the same path
    try:
        st = os.stat(new.ca_file)
        os.utime(new.ca_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # coarse clocks
        ctx_new = discovery._client_context(new.ca_file, False)
        assert ctx_new is not ctx_old
        assert _handshake(new.server_context("127.0.0.2"), ctx_new) is None
    finally:
        new.close()
