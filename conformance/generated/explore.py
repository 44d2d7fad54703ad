"""Exploratory search: run the generated tests again and again, passing over what was found.

    python -m appc_conformance.conformance.generated.explore --examples 2000 --rounds 8 --out findings.json \\
        -- --impl go-appc --profile appc-0.8.11

Each round is one ``pytest conformance/generated`` run (a subprocess, as a user would run it)
with a larger budget, a seed of its own, and ``APPC_GENERATED_IGNORE`` set to every signature
found so far, so hypothesis keeps searching for new kinds of disagreement instead of finding
the same one again. The printed vector cases are collected (one per signature) into ``--out``.
The search stops after ``--patience`` rounds in a row that find nothing new (default 1).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from . import budget as budgetmod
from .to_vector import extract_cases

HERE = Path(__file__).resolve().parent
KEY = re.compile(r"signature:\s+(.*?) \(key ([0-9a-f]{10})\)")


def one_round(pytest_args: list, examples: int, seed: int, ignore: list) -> tuple:
    env = dict(
        os.environ,
        **{
            budgetmod.ENV_EXAMPLES: str(examples),
            budgetmod.ENV_SEED: str(seed),
            budgetmod.ENV_IGNORE: ",".join(ignore),
        },
    )
    argv = [sys.executable, "-m", "pytest", str(HERE), "-q", "-p", "no:cacheprovider", *pytest_args]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=HERE.parent.parent)
    text = proc.stdout + proc.stderr
    # Each failure text has one signature line and, after it, one vector case: pair them in order.
    keys = KEY.findall(text)
    cases = extract_cases(text)
    return proc.returncode, list(zip(keys, cases)), text


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m appc_conformance.conformance.generated.explore",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--examples", type=int, default=2000, help="examples per test and round (default 2000)")
    p.add_argument("--rounds", type=int, default=8, help="at most this many rounds (default 8)")
    p.add_argument("--seed", type=int, default=1, help="seed of the first round; round i uses seed+i")
    p.add_argument("--ignore", default="", help="signature keys (comma-separated) already known: passed over")
    p.add_argument(
        "--patience",
        type=int,
        default=1,
        help="stop after this many rounds in a row without a new disagreement (default 1)",
    )
    p.add_argument("--out", type=Path, default=None, help="write the findings (signature, key, vector case) here")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: options of the pytest plugin")
    args = p.parse_args(argv)
    pytest_args = [a for a in args.pytest_args if a != "--"]
    found: dict = {}
    known = sorted(k.strip().removeprefix("Disagreement_") for k in args.ignore.split(",") if k.strip())
    quiet = 0
    for i in range(args.rounds):
        seed = args.seed + i
        rc, pairs, text = one_round(pytest_args, args.examples, seed, known + sorted(found))
        new = [(k, c) for k, c in pairs if k[1] not in found]
        for (signature, key), case in new:
            found[key] = {"key": key, "signature": signature, "seed": seed, "case": case}
        print(
            f"round {i + 1} (seed {seed}): exit status {rc}, {len(new)} new disagreement(s)"
            + "".join(f"\n  {key}  {signature}" for (signature, key), _ in new)
        )
        if rc not in (0, 1) or (rc == 1 and not pairs):
            print("the run failed without a printed disagreement:\n" + text[-3000:], file=sys.stderr)
            return 2
        quiet = 0 if new else quiet + 1
        if quiet >= args.patience:
            break
    print(f"{len(found)} distinct disagreement(s) in total")
    if args.out:
        args.out.write_text(
            json.dumps(
                {"pytest_args": pytest_args, "examples": args.examples, "findings": list(found.values())},
                indent=1,
                ensure_ascii=False,
            )
            + "\n"
        )
        print(f"findings: {args.out}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
