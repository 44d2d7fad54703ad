"""A hostile web host on loopback for the publisher check: it speaks raw bytes over TLS (or
plain TCP), so it can drip, break HTTP, redirect to plain HTTP or serve decompression bombs.

    with HostileHost(handler, ctx) as host:    # handler(path, sock) writes whatever it likes
        host.port

``handler`` gets the request path and the connected socket; the host closes the socket after
it returns. With ``raw``, it gets None and the socket as accepted (no TLS, nothing read). Every connection has its own thread; ``close`` stops accepting and waits at most a
second for the handlers (which should watch ``host.stopping``).
"""

from __future__ import annotations

import socket
import ssl
import threading
from typing import Callable, Optional


class HostileHost:
    def __init__(
        self, handler: Callable, ctx: Optional[ssl.SSLContext] = None, address: str = "127.0.0.1", raw: bool = False
    ):
        self.handler, self.ctx, self.raw = handler, ctx, raw
        self.stopping = threading.Event()
        self.listener = socket.create_server((address, 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list = []
        self._threads: list = []

    def __enter__(self) -> "HostileHost":
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.stopping.set()
        try:  # wakes the accept (closing the socket alone leaves it waiting)
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for t in self._threads:
            t.join(1.0)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(10)
            if self.raw:  # the handler speaks from the first byte (no TLS, no request read)
                self.handler(None, sock)
                return
            if self.ctx is not None:
                sock = self.ctx.wrap_socket(sock, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                data += chunk
            path = data.split(b" ", 2)[1].decode("latin-1") if data.count(b" ") >= 2 else ""
            self.requests.append(path)
            self.handler(path, sock)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass


def answer(sock, body: bytes, status: str = "200 OK", headers: tuple = ()) -> None:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close", *headers]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)


def tls_drip(ctx: ssl.SSLContext, stopping, every: float = 0.3):
    """A raw handler that makes a real TLS handshake (server side, through memory buffers) but
    sends its bytes one at a time, one every ``every`` seconds, for at most 30 s."""

    def handler(_path, sock):
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(incoming, outgoing, server_side=True)
        pending = b""
        for _ in range(int(30 / every)):
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                pass
            pending += outgoing.read()
            if pending:
                sock.sendall(pending[:1])
                pending = pending[1:]
            sock.settimeout(every)
            try:
                data = sock.recv(65536)
                if not data:
                    return
                incoming.write(data)
            except TimeoutError:
                pass
            if stopping.is_set():
                return

    return handler
