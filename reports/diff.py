"""Compare two results files (the gate), and two revisions of the vector set.

Results diff, from A (before) to B (after), by (case ID, profile):
  regressions  passed in A, does not pass in B (a "new failure" when B's verdict is a failure)
  fixes        did not pass in A, passes in B
  changed      any other change of verdict (e.g. fail -> crash, not-implemented -> fail)
  added        only in B;  removed: only in A
A regression fails the gate; the rest is information. Identical runs print nothing.

Vector diff: the cases of ``vectors/`` at two git revisions (or the working tree), as added,
removed and changed (naming the fields that changed), and, given results files for each side,
how each implementation's verdicts move on them.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from appc_conformance.reports.results import FAILING, PASS, Results

WORKTREE = "WORKTREE"


@dataclass
class Change:
    id: str
    profile: str
    before: str | None  # verdict in A, None when absent
    after: str | None
    message: str = ""

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "profile": self.profile,
            "before": self.before,
            "after": self.after,
            "message": self.message,
        }


@dataclass
class ResultsDiff:
    a: Results
    b: Results
    regressions: list = field(default_factory=list)
    fixes: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    added: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    unchanged: int = 0
    notes: list = field(default_factory=list)
    only_a: int = 0  # case runs of A that B did not run (B partial): not compared
    only_b: int = 0  # case runs of B that A did not run (A partial): not compared
    partial: str = ""  # the one line saying what was compared, when either side is partial

    @property
    def incomplete(self) -> bool:
        """A or B is an interrupted run: no gate can pass on it."""
        return self.a.incomplete or self.b.incomplete

    @property
    def identical(self) -> bool:
        return not (self.regressions or self.fixes or self.changed or self.added or self.removed)

    @property
    def new_failures(self) -> list:
        return [c for c in self.regressions if c.after in FAILING]

    def as_json(self) -> dict:
        return {
            "a": self.a.path,
            "b": self.b.path,
            "implementation": {"a": self.a.label, "b": self.b.label},
            "regression": bool(self.regressions),
            "notes": self.notes,
            "regressions": [c.as_json() for c in self.regressions],
            "fixes": [c.as_json() for c in self.fixes],
            "changed": [c.as_json() for c in self.changed],
            "added": [c.as_json() for c in self.added],
            "removed": [c.as_json() for c in self.removed],
            "unchanged": self.unchanged,
            "incomplete": {"a": self.a.incomplete, "b": self.b.incomplete},
            "partial": self.partial or None,
            "not_compared": {"a": self.only_a, "b": self.only_b},
        }


def diff_results(a: Results, b: Results) -> ResultsDiff:
    d = ResultsDiff(a, b)
    if a.impl_key != b.impl_key:
        d.notes.append(f"different implementations: {a.label} ({a.impl_key}) and {b.label} ({b.impl_key})")
    elif a.implementation.get("version") != b.implementation.get("version"):
        d.notes.append(f"{a.impl_key}: version {a.implementation.get('version')} -> {b.implementation.get('version')}")
    ha, hb = a.run.get("vectors_hash"), b.run.get("vectors_hash")
    if ha and hb and ha != hb:
        d.notes.append("different vector sets (vectors_hash differs)")
    if a.available != b.available:
        d.notes.append(
            f"{b.label} is {'now' if b.available else 'no longer'} available"
            + ("" if b.available else f": {b.implementation.get('unavailable_reason')}")
        )
    ca, cb = a.by_key(), b.by_key()
    for key, x in ca.items():
        y = cb.get(key)
        if y is None:
            d.removed.append(Change(key[0], key[1], x["verdict"], None))
            continue
        va, vb = x["verdict"], y["verdict"]
        if va == vb:
            d.unchanged += 1
            continue
        ch = Change(key[0], key[1], va, vb, y.get("message", ""))
        if va == PASS:
            d.regressions.append(ch)
        elif vb == PASS:
            d.fixes.append(ch)
        else:
            d.changed.append(ch)
    for key, y in cb.items():
        if key not in ca:
            d.added.append(Change(key[0], key[1], None, y["verdict"], y.get("message", "")))
    if a.available and not b.available and ca:
        # Every case is gone because the implementation could not be run: that is a regression.
        d.regressions.extend(Change(c.id, c.profile, c.before, "unavailable") for c in d.removed if c.before == PASS)
        d.removed = [c for c in d.removed if c.before != PASS]
    _compare_only_what_both_ran(d)
    for lst in (d.regressions, d.fixes, d.changed, d.added, d.removed):
        lst.sort(key=lambda c: (c.id, c.profile))
    return d


def _not_ran(r: Results, change: Change) -> bool:
    """Whether ``r``, a partial run, left this case run out (by selection or interruption)."""
    return r.selection is not None or f"{change.id} [{change.profile}]" in set(r.not_run)


def _compare_only_what_both_ran(d: ResultsDiff) -> None:
    """A partial side (a selection, an interrupted run, or fewer profiles) is compared only on
    what it ran: the case runs it left out are counted, not listed as removed or added, and one
    line says so."""
    a, b = d.a, d.b
    pa, pb = set(a.run.get("profiles") or ()), set(b.run.get("profiles") or ())
    if b.selection is not None or b.incomplete or (pb and pa - pb):
        gone = [c for c in d.removed if _not_ran(b, c) or (pb and c.profile not in pb)]
        d.only_a = len(gone)
        d.removed = [c for c in d.removed if c not in gone]
    if a.selection is not None or a.incomplete or (pa and pb - pa):
        new = [c for c in d.added if _not_ran(a, c) or (pa and c.profile not in pa)]
        d.only_b = len(new)
        d.added = [c for c in d.added if c not in new]
    sides = [(tag, r) for tag, r in (("A", a), ("B", b)) if r.selection is not None or r.incomplete]
    if sides or d.only_a or d.only_b:
        both = d.unchanged + len(d.regressions) + len(d.fixes) + len(d.changed)
        how = "; ".join(
            f"{tag} {'is INCOMPLETE (interrupted), ' if r.incomplete else ''}ran {len(r.cases)}"
            + (
                f" of {r.selection.get('of')} ({', '.join(r.selection.get('by') or []) or 'a selection'})"
                if r.selection
                else ""
            )
            for tag, r in sides
        )
        if pa != pb:
            how = "; ".join(x for x in (how, f"profiles A {', '.join(sorted(pa))}, B {', '.join(sorted(pb))}") if x)
        d.partial = (
            f"partial run: compared only the {both} case runs both ran ({how}; not compared: "
            f"{d.only_a} only in A, {d.only_b} only in B)"
        )


def format_results_diff(d: ResultsDiff, verbose: bool = False) -> str:
    """Text for people; empty for identical complete runs unless ``verbose``."""
    if d.identical and not verbose and not d.partial and not d.incomplete:
        return ""
    out = [f"{d.a.path} -> {d.b.path}"]
    out += [line for line in (d.a.incomplete_line(), d.b.incomplete_line()) if line]
    if d.partial:
        out.append(d.partial)
    out += [f"note: {n}" for n in d.notes]
    sections = (
        ("REGRESSION", "regressions (passed before, not now)", d.regressions),
        ("FIXED", "fixes", d.fixes),
        ("CHANGED", "changed verdicts", d.changed),
        ("ADDED", "added cases", d.added),
        ("REMOVED", "removed cases", d.removed),
    )
    for tag, title, items in sections:
        if not items:
            continue
        out.append(f"{title}: {len(items)}")
        for c in items:
            move = f"{c.before or '-'} -> {c.after or '-'}"
            msg = f": {c.message}" if c.message and c.after not in (PASS, None) else ""
            out.append(f"  {tag:<10} {c.id} [{c.profile}] {move}{msg}")
    out.append(
        f"{len(d.regressions)} regressions, {len(d.fixes)} fixes, {len(d.changed)} changed, "
        f"{len(d.added)} added, {len(d.removed)} removed, {d.unchanged} unchanged"
    )
    return "\n".join(out) + "\n"


# -- vector revisions ------------------------------------------------------------------------


class GitError(Exception):
    pass


def _git(repo: Path, *args: str) -> bytes:
    try:
        p = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if p.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {p.stderr.decode(errors='replace').strip()}")
    return p.stdout


def _is_vector_file(rel: str) -> bool:
    parts = rel.split("/")
    return rel.endswith(".json") and "schema" not in parts and parts[-1] != "requirements.json"


def cases_at(repo: Path, rev: str, vectors_path: str = "vectors") -> dict[str, dict]:
    """``{case ID: case object}`` of every vector file at ``rev`` (or the working tree for WORKTREE).

    A file that is not valid JSON at that revision raises ``GitError`` naming it and the revision.
    """
    files: dict[str, bytes] = {}
    if rev == WORKTREE:
        root = repo / vectors_path
        for p in sorted(root.rglob("*.json")):
            rel = p.relative_to(root).as_posix()
            if _is_vector_file(rel):
                files[rel] = p.read_bytes()
    else:
        try:
            _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        except GitError:
            raise GitError(f"{rev!r} is not a commit of the git repository at {repo}") from None
        names = _git(repo, "ls-tree", "-r", "-z", "--name-only", rev, "--", vectors_path).split(b"\0")
        for n in names:
            name = n.decode()
            if not name:
                continue
            rel = name[len(vectors_path) + 1 :]
            if _is_vector_file(rel):
                files[rel] = _git(repo, "show", f"{rev}:{name}")
    out: dict[str, dict] = {}
    for rel, raw in files.items():
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            raise GitError(f"{vectors_path}/{rel} at {rev}: not valid JSON: {exc}") from None
        except RecursionError:
            raise GitError(f"{vectors_path}/{rel} at {rev}: arrays and objects nested too deeply") from None
        for case in doc.get("cases", []) if isinstance(doc, dict) else []:
            if isinstance(case, dict) and isinstance(case.get("id"), str):
                out[case["id"]] = {**case, "_file": f"{vectors_path}/{rel}"}
    return out


@dataclass
class VectorChange:
    id: str
    kind: str  # added | removed | changed
    fields: list  # for changed: the members that differ
    profiles: list  # the profiles the case applies to (either side)

    @property
    def expectation_changed(self) -> bool:
        return self.kind != "changed" or bool(
            {"expect", "input", "hosts", "requests", "op", "profiles"} & set(self.fields)
        )

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "fields": self.fields,
            "profiles": self.profiles,
            "expectation_changed": self.expectation_changed,
        }


def diff_vectors(before: dict[str, dict], after: dict[str, dict]) -> list[VectorChange]:
    out = []
    for cid in sorted(set(before) | set(after)):
        a, b = before.get(cid), after.get(cid)
        if a is None and b is not None:
            out.append(VectorChange(cid, "added", [], list(b.get("profiles", []))))
        elif b is None and a is not None:
            out.append(VectorChange(cid, "removed", [], list(a.get("profiles", []))))
        elif a is not None and b is not None:
            fields = sorted(k for k in set(a) | set(b) if k != "_file" and a.get(k) != b.get(k))
            if a.get("_file") != b.get("_file"):
                fields.append("(moved to another file)")
            if fields:
                profs = sorted(set(a.get("profiles", [])) | set(b.get("profiles", [])))
                out.append(VectorChange(cid, "changed", fields, profs))
    return out


@dataclass
class VerdictMove:
    implementation: str
    id: str
    profile: str
    before: str | None
    after: str | None


def verdict_moves(changes: list[VectorChange], before: list[Results], after: list[Results]) -> dict:
    """Per implementation (matched by registry ID or name): the verdicts of the changed cases on
    each side, and the whole results diff of that implementation."""
    by_impl_a = {r.impl_key: r for r in before}
    by_impl_b = {r.impl_key: r for r in after}
    out = {}
    for impl in sorted(set(by_impl_a) | set(by_impl_b)):
        ra, rb = by_impl_a.get(impl), by_impl_b.get(impl)
        ka = ra.by_key() if ra else {}
        kb = rb.by_key() if rb else {}
        moves = []
        for ch in changes:
            for profile in ch.profiles:
                va = ka.get((ch.id, profile), {}).get("verdict")
                vb = kb.get((ch.id, profile), {}).get("verdict")
                if va is None and vb is None:
                    continue
                moves.append(VerdictMove(impl, ch.id, profile, va, vb))
        out[impl] = {
            "moves": moves,
            "diff": diff_results(ra, rb) if ra and rb else None,
            "missing": "before" if ra is None else ("after" if rb is None else None),
        }
    return out


def format_vectors_diff(rev_a: str, rev_b: str, changes: list[VectorChange], moves: dict | None) -> str:
    added = [c for c in changes if c.kind == "added"]
    removed = [c for c in changes if c.kind == "removed"]
    changed = [c for c in changes if c.kind == "changed"]
    out = [
        f"vectors {rev_a} -> {rev_b}: {len(added)} added, {len(removed)} removed, {len(changed)} changed "
        f"({sum(1 for c in changed if c.expectation_changed)} with a changed expectation)"
    ]
    for c in changes:
        extra = f" ({', '.join(c.fields)})" if c.fields else ""
        out.append(f"  {c.kind.upper():<8} {c.id}{extra}")
    for impl, m in (moves or {}).items():
        if m["missing"]:
            out.append(f"{impl}: no results {m['missing']} the change")
            continue
        moved = [mv for mv in m["moves"] if mv.before != mv.after]
        out.append(
            f"{impl}: {len(moved)} verdicts move on the changed cases, {len(m['moves']) - len(moved)} stay the same"
        )
        for mv in moved:
            mark = "-" if mv.before == PASS else ("+" if mv.after == PASS else "~")
            out.append(f"  {mark} {mv.id} [{mv.profile}] {mv.before or '(no case)'} -> {mv.after or '(no case)'}")
        d = m["diff"]
        if d is not None:
            out.append(
                f"  overall: {len(d.regressions)} regressions, {len(d.fixes)} fixes, {len(d.changed)} changed, "
                f"{len(d.added)} added, {len(d.removed)} removed"
            )
    return "\n".join(out) + "\n"
