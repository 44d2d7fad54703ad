"""The test PKI of the mock hosts: one trusted CA per process, made by trustme.

Adapters are long-lived processes that read ``SSL_CERT_FILE`` once, so the CA must not change
between cases: ``bundle_path()`` creates it on first use and returns the same PEM file for the
rest of the process. A second, *rogue* CA (never written to the bundle) signs the certificates
of hosts that must not be trusted.

Where the files go: one folder per process, ``ca-PID-RANDOM``, under one parent per user
(``$TMPDIR/appc-conformance-UID``, mode 0700). The folder is removed at exit, on SIGTERM and
SIGHUP (the handler removes it, then the signal takes its course) and on Ctrl-C (Python's exit
runs). What cannot be caught (SIGKILL, a power cut) is made harmless: the folder holds only
test keys readable by this user, leaf keys pass through the same folder (never the shared
temporary folder), and the next PKI created by any run sweeps the folders of processes that are
gone (``appc_conformance/tempdirs.py``).

Certificate kinds a host can present (``"cert"`` in a host description):
  ``trusted``    signed by the trusted CA, for the host's IP address (the default);
  ``untrusted``  signed by the rogue CA, for the host's IP address;
  ``wrong-host`` signed by the trusted CA, but for another address (127.0.0.254) and name;
  ``expired``    signed by the trusted CA, for the host's IP address, expired a day ago.
"""

from __future__ import annotations

import datetime
import os
import shutil
import ssl
import threading
from typing import TYPE_CHECKING

from appc_conformance import tempdirs

from .spec import CERT_KINDS

if TYPE_CHECKING:
    import trustme
_WRONG_HOST_IP = "127.0.0.254"
_PREFIX = "ca-"


class Pki:
    """A trusted CA (written to ``ca_file``), a rogue CA, and cached server certificates."""

    def __init__(self, directory: str | None = None):
        self._own_dir = directory is None
        if directory is None:
            directory = tempdirs.make(_PREFIX)
        self.directory = directory
        os.makedirs(self.directory, exist_ok=True)
        import trustme  # noqa: PLC0415 - with cryptography, a tenth of a second: imported when a CA is made

        self.ca = trustme.CA(organization_name="appc conformance test CA")
        self.rogue = trustme.CA(organization_name="appc conformance rogue CA")
        self.ca_file = os.path.join(self.directory, "appc-mock-ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        self._certs: dict[tuple[str, str], trustme.LeafCert] = {}
        self._contexts: dict[tuple[str, str], ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def _leaf(self, address: str, kind: str) -> trustme.LeafCert:
        key = (address, kind)
        with self._lock:
            cert = self._certs.get(key)
            if cert is None:
                if kind == "trusted":
                    cert = self.ca.issue_cert(address)
                elif kind == "untrusted":
                    cert = self.rogue.issue_cert(address)
                elif kind == "wrong-host":
                    cert = self.ca.issue_cert(_WRONG_HOST_IP, "wrong-host.invalid")
                elif kind == "expired":
                    now = datetime.datetime.now(datetime.timezone.utc)
                    cert = self.ca.issue_cert(
                        address,
                        not_before=now - datetime.timedelta(days=30),
                        not_after=now - datetime.timedelta(days=1),
                    )
                else:
                    raise ValueError(f"unknown certificate kind {kind!r} (one of {', '.join(CERT_KINDS)})")
                self._certs[key] = cert
            return cert

    def server_context(self, address: str, kind: str = "trusted") -> ssl.SSLContext:
        """A server-side TLS context presenting a certificate of ``kind`` for ``address``.

        Made once per (address, kind) for the life of this PKI and shared by every scenario that
        asks again: building one (and loading its key) was most of a discovery case's CPU. A
        shared context changes nothing a client sees: it holds only the certificate and key, and
        no client of the suite resumes TLS sessions across connections."""
        key = (address, kind)
        with self._lock:
            ctx = self._contexts.get(key)
        if ctx is not None:
            return ctx
        leaf = self._leaf(address, kind)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # ssl reads a key only from a file: it passes through this PKI's own folder, so a kill in
        # between leaves it where the sweep finds it (trustme's configure_cert uses the shared one).
        with leaf.private_key_and_cert_chain_pem.tempfile(dir=self.directory) as path:
            ctx.load_cert_chain(path)
        with self._lock:
            return self._contexts.setdefault(key, ctx)

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting only the test CA (for the project's own tests)."""
        return ssl.create_default_context(cafile=self.ca_file)

    def close(self) -> None:
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)


_default: Pki | None = None
_default_lock = threading.Lock()


def default() -> Pki:
    """The process-wide PKI, created on first use and removed at exit (and on SIGTERM/SIGHUP)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Pki()
            tempdirs.on_exit(_default.close)  # at exit, on SIGTERM and SIGHUP
        return _default


def bundle_path() -> str:
    """Path of the PEM file holding the trusted test CA (pass it as SSL_CERT_FILE and ca_file)."""
    return default().ca_file
