"""Real artefacts for the ``fetch`` cases: ACI archives, OpenPGP keys and detached signatures.

A case describes its artefacts as data (``artefacts``: name -> description) and this module
builds them at run time:

- ``{"aci": {"name": N, "labels": {...}, "compression": "none|gzip|bzip2|xz",
  "manifest": TEXT, "no_manifest": true, "rootfs": {"path": "text"}}}``: an image archive
  (a tar with ``manifest`` and ``rootfs/``). ``manifest`` (raw text) replaces the manifest made
  from ``name`` and ``labels``. Archives that break aci.md's layout: ``no_rootfs`` (no ``rootfs``
  at all), ``extra_entries`` ({path: text}: files at the top level, beside ``manifest`` and
  ``rootfs``), ``duplicate`` ([path]: these members written a second time, same data). And
  ``truncate: N``: only the first N bytes of the archive as served (compressed), a real cut stream.
- ``{"hex": "1f8b..."}``: these raw bytes, written in hexadecimal.
- ``{"text": "..."}``: these bytes as they are (a document, or something that is not an image).
- ``{"json": VALUE}``: VALUE as JSON text (an image tags document).
- ``{"signature": {"of": NAME, "key": SYMBOL, "armor": true}}``: a detached OpenPGP signature
  of another artefact, made with the test key SYMBOL (``armor: false`` gives the binary form).
- ``{"public_key": SYMBOL}``: the ASCII-armoured public key of the test key SYMBOL.

Keys are made with GnuPG (``gpg``) in a home folder of the process, once per symbol and per run
(``keyring()``): RSA-2048, or ed25519 for a symbol that starts with ``ed25519-``; keys and
signatures carry fixed dates, and no RSA signature is a byte short (``Keyring.sign``). The
folder and its agent are removed when the process ends. docs/ARCHITECTURE.md says why
GnuPG is driven as a program rather than through a Python binding.

After building, strings may name artefacts through placeholders: ``{{id:NAME}}`` (the image ID
of an archive: ``sha512-`` and the hex SHA-512 of the uncompressed tar), ``{{size:NAME}}``
(the byte count as served; a string that is only this placeholder becomes an integer) and
``{{key:SYMBOL}}`` (the armoured public key).
"""

from __future__ import annotations

import base64
import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import tarfile
import threading
from typing import Any, Optional

from appc_conformance import tempdirs
from appc_conformance.servers.spec import strings, unknown_keys

KINDS = ("aci", "text", "hex", "json", "signature", "public_key")
COMPRESSIONS = ("none", "gzip", "bzip2", "xz")
ACI_KEYS = {
    "name",
    "labels",
    "compression",
    "manifest",
    "no_manifest",
    "rootfs",
    "no_rootfs",
    "extra_entries",
    "duplicate",
    "truncate",
}
SIGNATURE_KEYS = {"of", "key", "armor"}
KEY_SYMBOL = re.compile(r"^[a-z][a-z0-9_-]*$")
ARTEFACT_PLACEHOLDER = re.compile(r"\{\{(id|size|key):([^{}\s]+)\}\}")
GPG = "gpg"
GPG_TIMEOUT = 60.0


class ArtefactError(ValueError):
    """An artefact description is malformed, or building it failed; the message names it."""


# --- OpenPGP: test keys and signatures, through GnuPG --------------------------------------


def _gpg(home: str, args: list, data: Optional[bytes] = None) -> bytes:
    cmd = [
        GPG,
        "--homedir",
        home,
        "--batch",
        "--no-tty",
        "--quiet",
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
    ] + args
    try:
        proc = subprocess.run(
            cmd,
            input=data,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=None if data is not None else subprocess.DEVNULL,
            timeout=GPG_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise ArtefactError(
            "GnuPG ('gpg') is not installed: the fetch cases need it (Debian package 'gnupg')"
        ) from None
    if proc.returncode != 0:
        raise ArtefactError(f"gpg {' '.join(args[:2])} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


# Keys are made, and signatures dated, at fixed times (gpg's faked system time), so a signature
# depends only on its key and its data: the same archive signed again gets the same bytes.
KEY_TIME = 1577836800  # 2020-01-01T00:00:00Z
SIGNATURE_TIME = KEY_TIME + 86400
EDDSA_PREFIX = "ed25519-"
RSA_BITS = 2048
_SIGN_TRIES = 64
_HOME_PREFIX = "gpg-"


def key_algorithm(symbol: str) -> str:
    """The algorithm of test key SYMBOL: ``ed25519`` for symbols that start with ``ed25519-``,
    ``rsa2048`` for every other (what the OpenPGP of the spec's time, RFC 4880, can read)."""
    return "ed25519" if symbol.startswith(EDDSA_PREFIX) else f"rsa{RSA_BITS}"


def _packet_body(data: bytes) -> bytes:
    """The body of the first OpenPGP packet of binary ``data`` (RFC 4880, 4.2)."""
    if not data or not data[0] & 0x80:
        raise ArtefactError("gpg's signature is not an OpenPGP packet")
    if data[0] & 0x40:  # new format
        first = data[1]
        if first < 192:
            return data[2 : 2 + first]
        if first < 224:
            return data[3 : 3 + ((first - 192) << 8) + data[2] + 192]
        if first == 255:
            return data[6 : 6 + int.from_bytes(data[2:6], "big")]
        raise ArtefactError("gpg's signature has a partial body length")
    width = (1, 2, 4, None)[data[0] & 3]
    if width is None:
        return data[1:]
    return data[1 + width : 1 + width + int.from_bytes(data[1 : 1 + width], "big")]


def _dearmor(text: bytes) -> bytes:
    lines = text.decode("ascii", errors="replace").splitlines()
    try:
        start = lines.index("") + 1
    except ValueError:
        raise ArtefactError("gpg's armoured signature has no body") from None
    body = []
    for line in lines[start:]:
        if line.startswith("=") or line.startswith("-----"):
            break
        body.append(line)
    return base64.b64decode("".join(body))


def rsa_signature_is_short(signature: bytes, armor: bool, modulus_bytes: int = RSA_BITS // 8) -> bool:
    """Whether an RSA signature's value has fewer bytes than the key's modulus (its leading byte
    was zero, so OpenPGP stores it shorter). Go's rsa package (since Go 1.15) refuses such a
    signature when a library hands it over as stored, as OpenPGP code of the spec's time does:
    about one RSA signature in 256 would fail there for a reason of toolchains, not of the
    implementation under test. Signatures that are not RSA (or not v4) are never short."""
    body = _packet_body(_dearmor(signature) if armor else signature)
    if len(body) < 6 or body[0] != 4 or body[2] not in (1, 3):  # v4, RSA (sign-only or not)
        return False
    at = 4
    at += 2 + int.from_bytes(body[at : at + 2], "big")  # hashed subpackets
    at += 2 + int.from_bytes(body[at : at + 2], "big")  # unhashed subpackets
    at += 2  # the hash's left 16 bits
    bits = int.from_bytes(body[at : at + 2], "big")
    return (bits + 7) // 8 < modulus_bytes


def _kill_agent(home: str) -> None:
    subprocess.run(
        ["gpgconf", "--homedir", home, "--kill", "all"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        timeout=GPG_TIMEOUT,
    )


class Keyring:
    """Test keys in a GnuPG home of this process; one signing key per symbol, made on first use
    (RSA-2048 unless the symbol asks for ed25519: ``key_algorithm``).

    The home (the test private keys) and the agent gpg starts for it live in one folder per
    process under the user's own parent (``gpg-PID-RANDOM``, appc_conformance/tempdirs.py),
    removed with its agent at exit, on Ctrl-C, SIGTERM and SIGHUP; what a killed run left, agent
    included, is removed by the next keyring made."""

    def __init__(self):
        self.home = tempdirs.make(_HOME_PREFIX, before_remove=_kill_agent)
        os.chmod(self.home, 0o700)
        self._fpr: dict[str, str] = {}
        self._public: dict[str, bytes] = {}
        self._signed: dict[tuple, bytes] = {}  # (fingerprint, SHA-256 of the data, armor) -> signature
        self._lock = threading.Lock()
        self._closed = False

    def fingerprint(self, symbol: str) -> str:
        with self._lock:
            if symbol not in self._fpr:
                if not KEY_SYMBOL.match(symbol):
                    raise ArtefactError(f"key symbol {symbol!r}: lowercase letters, digits, '-' and '_'")
                uid = f"appc-conformance test key {symbol} <{symbol}@test.invalid>"
                _gpg(
                    self.home,
                    [
                        "--faked-system-time",
                        f"{KEY_TIME}!",
                        "--quick-gen-key",
                        uid,
                        key_algorithm(symbol),
                        "sign",
                        "never",
                    ],
                )
                listing = _gpg(self.home, ["--with-colons", "--list-keys", f"={uid}"]).decode()
                fprs = [ln.split(":")[9] for ln in listing.splitlines() if ln.startswith("fpr:")]
                if not fprs:
                    raise ArtefactError(f"gpg made no key for {symbol!r}")
                self._fpr[symbol] = fprs[0]
            return self._fpr[symbol]

    def public_key(self, symbol: str) -> bytes:
        fpr = self.fingerprint(symbol)
        with self._lock:
            if symbol not in self._public:
                self._public[symbol] = _gpg(self.home, ["--armor", "--export", fpr])
            return self._public[symbol]

    def sign(self, symbol: str, data: bytes, armor: bool = True) -> bytes:
        """A detached signature of ``data``, dated ``SIGNATURE_TIME`` (a second later per retry):
        the same data signed again by the same key gets the same signature (a case runs once per
        profile on the same archive: gpg signs it once), and an RSA signature is never a byte
        shorter than the key (``rsa_signature_is_short``): such a one is made again a second
        later, so every verifier reads the same full-length value in every run."""
        fpr = self.fingerprint(symbol)
        key = (fpr, hashlib.sha256(data).digest(), armor)
        with self._lock:
            done = self._signed.get(key)
        if done is None:
            for attempt in range(_SIGN_TRIES):
                done = _gpg(
                    self.home,
                    ["--faked-system-time", f"{SIGNATURE_TIME + attempt}!", "--local-user", fpr, "--detach-sign"]
                    + (["--armor"] if armor else [])
                    + ["--output", "-"],
                    data,
                )
                if not rsa_signature_is_short(done, armor):
                    break
            else:
                raise ArtefactError(f"gpg made only short RSA signatures with key {symbol!r}")
            with self._lock:
                self._signed[key] = done
        return done

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        _kill_agent(self.home)
        shutil.rmtree(self.home, ignore_errors=True)


_KEYRING: Optional[Keyring] = None
_KEYRING_LOCK = threading.Lock()


def keyring() -> Keyring:
    """The run's keyring (keys are made once per run; the folder goes when the process ends)."""
    global _KEYRING
    with _KEYRING_LOCK:
        if _KEYRING is None:
            _KEYRING = Keyring()
            tempdirs.on_exit(_KEYRING.close)
        return _KEYRING


# --- image archives ------------------------------------------------------------------------


def manifest_text(name: str, labels: dict) -> str:
    doc = {
        "acKind": "ImageManifest",
        "acVersion": "0.8.11",
        "name": name,
        "labels": [{"name": k, "value": v} for k, v in labels.items()],
    }
    return json.dumps(doc, indent=2) + "\n"


def _member(tar: tarfile.TarFile, path: str, data: Optional[bytes]) -> None:
    info = tarfile.TarInfo(path)
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "root", "root"
    if data is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    else:
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))


def build_tar(
    manifest: Optional[str],
    rootfs: dict,
    *,
    no_rootfs: bool = False,
    extra_entries: Optional[dict] = None,
    duplicate: tuple = (),
) -> bytes:
    """An uncompressed ACI: ``manifest`` (unless None), ``rootfs/`` and its files; reproducible.

    For archives that are not images: ``no_rootfs`` leaves ``rootfs`` out, ``extra_entries``
    adds files at the top level, ``duplicate`` writes the named members a second time."""
    buf = io.BytesIO()
    written: dict = {}

    def add(path, data):
        _member(tar, path, data)
        written.setdefault(path, data)

    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        if manifest is not None:
            add("manifest", manifest.encode("utf-8"))
        if not no_rootfs:
            add("rootfs", None)
            dirs = set()
            for path in sorted(rootfs):
                parts = path.strip("/").split("/")
                for i in range(1, len(parts)):
                    d = "rootfs/" + "/".join(parts[:i])
                    if d not in dirs:
                        dirs.add(d)
                        add(d, None)
                add("rootfs/" + "/".join(parts), rootfs[path].encode("utf-8"))
        for path, text in sorted((extra_entries or {}).items()):
            add(path, text.encode("utf-8"))
        for path in duplicate:
            if path not in written:
                raise ArtefactError(f"duplicate: the archive has no member {path!r} to write twice")
            _member(tar, path, written[path])
    return buf.getvalue()


def compress(data: bytes, how: str) -> bytes:
    if how == "none":
        return data
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "bzip2":
        return bz2.compress(data)
    if how == "xz":
        return lzma.compress(data, format=lzma.FORMAT_XZ)
    raise ArtefactError(f"compression {how!r}: one of {', '.join(COMPRESSIONS)}")


def image_id(tar_bytes: bytes) -> str:
    """aci.md, "Image ID": the SHA-512 of the uncompressed tar, written ``sha512-HEX``."""
    return "sha512-" + hashlib.sha512(tar_bytes).hexdigest()


# --- a case's artefacts ---------------------------------------------------------------------


def check(spec: Any) -> list[str]:
    """Problems of an ``artefacts`` description (empty list when it is fine)."""
    if not isinstance(spec, dict) or not spec:
        return ["artefacts: a non-empty object of artefact name to description"]
    out = []
    for name, desc in spec.items():
        where = f"artefacts[{name!r}]"
        if not isinstance(desc, dict) or len(desc) != 1 or next(iter(desc)) not in KINDS:
            out.append(f"{where}: an object with exactly one of {', '.join(KINDS)}")
            continue
        kind, body = next(iter(desc.items()))
        if kind == "aci":
            if not isinstance(body, dict):
                out.append(f"{where}.aci: an object")
                continue
            out += unknown_keys(f"{where}.aci", body, ACI_KEYS)
            if body.get("compression", "none") not in COMPRESSIONS:
                out.append(f"{where}.aci.compression: one of {', '.join(COMPRESSIONS)}")
            if "manifest" not in body and not body.get("no_manifest") and not isinstance(body.get("name"), str):
                out.append(f"{where}.aci: give 'name' (and 'labels'), 'manifest' or 'no_manifest'")
            labels = body.get("labels", {})
            if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
                out.append(f"{where}.aci.labels: an object of label name to string")
            rootfs = body.get("rootfs", {})
            if not isinstance(rootfs, dict) or not all(isinstance(v, str) for v in rootfs.values()):
                out.append(f"{where}.aci.rootfs: an object of path to text")
            if "truncate" in body and (
                isinstance(body["truncate"], bool) or not isinstance(body["truncate"], int) or body["truncate"] < 1
            ):
                out.append(f"{where}.aci.truncate: a positive integer (bytes of the archive kept)")
            extra = body.get("extra_entries", {})
            if not isinstance(extra, dict) or not all(
                isinstance(k, str)
                and isinstance(v, str)
                and k.strip("/")
                and "/" not in k.strip("/")
                and k.strip("/") not in ("manifest", "rootfs")
                for k, v in extra.items()
            ):
                out.append(
                    f"{where}.aci.extra_entries: an object of top-level file name (not manifest or "
                    f"rootfs, no '/') to text"
                )
            dup = body.get("duplicate", [])
            if not isinstance(dup, list) or not all(isinstance(x, str) and x for x in dup):
                out.append(f"{where}.aci.duplicate: a list of member paths")
            if "no_rootfs" in body and not isinstance(body["no_rootfs"], bool):
                out.append(f"{where}.aci.no_rootfs: true or false")
        elif kind == "text" and not isinstance(body, str):
            out.append(f"{where}.text: a string")
        elif kind == "hex" and not (isinstance(body, str) and re.fullmatch(r"(?:[0-9a-fA-F]{2})*", body)):
            out.append(f"{where}.hex: a string of hexadecimal digit pairs")
        elif kind == "signature":
            if not isinstance(body, dict) or set(body) - SIGNATURE_KEYS or "of" not in body or "key" not in body:
                out.append(f"{where}.signature: an object with 'of', 'key' and optionally 'armor'")
                continue
            if body["of"] not in spec:
                out.append(f"{where}.signature.of: names no artefact of the case")
            elif "signature" in spec[body["of"]]:
                out.append(f"{where}.signature.of: a signature of a signature is not supported")
            if not isinstance(body["key"], str) or not KEY_SYMBOL.match(body["key"]):
                out.append(f"{where}.signature.key: a key symbol (lowercase letters, digits, '-', '_')")
            if not isinstance(body.get("armor", True), bool):
                out.append(f"{where}.signature.armor: true or false")
        elif kind == "public_key" and not (isinstance(body, str) and KEY_SYMBOL.match(body)):
            out.append(f"{where}.public_key: a key symbol")
    return out


def references(obj: Any) -> set[tuple[str, str]]:
    """Every ``(kind, name)`` an artefact placeholder in ``obj`` refers to."""
    return {ref for s in strings(obj) for ref in ARTEFACT_PLACEHOLDER.findall(s)}


class Built:
    """The bytes of every artefact of a case, and what placeholders stand for."""

    def __init__(self, data: dict[str, bytes], ids: dict[str, str], keys: dict[str, str]):
        self.data, self.ids, self.keys = data, ids, keys

    def resolve(self, obj: Any) -> Any:
        """Replace artefact placeholders in any JSON value (``{{size:X}}`` alone becomes an int)."""
        if isinstance(obj, str):
            whole = ARTEFACT_PLACEHOLDER.fullmatch(obj)
            if whole and whole.group(1) == "size":
                return len(self._data(whole.group(2)))
            return ARTEFACT_PLACEHOLDER.sub(lambda m: self._one(m.group(1), m.group(2)), obj)
        if isinstance(obj, list):
            return [self.resolve(x) for x in obj]
        if isinstance(obj, dict):
            return {self.resolve(k): self.resolve(v) for k, v in obj.items()}
        return obj

    def _data(self, name: str) -> bytes:
        if name not in self.data:
            raise ArtefactError(f"placeholder names no artefact {name!r}")
        return self.data[name]

    def _one(self, kind: str, name: str) -> str:
        if kind == "id":
            if name not in self.ids:
                raise ArtefactError(f"{{{{id:{name}}}}}: {name!r} is not an image archive of the case")
            return self.ids[name]
        if kind == "size":
            return str(len(self._data(name)))
        if name not in self.keys:
            raise ArtefactError(f"{{{{key:{name}}}}}: no key {name!r} was made for this case")
        return self.keys[name]

    def placeholders_back(self) -> list[tuple[str, str]]:
        """(text, placeholder) pairs that put keys and image IDs back as placeholders."""
        return [(v, f"{{{{key:{k}}}}}") for k, v in self.keys.items()] + [
            (v, f"{{{{id:{k}}}}}") for k, v in self.ids.items()
        ]


def build(spec: dict, ring: Optional[Keyring] = None, extra_keys: Any = None) -> Built:
    """Build every artefact of ``spec`` (already checked; host placeholders already substituted).

    Keys named by ``{{key:SYMBOL}}`` placeholders in ``extra_keys`` (say, the case's input) are
    made too, so that a case can trust a key that signs nothing."""
    problems = check(spec) if spec else []
    if problems:
        raise ArtefactError("; ".join(problems))
    ring = ring or keyring()
    data: dict[str, bytes] = {}
    ids: dict[str, str] = {}
    keys: dict[str, str] = {}
    spec = spec or {}
    for name, desc in spec.items():
        kind, body = next(iter(desc.items()))
        if kind == "aci":
            if "manifest" in body:
                text = body["manifest"]
            elif body.get("no_manifest"):
                text = None
            else:
                text = manifest_text(body["name"], body.get("labels", {}))
            tar = build_tar(
                text,
                body.get("rootfs") or {"etc/hello.txt": f"{name}\n"},
                no_rootfs=bool(body.get("no_rootfs")),
                extra_entries=body.get("extra_entries"),
                duplicate=tuple(body.get("duplicate", ())),
            )
            served = compress(tar, body.get("compression", "none"))
            if "truncate" in body:
                if body["truncate"] >= len(served):
                    raise ArtefactError(
                        f"artefacts[{name!r}].aci.truncate: {body['truncate']} is not less than "
                        f"the archive's {len(served)} bytes"
                    )
                served = served[: body["truncate"]]  # a cut stream: no image ID
            else:
                ids[name] = image_id(tar)
            data[name] = served
        elif kind == "hex":
            data[name] = bytes.fromhex(body)
        elif kind == "text":
            data[name] = body.encode("utf-8")
        elif kind == "json":
            data[name] = (json.dumps(body, indent=2) + "\n").encode("utf-8")
        elif kind == "public_key":
            data[name] = ring.public_key(body)
            keys[body] = data[name].decode("ascii")
    for name, desc in spec.items():
        if "signature" in desc:
            sig = desc["signature"]
            data[name] = ring.sign(sig["key"], data[sig["of"]], sig.get("armor", True))
    for kind, symbol in sorted(references(extra_keys)):
        if kind == "key" and symbol not in keys:
            keys[symbol] = ring.public_key(symbol).decode("ascii")
    return Built(data, ids, keys)
