"""The ordered request log of a scenario, and the ``requests`` assertions checked against it.

servers/README.md documents the assertion format. A matcher is either a string
``"[SCHEME] HOST TARGET"`` (each part may be ``*``; a TARGET ending in ``*`` matches by
prefix) or an object with the keys of ``MATCHER_KEYS``.

A ``requests`` description is one group of assertions (an object with the keys of
``SPEC_KEYS``) or a list of groups. A group may name the requirement IDs its assertions
check (``requirements``); without it they check the case's own requirements. ``check_groups``
says which group each problem belongs to, so a failure is filed under the requirement it
breaks.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from .spec import unknown_keys

# Entry kinds: a parsed HTTP request; a TLS handshake that failed; a connection closed unanswered
# because the host does not serve that scheme.
REQUEST, TLS_ERROR, REFUSED = "request", "tls-error", "refused"
MATCHER_KEYS = {"scheme", "host", "target", "path", "method", "kind", "has_header", "lacks_header"}
SPEC_KEYS = {"first", "sequence", "some", "never", "count", "headers", "requirements"}


@dataclass
class Entry:
    seq: int
    time: float  # seconds since the scenario started
    kind: str  # request | tls-error | refused
    scheme: str  # https | http
    host: str  # host symbol of the case
    address: str
    port: int
    method: Optional[str] = None
    path: Optional[str] = None
    query: Optional[str] = None  # None when the target has no '?'
    headers: list = field(default_factory=list)  # [[name, value], ...] as received
    status: Optional[int] = None  # what the mock answered (None: no answer)
    note: str = ""
    cut: bool = False  # the path, query or a header was longer than the log keeps (see cut_text)

    @property
    def target(self) -> Optional[str]:
        if self.path is None:
            return None
        return self.path if self.query is None else f"{self.path}?{self.query}"

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def to_json(self) -> dict:
        return {
            "seq": self.seq,
            "time": round(self.time, 4),
            "kind": self.kind,
            "scheme": self.scheme,
            "host": self.host,
            "address": self.address,
            "port": self.port,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "status": self.status,
            "note": self.note,
            **({"cut": True} if self.cut else {}),
        }

    def __str__(self) -> str:
        return self.line()[0]

    def line(self, keep: Optional[int] = None) -> tuple[str, bool]:
        """One line for people; with ``keep``, the target and the note (adapter input) are cut to
        ``keep`` characters each (cut_text), so the line keeps its status. And whether anything was cut."""
        if self.kind != REQUEST:
            note, cut = cut_text(self.note, keep) if keep else (self.note, False)
            return (
                f"#{self.seq} {self.scheme} {self.host} ({self.address}:{self.port}) [{self.kind}] {note}".rstrip(),
                cut,
            )
        target, cut = cut_text(self.target, keep) if keep else (self.target, False)
        method, c2 = cut_text(self.method, 32) if keep else (self.method, False)
        return (
            f"#{self.seq} {self.scheme} {self.host} {method} {target} -> "
            f"{self.status if self.status is not None else 'no answer'}"
        ), cut or c2


# What the log keeps (an adapter's requests are untrusted input): of one request, a path, a query,
# a header name and a header value of at most these many characters (a longer one keeps its start
# and a marker saying how much was cut, so it never equals a shorter value nor loses a prefix), and
# at most HEADERS_KEEP headers; of one scenario, at most ENTRIES_KEEP entries and LOG_KEEP_CHARS
# characters of paths, queries and headers. Entries beyond are counted (``dropped``), not kept.
PATH_KEEP = 2048
HEADER_NAME_KEEP = 256
HEADER_VALUE_KEEP = 1024
HEADERS_KEEP = 100
ENTRIES_KEEP = 2000
LOG_KEEP_CHARS = 16 * 1024 * 1024


def cut_text(text: Optional[str], keep: int) -> tuple[Optional[str], bool]:
    """``text``, or its first ``keep`` characters and a marker when it is longer; and whether it was cut."""
    if text is None or len(text) <= keep:
        return text, False
    return f"{text[:keep]}…[{len(text) - keep} more characters cut]", True


class RequestLog:
    """Thread-safe, append-only, ordered, bounded (PATH_KEEP ... LOG_KEEP_CHARS above): what an
    entry or the log had to leave out is marked (``Entry.cut``, ``dropped``, ``trimmed``)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self._t0 = time.monotonic()
        self.made = 0  # entries offered to the log
        self.dropped = 0  # of them, not kept (over ENTRIES_KEEP or LOG_KEEP_CHARS)
        self.trimmed = 0  # kept entries with something cut
        self._chars = 0

    def add(self, **kw) -> Entry:
        cut = bool(kw.pop("cut", False))  # the caller could not read all of it (servers/mock.py)
        for key in ("path", "query"):
            if key in kw:
                kw[key], c = cut_text(kw[key], PATH_KEEP)
                cut |= c
        if "headers" in kw:
            headers = kw["headers"]
            kept = []
            for name, value in headers[:HEADERS_KEEP]:
                name, c1 = cut_text(name, HEADER_NAME_KEEP)
                value, c2 = cut_text(value, HEADER_VALUE_KEEP)
                kept.append([name, value])
                cut |= c1 or c2
            if len(headers) > HEADERS_KEEP:
                cut = True
                kw["note"] = (kw.get("note", "") + f" {len(headers) - HEADERS_KEEP} more headers cut").strip()
            kw["headers"] = kept
        size = sum(len(kw.get(k) or "") for k in ("path", "query")) + sum(
            len(n) + len(v) for n, v in kw.get("headers", [])
        )
        with self._lock:
            self.made += 1
            e = Entry(seq=self.made, time=time.monotonic() - self._t0, cut=cut, **kw)
            if len(self._entries) >= ENTRIES_KEEP or self._chars + size > LOG_KEEP_CHARS:
                self.dropped += 1  # the caller may still set its status and note: they go nowhere
                return e
            self._chars += size
            self.trimmed += cut
            self._entries.append(e)
            return e

    def cut_summary(self) -> Optional[dict]:
        """None when the log kept everything whole; else {"made", "kept", "trimmed"} counts."""
        with self._lock:
            if not self.dropped and not self.trimmed:
                return None
            return {"made": self.made, "kept": len(self._entries), "trimmed": self.trimmed}

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def requests(self) -> list[Entry]:
        return [e for e in self.entries() if e.kind == REQUEST]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self):
        return iter(self.entries())

    def to_json(self) -> list[dict]:
        return [e.to_json() for e in self.entries()]

    def render(self) -> str:
        return "\n".join(str(e) for e in self.entries()) or "(no requests)"


# --- matchers ------------------------------------------------------------------------------


class SpecError(ValueError):
    """The ``requests`` description is malformed."""


def _glob(pattern: Optional[str], value: Optional[str]) -> bool:
    if pattern is None or pattern == "*":
        return True
    if value is None:
        return False
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


def parse_matcher(m: Any) -> dict:
    """Normalise a matcher (string or object) to an object; raises SpecError."""
    if isinstance(m, str):
        parts = m.split()
        if len(parts) == 3:
            scheme, host, target = parts
        elif len(parts) == 2:
            scheme, (host, target) = "*", parts
        else:
            raise SpecError(f"matcher {m!r}: expected '[SCHEME] HOST TARGET'")
        if scheme not in ("*", "https", "http"):
            raise SpecError(f"matcher {m!r}: scheme must be https, http or *")
        return {"scheme": scheme, "host": host, "target": target}
    if isinstance(m, dict):
        bad = set(m) - MATCHER_KEYS
        if bad:
            raise SpecError(f"matcher {m!r}: unknown keys {sorted(bad)} (known: {sorted(MATCHER_KEYS)})")
        if not all(isinstance(v, str) for v in m.values()):
            raise SpecError(f"matcher {m!r}: values are strings")
        return dict(m)
    raise SpecError(f"matcher {m!r}: a string or an object")


def matches(m: dict, e: Entry) -> bool:
    if e.kind != m.get("kind", REQUEST) and m.get("kind") != "*":
        return False
    if not _glob(m.get("scheme"), e.scheme) or not _glob(m.get("host"), e.host):
        return False
    if not _glob(m.get("target"), e.target) or not _glob(m.get("path"), e.path):
        return False
    if "method" in m and m["method"] != e.method:
        return False
    if "has_header" in m and not e.header_values(m["has_header"]):
        return False
    if "lacks_header" in m and e.header_values(m["lacks_header"]):
        return False
    return True


def _show(m: Any) -> str:
    return m if isinstance(m, str) else repr(m)


def groups(spec: Any) -> list:
    """The assertion groups of a ``requests`` description: an object is one, a list holds several."""
    if spec is None:
        return []
    return list(spec) if isinstance(spec, list) else [spec]


def cited(spec: Any) -> list[str]:
    """Requirement IDs the groups of a ``requests`` description name themselves, in order."""
    out: list[str] = []
    for g in groups(spec):
        if isinstance(g, dict) and isinstance(g.get("requirements"), list):
            out += [r for r in g["requirements"] if r not in out]
    return out


def check_spec(spec: Any) -> list[str]:
    """Problems of a ``requests`` description itself (for the lint)."""
    if spec is None:
        return []
    if isinstance(spec, list):
        if not spec:
            return ["requests: an object, or a non-empty list of objects"]
        return [p for i, g in enumerate(spec) for p in _check_group_spec(g, f"requests[{i}]")]
    return _check_group_spec(spec, "requests")


def _check_group_spec(spec: Any, name: str) -> list[str]:
    if not isinstance(spec, dict):
        return [f"{name}: an object"]
    out = unknown_keys(name, spec, SPEC_KEYS)
    if "requirements" in spec:
        reqs = spec["requirements"]
        if (
            not isinstance(reqs, list)
            or not reqs
            or not all(isinstance(r, str) for r in reqs)
            or len(set(reqs)) != len(reqs)
        ):
            out.append(f"{name}.requirements: a non-empty list of distinct requirement IDs")
    if not set(spec) - {"requirements"}:
        out.append(f"{name}: no assertion")

    def m_ok(m, where):
        try:
            parse_matcher(m)
        except SpecError as exc:
            out.append(f"{name}.{where}: {exc}")

    if "first" in spec:
        m_ok(spec["first"], "first")
    for key in ("sequence", "some", "never"):
        if key in spec:
            if not isinstance(spec[key], list) or not spec[key]:
                out.append(f"{name}.{key}: a non-empty list of matchers")
            else:
                for i, m in enumerate(spec[key]):
                    m_ok(m, f"{key}[{i}]")
    for i, c in enumerate(spec.get("count", [])):
        if (
            not isinstance(c, dict)
            or "match" not in c
            or not set(c) <= {"match", "min", "max"}
            or not all(isinstance(c.get(k, 0), int) for k in ("min", "max"))
        ):
            out.append(f'{name}.count[{i}]: {{"match": MATCHER, "min": N, "max": N}}')
        else:
            m_ok(c["match"], f"count[{i}].match")
    for i, h in enumerate(spec.get("headers", [])):
        if (
            not isinstance(h, dict)
            or "match" not in h
            or not set(h) <= {"match", "present", "absent"}
            or not ("present" in h or "absent" in h)
        ):
            out.append(f'{name}.headers[{i}]: {{"match": MATCHER, "present": {{NAME: VALUE|null}}, "absent": [NAME]}}')
            continue
        m_ok(h["match"], f"headers[{i}].match")
        if "present" in h and not (
            isinstance(h["present"], dict) and all(isinstance(v, (str, type(None))) for v in h["present"].values())
        ):
            out.append(f"{name}.headers[{i}].present: an object of header name to value or null")
        if "absent" in h and not (isinstance(h["absent"], list) and all(isinstance(x, str) for x in h["absent"])):
            out.append(f"{name}.headers[{i}].absent: a list of header names")
    return out


def check(spec: Any, log: RequestLog) -> list[str]:
    """Check a ``requests`` description against the log; returns human-readable problems."""
    return [problem for problem, _ in check_groups(spec, log)]


def check_groups(spec: Any, log: RequestLog) -> list[tuple[str, Optional[list]]]:
    """Like ``check``, each problem with the requirement IDs of its group (None: the case's own)."""
    if not spec:
        return []
    bad = check_spec(spec)
    if bad:
        return [(p, None) for p in bad]
    entries = log.entries()
    out = [(p, g.get("requirements")) for g in groups(spec) for p in _check_group(g, entries)]
    if log.dropped:  # what was not kept could break any assertion: none can be said to hold
        out += [
            (
                f"{log.made} requests were made, over what the log keeps of one case ({ENTRIES_KEEP} "
                f"requests, {LOG_KEEP_CHARS // (1024 * 1024)} MiB): the assertions cannot be checked "
                f"against the {log.dropped} not kept",
                g.get("requirements"),
            )
            for g in groups(spec)
        ]
    return out


def _check_group(spec: dict, entries: list[Entry]) -> list[str]:
    reqs = [e for e in entries if e.kind == REQUEST]
    out: list[str] = []

    if "first" in spec:
        m = parse_matcher(spec["first"])
        if not reqs:
            out.append(f"first request should match {_show(spec['first'])}, but no request was made")
        elif not matches(m, reqs[0]):
            out.append(f"first request should match {_show(spec['first'])}, but it was {reqs[0]}")

    if "sequence" in spec:
        pos = 0
        for i, raw in enumerate(spec["sequence"]):
            m = parse_matcher(raw)
            while pos < len(entries) and not matches(m, entries[pos]):
                pos += 1
            if pos == len(entries):
                done = ", ".join(_show(x) for x in spec["sequence"][:i]) or "nothing"
                out.append(f"sequence: no request matching {_show(raw)} after {done}")
                break
            pos += 1

    for raw in spec.get("some", []):
        m = parse_matcher(raw)
        if not any(matches(m, e) for e in entries):
            out.append(f"expected a request matching {_show(raw)}, there was none")

    for raw in spec.get("never", []):
        m = parse_matcher(raw)
        hits = [e for e in entries if matches(m, e)]
        if hits:
            out.append(
                f"no request should match {_show(raw)}, but: "
                + "; ".join(str(e) for e in hits[:3])
                + (f" (and {len(hits) - 3} more)" if len(hits) > 3 else "")
            )

    for c in spec.get("count", []):
        m = parse_matcher(c["match"])
        n = sum(1 for e in entries if matches(m, e))
        lo, hi = c.get("min", 0), c.get("max")
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}..{hi if hi is not None else 'any'}"
            out.append(f"count of requests matching {_show(c['match'])} should be {want}, was {n}")

    for h in spec.get("headers", []):
        m = parse_matcher(h["match"])
        hits = [e for e in entries if matches(m, e)]
        for name, value in (h.get("present") or {}).items():
            if not hits:
                out.append(f"header {name}: no request matching {_show(h['match'])} to carry it")
            for e in hits:
                vals = e.header_values(name)
                if not vals:
                    out.append(f"header {name} should reach {e}, it was missing")
                elif value is not None and value not in vals:
                    out.append(f"header {name} should be {value!r} at {e}, was {vals!r}")
        for name in h.get("absent", []):
            for e in hits:
                if e.header_values(name):
                    out.append(f"header {name} must not reach {e}, but it did: {e.header_values(name)!r}")
    return out
