"""The ``appc-conformance`` command line: one verb per task."""
from __future__ import annotations

import argparse
import sys

from conformance import lint


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appc-conformance",
                                     description="Conformance suite for appc image discovery and image tags.")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = sub.add_parser("lint", help="check the vector files against their schema and the catalog")
    lint.add_arguments(p)
    p.set_defaults(func=lint.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
