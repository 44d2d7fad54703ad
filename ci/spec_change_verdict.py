"""The verdict of ci/spec-change.sh: base and change of one implementation compared, profile by profile.

    python ci/spec_change_verdict.py [--verbose] [--allow-dropped PROFILE]... [--details FILE] \
        IMPL BASE_RESULTS CHANGE_RESULTS

For each profile of the two results files it says which side claims it (a side that declined
the profile at the handshake has every case of it not-implemented, with the reason), then:

- claimed by both: regressions (passed on the base, not on the change) and fixes (the other
  way); failures the two sides share are counted, and listed only with --verbose;
- added (the base declined it, the change claims it): what the change passes and fails there;
- dropped (the base claimed it, the change declines it): the cases the base passed that are no
  longer run, and the change's reason.

The verdict comes first; the lists follow. --details FILE gets every list whatever --verbose says.
Exit 1 on a regression or on a dropped profile not named by --allow-dropped; 0 otherwise; 2 on
a results file that cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from appc_conformance.conformance.grading import PASS, SKIPPING

# Not attempts: not implemented, declined (unsupported) or skipped, as in every report.
NOT_ATTEMPTED = SKIPPING


def load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        cases = {(c["id"], c["profile"]): c for c in doc["cases"]}
        return {"version": doc["implementation"].get("version") or "?", "cases": cases}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"spec-change: cannot read the results file {path}: {exc}") from None


def declined(cases: list) -> str | None:
    """The reason, when every case of a profile was declined at the handshake."""
    if not cases:
        return None
    reasons = set()
    for c in cases:
        msg = c.get("message") or ""
        if c["verdict"] != "not-implemented" or not msg.startswith(f"profile {c['profile']}: "):
            return None
        reasons.add(msg.split(": ", 1)[1])
    return "; ".join(sorted(reasons))


def counts(cases: list) -> str:
    n = Counter(
        "pass" if c["verdict"] == PASS else "not attempted" if c["verdict"] in NOT_ATTEMPTED else "fail" for c in cases
    )
    attempted = n["pass"] + n["fail"]
    return f"{n['pass']} pass, {n['fail']} fail of {attempted} attempted ({n['not attempted']} not attempted)"


def by_area(ids: list) -> str:
    areas = Counter("/".join(i.split("/")[:2]) for i in ids)
    return ", ".join(f"{a} {n}" for a, n in sorted(areas.items()))


def line(c: dict, before: dict | None = None, mark: str = "") -> str:
    was = f"{before['verdict']} -> " if before is not None else ""
    msg = (c.get("message") or "").replace("\n", " ")
    return f"    {mark + ' ' if mark else ''}{c['id']} [{c['profile']}] {was}{c['verdict']}: {msg[:200]}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("impl")
    ap.add_argument("base")
    ap.add_argument("change")
    ap.add_argument("--verbose", action="store_true", help="also list the failures both sides share")
    ap.add_argument(
        "--allow-dropped",
        action="append",
        default=[],
        metavar="PROFILE",
        help="a profile the change may stop claiming without failing the gate",
    )
    ap.add_argument("--details", metavar="FILE", help="write every list to FILE")
    args = ap.parse_args(argv)
    base, change = load(args.base), load(args.change)
    profiles = sorted({p for _, p in base["cases"]} | {p for _, p in change["cases"]})

    head = [f"== {args.impl}: base {base['version']} -> change {change['version']}"]
    lists: list[tuple[str, list[str], bool]] = []  # (title, lines, shown without --verbose)
    bad = False
    for prof in profiles:
        b = [c for (i, p), c in sorted(base["cases"].items()) if p == prof]
        ch = [c for (i, p), c in sorted(change["cases"].items()) if p == prof]
        b_no, c_no = declined(b), declined(ch)
        if b_no and c_no:
            head.append(f"  {prof}: declined by both sides")
        elif c_no and not b_no:
            lost = [c for c in b if c["verdict"] == PASS]
            ok = prof in args.allow_dropped
            bad = bad or not ok
            head.append(
                f"  {prof}: DROPPED{' (allowed)' if ok else ''}: the change declines the profile the base "
                f"claims; {len(lost)} cases the base passed are no longer run. The change says: {c_no}"
            )
            lists.append((f"{prof}: passed on the base, no longer run on the change", [line(c) for c in lost], False))
        elif b_no and not c_no:
            fails = [c for c in ch if c["verdict"] != PASS and c["verdict"] not in NOT_ATTEMPTED]
            # The same case failing on the base in a profile the base runs: the change inherits it.
            base_failing = {
                i: p
                for (i, p), c in base["cases"].items()
                if c["verdict"] != PASS and c["verdict"] not in NOT_ATTEMPTED
            }
            inherited = [c for c in fails if c["id"] in base_failing]
            own = [c for c in fails if c["id"] not in base_failing]
            head.append(f"  {prof}: ADDED: the base declines it, the change claims it: {counts(ch)}")
            if fails:
                head.append(
                    f"    {len(own)} failures are the change's own (by area: {by_area([c['id'] for c in own]) or '-'}); "
                    f"{len(inherited)} fail on the base too, in another profile (listed with --verbose)"
                )
            lists.append((f"{prof}: the change's own failures", [line(c) for c in own], True))
            lists.append(
                (
                    f"{prof}: failures the base has too, in another profile",
                    [line(c) + f" (base: {base_failing[c['id']]})" for c in inherited],
                    False,
                )
            )
        else:
            bmap = {c["id"]: c for c in b}
            cmap = {c["id"]: c for c in ch}
            both = sorted(set(bmap) & set(cmap))
            reg = [cmap[i] for i in both if bmap[i]["verdict"] == PASS and cmap[i]["verdict"] != PASS]
            fix = [cmap[i] for i in both if bmap[i]["verdict"] != PASS and cmap[i]["verdict"] == PASS]
            shared = [
                cmap[i]
                for i in both
                if bmap[i]["verdict"] != PASS and cmap[i]["verdict"] != PASS and cmap[i]["verdict"] not in NOT_ATTEMPTED
            ]
            bad = bad or bool(reg)
            head.append(
                f"  {prof}: claimed by both: {len(reg)} regressions, {len(fix)} fixes; "
                f"base {counts(b)}; change {counts(ch)}; {len(shared)} failures on both sides "
                f"(listed with --verbose)"
            )
            lists.append(
                (
                    f"{prof}: REGRESSIONS (passed on the base, not on the change)",
                    [line(cmap[c["id"]], bmap[c["id"]], "REGRESSION") for c in reg],
                    True,
                )
            )
            lists.append(
                (
                    f"{prof}: fixes (failed on the base, pass on the change)",
                    [line(cmap[c["id"]], bmap[c["id"]], "FIXED") for c in fix],
                    True,
                )
            )
            lists.append((f"{prof}: failing on both sides", [line(c, bmap[c["id"]]) for c in shared], False))
    head.append(f"  verdict: {'FAIL' if bad else 'ok'}")

    def body(all_lists: bool) -> list[str]:
        out = []
        for title, lines, shown in lists:
            if lines and (shown or all_lists):
                out += [f"  {title}: {len(lines)}", *lines]
        return out

    print("\n".join(head + body(args.verbose)))
    if args.details:
        with open(args.details, "w", encoding="utf-8") as fh:
            fh.write("\n".join(head + body(True)) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
