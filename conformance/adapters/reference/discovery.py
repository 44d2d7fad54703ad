"""The reference image discovery: the protocol ops ``discover`` and ``resolve``.

Written from disc.md (v0.8.11) and the image tags draft (PR 584). Choices the spec leaves open
are in docs/DECISIONS.md, section "Discovery", each with the AMB-xx it reads. Standard library
only (http.client, ssl, html.parser): this module is an implementation under test like any other.

Security rules, whatever the input: connections go only to loopback addresses (127.0.0.0/8,
::1) given as literals; no name is looked up (the suite's mock hosts are addresses), so nothing
leaves the machine whatever a vector or a page points at. Certificates are verified unless ``tls`` is in ``insecure``;
no plain-HTTP request is made unless ``http`` is in ``insecure``; configured headers go only to
the exact host[:port] they are configured for, and only over HTTPS; every answer is read up to a
size limit; every request and the whole operation have time limits; redirects stop after
``MAX_HOPS``.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import re
import ssl
import threading
import time
from html.parser import HTMLParser
from typing import Optional
from urllib.parse import urljoin, urlsplit

from . import core
from .errors import RefError, Unsupported

FETCH_TIMEOUT = 3.0  # seconds for one fetch (connect, headers and body; each redirect hop anew)
OP_DEADLINE = 8.0  # seconds for a whole discover/resolve (the harness default timeout is 10)
MAX_PAGE = 1024 * 1024  # bytes of a discovery page
MAX_DOCUMENT = 1024 * 1024  # bytes of an image tags document
MAX_HOPS = 10  # redirects followed per fetch
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "appc-conformance-reference"

ACI, PUBKEYS, IMAGETAGS = "aci", "pubkeys", "imagetags"
META_NAMES = {"ac-discovery": ACI, "ac-discovery-pubkeys": PUBKEYS, "ac-discovery-imagetags": IMAGETAGS}
KIND_META = {v: k for k, v in META_NAMES.items()}
HTML_SPACE = re.compile(r"[ \t\n\f\r]+")
TEMPLATE_VAR = re.compile(r"\{([^{}]*)\}")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class FetchError(Exception):
    """One fetch failed (network, TLS, status, size, time, policy); the message says why."""


def loopback_only(host: str, url: str) -> None:
    """FetchError unless ``host`` is a loopback address literal (127.0.0.0/8 or ::1).

    Checked before any socket is made: a name is refused without a lookup (no DNS query leaves
    the machine), as is any other address.
    """
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise FetchError(
            f"{url}: {host!r} is a name, not a loopback address: the reference connects "
            "only to 127.0.0.0/8 and ::1 and looks up no names"
        ) from None
    if not addr.is_loopback:
        raise FetchError(
            f"{url}: {host!r} is not a loopback address: the reference connects only to 127.0.0.0/8 and ::1"
        )


# --- arguments -------------------------------------------------------------------------------


def _options(args: dict) -> tuple[Optional[int], set, dict]:
    port = args.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise RefError("other", f"port must be null or an integer from 1 to 65535, not {port!r}")
    insecure = args.get("insecure") or []
    if not isinstance(insecure, list) or not all(isinstance(x, str) for x in insecure):
        raise RefError("other", "insecure must be a list of strings")
    unknown = set(insecure) - {"tls", "http"}
    if unknown:
        raise Unsupported(f"unknown insecure options {sorted(unknown)}")
    raw = args.get("headers") or {}
    if not isinstance(raw, dict):
        raise RefError("other", "headers must be an object of host[:port] to {header: [values]}")
    headers: dict[str, list[tuple[str, str]]] = {}
    for hostport, hs in raw.items():
        if not isinstance(hs, dict):
            raise RefError("other", f"headers for {hostport!r} must be an object")
        pairs = []
        for name, values in hs.items():
            for v in [values] if isinstance(values, str) else values:
                if not isinstance(v, str):
                    raise RefError("other", f"header {name!r} for {hostport!r}: values are strings")
                pairs.append((name, v))
        headers.setdefault(_norm_netloc(hostport, "https"), []).extend(pairs)
    return port, set(insecure), headers


def _norm_netloc(netloc: str, scheme: str) -> str:
    netloc = netloc.lower()
    default = ":443" if scheme == "https" else ":80"
    return netloc[: -len(default)] if netloc.endswith(default) else netloc


# --- HTTP ----------------------------------------------------------------------------------

_CONTEXTS: dict = {}
_CONTEXTS_LOCK = threading.Lock()


def _client_context(ca_file: Optional[str], insecure_tls: bool) -> ssl.SSLContext:
    """The client TLS context for (ca_file, insecure TLS), made once for the life of the process:
    loading the trust store was most of a request's CPU. The context is never changed after it is
    made, and no connection is given a session to resume, so sharing it changes no outcome. The
    key holds the file's identity and modification time too, so a CA file rewritten in place
    (a new test PKI in the same folder) gets a fresh context."""
    try:
        st = os.stat(ca_file) if ca_file else None
    except OSError:
        st = None  # let ssl report the missing file, as before
    key = (ca_file, insecure_tls, st and (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size))
    with _CONTEXTS_LOCK:
        ctx = _CONTEXTS.get(key)
        if ctx is None:
            ctx = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
            if insecure_tls:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            _CONTEXTS[key] = ctx
        return ctx


class Transport:
    """Fetches URLs under the security rules of the module docstring."""

    def __init__(self, args: dict, ca_file: Optional[str]):
        self.port, insecure, self.headers = _options(args)
        self.allow_http = "http" in insecure
        self.deadline = time.monotonic() + OP_DEADLINE
        self.tls = _client_context(ca_file, "tls" in insecure)

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RefError("discovery-failed", f"time limit of {OP_DEADLINE:g} s for the operation reached")
        return left

    def get(self, url: str, limit: int) -> bytes:
        """GET ``url`` following redirects; the body of the final 200 answer, or FetchError."""
        first = url
        for hop in range(MAX_HOPS + 1):
            status, location, body = self._once(url, limit, hop, first)
            if status == 200:
                return body
            if status in REDIRECTS and self._follows_redirects():
                if not location:
                    raise FetchError(f"{url}: redirect {status} without a Location")
                url = urljoin(url, location.strip()).split("#", 1)[0]
                continue
            raise FetchError(f"{url}: status {status}")
        raise FetchError(f"more than {MAX_HOPS} redirects")

    # The rules, one method each (the sensitivity mutants break them one at a time).
    def _follows_redirects(self) -> bool:
        return True

    def _http_allowed(self, hop: int) -> bool:
        """Plain HTTP only with the 'http' option, also after a redirect (no silent downgrade)."""
        return self.allow_http

    def _headers_for(self, netloc: str, scheme: str, first_url: str) -> list:
        """Configured headers: this exact host[:port] (looked up again at each hop), never over plain HTTP."""
        if scheme != "https":
            return []
        return self.headers.get(_norm_netloc(netloc, "https"), [])

    def _read_body(self, resp, conn, url: str, limit: int, fetch_deadline: float) -> bytes:
        """The body, within the size limit and the fetch's own deadline (not only per read)."""
        declared = resp.getheader("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > limit:
            raise FetchError(f"{url}: answer of {declared} bytes is over the limit of {limit}")
        body = bytearray()
        while True:
            left = fetch_deadline - time.monotonic()
            if left <= 0:
                raise FetchError(f"{url}: no complete answer within {FETCH_TIMEOUT:g} s")
            if conn.sock is not None:
                conn.sock.settimeout(left)
            chunk = resp.read1(65536)
            if not chunk:
                return bytes(body)
            body += chunk
            if len(body) > limit:
                raise FetchError(f"{url}: answer is over the limit of {limit} bytes")

    def _once(self, url: str, limit: int, hop: int = 0, first_url: str = "") -> tuple[int, Optional[str], bytes]:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise FetchError(f"{url!r}: not a URL ({exc})") from None
        scheme = parts.scheme.lower()
        if scheme == "http" and not self._http_allowed(hop):
            raise FetchError(f"{url}: plain HTTP is not allowed (insecure 'http' not given)")
        if scheme not in ("https", "http"):
            raise FetchError(f"{url}: scheme {scheme!r} is not supported")
        host = parts.hostname
        if not host:
            raise FetchError(f"{url}: no host")
        loopback_only(host, url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        fetch_deadline = min(time.monotonic() + FETCH_TIMEOUT, self.deadline)
        timeout = max(0.05, min(FETCH_TIMEOUT, fetch_deadline - time.monotonic()))
        self.remaining()
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=self.tls)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            conn.putrequest("GET", target, skip_accept_encoding=True)
            conn.putheader("User-Agent", USER_AGENT)
            conn.putheader("Accept-Encoding", "identity")
            conn.putheader("Connection", "close")
            for name, value in self._headers_for(parts.netloc, scheme, first_url or url):
                conn.putheader(name, value)
            conn.endheaders()
            resp = conn.getresponse()
            if resp.status in REDIRECTS:
                return resp.status, resp.getheader("Location"), b""
            if resp.status != 200:
                return resp.status, None, b""
            return 200, None, self._read_body(resp, conn, url, limit, fetch_deadline)
        except FetchError:
            raise
        except ssl.SSLError as exc:
            raise FetchError(f"{url}: TLS: {getattr(exc, 'verify_message', None) or exc.reason or exc}") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
        finally:
            conn.close()

    def discovery_page(self, prefix: str) -> bytes:
        """The page at https://PREFIX?ac-discovery=1; plain HTTP on the same level if allowed."""
        host, slash, path = prefix.partition("/")
        netloc = host if self.port is None else f"{host}:{self.port}"
        tail = (slash + path) + "?ac-discovery=1"
        try:
            return self.get(f"https://{netloc}{tail}", MAX_PAGE)
        except FetchError as exc:
            if not self.allow_http:
                raise
            try:
                return self.get(f"http://{netloc}{tail}", MAX_PAGE)
            except FetchError as exc2:
                raise FetchError(f"{exc}; then {exc2}") from None


# --- meta tags and templates -----------------------------------------------------------------


class _MetaParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag != "meta":
            return
        first: dict[str, Optional[str]] = {}
        for k, v in attrs:
            first.setdefault(k, v)  # a repeated attribute: the first one counts (HTML)
        name, content = first.get("name"), first.get("content")
        if isinstance(name, str) and isinstance(content, str):
            self.found.append((name, content))

    handle_startendtag = handle_starttag


def meta_tags(page: bytes) -> list[tuple[str, str, str]]:
    """``(kind, prefix, value)`` of every ac-discovery* meta tag, in document order."""
    p = _MetaParser()
    try:
        p.feed(page.decode("utf-8", errors="replace"))
        p.close()
    except Exception:  # noqa: BLE001 - html.parser is lenient; keep what was found
        pass
    out = []
    for name, content in p.found:
        kind = META_NAMES.get(name.translate(_ASCII_LOWER))  # HTML: meta names are ASCII case-insensitive
        if kind is None:
            continue
        tokens = HTML_SPACE.split(content.strip(" \t\n\f\r"))
        if len(tokens) != 2:
            continue  # "PREFIX VALUE" and nothing else
        out.append((kind, tokens[0], tokens[1]))
    return out


def render(template: str, values: dict) -> Optional[str]:
    """Single-pass substitution of every ``{var}``; None if a variable has no value or a brace is
    left over. Values are inserted as they are and never scanned again."""
    out, pos = [], 0
    for m in TEMPLATE_VAR.finditer(template):
        literal = template[pos : m.start()]
        if "{" in literal or "}" in literal or m.group(1) not in values:
            return None
        out += [literal, values[m.group(1)]]
        pos = m.end()
    tail = template[pos:]
    if "{" in tail or "}" in tail:
        return None
    return "".join(out) + tail


def _has_ext(template: str) -> bool:
    return any(m.group(1) == "ext" for m in TEMPLATE_VAR.finditer(template))


def usable(kind: str, tags: list, name: str, labels: dict) -> list:
    """The endpoints of ``kind`` that a page offers for ``name`` and ``labels``, in document order."""
    out = []
    for k, prefix, value in tags:
        if k != kind or not name.startswith(prefix):
            continue
        if kind == PUBKEYS:
            out.append(value)  # not a template: used exactly as given
            continue
        if not _has_ext(value):
            continue  # without {ext} the image (or document) and its signature cannot be told apart
        if kind == ACI:
            values = {**labels, "name": name}
            a, s = render(value, {**values, "ext": "aci"}), render(value, {**values, "ext": "aci.asc"})
            if a is not None and s is not None:
                out.append({"aci": a, "asc": s})
        else:  # image tags: {name} and {ext} only
            a = render(value, {"name": name, "ext": "json"})
            s = render(value, {"name": name, "ext": "json.asc"})
            if a is not None and s is not None:
                out.append({"url": a, "asc": s})
    return out


def walk(kind: str, name: str, labels: dict, tr: Transport, attempts: list) -> list:
    """Try NAME, then each parent path, down to the bare host; stop at the first usable level."""
    parts = name.split("/")
    for end in range(len(parts), 0, -1):
        prefix = "/".join(parts[:end])
        try:
            page = tr.discovery_page(prefix)
        except FetchError as exc:
            attempts.append({"prefix": prefix, "kind": kind, "error": str(exc)})
            continue
        found = usable(kind, meta_tags(page), name, labels)
        if found:
            return found
        attempts.append({"prefix": prefix, "kind": kind, "error": f"no usable {KIND_META[kind]} meta tag"})
    return []


# --- the ops ---------------------------------------------------------------------------------


def _render_labels(labels: dict, profile: str) -> dict:
    if profile == core.PROFILE_0811 and not labels.get("version"):
        return {**labels, "version": "latest"}  # the released library's default; the draft drops it
    return dict(labels)


def _failed(kind: str, name: str, attempts: list) -> RefError:
    tried = "; ".join(f"{a['prefix']}: {a['error']}" for a in attempts if a["kind"] == kind)
    return RefError("discovery-failed", f"no {kind} endpoint found for {name} ({tried})")


def discover(args: dict, profile: str, ca_file: Optional[str]) -> dict:
    app = core.parse_app(args["app"], profile)
    what = args.get("what") or [ACI, PUBKEYS]
    if not isinstance(what, list) or not all(w in (ACI, PUBKEYS, IMAGETAGS) for w in what):
        raise Unsupported(f"what must list aci, pubkeys or imagetags, not {what!r}")
    if IMAGETAGS in what and profile != core.PROFILE_TAGS:
        raise Unsupported("image tags discovery belongs to the appc-imagetags profile")
    tr = Transport(args, ca_file)
    labels = _render_labels(app["labels"], profile)
    out: dict = {}
    attempts: list = []
    for kind in dict.fromkeys(what):
        found = walk(kind, app["name"], labels, tr, attempts)
        if not found:
            raise _failed(kind, app["name"], attempts)
        out[kind] = found
    out["attempts"] = [{"prefix": a["prefix"], "error": f"{a['kind']}: {a['error']}"} for a in attempts]
    return out


def fetch_imagetags(endpoints: list, tr: Transport) -> str:
    """The text of the first image tags document that can be fetched, in document order."""
    errors = []
    for ep in endpoints:
        try:
            body = tr.get(ep["url"], MAX_DOCUMENT)
        except FetchError as exc:
            errors.append(str(exc))
            continue
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise RefError("invalid-imagetags", f"{ep['url']}: the document is not UTF-8") from None
    raise RefError("fetch-failed", "no image tags document could be fetched: " + "; ".join(errors))


def resolve(args: dict, profile: str, ca_file: Optional[str]) -> dict:
    app = core.parse_app(args["app"], profile)
    tr = Transport(args, ca_file)
    name, labels = app["name"], dict(app["labels"])
    attempts: list[dict] = []  # each prefix tried and why it gave nothing
    # (1) keys: found nowhere is an empty list, not an error
    pubkeys = walk(PUBKEYS, name, _render_labels(labels, profile), tr, attempts)
    # (2) only with a tag (image tags profile): discover and fetch the document, then merge
    if profile == core.PROFILE_TAGS and app.get("tag"):
        endpoints = walk(IMAGETAGS, name, labels, tr, attempts)
        text = fetch_imagetags(endpoints, tr) if endpoints else None
        labels = core.merge_tag(text, labels, app["tag"])["labels"]
    # (3) the image, with the final labels
    aci = walk(ACI, name, _render_labels(labels, profile), tr, attempts)
    if not aci:
        raise _failed(ACI, name, attempts)
    return {
        "labels": labels,
        "aci": aci,
        "pubkeys": pubkeys,
        "attempts": [{"prefix": a["prefix"], "error": f"{a['kind']}: {a['error']}"} for a in attempts],
    }
