"""The ``appc-conformance`` command line (also ``python -m appc_conformance``): one verb per task.

Exit codes, for every verb:
  0  ok
  1  conformance failure or regression (a failing run, an unexpected failure, a regression,
     a stale report, a lint problem in the vectors)
  2  usage or input error (bad arguments; a missing, malformed or truncated file; a bad revision)

Adding a verb: append a ``Verb`` to ``VERBS`` (or call ``register``) naming two functions,
``add_arguments(parser)`` and ``main(args) -> int``, as "module:function" strings. Modules are
imported only when the parser is built, and only the named verb's when the command line names
one, so a verb's dependencies stay in its own module and a command starts quickly.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
from dataclasses import dataclass

EXIT_CODES = textwrap.dedent("""\
    exit codes:
      0  ok
      1  conformance failure or regression (failing cases, unexpected failures,
         a regression in a diff, a stale report, problems in the vectors)
      2  usage or input error (bad arguments; a missing, malformed or truncated file)
    """)


@dataclass(frozen=True)
class Verb:
    name: str
    help: str
    add_arguments: str  # "module:function", takes the verb's ArgumentParser
    main: str  # "module:function", takes the parsed Namespace, returns the exit code
    description: str = ""


VERBS: list[Verb] = [
    Verb(
        "run",
        "run the suite against one or every bundled implementation (or any adapter) and write reports",
        "appc_conformance.conformance.run_verb:add_arguments",
        "appc_conformance.conformance.run_verb:run",
        "Runs pytest once per implementation, writes OUT/results-NAME.json for each, then every report.",
    ),
    Verb(
        "report",
        "turn results files into the HTML matrix, Markdown summary, JUnit XML and coverage table",
        "appc_conformance.reports.cli:report_arguments",
        "appc_conformance.reports.cli:report_main",
        "Writes report.html (self-contained, works offline), summary.md, junit.xml, coverage.md and "
        "coverage.json. With --check, writes nothing and exits 1 when the files in --out are stale.",
    ),
    Verb(
        "diff",
        "compare two results files; exit 1 on a regression (quiet when nothing changed)",
        "appc_conformance.reports.cli:diff_arguments",
        "appc_conformance.reports.cli:diff_main",
        "Lists regressions (passed in A, not in B), fixes, other changed verdicts, added and removed "
        "cases. Prints nothing when the runs agree.",
    ),
    Verb(
        "check",
        "check results against an implementation's known failures; exit 1 on an unexpected failure",
        "appc_conformance.reports.cli:check_arguments",
        "appc_conformance.reports.cli:check_main",
        "Fails only on failures the expectations file does not list. A listed failure that passes is "
        "reported so the entry gets removed (a failure with --strict).",
    ),
    Verb(
        "list",
        "list the cases of the vector set (or of a results file), filtered",
        "appc_conformance.reports.cli:list_arguments",
        "appc_conformance.reports.cli:list_main",
    ),
    Verb(
        "vectors-diff",
        "which cases changed between two git revisions of the vectors, and how verdicts move",
        "appc_conformance.reports.cli:vectors_diff_arguments",
        "appc_conformance.reports.cli:vectors_diff_main",
        "Compares vectors/ at REV_A and REV_B (default: the working tree). Given results files of runs "
        "on each side (--before, --after), shows each implementation's verdicts on the changed cases "
        "and exits 1 when one regresses.",
    ),
    Verb(
        "lint",
        "check the vector files against their schema and the catalog",
        "appc_conformance.conformance.lint:add_arguments",
        "appc_conformance.conformance.lint:run",
    ),
    Verb(
        "check-publisher",
        "check what a discovery host publishes for an image (meta tags, templates, keys, "
        "image tags, image, signatures, manifest)",
        "appc_conformance.conformance.publisher:add_arguments",
        "appc_conformance.conformance.publisher:main",
        "Walks the name's discovery pages as a client would and checks each rule a publisher must "
        "follow; prints a report (and writes it as JSON with --json). Exit 1 when a rule fails.",
    ),
    Verb(
        "serve",
        "stand up one case's mock hosts (loopback) and keep them up until Ctrl-C",
        "appc_conformance.conformance.serve:add_arguments",
        "appc_conformance.conformance.serve:main",
        "Stands up the mock hosts of one discovery, fetch or publisher case, prints their addresses, "
        "the CA file to trust and what the case asks, then each request as it comes, until Ctrl-C.",
    ),
]


def register(verb: Verb) -> None:
    """Add a verb (replacing one of the same name)."""
    VERBS[:] = [v for v in VERBS if v.name != verb.name] + [verb]


def _resolve(spec: str):
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, the other verbs' options are left out (their
    modules are not imported): for parsing a command line that names the verb ``only``."""
    from appc_conformance.conformance import __version__  # noqa: PLC0415

    parser = argparse.ArgumentParser(
        prog="appc-conformance",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Conformance suite for appc image discovery, app strings and image tags.",
        epilog=EXIT_CODES + "\nRun 'appc-conformance VERB --help' for a verb's options.",
    )
    parser.add_argument("--version", action="version", version=f"appc-conformance {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for v in VERBS:
        p = sub.add_parser(
            v.name,
            help=v.help,
            description=(v.description or v.help),
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if only is None or v.name == only:
            _resolve(v.add_arguments)(p)
        p.set_defaults(func=v.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    named = argv[0] if argv and argv[0] in {v.name for v in VERBS} else None
    args = build_parser(named).parse_args(argv)
    try:
        return int(_resolve(args.func)(args) or 0)
    except KeyboardInterrupt:
        print("appc-conformance: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `appc-conformance list | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
