"""The publisher check: what a discovery host publishes for an image, rule by rule.

    appc-conformance check-publisher example.com/app,version=1.0.0 --profile appc-imagetags

The suite's cases test clients; this verb tests the other half, the host an image publisher
runs. Given an app string it walks the name's discovery pages as a client would (the name, then
each parent path, over HTTPS), and checks:

========================  ======================  ==============================================
rule                      requirement             what is checked
========================  ======================  ==============================================
meta-tags                 DISC-05                 ac-discovery* meta tags hold "PREFIX VALUE"
template-ext              DISC-06                 every ac-discovery template has {ext} and
                                                  renders to an absolute URL for the request
https-template            DISC-12                 at least one ac-discovery template is HTTPS
pubkeys-tag               DISC-07                 an ac-discovery-pubkeys tag, whose URL answers
                                                  with an ASCII-armoured public key
imagetags-tag             DISC-PR-01              (image tags profile) an ac-discovery-imagetags
                                                  tag with {ext}
imagetags-document        TAG-01, TAG-02          the image tags document is valid
imagetags-signature       TAG-12                  its .json.asc answers and verifies with the
                                                  published keys
image                     VAL-05                  the .aci URL answers
image-signature           VAL-05                  the .aci.asc answers, is ASCII-armoured and
                                                  verifies with the published keys
image-manifest            VAL-01, VAL-02, VAL-04  the archive is an image whose manifest matches
                                                  the name and labels it is served for
========================  ======================  ==============================================

Each rule ends ``pass``, ``fail``, ``warn`` (a SHOULD that is not met) or ``skip`` (it could not
be checked because an earlier rule failed, or does not apply to the profile). The report is
text on stdout, and JSON with ``--json FILE``. Exit status 0 when no rule failed, 1 when one
did, 2 for bad arguments.

This module does not use the reference implementation: it is the suite's own reading of what a
host must publish. Signatures are verified with GnuPG in a temporary home folder.

The hosts are not trusted: each download and the whole check are bounded in time
(DOWNLOAD_SECONDS, ``--time-limit``), answers in size, the image's decompression in bytes, and
malformed HTTP or a redirect from HTTPS to plain HTTP fails the rule that needed the answer
(docs/FETCH.md, "Checking a publisher").
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import http.client
import io
import json
import lzma
import os
import re
import ssl
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zlib
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from typing import Optional
from urllib.parse import urljoin, urlsplit

from appc_conformance.conformance.vectors import PROFILES  # the suite's profiles, defined once

MAX_PAGE = 1024 * 1024
MAX_DOCUMENT = 1024 * 1024
MAX_SIGNATURE = 64 * 1024
MAX_KEY = 256 * 1024
MAX_IMAGE = 64 * 1024 * 1024
MAX_UNPACKED = 512 * 1024 * 1024  # what is decompressed of an image while looking for its manifest
MAX_MANIFEST = 1024 * 1024
MAX_REDIRECTS = 10
CHUNK = 64 * 1024
TIMEOUT = 5.0  # seconds of silence on a connection
DOWNLOAD_SECONDS = 30.0  # one download, redirects included
CHECK_SECONDS = 120.0  # the whole check
AC_IDENTIFIER = re.compile(r"^[a-z0-9]+([-._~/][a-z0-9]+)*$")
TEMPLATE_VAR = re.compile(r"\{([^{}]*)\}")
META_KINDS = ("ac-discovery", "ac-discovery-pubkeys", "ac-discovery-imagetags")
PASS, FAIL, WARN, SKIP = "pass", "fail", "warn", "skip"

RULES = [  # (rule, requirements, strength)
    ("meta-tags", ["DISC-05"], "must"),
    ("template-ext", ["DISC-06"], "must"),
    ("https-template", ["DISC-12"], "should"),
    ("pubkeys-tag", ["DISC-07"], "should"),
    ("imagetags-tag", ["DISC-PR-01"], "should"),
    ("imagetags-document", ["TAG-01", "TAG-02"], "must"),
    ("imagetags-signature", ["TAG-12"], "must"),
    ("image", ["VAL-05"], "must"),
    ("image-signature", ["VAL-05"], "must"),
    ("image-manifest", ["VAL-01", "VAL-02", "VAL-04"], "must"),
]


@dataclass
class Check:
    rule: str
    requirements: list
    strength: str
    status: str = SKIP
    messages: list = field(default_factory=list)


class Report:
    def __init__(self, app: str, profile: str):
        self.app, self.profile = app, profile
        self.checks = {r: Check(r, list(req), s) for r, req, s in RULES}
        self.pages: list = []

    def set(self, rule: str, status: str, message: str = "") -> None:
        c = self.checks[rule]
        order = [SKIP, PASS, WARN, FAIL]
        if order.index(status) >= order.index(c.status):
            c.status = status
        if message:
            c.messages.append(message)

    @property
    def failed(self) -> bool:
        return any(c.status == FAIL for c in self.checks.values())

    def to_json(self) -> dict:
        return {
            "format": "appc-conformance-publisher-check",
            "app": self.app,
            "profile": self.profile,
            "pages": self.pages,
            "ok": not self.failed,
            "checks": [asdict(c) for c in self.checks.values()],
        }

    def text(self) -> str:
        lines = [f"publisher check: {self.app} ({self.profile})"]
        for p in self.pages:
            lines.append(f"  page {p['url']}: {p['result']}")
        for c in self.checks.values():
            lines.append(f"  {c.status.upper():4}  {c.rule} ({', '.join(c.requirements)}, {c.strength})")
            lines += [f"        {m}" for m in c.messages]
        counts = {s: sum(c.status == s for c in self.checks.values()) for s in (PASS, FAIL, WARN, SKIP)}
        lines.append("  " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
        from appc_conformance.text import printable  # noqa: PLC0415 (a host's text: no terminal control)

        return "\n".join(printable(line) for line in lines) + "\n"


# --- the app string, pages and templates --------------------------------------------------------


def parse_app(app: str, profile: str) -> tuple[str, Optional[str], dict]:
    """(name, tag, labels) of ``NAME[:VALUE][,KEY=VALUE]*``; raises ValueError."""
    head, *items = app.split(",")
    name, colon, value = head.partition(":")
    if not AC_IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not an AC Identifier")
    labels, tag = {}, None
    if colon:
        if profile == "appc-0.8.11":
            labels["version"] = value
        else:
            tag = value or None
    for item in items:
        k, eq, v = item.partition("=")
        if not eq or not AC_IDENTIFIER.match(k) or k in labels:
            raise ValueError(f"label item {item!r} is not KEY=VALUE with a new AC Identifier key")
        labels[k] = v
    return name, tag, labels


class _Meta(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list = []

    def handle_starttag(self, tag, attrs):
        if tag == "meta":
            a = dict(attrs)
            if isinstance(a.get("name"), str) and a["name"].lower() in META_KINDS:
                self.found.append((a["name"].lower(), a.get("content")))

    handle_startendtag = handle_starttag


def meta_tags(page: bytes) -> list:
    p = _Meta()
    try:
        p.feed(page.decode("utf-8", errors="replace"))
        p.close()
    except Exception:  # noqa: BLE001 - html.parser is lenient; keep what it found
        pass
    return p.found


def render(template: str, values: dict) -> Optional[str]:
    out, pos = [], 0
    for m in TEMPLATE_VAR.finditer(template):
        if m.group(1) not in values:
            return None
        out += [template[pos : m.start()], values[m.group(1)]]
        pos = m.end()
    return "".join(out) + template[pos:]


def _absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("https", "http") and bool(parts.hostname)


# --- HTTP and OpenPGP ------------------------------------------------------------------------------


class _Deadline(Exception):
    """A download or the whole check ran out of time."""


class _HTTPSConnection(http.client.HTTPSConnection):
    """The TLS handshake is made after ``sock`` is set, so the watchdog (Client._one) can shut the
    connection down during it too (the standard connect() sets ``sock`` only after the handshake)."""

    expired: Optional[threading.Event] = None

    def connect(self):
        http.client.HTTPConnection.connect(self)
        tls = self._context.wrap_socket(  # type: ignore[attr-defined]  # HTTPSConnection's context: not in typeshed
            self.sock, server_hostname=self.host, do_handshake_on_connect=False
        )
        self.sock = tls
        if self.expired is not None and self.expired.is_set():
            raise OSError("the time limit is reached")
        tls.do_handshake()


class Client:
    """HTTP(S) GETs bounded in size and time, redirects followed by hand (an HTTPS page that
    redirects to plain HTTP is refused, as the reference client refuses it).

    Each download ends within ``DOWNLOAD_SECONDS`` and the whole check within ``CHECK_SECONDS``
    (``start``): a watchdog shuts the connection down at the deadline, so a host that drips one
    byte at a time, in the headers, the body or the TLS handshake, costs no more. A malformed
    answer (status line, headers, chunks) is an ``OSError`` saying what was wrong."""

    def __init__(self, port: Optional[int], ca_file: Optional[str], insecure_tls: bool, headers: dict):
        self.port = port
        ctx = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
        if insecure_tls:
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        self.ctx = ctx
        self.headers = headers  # host[:port] -> [(name, value)]
        self.deadline = float("inf")
        self.check_seconds = CHECK_SECONDS

    def start(self, seconds: Optional[float] = None) -> None:
        """The whole check ends ``seconds`` (default ``CHECK_SECONDS``) from now."""
        self.check_seconds = CHECK_SECONDS if seconds is None else seconds
        self.deadline = time.monotonic() + self.check_seconds

    def on_port(self, url: str) -> str:
        """``--port``: an HTTPS URL without a port of its own is fetched from that port, whichever
        host it names (the discovery page, keys, image tags, images and signatures alike)."""
        parts = urlsplit(url)
        if self.port is None or parts.scheme != "https" or parts.port is not None or not parts.hostname:
            return url
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return parts._replace(netloc=f"{host}:{self.port}").geturl()

    def get(self, url: str, limit: int) -> bytes:
        """The body of a 200 answer (redirects followed); raises OSError with a readable message."""
        return self.fetch(url, limit)[1]

    def fetch(self, url: str, limit: int) -> tuple[str, bytes]:
        """(the URL that answered, its body) of a 200 answer; raises OSError with a readable message
        naming the URL asked for (and the one that failed, after a redirect)."""
        url = self.on_port(url)
        if time.monotonic() >= self.deadline:
            raise OSError(f"{url}: not fetched, the check's time limit ({self.check_seconds:g} s) is reached")
        deadline = min(time.monotonic() + DOWNLOAD_SECONDS, self.deadline)
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            try:
                status, location, body = self._one(current, limit, deadline)
            except _Deadline:
                what = "download" if deadline < self.deadline else "check"
                raise OSError(
                    f"{self._named(url, current)}: over the {what}'s time limit "
                    f"({DOWNLOAD_SECONDS if what == 'download' else self.check_seconds:g} s)"
                ) from None
            except OSError as exc:
                raise OSError(f"{self._named(url, current)}: {exc}") from None
            if status in (301, 302, 303, 307, 308) and location is not None:
                target = urljoin(current, location)
                if urlsplit(current).scheme == "https" and urlsplit(target).scheme != "https":
                    raise OSError(
                        f"{self._named(url, current)}: redirects to {target}, a downgrade from HTTPS, refused"
                    )
                if urlsplit(target).scheme not in ("https", "http"):
                    raise OSError(f"{self._named(url, current)}: redirects to {target!r}, not an HTTP(S) URL")
                current = target
                continue
            if status != 200:
                raise OSError(f"{self._named(url, current)}: HTTP {status}")
            return current, body
        raise OSError(f"{url}: more than {MAX_REDIRECTS} redirects")

    @staticmethod
    def _named(url: str, current: str) -> str:
        return url if current == url else f"{url} (redirected to {current})"

    def _one(self, url: str, limit: int, deadline: float) -> tuple[int, Optional[str], bytes]:
        """One GET: (status, Location, body of at most ``limit`` bytes). The body is read for a 200
        answer only. Raises _Deadline, or OSError saying what was wrong."""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise OSError("not an HTTP(S) URL")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise OSError(f"bad port: {exc}") from None
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Deadline()
        expired = threading.Event()
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            https = _HTTPSConnection(parts.hostname, port, timeout=min(TIMEOUT, left), context=self.ctx)
            https.expired = expired
            conn = https
        else:
            conn = http.client.HTTPConnection(parts.hostname, port, timeout=min(TIMEOUT, left))

        lock = threading.Lock()

        def watchdog():
            with lock:  # not after the connection is closed (its descriptor could be another's by then)
                expired.set()
                sock = conn.sock
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        timer = threading.Timer(left, watchdog)
        timer.daemon = True
        timer.start()
        try:
            conn.putrequest(
                "GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), skip_accept_encoding=True
            )
            conn.putheader("User-Agent", "appc-conformance-publisher-check")
            for name, value in self.headers.get(parts.netloc, []):
                conn.putheader(name, value)
            conn.endheaders()
            resp = conn.getresponse()
            location = resp.getheader("Location")
            if expired.is_set():
                raise _Deadline()
            if resp.status != 200:
                return resp.status, location, b""
            body = bytearray()
            while len(body) <= limit:
                chunk = resp.read1(min(CHUNK, limit + 1 - len(body)))
                if not chunk:
                    break
                body += chunk
            if expired.is_set():  # the watchdog's shutdown can look like a short, complete answer
                raise _Deadline()
            if len(body) <= limit and resp.length:  # read1 does not say when Content-Length is not met
                raise http.client.IncompleteRead(bytes(body[-16:]), resp.length)
            if len(body) > limit:
                raise OSError(f"answer over {limit} bytes")
            return resp.status, location, bytes(body)
        except http.client.HTTPException as exc:
            if expired.is_set() or time.monotonic() >= deadline:
                raise _Deadline() from None
            raise OSError(f"malformed HTTP answer: {type(exc).__name__}: {str(exc)[:200] or 'no detail'}") from None
        except (OSError, ValueError) as exc:
            if expired.is_set() or time.monotonic() >= deadline:  # the socket's timeout can fire first
                raise _Deadline() from None
            if isinstance(exc, ValueError):
                raise OSError(f"malformed HTTP answer: {str(exc)[:200]}") from None
            raise OSError(str(getattr(exc, "reason", None) or exc)[:300] or type(exc).__name__) from None
        finally:
            with lock:
                timer.cancel()
                conn.close()

    def page_url(self, prefix: str) -> str:
        host, slash, path = prefix.partition("/")
        netloc = host if self.port is None else f"{host}:{self.port}"
        return f"https://{netloc}{slash}{path}?ac-discovery=1"

    def page(self, prefix: str) -> tuple[str, bytes]:
        """(the URL that answered, the page) of a discovery prefix."""
        return self.fetch(self.page_url(prefix), MAX_PAGE)


class Keys:
    """The published keys, in a temporary GnuPG home."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="appc-publisher-gpg-")
        os.chmod(self._dir.name, 0o700)
        self.count = 0

    def _gpg(self, args: list, data: Optional[bytes] = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["gpg", "--homedir", self._dir.name, "--batch", "--no-tty", "--no-autostart", "--trust-model", "always"]
            + args,
            input=data,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )

    def add(self, armoured: bytes) -> bool:
        ok = self._gpg(["--import"], armoured).returncode == 0
        self.count += ok
        return ok

    def verify(self, data: bytes, sig: bytes) -> Optional[str]:
        """None when ``sig`` is a good armoured signature of ``data`` by a published key, else why not."""
        if not sig.lstrip().startswith(b"-----BEGIN PGP SIGNATURE-----"):
            return "not an ASCII-armoured signature"
        d, s = os.path.join(self._dir.name, "data"), os.path.join(self._dir.name, "sig.asc")
        with open(d, "wb") as f:
            f.write(data)
        with open(s, "wb") as f:
            f.write(sig)
        proc = self._gpg(["--status-fd", "1", "--verify", s, d])
        status = proc.stdout.decode(errors="replace")
        if "[GNUPG:] GOODSIG" in status and "[GNUPG:] VALIDSIG" in status:
            return None
        if "BADSIG" in status:
            return "the signature does not match the document"
        if "NO_PUBKEY" in status:
            return "signed by a key that the host does not publish"
        return "cannot be verified: " + proc.stderr.decode(errors="replace").strip()[:200]

    def close(self) -> None:
        self._dir.cleanup()


class _Bounded(io.RawIOBase):
    """Reads of a (decompressing) file that stop with ValueError after ``limit`` bytes in all, or
    at the check's deadline: a small archive that expands without end costs no more."""

    def __init__(self, f, limit: int, deadline: float):
        super().__init__()
        self.f, self.left, self.deadline = f, limit, deadline

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = CHUNK
        out = self.f.read(min(n, self.left + 1))
        self.left -= len(out)
        if self.left < 0:
            raise ValueError(f"over {MAX_UNPACKED // (1024 * 1024)} MiB decompressed without a manifest")
        if time.monotonic() > self.deadline:
            raise ValueError("the check's time limit is reached while decompressing")
        return out

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class _TarInfo(tarfile.TarInfo):
    """Extended headers (long names, pax records) over MAX_MANIFEST bytes are refused before they
    are read into memory."""

    def _proc_member(self, tarfile_):
        if (
            self.type
            in (
                tarfile.GNUTYPE_LONGNAME,
                tarfile.GNUTYPE_LONGLINK,
                tarfile.XHDTYPE,
                tarfile.XGLTYPE,
                tarfile.SOLARIS_XHDTYPE,
            )
            and self.size > MAX_MANIFEST
        ):
            raise tarfile.HeaderError(f"an extended header of {self.size} bytes")
        return super()._proc_member(tarfile_)  # type: ignore[misc]  # private: not in typeshed


def _decompressing(data: bytes):
    raw = io.BytesIO(data)
    if data[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if data[:3] == b"BZh":
        return bz2.BZ2File(raw, mode="rb")
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(raw, mode="rb")
    return raw


def read_manifest(data: bytes, deadline: float = float("inf")) -> dict:
    """The manifest of an archive as JSON; raises ValueError saying what is wrong.

    The archive is read as a stream: at most MAX_UNPACKED bytes are decompressed (until the
    manifest is found), the manifest is at most MAX_MANIFEST bytes, and memory stays small."""
    try:
        src = _Bounded(_decompressing(data), MAX_UNPACKED, deadline)
        with tarfile.open(fileobj=src, mode="r|", tarinfo=_TarInfo) as tar:
            for m in tar:
                if m.name.lstrip("./") == "manifest" and m.isfile():
                    if m.size > MAX_MANIFEST:
                        raise ValueError(f"the manifest is {m.size} bytes, over {MAX_MANIFEST}")
                    member = tar.extractfile(m)
                    if member is None:  # a regular file always has its data
                        raise ValueError("the manifest entry has no data")
                    raw = member.read(MAX_MANIFEST + 1)
                    break
            else:
                raise ValueError("the archive has no manifest")
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise ValueError(f"not an image archive: {exc}") from None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the manifest is not JSON: {str(exc)[:200] or type(exc).__name__}") from None
    if not isinstance(doc, dict) or doc.get("acKind") != "ImageManifest":
        raise ValueError("the manifest is not an ImageManifest")
    return doc


def imagetags_problems(body: bytes) -> list:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return [f"not JSON: {str(exc)[:200] or type(exc).__name__}"]
    if not isinstance(doc, dict):
        return ["not a JSON object"]
    out = []
    aliases, labels = doc.get("aliases", {}), doc.get("labels", {})
    if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        out.append("'aliases' is not an object of tag to tag")
    if not isinstance(labels, dict):
        out.append("'labels' is not an object")
    else:
        for tag, entry in labels.items():
            if not isinstance(entry, dict):
                out.append(f"labels of {tag!r} are not an object")
                continue
            for k, v in entry.items():
                if not AC_IDENTIFIER.match(k) or not isinstance(v, str):
                    out.append(f"label {k!r} of {tag!r}: the name must be an AC Identifier and the value a string")
    return out


# --- the check ---------------------------------------------------------------------------------------


def _walk(client: Client, name: str, report: Report) -> list:
    """The (kind, content) tags of the first level whose page has ac-discovery tags for the name."""
    parts = name.split("/")
    for end in range(len(parts), 0, -1):
        prefix = "/".join(parts[:end])
        asked = client.page_url(prefix)
        try:
            url, page = client.fetch(asked, MAX_PAGE)
        except OSError as exc:
            report.pages.append({"url": asked, "result": str(exc)})
            continue
        tags = meta_tags(page)
        entry = {"url": url, "result": f"{len(tags)} ac-discovery meta tags"}
        if url != asked:
            entry["result"] += f" (redirected from {asked})"
        report.pages.append(entry)
        for_name = []
        for kind, content in tags:
            tokens = (content or "").split()
            if len(tokens) != 2:
                report.set("meta-tags", FAIL, f"{url}: {kind} content {content!r} is not 'PREFIX VALUE'")
                continue
            if name.startswith(tokens[0]):
                for_name.append((kind, tokens[1]))
        if any(k == "ac-discovery" for k, _ in for_name):
            return for_name
    return []


def check(app: str, profile: str, client: Client, extra_keys: list, time_limit: Optional[float] = None) -> Report:
    """The report of ``app``'s host; the whole check takes at most ``time_limit`` seconds
    (default CHECK_SECONDS), each download at most DOWNLOAD_SECONDS."""
    report = Report(app, profile)
    name, tag, labels = parse_app(app, profile)
    client.start(time_limit)
    tags = _walk(client, name, report)
    if not tags:
        report.set("meta-tags", FAIL, f"no page of {name} or its parents has an ac-discovery tag for it")
        return report
    report.set("meta-tags", PASS)
    keys = Keys()
    try:
        for k in extra_keys:
            keys.add(k)
        _pubkeys(tags, client, keys, report)
        if profile == "appc-imagetags":
            labels = _imagetags(tags, client, keys, report, name, tag, labels)
        _image(tags, client, keys, report, name, labels, profile)
    finally:
        keys.close()
    return report


def _pubkeys(tags, client, keys, report):
    urls = [v for k, v in tags if k == "ac-discovery-pubkeys"]
    if not urls:
        report.set("pubkeys-tag", WARN, "no ac-discovery-pubkeys tag for the name: clients cannot find the keys")
        return
    for url in urls:
        try:
            url, body = client.fetch(url, MAX_KEY)
        except OSError as exc:
            report.set("pubkeys-tag", FAIL, f"the key URL does not answer: {exc}")
            continue
        if not body.lstrip().startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----") or not keys.add(body):
            report.set("pubkeys-tag", FAIL, f"{url}: not an ASCII-armoured OpenPGP public key")
        else:
            report.set("pubkeys-tag", PASS, f"{url}: key imported")


def _imagetags(tags, client, keys, report, name, tag, labels) -> dict:
    templates = [v for k, v in tags if k == "ac-discovery-imagetags"]
    if not templates:
        report.set("imagetags-tag", WARN, "no ac-discovery-imagetags tag for the name")
        if tag:
            labels = {**labels, "version": tag} if "version" not in labels else labels
        return labels
    good = [t for t in templates if "{ext}" in t]
    if len(good) < len(templates):
        report.set("imagetags-tag", FAIL, "an ac-discovery-imagetags template has no {ext}")
    if not good:
        return labels
    report.set("imagetags-tag", PASS)
    doc_url = render(good[0], {"name": name, "ext": "json"})
    sig_url = render(good[0], {"name": name, "ext": "json.asc"})
    if doc_url is None or sig_url is None or not _absolute(doc_url):  # both render, or neither
        report.set("imagetags-tag", FAIL, f"{good[0]!r} does not render to a URL with {{name}} and {{ext}} alone")
        return labels
    try:
        answered, doc = client.fetch(doc_url, MAX_DOCUMENT)
    except OSError as exc:
        report.set("imagetags-document", FAIL, f"the document does not answer: {exc}")
        return labels
    problems = imagetags_problems(doc)
    for p in problems:
        report.set("imagetags-document", FAIL, f"{answered}: {p}")
    if not problems:
        report.set("imagetags-document", PASS, answered)
    _signature(
        client, report, "imagetags-signature", sig_url, "the document's signature", lambda sig: keys.verify(doc, sig)
    )
    if tag and not problems:
        parsed = json.loads(doc)
        t, seen = tag, {tag}
        while t in parsed.get("aliases", {}):
            t = parsed["aliases"][t]
            if t in seen:
                break
            seen.add(t)
        for k, v in (parsed.get("labels", {}).get(t) or {}).items():
            labels.setdefault(k, v)
    return labels


def _signature(client, report, check: str, url: str, what: str, verify) -> None:
    """Fetch the signature at ``url`` and set ``check``: FAIL when it does not answer (``what`` names
    it), else FAIL or PASS by ``verify(sig)``, which gives None for a good signature or why not."""
    try:
        answered, sig = client.fetch(url, MAX_SIGNATURE)
    except OSError as exc:
        report.set(check, FAIL, f"{what} does not answer: {exc}")
        return
    why = verify(sig)
    report.set(check, FAIL if why else PASS, f"{answered}: {why or 'good signature'}")


def _image(tags, client, keys, report, name, labels, profile):
    templates = [v for k, v in tags if k == "ac-discovery"]
    values = {**labels, "name": name}
    if profile == "appc-0.8.11":
        values.setdefault("version", "latest")
    usable = []
    for t in templates:
        if "{ext}" not in {f"{{{m.group(1)}}}" for m in TEMPLATE_VAR.finditer(t)}:
            report.set("template-ext", FAIL, f"{t!r} has no {{ext}}: the image and its signature get one URL")
            continue
        aci, asc = render(t, {**values, "ext": "aci"}), render(t, {**values, "ext": "aci.asc"})
        if aci is None or asc is None or not _absolute(aci) or not _absolute(asc):
            report.set("template-ext", FAIL, f"{t!r} does not render to a URL for {sorted(values)}")
            continue
        report.set("template-ext", PASS, f"{t!r} -> {aci}")
        usable.append((aci, asc))
    if any(urlsplit(t).scheme == "https" for t in templates):
        report.set("https-template", PASS)
    else:
        report.set("https-template", WARN, "no ac-discovery template is HTTPS")
    if not usable:
        return
    aci, asc = usable[0]
    try:
        answered, data = client.fetch(aci, MAX_IMAGE)
    except OSError as exc:
        report.set("image", FAIL, f"the image does not answer: {exc}")
        return
    report.set("image", PASS, aci if answered == aci else f"{answered} (redirected from {aci})")
    _signature(
        client,
        report,
        "image-signature",
        asc,
        "the signature",
        lambda sig: keys.verify(data, sig) if keys.count else "no published key to verify it with",
    )
    try:
        manifest = read_manifest(data, client.deadline)
    except ValueError as exc:
        report.set("image-manifest", FAIL, str(exc))
        return
    have = {x.get("name"): x.get("value") for x in manifest.get("labels", []) if isinstance(x, dict)}
    if manifest.get("name") != name:
        report.set("image-manifest", FAIL, f"the manifest names {manifest.get('name')!r}, served for {name!r}")
    wrong = {k: v for k, v in labels.items() if have.get(k) != v}
    if wrong:
        report.set(
            "image-manifest", FAIL, f"served for labels {wrong}, the manifest has { {k: have.get(k) for k in wrong} }"
        )
    if manifest.get("name") == name and not wrong:
        report.set("image-manifest", PASS, f"name and labels {labels} match")


# --- the verb ------------------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("app", help="the app string the host serves, e.g. example.com/app,version=1.0.0")
    p.add_argument("--profile", choices=PROFILES, default="appc-0.8.11")
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help="connect to this port on every host: the discovery pages and every HTTPS URL they "
        "publish without a port of its own (keys, image tags, images, signatures; default 443)",
    )
    p.add_argument("--ca-file", default=None, help="PEM file of CAs to trust (default: the system's)")
    p.add_argument("--insecure-tls", action="store_true", help="do not verify certificates")
    p.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="HOST[:PORT]=NAME:VALUE",
        help="a header sent to that host only (repeatable), e.g. credentials",
    )
    p.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="FILE",
        help="an armoured public key to verify with, besides the published ones (repeatable)",
    )
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    p.add_argument(
        "--time-limit",
        type=_seconds,
        default=CHECK_SECONDS,
        metavar="SECONDS",
        help=f"the whole check ends within this many seconds (default {CHECK_SECONDS:g}; "
        f"each download within {DOWNLOAD_SECONDS:g})",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 3600:  # nan and inf fail too
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds over 0 and at most 3600")
    return value


def main(args: argparse.Namespace) -> int:
    headers: dict = {}
    for h in args.header:
        host, eq, rest = h.partition("=")
        hname, colon, value = rest.partition(":")
        if not eq or not colon or not host or not hname:
            print(f"check-publisher: --header {h!r}: expected HOST[:PORT]=NAME:VALUE", file=sys.stderr)
            return 2
        headers.setdefault(host, []).append((hname.strip(), value.strip()))
    keys = []
    for path in args.key:
        try:
            with open(path, "rb") as f:
                keys.append(f.read())
        except OSError as exc:
            print(f"check-publisher: --key {path}: {exc}", file=sys.stderr)
            return 2
    try:
        parse_app(args.app, args.profile)
    except ValueError as exc:
        print(f"check-publisher: the app string {args.app!r}: {exc}", file=sys.stderr)
        return 2
    try:
        client = Client(args.port, args.ca_file, args.insecure_tls, headers)
    except (OSError, ssl.SSLError) as exc:
        print(f"check-publisher: --ca-file {args.ca_file}: {exc}", file=sys.stderr)
        return 2
    report = check(args.app, args.profile, client, keys, args.time_limit)
    sys.stdout.write(report.text())
    if args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(report.to_json(), f, indent=1)
                f.write("\n")
        except OSError as exc:
            print(f"check-publisher: --json {args.json}: {exc}", file=sys.stderr)
            return 2
    return 1 if report.failed else 0
