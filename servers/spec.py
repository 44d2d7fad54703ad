"""The ``hosts`` description of a discovery case: checking it and substituting placeholders.

servers/README.md documents the format. This module has no sockets in it, so the lint can use
it on a vector file without starting anything.
"""

from __future__ import annotations

import re
from typing import Any

# The certificates a mock host may present (``cert``); servers/ca.py makes them.
CERT_KINDS = ("trusted", "untrusted", "wrong-host", "expired")
# Host symbols map to 127.0.0.2, 127.0.0.3, ... in order of appearance (servers/scenario.py).
FIRST_ADDRESS = 2

# {{a}} -> "127.0.0.2[:port]" (the address and, with custom ports, the port), {{a.host}} -> "127.0.0.2".
# Double braces cannot be confused with the single-brace variables of URI templates.
PLACEHOLDER = re.compile(r"\{\{\s*([a-z][a-z0-9_-]*)(?:\.(host))?\s*\}\}")
HOST_SYMBOL = re.compile(r"^[a-z][a-z0-9_-]*$")

HOST_KEYS = {"paths", "https", "http", "cert"}
RESPONSE_KEYS = {
    "status",
    "headers",
    "body",
    "meta",
    "meta_in",
    "json",
    "redirect",
    "require_header",
    "delay",
    "pad_to",
    "endless",
    "https",
    "http",
    "artefact",
}
ENDLESS_KEYS = {"chunk", "interval", "max_seconds", "max_bytes"}

MAX_DELAY = 120.0  # seconds; a delay is cut short when the scenario stops
MAX_PAD = 256 * 1024 * 1024
MAX_ENDLESS_SECONDS = 120.0


class HostsError(ValueError):
    """The hosts description is malformed; the message names the place."""


def substitute(obj: Any, values: dict[str, dict[str, str]]) -> Any:
    """Replace every placeholder in strings (and dict keys) of ``obj``; unknown symbols raise."""

    def one(text: str) -> str:
        def rep(m: re.Match) -> str:
            sym, part = m.group(1), m.group(2) or "netloc"
            if sym not in values:
                raise HostsError(
                    f"placeholder {m.group(0)!r} names no host of the case "
                    f"(hosts: {', '.join(sorted(values)) or 'none'})"
                )
            return values[sym][part]

        return PLACEHOLDER.sub(rep, text)

    if isinstance(obj, str):
        return one(obj)
    if isinstance(obj, list):
        return [substitute(x, values) for x in obj]
    if isinstance(obj, dict):
        return {(one(k) if isinstance(k, str) else k): substitute(v, values) for k, v in obj.items()}
    return obj


def strings(obj: Any):
    """Every string in ``obj`` (a JSON value), object keys included."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, list):
        for x in obj:
            yield from strings(x)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from strings(k)
            yield from strings(v)


def placeholders(obj: Any) -> set[str]:
    """Every host symbol a placeholder in ``obj`` refers to."""
    return {m.group(1) for s in strings(obj) for m in PLACEHOLDER.finditer(s)}


def unknown_keys(where: str, obj: dict, known) -> list[str]:
    """One problem for each key of ``obj`` not in ``known``, in ``obj``'s order."""
    return [f"{where}: unknown key {k!r} (known: {', '.join(sorted(known))})" for k in obj if k not in known]


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_response(resp: Any, where: str, nested: bool = False) -> list[str]:
    """Problems of one response description (empty list when it is fine)."""
    out: list[str] = []
    if not isinstance(resp, dict):
        return [f"{where}: a response must be an object"]
    out += unknown_keys(where, resp, RESPONSE_KEYS)
    if "status" in resp and not (
        isinstance(resp["status"], int) and not isinstance(resp["status"], bool) and 100 <= resp["status"] <= 599
    ):
        out.append(f"{where}.status: an integer from 100 to 599")
    if "headers" in resp:
        h = resp["headers"]
        if not isinstance(h, dict) or not all(
            isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)) for v in h.values()
        ):
            out.append(f"{where}.headers: an object of header name to string or list of strings")
    bodies = [k for k in ("body", "meta", "json", "artefact") if k in resp]
    if len(bodies) > 1:
        out.append(f"{where}: give only one of body, meta, json, artefact (got {', '.join(bodies)})")
    if "artefact" in resp and not isinstance(resp["artefact"], str):
        out.append(f"{where}.artefact: the name of one of the case's artefacts")
    if "body" in resp and not isinstance(resp["body"], str):
        out.append(f"{where}.body: a string")
    if "meta" in resp:
        m = resp["meta"]
        if not isinstance(m, list):
            out.append(f"{where}.meta: a list of [name, content] pairs or attribute objects")
        else:
            for i, item in enumerate(m):
                ok = (isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)) or (
                    isinstance(item, dict)
                    and all(isinstance(k, str) and isinstance(v, (str, type(None))) for k, v in item.items())
                )
                if not ok:
                    out.append(f"{where}.meta[{i}]: [name, content] or an object of attribute to string/null")
    if "meta_in" in resp and resp["meta_in"] not in ("head", "body"):
        out.append(f"{where}.meta_in: 'head' or 'body'")
    if "redirect" in resp and not isinstance(resp["redirect"], str):
        out.append(f"{where}.redirect: a URL string")
    if "require_header" in resp:
        r = resp["require_header"]
        if not isinstance(r, dict) or not r or not all(isinstance(v, str) for v in r.values()):
            out.append(f"{where}.require_header: a non-empty object of header name to value")
    if "delay" in resp and not (_num(resp["delay"]) and 0 <= resp["delay"] <= MAX_DELAY):
        out.append(f"{where}.delay: seconds, from 0 to {MAX_DELAY:g}")
    if "pad_to" in resp and not (isinstance(resp["pad_to"], int) and 0 < resp["pad_to"] <= MAX_PAD):
        out.append(f"{where}.pad_to: a byte count from 1 to {MAX_PAD}")
    if "endless" in resp:
        e = resp["endless"]
        if isinstance(e, dict):
            for k, v in e.items():
                if k not in ENDLESS_KEYS or not _num(v) or v <= 0:
                    out.append(f"{where}.endless.{k}: unknown key or not a positive number")
        elif e is not True:
            out.append(f"{where}.endless: true or an object with {', '.join(sorted(ENDLESS_KEYS))}")
        if "pad_to" in resp:
            out.append(f"{where}: endless and pad_to exclude each other")
    for scheme in ("https", "http"):
        if scheme in resp:
            if nested:
                out.append(f"{where}.{scheme}: per-scheme answers cannot nest")
            else:
                out.extend(check_response(resp[scheme], f"{where}.{scheme}", nested=True))
    return out


def check_hosts(hosts: Any) -> list[str]:
    """Problems of a whole ``hosts`` description, including placeholders naming unknown hosts."""
    if not isinstance(hosts, dict) or not hosts:
        return ["hosts: a non-empty object of host symbol to host description"]
    out: list[str] = []
    for sym, host in hosts.items():
        where = f"hosts.{sym}"
        if not HOST_SYMBOL.match(sym):
            out.append(f"{where}: a host symbol is lowercase letters, digits, '-' and '_', starting with a letter")
        if not isinstance(host, dict):
            out.append(f"{where}: a host description must be an object")
            continue
        out += unknown_keys(where, host, HOST_KEYS)
        for k in ("https", "http"):
            if k in host and not isinstance(host[k], bool):
                out.append(f"{where}.{k}: true or false (whether that scheme is served)")
        if "cert" in host and host["cert"] not in CERT_KINDS:
            out.append(f"{where}.cert: one of {', '.join(CERT_KINDS)}")
        paths = host.get("paths", {})
        if not isinstance(paths, dict):
            out.append(f"{where}.paths: an object of request target to response")
            continue
        for target, resp in paths.items():
            if target != "*" and not target.startswith("/"):
                out.append(f"{where}.paths[{target!r}]: a target starts with '/' (or is '*')")
            out.extend(check_response(resp, f"{where}.paths[{target!r}]"))
    for sym in sorted(placeholders(hosts) - set(hosts)):
        out.append(f"hosts: placeholder {{{{{sym}}}}} names no host of the case")
    return out


def response_for(resp: dict, scheme: str) -> dict:
    """The response description that applies to ``scheme`` (resolving per-scheme answers)."""
    if scheme in resp:
        return resp[scheme]
    base = {k: v for k, v in resp.items() if k not in ("https", "http")}
    if not base and ("https" in resp or "http" in resp):
        return {"status": 404}
    return base
