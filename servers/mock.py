"""Sockets and HTTP: listeners, TLS/plain sniffing, and answering from a response description.

One accept thread serves every listening socket of a scenario (through a selector and a wake-up
pipe, so stopping is immediate); each connection gets its own thread, tracked so that ``stop``
can close it and join it. One request per connection (``Connection: close``).
"""

from __future__ import annotations

import html
import http.server
import io
import socketserver
import json
import selectors
import socket
import ssl
import threading
import time
from typing import Optional, cast

from . import log as logmod
from .spec import MAX_DELAY, MAX_ENDLESS_SECONDS, response_for

SNIFF, TLS_ONLY, PLAIN_ONLY = "sniff", "tls", "plain"
CONN_TIMEOUT = 5.0  # idle seconds before a silent client is dropped
WRITE_CHUNK = 64 * 1024
HEAD_KEEP = 128 * 1024  # bytes of request line and headers read of one request (_HeadBudget)


class Host:
    """Runtime state of one symbolic host."""

    def __init__(
        self, symbol: str, address: str, spec: dict, tls_context: ssl.SSLContext, artefacts: Optional[dict] = None
    ):
        self.symbol = symbol
        self.artefacts: dict = artefacts or {}  # name -> bytes, for "artefact" answers
        self.address = address
        self.paths: dict = spec.get("paths", {})
        self.serve_https: bool = spec.get("https", True)
        self.serve_http: bool = spec.get("http", True)
        self.tls_context = tls_context

    def lookup(self, target: str) -> Optional[dict]:
        if target in self.paths:
            return self.paths[target]
        return self.paths.get("*")


def render_meta_page(meta: list, where: str = "head") -> str:
    tags = []
    for item in meta:
        attrs = {"name": item[0], "content": item[1]} if isinstance(item, list) else item
        parts = []
        for k, v in attrs.items():
            parts.append(k if v is None else f'{k}="{html.escape(v, quote=True)}"')
        tags.append("<meta " + " ".join(parts) + ">")
    block = "\n    ".join(tags)
    head = '<meta charset="utf-8">\n    <title>appc discovery mock</title>'
    if where == "head":
        head += "\n    " + block
        body = "<p>discovery page</p>"
    else:
        body = "<p>discovery page</p>\n    " + block
    return f"<!DOCTYPE html>\n<html>\n  <head>\n    {head}\n  </head>\n  <body>\n    {body}\n  </body>\n</html>\n"


class _HeadBudget:
    """A request's input file that ends (as if the client had stopped) after HEAD_KEEP bytes of
    request line and headers, and says so (``cut``): parsing a request head costs a multiple of
    its size, and http.server alone allows 100 headers of 64 KiB."""

    def __init__(self, f, budget: int):
        self.f, self.left, self.cut = f, budget, False

    def readline(self, limit: int = -1) -> bytes:
        if self.left <= 0:
            self.cut = True
            return b""
        line = self.f.readline(self.left if limit is None or limit < 0 else min(limit, self.left))
        self.left -= len(line)
        if self.left <= 0 and not line.endswith(b"\n"):
            self.cut = True
            return b""
        return line

    def __getattr__(self, name):
        return getattr(self.f, name)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "appc-mock/1"
    sys_version = ""
    timeout = CONN_TIMEOUT

    def setup(self):
        super().setup()
        self.head_budget = _HeadBudget(self.rfile, HEAD_KEEP)
        self.rfile = cast(io.BufferedIOBase, self.head_budget)  # duck-typed: the file it wraps, cut short

    # ``server`` is the _ConnContext below (BaseRequestHandler only stores it).
    def log_message(self, format, *args):
        pass

    def handle(self):
        self.close_connection = True
        self.handle_one_request()

    def _serve(self):
        ctx = cast(_ConnContext, self.server)  # what _Listener passes as the handler's server
        path, sep, query = self.path.partition("?")
        cut = self.head_budget.cut
        entry = ctx.log.add(
            kind=logmod.REQUEST,
            scheme=ctx.scheme,
            host=ctx.host.symbol,
            address=ctx.host.address,
            port=ctx.port,
            method=self.command,
            path=path,
            query=query if sep else None,
            cut=cut,
            headers=[[k, v] for k, v in self.headers.items()],
        )
        if cut:
            entry.note = f"request head over {HEAD_KEEP // 1024} KiB: the rest not read, answered 431"
            try:
                self.send_error(431)
            except OSError:
                pass
            entry.status = 431
            return
        if ctx.scheme == "http" and not ctx.host.serve_http:
            entry.note = "plain HTTP not served: closed without an answer"
            return
        resp = ctx.host.lookup(self.path)
        resp = {"status": 404, "body": "not found\n"} if resp is None else response_for(resp, ctx.scheme)
        try:
            self._answer(resp, entry, ctx)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLError, socket.timeout, OSError):
            entry.note = (entry.note + " client went away").strip()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _serve

    def _answer(self, resp: dict, entry: logmod.Entry, ctx: "_ConnContext"):
        stop = ctx.stop
        delay = min(float(resp.get("delay", 0)), MAX_DELAY)
        if delay and stop.wait(delay):
            entry.note = "stopped during the delay"
            return
        status = resp.get("status", 302 if "redirect" in resp else 200)
        headers: list[tuple[str, str]] = []
        ctype = "text/plain; charset=utf-8"
        if "meta" in resp:
            body = render_meta_page(resp["meta"], resp.get("meta_in", "head")).encode()
            ctype = "text/html; charset=utf-8"
        elif "json" in resp:
            body = json.dumps(resp["json"]).encode()
            ctype = "application/json"
        elif "body" in resp:
            body = resp["body"].encode()
            ctype = "text/html; charset=utf-8"
        elif "artefact" in resp:
            body = ctx.host.artefacts.get(resp["artefact"], b"")
            ctype = "application/octet-stream"
        else:
            body = b""
        req = resp.get("require_header")
        if req and not all(value in entry.header_values(name) for name, value in req.items()):
            status, body, ctype = 401, b"unauthorized\n", "text/plain; charset=utf-8"
            headers.append(("WWW-Authenticate", 'Basic realm="appc-mock"'))
        elif "redirect" in resp:
            headers.append(("Location", resp["redirect"]))
        custom = resp.get("headers", {})
        if not any(k.lower() == "content-type" for k in custom):
            headers.append(("Content-Type", ctype))
        for k, v in custom.items():
            for one in [v] if isinstance(v, str) else v:
                headers.append((k, one))
        endless = resp.get("endless")
        size = len(body)
        if "pad_to" in resp and resp["pad_to"] > size:
            size = resp["pad_to"]
        entry.status = status
        self.send_response_only(status)
        for k, v in headers:
            self.send_header(k, v)
        if not endless:
            self.send_header("Content-Length", str(size))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        self.wfile.write(body)
        if endless:
            self._stream_forever(endless if isinstance(endless, dict) else {}, stop, entry)
        elif size > len(body):
            self._pad(size - len(body), stop)

    def _pad(self, n: int, stop: threading.Event):
        chunk = b"<!-- " + b"x" * (WRITE_CHUNK - 10) + b" -->\n"
        while n > 0 and not stop.is_set():
            part = chunk[:n] if n < len(chunk) else chunk
            self.wfile.write(part)
            n -= len(part)

    def _stream_forever(self, opts: dict, stop: threading.Event, entry: logmod.Entry):
        size = int(opts.get("chunk", WRITE_CHUNK))
        interval = float(opts.get("interval", 0.005))
        limit_s = min(float(opts.get("max_seconds", MAX_ENDLESS_SECONDS)), MAX_ENDLESS_SECONDS)
        limit_b = int(opts.get("max_bytes", 4 * 1024**3))
        chunk = b"<p>" + b"y" * max(size - 8, 1) + b"</p>\n"
        sent, t_end = 0, time.monotonic() + limit_s
        while sent < limit_b and time.monotonic() < t_end:
            self.wfile.write(chunk)
            sent += len(chunk)
            if stop.wait(interval):
                break
        entry.note = f"endless body: sent {sent} bytes"


class _ConnContext:
    def __init__(self, host: Host, scheme: str, port: int, log: logmod.RequestLog, stop: threading.Event):
        self.host, self.scheme, self.port, self.log, self.stop = host, scheme, port, log, stop


class Listener:
    def __init__(self, host: Host, port: int, mode: str, sock: socket.socket):
        self.host, self.port, self.mode, self.sock = host, port, mode, sock


def bind(address: str, port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, port))
        s.listen(64)
        s.setblocking(False)
    except OSError:
        s.close()
        raise
    return s


class Server:
    """Serves a set of listeners until ``stop``; every connection handled on its own thread."""

    def __init__(self, listeners: list[Listener], log: logmod.RequestLog):
        self.listeners = listeners
        self.log = log
        self.stop_event = threading.Event()
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._conns: dict[threading.Thread, socket.socket] = {}
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None

    def start(self):
        for lst in self.listeners:
            self._sel.register(lst.sock, selectors.EVENT_READ, lst)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._accept_loop, name="appc-mock-accept", daemon=True)
        self._thread.start()

    def _accept_loop(self):
        while not self.stop_event.is_set():
            for key, _ in self._sel.select():
                lst = key.data
                if lst is None:
                    return
                try:
                    conn, _addr = lst.sock.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    if self.stop_event.is_set():
                        return
                    continue
                conn.setblocking(True)
                t = threading.Thread(
                    target=self._connection, args=(conn, lst), name=f"appc-mock-conn-{lst.host.symbol}", daemon=True
                )
                with self._lock:
                    if self.stop_event.is_set():
                        conn.close()
                        return
                    self._conns[t] = conn
                t.start()

    def _connection(self, conn: socket.socket, lst: Listener):
        sock = conn
        try:
            conn.settimeout(CONN_TIMEOUT)
            if lst.mode == SNIFF:
                try:
                    first = conn.recv(1, socket.MSG_PEEK)
                except OSError:
                    return
                if not first:
                    return
                tls = first[0] == 0x16
            else:
                tls = lst.mode == TLS_ONLY
            scheme = "https" if tls else "http"
            host = lst.host
            if tls:
                if not host.serve_https:
                    self.log.add(
                        kind=logmod.REFUSED,
                        scheme=scheme,
                        host=host.symbol,
                        address=host.address,
                        port=lst.port,
                        note="HTTPS not served: connection closed",
                    )
                    return
                try:
                    sock = host.tls_context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
                    with self._lock:  # the TLS socket now owns the descriptor: stop must cut that one
                        self._conns[threading.current_thread()] = sock
                    if self.stop_event.is_set():
                        return
                    sock.do_handshake()
                except (ssl.SSLError, OSError) as exc:
                    if not self.stop_event.is_set():
                        self.log.add(
                            kind=logmod.TLS_ERROR,
                            scheme=scheme,
                            host=host.symbol,
                            address=host.address,
                            port=lst.port,
                            note=getattr(exc, "reason", None) or str(exc),
                        )
                    return
            ctx = _ConnContext(host, scheme, lst.port, self.log, self.stop_event)
            _Handler(sock, sock.getpeername(), cast(socketserver.BaseServer, ctx))  # only stored: _serve reads it
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass
            if sock is not conn:
                conn.close()
            with self._lock:
                self._conns.pop(threading.current_thread(), None)

    def stop(self, timeout: float = 10.0) -> list[str]:
        """Stop accepting, cut every open connection, join every thread; returns leaked thread names."""
        self.stop_event.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(timeout)
        for lst in self.listeners:
            try:
                self._sel.unregister(lst.sock)
            except (KeyError, ValueError):
                pass
            lst.sock.close()
        self._sel.close()
        self._wake_r.close()
        self._wake_w.close()
        with self._lock:
            conns = dict(self._conns)
        for conn in conns.values():
            try:
                # the plain socket's shutdown, also for TLS sockets: wakes the thread blocked on it
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for t in conns:
            t.join(max(0.0, deadline - time.monotonic()))
        leaked = [t.name for t in conns if t.is_alive()]
        if self._thread is not None and self._thread.is_alive():
            leaked.append(self._thread.name)
        return leaked
