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
"""
from __future__ import annotations

import argparse
import bz2
import gzip
import io
import json
import lzma
import os
import re
import ssl
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from typing import Optional
from urllib.parse import urlsplit

PROFILES = ("appc-0.8.11", "appc-imagetags")
MAX_PAGE = 1024 * 1024
MAX_DOCUMENT = 1024 * 1024
MAX_SIGNATURE = 64 * 1024
MAX_KEY = 256 * 1024
MAX_IMAGE = 64 * 1024 * 1024
TIMEOUT = 5.0
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
        return {"format": "appc-conformance-publisher-check", "app": self.app, "profile": self.profile,
                "pages": self.pages, "ok": not self.failed,
                "checks": [asdict(c) for c in self.checks.values()]}

    def text(self) -> str:
        lines = [f"publisher check: {self.app} ({self.profile})"]
        for p in self.pages:
            lines.append(f"  page {p['url']}: {p['result']}")
        for c in self.checks.values():
            lines.append(f"  {c.status.upper():4}  {c.rule} ({', '.join(c.requirements)}, {c.strength})")
            lines += [f"        {m}" for m in c.messages]
        counts = {s: sum(c.status == s for c in self.checks.values()) for s in (PASS, FAIL, WARN, SKIP)}
        lines.append("  " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
        return "\n".join(lines) + "\n"


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
        out += [template[pos:m.start()], values[m.group(1)]]
        pos = m.end()
    return "".join(out) + template[pos:]


def _absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("https", "http") and bool(parts.hostname)


# --- HTTP and OpenPGP ------------------------------------------------------------------------------

class Client:
    def __init__(self, port: Optional[int], ca_file: Optional[str], insecure_tls: bool, headers: dict):
        self.port = port
        ctx = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
        if insecure_tls:
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        self.opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx))
        self.headers = headers  # host[:port] -> [(name, value)]

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
        url = self.on_port(url)
        req = urllib.request.Request(url, headers={"User-Agent": "appc-conformance-publisher-check"})
        for name, value in self.headers.get(urlsplit(url).netloc, []):
            req.add_unredirected_header(name, value)
        try:
            with self.opener.open(req, timeout=TIMEOUT) as resp:
                body = resp.read(limit + 1)
        except urllib.error.HTTPError as exc:
            raise OSError(f"{url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise OSError(f"{url}: {getattr(exc, 'reason', exc)}") from None
        if len(body) > limit:
            raise OSError(f"{url}: answer over {limit} bytes")
        return body

    def page(self, prefix: str) -> tuple[str, bytes]:
        host, slash, path = prefix.partition("/")
        netloc = host if self.port is None else f"{host}:{self.port}"
        url = f"https://{netloc}{slash}{path}?ac-discovery=1"
        return url, self.get(url, MAX_PAGE)


class Keys:
    """The published keys, in a temporary GnuPG home."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="appc-publisher-gpg-")
        os.chmod(self._dir.name, 0o700)
        self.count = 0

    def _gpg(self, args: list, data: Optional[bytes] = None) -> subprocess.CompletedProcess:
        return subprocess.run(["gpg", "--homedir", self._dir.name, "--batch", "--no-tty", "--no-autostart",
                               "--trust-model", "always"] + args, input=data, capture_output=True,
                              timeout=TIMEOUT, check=False)

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


def _tar(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:3] == b"BZh":
        return bz2.decompress(data)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(data)
    return data


def read_manifest(data: bytes) -> dict:
    """The manifest of an archive as JSON; raises ValueError saying what is wrong."""
    try:
        with tarfile.open(fileobj=io.BytesIO(_tar(data)), mode="r:") as tar:
            m = next((m for m in tar.getmembers() if m.name.lstrip("./") == "manifest" and m.isfile()), None)
            if m is None:
                raise ValueError("the archive has no manifest")
            raw = tar.extractfile(m).read()
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise ValueError(f"not an image archive: {exc}") from None
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"the manifest is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("acKind") != "ImageManifest":
        raise ValueError("the manifest is not an ImageManifest")
    return doc


def imagetags_problems(body: bytes) -> list:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return [f"not JSON: {exc}"]
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
        try:
            url, page = client.page(prefix)
        except OSError as exc:
            report.pages.append({"url": str(exc).split(": ")[0], "result": str(exc)})
            continue
        tags = meta_tags(page)
        report.pages.append({"url": url, "result": f"{len(tags)} ac-discovery meta tags"})
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


def check(app: str, profile: str, client: Client, extra_keys: list) -> Report:
    report = Report(app, profile)
    name, tag, labels = parse_app(app, profile)
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
            body = client.get(url, MAX_KEY)
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
    if doc_url is None or not _absolute(doc_url):
        report.set("imagetags-tag", FAIL, f"{good[0]!r} does not render to a URL with {{name}} and {{ext}} alone")
        return labels
    try:
        doc = client.get(doc_url, MAX_DOCUMENT)
    except OSError as exc:
        report.set("imagetags-document", FAIL, f"the document does not answer: {exc}")
        return labels
    problems = imagetags_problems(doc)
    for p in problems:
        report.set("imagetags-document", FAIL, f"{doc_url}: {p}")
    if not problems:
        report.set("imagetags-document", PASS, doc_url)
    _signature(client, report, "imagetags-signature", sig_url, "the document's signature",
               lambda sig: keys.verify(doc, sig))
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
        sig = client.get(url, MAX_SIGNATURE)
    except OSError as exc:
        report.set(check, FAIL, f"{what} does not answer: {exc}")
        return
    why = verify(sig)
    report.set(check, FAIL if why else PASS, f"{url}: {why or 'good signature'}")


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
        if aci is None or not _absolute(aci) or not _absolute(asc or ""):
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
        data = client.get(aci, MAX_IMAGE)
    except OSError as exc:
        report.set("image", FAIL, f"the image does not answer: {exc}")
        return
    report.set("image", PASS, aci)
    _signature(client, report, "image-signature", asc, "the signature",
               lambda sig: keys.verify(data, sig) if keys.count else "no published key to verify it with")
    try:
        manifest = read_manifest(data)
    except ValueError as exc:
        report.set("image-manifest", FAIL, str(exc))
        return
    have = {x.get("name"): x.get("value") for x in manifest.get("labels", []) if isinstance(x, dict)}
    if manifest.get("name") != name:
        report.set("image-manifest", FAIL, f"the manifest names {manifest.get('name')!r}, served for {name!r}")
    wrong = {k: v for k, v in labels.items() if have.get(k) != v}
    if wrong:
        report.set("image-manifest", FAIL, f"served for labels {wrong}, the manifest has "
                                           f"{ {k: have.get(k) for k in wrong} }")
    if manifest.get("name") == name and not wrong:
        report.set("image-manifest", PASS, f"name and labels {labels} match")


# --- the verb ------------------------------------------------------------------------------------------

def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("app", help="the app string the host serves, e.g. example.com/app,version=1.0.0")
    p.add_argument("--profile", choices=PROFILES, default="appc-0.8.11")
    p.add_argument("--port", type=int, default=None,
                   help="connect to this port on every host: the discovery pages and every HTTPS URL they "
                        "publish without a port of its own (keys, image tags, images, signatures; default 443)")
    p.add_argument("--ca-file", default=None, help="PEM file of CAs to trust (default: the system's)")
    p.add_argument("--insecure-tls", action="store_true", help="do not verify certificates")
    p.add_argument("--header", action="append", default=[], metavar="HOST[:PORT]=NAME:VALUE",
                   help="a header sent to that host only (repeatable), e.g. credentials")
    p.add_argument("--key", action="append", default=[], metavar="FILE",
                   help="an armoured public key to verify with, besides the published ones (repeatable)")
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")


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
    report = check(args.app, args.profile, client, keys)
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
