"""The reference ``fetch``: the discovery process end to end, as an ACE runs it.

Written from discovery.md ("Validation", "Authentication"), aci.md ("Image Archives", "Image
ID", dependency matching) and the image tags draft (the four phases of the discovery process):

1. keys: the keys the operator trusts for a prefix of the name; with ``trust_discovered_keys``
   also the keys the name's ``ac-discovery-pubkeys`` tags point to;
2. with a tag (image tags profile): the image tags document and, when signatures are checked,
   its signature, verified before the labels are merged;
3. the image, discovered with the final labels, and its signature (fetched only when
   signatures are checked: the operator's policy decides, discovery.md "Validation");
4. validation: the signature against a trusted key; the archive is a whole tar (plain, gzip,
   bzip2 or xz) with no duplicate entries and only ``manifest`` (valid) and ``rootfs`` at its top;
   the manifest's name and labels match the request, whatever the signature policy; for a
   dependency, the image ID (SHA-512 of the uncompressed tar) and the size (it must match).

Signatures are checked with GnuPG (``gpg``) in a temporary home folder that holds only the keys
trusted for this name, removed after each operation. Choices the spec leaves open are in
docs/DECISIONS.md, section "Fetching and verifying images".
"""

from __future__ import annotations

import atexit
import bz2
import gzip
import hashlib
import io
import lzma
import os
import shutil
import subprocess
import tarfile
import zlib
from typing import Optional

from appc_conformance import tempdirs

from . import core, discovery
from .errors import RefError, Unsupported

MAX_IMAGE = 64 * 1024 * 1024  # bytes of an archive as served, when no dependency size says less
MAX_UNCOMPRESSED = 256 * 1024 * 1024
MAX_SIGNATURE = 64 * 1024
MAX_KEY = 256 * 1024
GPG_TIMEOUT = 5.0
ARMOUR_HEADER = b"-----BEGIN PGP SIGNATURE-----"


class TooLarge(discovery.FetchError):
    """An answer went over its byte limit."""


class ImageTransport(discovery.Transport):
    """The discovery transport (same TLS, HTTP, header and redirect rules), telling size
    overruns apart from other failures."""

    def _read_body(self, resp, conn, url: str, limit: int, fetch_deadline: float) -> bytes:
        try:
            return super()._read_body(resp, conn, url, limit, fetch_deadline)
        except discovery.FetchError as exc:
            if "over the limit" in str(exc):
                raise TooLarge(str(exc)) from None
            raise


# --- the trust policy --------------------------------------------------------------------------


def _trust(args: dict) -> dict:
    t = args.get("trust")
    if not isinstance(t, dict):
        raise RefError("other", "trust must be an object")
    keys = t.get("keys") or []
    if not isinstance(keys, list) or not all(
        isinstance(k, dict) and isinstance(k.get("prefix"), str) and isinstance(k.get("key"), str) for k in keys
    ):
        raise RefError("other", "trust.keys must be a list of {prefix, key}")
    return {
        "keys": keys,
        "verify": t.get("verify_signatures", True) is not False,
        "discovered": t.get("trust_discovered_keys") is True,
    }


# One function per rule (the sensitivity mutants break them one at a time).


def key_covers(prefix: str, name: str) -> bool:
    """A key trusted for PREFIX covers that name and the names below it, by path segments;
    the empty prefix covers every name."""
    prefix = prefix.strip("/")
    return prefix == "" or name == prefix or name.startswith(prefix + "/")


def uses_discovered_keys(allowed: bool) -> bool:
    """Keys found through ac-discovery-pubkeys are trusted only when the operator allows it."""
    return allowed


def fetches_signature(verify: bool) -> bool:
    """With checks off the signature is not fetched at all (discovery.md "Validation")."""
    return verify


def is_armoured(sig: bytes) -> bool:
    """aci.md: signatures are ASCII-armoured detached signatures."""
    return sig.lstrip().startswith(ARMOUR_HEADER)


def accepts(status: dict) -> bool:
    """gpg's status lines: a good signature by one of the imported (trusted) keys."""
    return "VALIDSIG" in status and "GOODSIG" in status


def checks_tags_signature(verify: bool) -> bool:
    """The draft: the image tags document's signature is checked like an image's."""
    return verify


def tags_signature_required() -> bool:
    """A document whose signature cannot be fetched is not merged (signatures are checked)."""
    return True


def document_keys(configured: list, discovered: list) -> list:
    """The keys that may sign the image tags document: the same as for the image, discovered keys
    included when the operator allows them (the draft gathers keys first, then the document)."""
    return configured + discovered


def signature_first() -> bool:
    """Whether a signature is downloaded before its document or image. The spec fixes no order
    between the two (DISC-PR-05 puts both before the image); the reference fetches the document
    first. The sensitivity readings switch it."""
    return False


def plain_http_downloads(allowed: bool) -> bool:
    """Plain HTTP for image and signature downloads only with insecure 'http': the adapter
    protocol's rule (docs/ADAPTERS.md 6.1) and the Go library's; discovery.md itself restricts no
    scheme for image URLs (the sensitivity readings switch it)."""
    return allowed


def validates_manifest(verify: bool) -> bool:
    """discovery.md "Validation": name and labels are validated whatever the signature policy."""
    return True


def name_matches(wanted: str, got: str) -> bool:
    """discovery.md "Validation": the manifest's name is the name used for discovery."""
    return wanted == got


def labels_match(wanted: dict, have: dict) -> bool:
    """discovery.md "Validation": every requested label present with the same value."""
    return all(have.get(k) == v for k, v in wanted.items())


def image_id_matches(wanted: Optional[str], got: str) -> bool:
    return wanted is None or wanted == got


def compute_image_id(served: bytes, tar_bytes: bytes) -> str:
    """aci.md "Image ID": the SHA-512 of the uncompressed tar."""
    return "sha512-" + hashlib.sha512(tar_bytes).hexdigest()


def image_limit(size: Optional[int]) -> int:
    """Bytes read from the image URL: the dependency's size when it gives one."""
    return MAX_IMAGE if size is None else min(size, MAX_IMAGE)


def size_matches(size: Optional[int], served: int) -> bool:
    """aci.md, dependencies.size: the ACE should ensure the retrieved image has that size (an
    archive shorter than it does not match either)."""
    return size is None or served == size


# --- OpenPGP --------------------------------------------------------------------------------------


def _gpg(home: str, args: list, data: Optional[bytes] = None) -> subprocess.CompletedProcess:
    cmd = ["gpg", "--homedir", home, "--batch", "--no-tty", "--no-autostart", "--trust-model", "always"] + args
    try:
        return subprocess.run(
            cmd,
            input=data,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=None if data is not None else subprocess.DEVNULL,
            timeout=GPG_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise Unsupported("GnuPG ('gpg') is not installed") from None
    except subprocess.TimeoutExpired:
        raise RefError("other", "gpg did not finish in time") from None


class _Homes:
    """GnuPG homes by the keys they hold, kept for the adapter process's life: requests that
    trust the same keys (the same case in both profiles, the cases of one publisher) import them
    once. A home holds only its own keys, so each request still trusts exactly its own. At most
    ``KEEP`` homes, in one folder of this process (``ref-gpg-PID-*`` in the user's own temporary
    parent, appc_conformance/tempdirs.py); the oldest is removed first, the folder at exit, and
    the folders of processes that were killed by the next process that makes one."""

    KEEP = 16
    PREFIX = "ref-gpg-"

    def __init__(self):
        self._homes: dict[tuple, str] = {}
        self._folder: Optional[str] = None
        self._n = 0

    def get(self, keys: tuple) -> str:
        home = self._homes.pop(keys, None)
        if home is None:
            if self._folder is None:
                self._folder = tempdirs.make(self.PREFIX)
                atexit.register(self.clear)
            self._n += 1
            home = os.path.join(self._folder, str(self._n))
            os.mkdir(home, 0o700)
            for armoured in keys:
                _gpg(home, ["--import"], armoured)  # a key gpg refuses is simply not trusted
            while len(self._homes) >= self.KEEP:
                shutil.rmtree(self._homes.pop(next(iter(self._homes))), ignore_errors=True)
        self._homes[keys] = home  # newest last
        return home

    def clear(self) -> None:
        self._homes.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


_HOMES = _Homes()


class Verifier:
    """The keys trusted for one name, in a GnuPG home that holds only them (made when the first
    signature is checked)."""

    def __init__(self):
        self.keys: list[bytes] = []

    def add(self, armoured: bytes) -> None:
        self.keys.append(armoured)

    def verify(self, data: bytes, sig: bytes, what: str) -> None:
        if not is_armoured(sig):
            raise RefError("signature-invalid", f"the signature of {what} is not ASCII-armoured")
        home = _HOMES.get(tuple(self.keys))
        sig_path, data_path = os.path.join(home, "sig.asc"), os.path.join(home, "data")
        with open(sig_path, "wb") as f:
            f.write(sig)
        with open(data_path, "wb") as f:
            f.write(data)
        proc = _gpg(home, ["--status-fd", "1", "--verify", sig_path, data_path])
        status: dict[str, list] = {}
        for line in proc.stdout.decode("utf-8", errors="replace").splitlines():
            if line.startswith("[GNUPG:] "):
                word, *rest = line[9:].split(" ")
                status.setdefault(word, []).append(rest)
        if accepts(status):
            return
        if "BADSIG" in status:
            raise RefError("signature-invalid", f"the signature of {what} does not match it")
        if (
            "NO_PUBKEY" in status
            or any(r and r[-1] == "9" for r in status.get("ERRSIG", []))
            or "EXPKEYSIG" in status
            or "REVKEYSIG" in status
        ):
            raise RefError("key-not-trusted", f"{what} is signed by a key not trusted for this name")
        raise RefError(
            "signature-invalid",
            f"the signature of {what} cannot be verified: {proc.stderr.decode(errors='replace').strip()[:300]}",
        )


# --- archives --------------------------------------------------------------------------------------


def decompress(data: bytes) -> bytes:
    """The tar inside: plain, gzip, bzip2 or xz, told apart by their first bytes."""
    try:
        if data[:2] == b"\x1f\x8b":
            out = gzip.GzipFile(fileobj=io.BytesIO(data)).read(MAX_UNCOMPRESSED + 1)
        elif data[:3] == b"BZh":
            out = bz2.BZ2File(io.BytesIO(data)).read(MAX_UNCOMPRESSED + 1)
        elif data[:6] == b"\xfd7zXZ\x00":
            out = lzma.LZMAFile(io.BytesIO(data)).read(MAX_UNCOMPRESSED + 1)
        else:
            out = data
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise RefError("not-an-image", f"the archive cannot be decompressed: {exc}") from None
    if len(out) > MAX_UNCOMPRESSED:
        raise RefError("size-exceeded", f"the archive is over {MAX_UNCOMPRESSED} bytes uncompressed")
    return out


def _member_path(name: str) -> str:
    """A member's path without a leading ``./`` or ``/`` and trailing ``/`` (``./rootfs/`` is ``rootfs``)."""
    while name.startswith("./"):
        name = name[2:]
    return name.strip("/")


def check_layout(members: list) -> None:
    """aci.md, Image Archives (MUSTs): no duplicate entries; only two top-level pathnames,
    ``manifest`` (a regular file) and ``rootfs`` (a directory, given as an entry or implied by
    the paths under it)."""
    seen: set = set()
    for m in members:
        path = _member_path(m.name)
        if path == "":
            continue  # the archive's root itself (``./``)
        if path in seen:
            raise RefError("not-an-image", f"the archive holds {path!r} twice (duplicate entries)")
        seen.add(path)
        top = path.split("/", 1)[0]
        if top not in ("manifest", "rootfs"):
            raise RefError(
                "not-an-image",
                f"the archive has a third top-level entry {top!r} (only manifest and rootfs are allowed)",
            )
        if path == "manifest" and not m.isfile():
            raise RefError("not-an-image", "the archive's manifest is not a regular file")
        if path == "rootfs" and not m.isdir():
            raise RefError("not-an-image", "the archive's rootfs is not a directory")
        if top == "manifest" and path != "manifest":
            raise RefError("not-an-image", "the archive's manifest is not a regular file")
    if "manifest" not in seen:
        raise RefError("not-an-image", "the archive has no manifest file")
    if not any(p == "rootfs" or p.startswith("rootfs/") for p in seen):
        raise RefError("not-an-image", "the archive has no rootfs directory")


def read_manifest(tar_bytes: bytes) -> str:
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
            members = tar.getmembers()
            check_layout(members)
            m = next(m for m in members if _member_path(m.name) == "manifest")
            f = tar.extractfile(m)
            raw = f.read() if f is not None else b""
    except tarfile.TarError as exc:
        raise RefError("not-an-image", f"not a tar archive: {exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RefError("invalid-manifest", "the manifest is not UTF-8") from None


# --- the op ------------------------------------------------------------------------------------------


def _request(args: dict, profile: str) -> tuple:
    """(name, labels, tag, image ID wanted, size) of an app string or a dependency."""
    if "dependency" in args:
        dep = args["dependency"]
        if not isinstance(dep, dict):
            raise RefError("other", "dependency must be an object")
        name = core.check_identifier(dep.get("imageName"), "the dependency's imageName")
        labels = core.check_labels(dep.get("labels", []), "dependency.labels") if "labels" in dep else {}
        tag = dep.get("tag") if profile == core.PROFILE_TAGS else None
        if tag is not None and not isinstance(tag, str):
            raise RefError("other", "dependency.tag must be a string")
        size = dep.get("size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise RefError("other", "dependency.size must be a non-negative integer")
        return name, labels, tag or None, dep.get("imageID"), size
    app = core.parse_app(args["app"], profile)
    return app["name"], dict(app["labels"]), app.get("tag"), None, None


def _get(tr: discovery.Transport, url: str, limit: int, kind_on_failure: str, what: str) -> bytes:
    try:
        return tr.get(url, limit)
    except TooLarge as exc:
        raise RefError("size-exceeded", f"{what}: {exc}") from None
    except discovery.FetchError as exc:
        raise RefError(kind_on_failure, f"{what}: {exc}") from None


def _tags_signature(tr: discovery.Transport, ep: dict) -> Optional[bytes]:
    """The image tags document's signature; None when it cannot be fetched and the rule that it
    is required is switched off (a mutant)."""
    try:
        return _get(tr, ep["asc"], MAX_SIGNATURE, "signature-missing", "the image tags document's signature")
    except RefError:
        if tags_signature_required():
            raise
        return None


def fetch(args: dict, profile: str, ca_file: Optional[str]) -> dict:
    trust = _trust(args)
    name, labels, tag, want_id, size = _request(args, profile)
    tr = ImageTransport(args, ca_file)
    downloads = ImageTransport(args, ca_file)  # the image and its signature
    downloads.allow_http = plain_http_downloads(downloads.allow_http)
    attempts: list = []
    verifier = Verifier() if trust["verify"] else None
    configured: list = []
    discovered: list = []
    # (1) keys
    if verifier is not None:
        for k in trust["keys"]:
            if key_covers(k["prefix"], name):
                configured.append(k["key"].encode("utf-8"))
        if uses_discovered_keys(trust["discovered"]):
            for url in discovery.walk(discovery.PUBKEYS, name, discovery._render_labels(labels, profile), tr, attempts):
                try:
                    discovered.append(tr.get(url, MAX_KEY))
                except discovery.FetchError:
                    continue
        for key in configured + discovered:
            verifier.add(key)
    # (2) the image tags document, its signature checked before merging
    tags_url = None
    if profile == core.PROFILE_TAGS and tag:
        endpoints = discovery.walk(discovery.IMAGETAGS, name, labels, tr, attempts)
        text = None
        if endpoints:
            ep = endpoints[0]
            checked = verifier is not None and checks_tags_signature(trust["verify"])
            sig = None
            if checked and signature_first():
                sig = _tags_signature(tr, ep)
            doc = _get(tr, ep["url"], discovery.MAX_DOCUMENT, "fetch-failed", "the image tags document")
            if checked and sig is None and not signature_first():
                sig = _tags_signature(tr, ep)
            if sig is not None:
                tags_verifier = Verifier()
                for key in document_keys(configured, discovered):
                    tags_verifier.add(key)
                tags_verifier.verify(doc, sig, "the image tags document")
            try:
                text = doc.decode("utf-8")
            except UnicodeDecodeError:
                raise RefError("invalid-imagetags", "the image tags document is not UTF-8") from None
            tags_url = ep["url"]
        labels = core.merge_tag(text, labels, tag)["labels"]
    # (3) the image and its signature
    found = discovery.walk(discovery.ACI, name, discovery._render_labels(labels, profile), tr, attempts)
    if not found:
        raise discovery._failed(discovery.ACI, name, attempts)
    ep = found[0]
    sig_url = sig = None
    signed = verifier is not None and fetches_signature(trust["verify"])
    if signed and signature_first():
        sig = _get(downloads, ep["asc"], MAX_SIGNATURE, "signature-missing", "the image's signature")
    data = _get(downloads, ep["aci"], image_limit(size), "fetch-failed", "the image")
    if signed and verifier is not None:
        if sig is None:
            sig = _get(downloads, ep["asc"], MAX_SIGNATURE, "signature-missing", "the image's signature")
        sig_url = ep["asc"]
        verifier.verify(data, sig, "the image")
    # (4) validation
    if not size_matches(size, len(data)):
        raise RefError("size-exceeded", f"the image is {len(data)} bytes, the dependency says {size}")
    tar_bytes = decompress(data)
    manifest = core.load_manifest(read_manifest(tar_bytes), profile)
    validate = validates_manifest(trust["verify"])
    if validate and not name_matches(name, manifest["name"]):
        raise RefError("manifest-mismatch", f"the manifest names {manifest['name']!r}, not {name!r}")
    if validate and not labels_match(labels, manifest["labels"]):
        raise RefError(
            "manifest-mismatch", f"the manifest's labels {manifest['labels']} do not match the requested {labels}"
        )
    got_id = compute_image_id(data, tar_bytes)
    if not image_id_matches(want_id, got_id):
        raise RefError("image-id-mismatch", f"the image hashes to {got_id[:30]}..., not {want_id}")
    return {
        "image_id": got_id,
        "name": manifest["name"],
        "labels": manifest["labels"],
        "urls": {"image": ep["aci"], "signature": sig_url, "imagetags": tags_url},
    }
