"""The bundled implementations: a name, and how to get the command line of its adapter.

``command(name)`` returns the argv, or raises ``NotAvailable`` with the reason and the
command that installs what is missing. ``UnknownImplementation`` names the known ones.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from typing import Callable


class NotAvailable(Exception):
    pass


class UnknownImplementation(Exception):
    pass


@dataclass(frozen=True)
class Implementation:
    name: str
    description: str
    language: str
    profiles: tuple
    resolve: Callable[[], list]


def _reference() -> list:
    return [sys.executable, "-m", "appc_conformance.conformance.adapters.reference"]


def _go() -> list:
    from appc_conformance.conformance.adapters.go import build  # noqa: PLC0415 - builds the adapter binary, not the harness' code

    try:
        return [str(build.build())]
    except build.NotAvailable as exc:
        raise NotAvailable(str(exc)) from None


def _rkt() -> list:
    # The tree comes from RKT_SRC (``--rkt-src DIR`` of run and of the pytest plugin sets it).
    from appc_conformance.conformance.adapters.rkt import build  # noqa: PLC0415 - builds the adapter binary against the tree

    try:
        return [str(build.build())]
    except build.NotAvailable as exc:
        raise NotAvailable(str(exc)) from None


def _actool() -> list:
    if shutil.which("actool") is None:
        raise NotAvailable("actool is not installed; install it with: apt-get install appc-spec")
    return [sys.executable, "-m", "appc_conformance.conformance.adapters.actool"]


IMPLEMENTATIONS = {
    i.name: i
    for i in (
        Implementation(
            "reference",
            "the suite's Python reference implementation of both profiles",
            "python",
            ("appc-0.8.11", "appc-imagetags"),
            _reference,
        ),
        Implementation(
            "go-appc",
            "the appc/spec Go library v0.8.11 (Debian golang-github-appc-spec-dev)",
            "go",
            ("appc-0.8.11",),
            _go,
        ),
        Implementation(
            "actool", "the actool CLI v0.8.11 (Debian appc-spec), a black box", "go", ("appc-0.8.11",), _actool
        ),
        Implementation(
            "rkt",
            "rkt's own image fetcher, keystore and discovery, built from an rkt source tree (--rkt-src DIR or RKT_SRC)",
            "go",
            ("appc-0.8.11",),
            _rkt,
        ),
    )
}


def get(name: str) -> Implementation:
    try:
        return IMPLEMENTATIONS[name]
    except KeyError:
        raise UnknownImplementation(
            f"unknown implementation {name!r}; bundled: {', '.join(IMPLEMENTATIONS)} "
            f"(or give any adapter with --adapter-cmd)"
        ) from None


def command(name: str) -> list:
    return get(name).resolve()
