"""Mock discovery hosts for the appc conformance suite (loopback only).

The harness uses:

    from appc_conformance import servers
    ca_file = servers.ca.bundle_path()           # once per run: SSL_CERT_FILE and hello's ca_file
    try:
        with servers.scenario(case["hosts"], port_mode="custom") as sc:   # or "default"
            args = sc.adapter_args(case["input"])  # placeholders substituted, port set
            expect = sc.substitute(case["expect"])
            ... send args to the adapter, grade the answer against expect ...
        problems = sc.check(case.get("requests"))  # list of sentences; [] means fine
    except servers.PortsUnavailable as exc:
        skip(exc.reason)

``appc_conformance.servers.lint_case(case)`` checks a case's ``hosts`` and ``requests`` without starting anything.
servers/README.md documents the formats.
"""

from __future__ import annotations


from typing import TYPE_CHECKING

from . import ca
from .ca import Pki
from .log import RequestLog, SpecError, check_spec
from .scenario import CUSTOM, DEFAULT, PortsUnavailable, Scenario, default_ports_available, scenario
from .spec import HostsError, check_hosts, placeholders

if TYPE_CHECKING:
    from . import artefacts

__all__ = [
    "artefacts",
    "ca",
    "Pki",
    "Scenario",
    "scenario",
    "PortsUnavailable",
    "HostsError",
    "SpecError",
    "RequestLog",
    "CUSTOM",
    "DEFAULT",
    "default_ports_available",
    "lint_case",
]


def __getattr__(name: str):
    """``servers.artefacts`` is imported on first use: the archive, compression and signing
    modules are start-up time a run without fetch cases (or a lint) has no use for."""
    if name == "artefacts":
        import importlib  # noqa: PLC0415

        return importlib.import_module(f"{__name__}.artefacts")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def lint_case(case: dict) -> list[str]:
    """Problems of a discovery case's ``hosts`` and ``requests`` (and placeholders elsewhere)."""
    hosts = case.get("hosts")
    out = check_hosts(hosts)
    known = set(hosts) if isinstance(hosts, dict) else set()
    out += check_spec(case.get("requests"))
    for fld in ("input", "expect", "requests"):
        for sym in sorted(placeholders(case.get(fld)) - known):
            out.append(f"{fld}: placeholder {{{{{sym}}}}} names no host of the case")
    if "artefacts" in case or case.get("op") == "fetch":
        out += _lint_artefacts(case, hosts if isinstance(hosts, dict) else {})
    spec = case.get("requests")
    if spec is not None and not check_spec(spec):
        from .log import groups, parse_matcher  # noqa: PLC0415 - imported only when this path runs (start-up time)

        ms = []
        for req in groups(spec):
            if "first" in req:
                ms.append(req["first"])
            for k in ("sequence", "some", "never"):
                ms += req.get(k, [])
            ms += [c["match"] for c in req.get("count", [])] + [h["match"] for h in req.get("headers", [])]
        for m in ms:
            h = parse_matcher(m).get("host", "*")
            if h != "*" and not h.endswith("*") and h not in known:
                out.append(f"requests: matcher {m!r} names host {h!r}, which the case does not describe")
    return out


def _lint_artefacts(case: dict, hosts: dict) -> list[str]:
    """A fetch case's ``artefacts``, and every reference to them (served paths, placeholders)."""
    from . import artefacts  # noqa: PLC0415 - imported only when this path runs (start-up time)

    spec = case.get("artefacts")
    out = artefacts.check(spec) if spec is not None else []
    names = set(spec) if isinstance(spec, dict) else set()
    for sym, host in hosts.items():
        for target, resp in (host.get("paths") or {}).items() if isinstance(host, dict) else ():
            for r in [resp] + [resp.get(s) for s in ("https", "http")] if isinstance(resp, dict) else []:
                if isinstance(r, dict) and isinstance(r.get("artefact"), str) and r["artefact"] not in names:
                    out.append(f"hosts.{sym}.paths[{target!r}].artefact: names no artefact of the case")
    ids = (
        {n for n, d in (spec or {}).items() if isinstance(d, dict) and "aci" in d} if isinstance(spec, dict) else set()
    )
    for fld in ("input", "expect", "requests"):
        for kind, name in sorted(artefacts.references(case.get(fld))):
            if kind == "id" and name not in ids:
                out.append(f"{fld}: {{{{id:{name}}}}} names no image archive of the case")
            elif kind == "size" and name not in names:
                out.append(f"{fld}: {{{{size:{name}}}}} names no artefact of the case")
    return out
