"""``appc-conformance serve CASE-ID``: stand up one case's mock hosts by hand.

For exploring what a discovery, fetch or publisher case serves, for trying an implementation
against it outside the suite (``curl --cacert``, a client of your own), or for pointing
``check-publisher`` at a publisher case's hosts. The hosts are the ones a run stands up for
the case (servers/README.md): loopback addresses 127.0.0.x, on one ephemeral port for every
host (the default) or on 443 and 80 (``--default-ports``), with the run's test CA. ``serve``
prints each host's address, the CA file to trust, what the case asks and expects (placeholders
filled in), and then each request the hosts get as it comes, until Ctrl-C or SIGTERM (or
``--duration`` seconds). The CA folder is removed when it ends.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import time
from pathlib import Path

POLL_S = 0.2


class _Stop(Exception):
    pass


def _on_signal(signum, frame):
    raise _Stop(signum)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "case", metavar="CASE-ID", help="a discovery, fetch or publisher case (appc-conformance list shows the IDs)"
    )
    p.add_argument(
        "--vectors", type=Path, default=None, metavar="DIR", help="the vector set (default: the bundled one)"
    )
    p.add_argument(
        "--default-ports",
        action="store_true",
        help="listen on 443 (HTTPS) and 80 (HTTP) of each host's address, as for an adapter "
        "without the custom-port feature (needs the right to bind them); default: one "
        "ephemeral port for every host, HTTPS and HTTP alike",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this long (default: run until Ctrl-C or SIGTERM)",
    )


def _find(args):
    from appc_conformance.conformance import vectors  # noqa: PLC0415

    root = args.vectors.resolve() if args.vectors else vectors.default_vectors_dir()
    vs = vectors.load(root, vectors.vector_files(root))
    every = [*vs.cases, *vs.suite_cases]
    case = next((c for c in every if c.id == args.case), None)
    if case is None:
        ids = [c.id for c in every]
        raise ValueError(
            f"{args.case!r} is no case of the vector set in {root} ({vectors.like_pattern(args.case, ids)})"
        )
    if not isinstance(case.raw.get("hosts"), dict) or not case.raw["hosts"]:
        raise ValueError(
            f"{case.id} ({case.op}) stands up no host: only discovery, fetch and publisher cases have mock hosts"
        )
    return case


def _describe(case, sc) -> list[str]:
    raw = case.raw
    lines = [f"case: {case.id} ({case.op}): {raw.get('description', '')}"]
    for sym, v in sc.values.items():
        port = sc.port
        if port is None:
            lines.append(f"host {sym}: https://{v['host']}:443 and http://{v['host']}:80 (name {{{{{sym}}}}})")
        else:
            lines.append(
                f"host {sym}: https://{v['host']}:{port} and http://{v['host']}:{port} "
                f"(name {{{{{sym}}}}}, HTTPS and HTTP on one port)"
            )
    if case.op in ("discover", "resolve", "fetch"):
        lines.append(
            "request: " + json.dumps({"op": case.op, "args": sc.adapter_args(raw["input"])}, ensure_ascii=False)
        )
        lines.append("expect: " + json.dumps(sc.substitute(raw["expect"]), ensure_ascii=False))
    else:  # a publisher case: check-publisher is the client
        app = sc.substitute(raw["input"]).get("app")
        argv = ["appc-conformance", "check-publisher", str(app)]
        if case.profiles and "appc-0.8.11" not in case.profiles:
            argv += ["--profile", case.profiles[0]]
        if sc.port is not None:
            argv += ["--port", str(sc.port)]
        argv += ["--ca-file", sc.ca_file]
        lines.append("check it: " + " ".join(shlex.quote(a) for a in argv))
    lines.append(f"ca_file: {sc.ca_file}")
    return lines


def main(args: argparse.Namespace) -> int:
    from appc_conformance import servers  # noqa: PLC0415

    try:
        case = _find(args)
    except ValueError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 2
    port_mode = servers.DEFAULT if args.default_ports else servers.CUSTOM
    raw = case.raw
    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with servers.scenario(
            raw["hosts"],
            port_mode=port_mode,
            artefacts=raw.get("artefacts"),
            key_refs=raw["input"] if case.op == "fetch" else None,
        ) as sc:
            for line in _describe(case, sc):
                print(line, flush=True)
            print("serving; each request is shown as it comes; Ctrl-C stops", flush=True)
            shown = 0
            end = None if args.duration is None else time.monotonic() + args.duration
            while end is None or time.monotonic() < end:
                time.sleep(POLL_S)
                entries = sc.log.entries()
                for e in entries[shown:]:
                    print(f"  {e}", flush=True)
                shown = len(entries)
    except _Stop:
        pass
    except servers.PortsUnavailable as exc:
        print(f"serve: {exc.reason}", file=sys.stderr)
        return 2
    except servers.artefacts.ArtefactError as exc:
        print(f"serve: the case's artefacts could not be made: {exc}", file=sys.stderr)
        return 2
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    print("stopped", flush=True)
    return 0
