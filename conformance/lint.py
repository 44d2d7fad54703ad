"""``appc-conformance lint``: check every vector file; exit 1 and name file, case and field on a problem.

It loads the files as a run does, so it skips the single-file checks of a file that passed
them all before with the same schema, catalog, jsonschema and checking code (docs/VECTORS.md,
the cache): the answer is the same. ``--no-cache`` checks every file from scratch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from appc_conformance.conformance import vectors


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", type=Path, help="vector files to check (default: every file of the vector set)")
    p.add_argument("--vectors", type=Path, default=None, help="the vector set's folder (default: the bundled vectors/)")
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="check every file from scratch (by default a file that passed every check "
        "with the same schema, catalog and checking code is not checked again)",
    )


def run(args: argparse.Namespace) -> int:
    root = args.vectors or vectors.default_vectors_dir()
    files = [p.resolve() for p in args.paths] or None
    try:
        vs = vectors.load(root, files, cache=not args.no_cache)
    except (OSError, ValueError) as exc:
        print(f"lint: cannot load the vector set at {root}: {exc}", file=sys.stderr)
        return 2
    for problem in vs.problems:
        print(problem, file=sys.stderr)
    suite = f" (and {len(vs.suite_cases)} publisher cases, run by the suite itself)" if vs.suite_cases else ""
    print(f"{len(vs.files)} files, {len(vs.cases)} valid cases{suite}, {len(vs.problems)} problems")
    return 1 if vs.problems else 0
