"""List the vector set's cases by strength, and the must/should cases by requirement.

    python scripts/audit_strengths.py              # counts per strength
    python scripts/audit_strengths.py --cases      # also every must/should case under each requirement
    python scripts/audit_strengths.py --json       # the counts and the lists as JSON

For each requirement it prints the catalog's strength and its ``basis`` (the spec text that
makes the rule, docs/AUDIT.md), so a reviewer can check that every must or should case stands
on a cited keyword. A must/should case with no cited requirement carrying a basis is listed
under "without a basis" and makes the script exit 1.
"""

from __future__ import annotations

import argparse
import collections
import json
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from appc_conformance.conformance import vectors

GRADED = ("must", "should")


def audit(root: Path | None = None) -> dict:
    vs = vectors.load(root, cache=False)
    catalog = vectors.load_catalog(vs.root)
    reqs = {r["id"]: r for r in catalog["requirements"]}
    counts = collections.Counter(c.raw["strength"] for c in vs.cases)
    by_req: dict[str, list[str]] = collections.defaultdict(list)
    unbased = []
    for c in vs.cases:
        if c.raw["strength"] not in GRADED:
            continue
        cited = c.raw["requirements"]
        for r in cited:
            by_req[r].append(c.id)
        if not any(reqs.get(r, {}).get("basis") for r in cited) and "basis:" not in c.raw.get("notes", ""):
            unbased.append(c.id)
    return {
        "cases": len(vs.cases),
        "counts": dict(sorted(counts.items())),
        "by_requirement": {
            r: {"strength": reqs[r]["strength"], "basis": reqs[r].get("basis"), "cases": ids}
            for r, ids in sorted(by_req.items())
        },
        "without_basis": unbased,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", action="store_true", help="list the must/should cases of each requirement")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--vectors", type=Path, default=None)
    args = p.parse_args(argv)
    a = audit(args.vectors)
    if args.json:
        print(json.dumps(a, indent=1))
        return 1 if a["without_basis"] else 0
    print(f"{a['cases']} cases: " + ", ".join(f"{k} {v}" for k, v in a["counts"].items()))
    for rid, info in a["by_requirement"].items():
        b = info["basis"]
        where = f"{b['source']}, {b['keyword']!r} ({b['term']})" if b else "NO BASIS"
        print(f"{rid} [{info['strength']}] {len(info['cases'])} must/should cases; {where}")
        if args.cases:
            for cid in info["cases"]:
                print(f"    {cid}")
    if a["without_basis"]:
        print("without a basis:", *a["without_basis"], sep="\n    ")
        return 1
    return 0


if __name__ == "__main__":
    if hasattr(signal, "SIGPIPE"):  # piped into head: stop quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
