"""A scenario: the mock hosts of one discovery case, started and stopped as a unit."""

from __future__ import annotations

import errno
import json
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Optional

from . import log as logmod
from .spec import FIRST_ADDRESS, HostsError, check_hosts, substitute

if TYPE_CHECKING:
    from . import artefacts as artmod
    from . import ca as camod
    from . import mock

CUSTOM, DEFAULT = "custom", "default"
_PORT_TRIES = 50


class PortsUnavailable(RuntimeError):
    """The scenario cannot listen where it must (default ports 443/80 not permitted or taken).

    ``reason`` is a sentence fit for a skip message."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


#: How long a default-ports scenario waits for another one on this machine to end.
DEFAULT_PORTS_WAIT = 120.0

_THREAD = threading.local()  # the address block of this thread's default-ports scenarios


def set_address_block(block: int) -> None:
    """Default-ports scenarios started by the calling thread listen on 127.0.BLOCK.x (block 0,
    the default: 127.0.0.x). A run's pool gives each of its threads a block of its own, so that
    its default-ports scenarios run side by side: ports 443 and 80 are taken per address, and
    each block has its own machine-wide lock (``DefaultPortsLock``)."""
    if isinstance(block, bool) or not isinstance(block, int) or not 0 <= block <= 255:
        raise ValueError(f"address block must be an integer in 0..255, not {block!r}")
    _THREAD.block = block


def address_block() -> int:
    return getattr(_THREAD, "block", 0)


class DefaultPortsLock:
    """Ports 443 and 80 of 127.0.0.x, for one scenario of this machine at a time.

    Two runs on one machine (two implementations side by side, two test workers, two users)
    would otherwise take each other's default ports and skip each other's cases. The lock is
    an abstract Unix socket name: it belongs to the network namespace, as the ports do, and the
    kernel frees it when its holder exits, however it ends (nothing to clean up after SIGKILL).
    Where abstract names do not exist (not Linux), there is no lock.
    """

    NAME = "\0appc-conformance/default-ports"

    def __init__(self, wait: float | None = None, block: int = 0):
        self.wait = DEFAULT_PORTS_WAIT if wait is None else wait
        self.name = self.NAME if block == 0 else f"{self.NAME}/{block}"  # 127.0.BLOCK.x
        self.block = block
        self._sock: Optional[socket.socket] = None

    def acquire(self) -> None:
        if not sys.platform.startswith("linux"):
            return
        deadline = time.monotonic() + self.wait
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.bind(self.name)
                self._sock = s
                return
            except OSError as exc:
                s.close()
                if exc.errno != errno.EADDRINUSE:
                    return  # no abstract names here: no lock, as on other systems
            if time.monotonic() >= deadline:
                raise PortsUnavailable(
                    f"the default ports are unavailable: another run on this machine has held ports "
                    f"443 and 80 of 127.0.{self.block}.x for over {self.wait:g} s"
                )
            time.sleep(0.02)

    def release(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class Scenario:
    """Mock hosts built from a case's ``hosts`` description.

    ``port_mode="custom"``: every host listens on one ephemeral port P (``self.port``), serving
    TLS and plain HTTP on it (told apart by the first byte). ``port_mode="default"``: every host
    listens on 443 (TLS) and 80 (plain HTTP); ``self.port`` is None.
    """

    def __init__(
        self,
        hosts: dict,
        port_mode: str = CUSTOM,
        pki: Optional[camod.Pki] = None,
        first_address: int = FIRST_ADDRESS,
        artefacts: Optional[dict] = None,
        key_refs: Any = None,
    ):
        """``artefacts``: a fetch case's artefact descriptions (servers/artefacts.py), built at
        ``start`` once the addresses are known; ``key_refs``: JSON naming more test keys to make."""
        if port_mode not in (CUSTOM, DEFAULT):
            raise ValueError(f"port_mode must be {CUSTOM!r} or {DEFAULT!r}")
        problems = check_hosts(hosts)
        if problems:
            raise HostsError("; ".join(problems))
        if first_address + len(hosts) > 254:
            raise HostsError("too many hosts")
        self.raw_hosts = hosts
        self.port_mode = port_mode
        from . import ca as camod  # noqa: PLC0415 - the servers' modules are imported when a scenario is made

        self.pki = pki or camod.default()
        block = address_block() if port_mode == DEFAULT else 0
        self.addresses = {sym: f"127.0.{block}.{first_address + i}" for i, sym in enumerate(hosts)}
        self.port: Optional[int] = None
        self.values: dict[str, dict[str, str]] = {}
        self.hosts: dict = {}
        self.log = logmod.RequestLog()
        self.leaked: list[str] = []
        self._server: Optional[mock.Server] = None
        self.artefact_spec = artefacts
        self.key_refs = key_refs
        self.built: Optional[artmod.Built] = None
        self._ports_lock = DefaultPortsLock(block=block) if port_mode == DEFAULT else None

    # -- life cycle -------------------------------------------------------------------------

    @property
    def ca_file(self) -> str:
        return self.pki.ca_file

    def start(self) -> "Scenario":
        from . import artefacts as artmod  # noqa: PLC0415 - see __init__
        from . import mock  # noqa: PLC0415

        if self._ports_lock is not None:
            self._ports_lock.acquire()  # held until stop
        try:
            socks = self._bind()
        except BaseException:
            self.stop()
            raise
        try:
            self.values = {
                sym: {"netloc": addr if self.port is None else f"{addr}:{self.port}", "host": addr}
                for sym, addr in self.addresses.items()
            }
            self.hosts = substitute(self.raw_hosts, self.values)
            if self.artefact_spec is not None or self.key_refs is not None:
                self.built = artmod.build(substitute(self.artefact_spec or {}, self.values), extra_keys=self.key_refs)
            data = self.built.data if self.built is not None else {}
            hosts = {
                sym: mock.Host(
                    sym,
                    self.addresses[sym],
                    spec,
                    self.pki.server_context(self.addresses[sym], spec.get("cert", "trusted")),
                    data,
                )
                for sym, spec in self.hosts.items()
            }
            listeners = [mock.Listener(hosts[sym], port, mode, s) for sym, port, mode, s in socks]
            self._server = mock.Server(listeners, self.log)
            self._server.start()
        except BaseException:
            for *_, s in socks:
                s.close()
            self.stop()
            raise
        return self

    def _bind(self) -> list:
        from . import mock  # noqa: PLC0415 - see __init__

        syms = list(self.addresses)
        if self.port_mode == DEFAULT:
            out = []
            for sym in syms:
                addr = self.addresses[sym]
                for port, mode in ((443, mock.TLS_ONLY), (80, mock.PLAIN_ONLY)):
                    try:
                        out.append((sym, port, mode, mock.bind(addr, port)))
                    except OSError as exc:
                        for *_, s in out:
                            s.close()
                        why = (
                            "not permitted"
                            if exc.errno in (errno.EACCES, errno.EPERM)
                            else "already in use"
                            if exc.errno == errno.EADDRINUSE
                            else exc.strerror
                        )
                        raise PortsUnavailable(
                            f"the default ports are unavailable: cannot listen on {addr}:{port} ({why}); "
                            f"cases for adapters without the custom-port feature need ports 443 and 80 "
                            f"on 127.0.0.x"
                        ) from None
            return out
        last: Optional[OSError] = None
        for _ in range(_PORT_TRIES):
            out = []
            try:
                first = mock.bind(self.addresses[syms[0]], 0)
                port = first.getsockname()[1]
                out.append((syms[0], port, mock.SNIFF, first))
                for sym in syms[1:]:
                    out.append((sym, port, mock.SNIFF, mock.bind(self.addresses[sym], port)))
                self.port = port
                return out
            except OSError as exc:
                last = exc
                for *_, s in out:
                    s.close()
        raise PortsUnavailable(f"no ephemeral port free on every scenario address: {last}")

    def stop(self) -> None:
        if self._server is not None:
            self.leaked = self._server.stop()
            self._server = None
        if self._ports_lock is not None:
            self._ports_lock.release()

    def __enter__(self) -> "Scenario":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what the harness uses ----------------------------------------------------------------

    def substitute(self, obj: Any) -> Any:
        """Replace ``{{a}}`` / ``{{a.host}}`` placeholders in any JSON value, then the artefact
        placeholders (``{{id:NAME}}``, ``{{size:NAME}}``, ``{{key:SYMBOL}}``) of a fetch case."""
        out = substitute(obj, self.values)
        return self.built.resolve(out) if self.built is not None else out

    def unsubstitute(self, obj: Any) -> Any:
        """The reverse of ``substitute``: this run's addresses and ports written back as
        placeholders, so that what an adapter answered does not depend on the ports a run got."""
        pairs = sorted(((v["netloc"], f"{{{{{sym}}}}}") for sym, v in self.values.items()), key=lambda p: -len(p[0]))
        pairs += [(v["host"], f"{{{{{sym}.host}}}}") for sym, v in self.values.items() if v["host"] != v["netloc"]]
        text = json.dumps(obj, ensure_ascii=False)
        if self.built is not None:  # keys first: their text is long and holds no address
            for real, placeholder in self.built.placeholders_back():
                text = text.replace(json.dumps(real, ensure_ascii=False)[1:-1], placeholder)
        for real, placeholder in pairs:
            text = text.replace(real, placeholder)
        return json.loads(text)

    def adapter_args(self, case_input: dict) -> dict:
        """The ``args`` of a discover/resolve request: the substituted input, ``port`` set by the
        port mode, and the protocol's defaults for ``insecure`` and ``headers``."""
        args = self.substitute(case_input)
        args["port"] = self.port
        args.setdefault("insecure", [])
        args.setdefault("headers", {})
        return args

    def check(self, requests_spec: Any) -> list[str]:
        """Problems found by checking a case's ``requests`` assertions on the log ([] = fine)."""
        return logmod.check(self.substitute(requests_spec), self.log) if requests_spec else []


def scenario(
    hosts: dict,
    port_mode: str = CUSTOM,
    pki: Optional[camod.Pki] = None,
    first_address: int = FIRST_ADDRESS,
    artefacts: Optional[dict] = None,
    key_refs: Any = None,
) -> Scenario:
    """``with servers.scenario(case["hosts"], port_mode="custom") as sc: ...``"""
    return Scenario(hosts, port_mode, pki, first_address, artefacts, key_refs)


def default_ports_available(address: str = "127.0.0.2") -> Optional[str]:
    """None when 443 and 80 can be bound on ``address``, else the reason why not (asked while
    holding the default ports' lock, so a scenario of another run is waited for, not seen as
    a port in use, and never loses its ports to this probe)."""
    lock = DefaultPortsLock()
    try:
        lock.acquire()
    except PortsUnavailable as exc:
        return exc.reason
    try:
        for port in (443, 80):
            s = socket.socket()
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((address, port))
            except OSError as exc:
                return f"cannot listen on {address}:{port}: {exc.strerror}"
            finally:
                s.close()
        return None
    finally:
        lock.release()
