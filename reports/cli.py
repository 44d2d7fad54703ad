"""Command-line verbs that read results files: report, diff, check, list, vectors-diff.

Each verb is a pair ``<verb>_arguments(parser)`` / ``<verb>_main(args) -> exit code``, registered
in ``conformance/cli.py``. Exit codes: 0 ok, 1 conformance failure or regression, 2 usage or
input error (a missing, malformed or truncated file; a bad revision). ``check`` and ``diff``
exit 1 for an interrupted run (``run.incomplete``) unless ``--allow-incomplete``; ``report``
writes its reports and warns on the console.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import sys
from pathlib import Path

from appc_conformance.reports import diff as diffmod
from appc_conformance.reports import expectations as expmod
from appc_conformance.reports import model as modelmod
from appc_conformance.reports.results import FAILING, VERDICTS, Results, ResultsError, load_results
from appc_conformance.text import printable

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

FORMATS = ("html", "markdown", "junit", "coverage", "badge")
OUTPUT_FILES = {
    "html": ["report.html"],
    "markdown": ["summary.md"],
    "junit": ["junit.xml"],
    "coverage": ["coverage.md", "coverage.json"],
    "badge": ["badge-NAME.json", "badge-NAME.svg"],
}


class InputError(Exception):
    """Bad input: the message names the file; the verb exits 2."""


def _err(verb: str, msg: str) -> int:
    print(f"appc-conformance {verb}: error: {msg}", file=sys.stderr)
    return EXIT_USAGE


def _load_all(paths) -> list[Results]:
    out = []
    for p in paths:
        try:
            out.append(load_results(p))
        except ResultsError as exc:
            raise InputError(str(exc)) from None
    return out


def _warn_partial(verb: str, results: list[Results]) -> None:
    """Say on the console, loudly, which results files are of interrupted or partial runs."""
    for r in results:
        if r.incomplete:
            print(f"appc-conformance {verb}: WARNING: {r.incomplete_line()}", file=sys.stderr)
        sel = r.selection_line()
        if sel:
            print(f"appc-conformance {verb}: note: {sel}", file=sys.stderr)


def _dump(obj) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


# -- report ------------------------------------------------------------------------------------


def report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "results",
        nargs="+",
        type=Path,
        metavar="RESULTS",
        help="results files, one per implementation (each becomes a column)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("appc-conformance-out"),
        metavar="DIR",
        help="folder for the reports (default: appc-conformance-out): report.html, summary.md, "
        "junit.xml, coverage.md, coverage.json, and badge-NAME.json and badge-NAME.svg "
        "per implementation (NAME: its ID)",
    )
    p.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=FORMATS,
        help="write only this format (repeatable; default: all)",
    )
    p.add_argument(
        "--catalog",
        type=Path,
        default=None,
        metavar="FILE",
        help="requirement catalog for the coverage table (default: the bundled vectors/requirements.json)",
    )
    p.add_argument("--title", default=None, help="title of the HTML report and the Markdown summary")
    p.add_argument(
        "--no-failing-list",
        action="store_true",
        help="leave the folded list of failing cases out of summary.md (for a README)",
    )
    p.add_argument(
        "--append-summary",
        type=Path,
        default=None,
        metavar="FILE",
        help='also append the Markdown summary to FILE, e.g. "$GITHUB_STEP_SUMMARY"',
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a file in --out differs from what would be written (stale)",
    )
    p.add_argument("--json", action="store_true", help="print the files written (or stale) as JSON")
    p.add_argument(
        "--expectations",
        type=Path,
        default=None,
        metavar="FILE|DIR",
        help="known failures to show as known, for results of runs made without them: an "
        "expectations file (used for the results of its implementation), or a folder "
        "of them (DIR/<implementation>.json for each results file)",
    )


def _mark_known(results: list[Results], path: Path) -> None:
    """``report --expectations``: mark the known failures; say which file served which run."""
    if not path.exists():
        raise InputError(f"--expectations: {path}: no such file or folder")
    try:
        if path.is_dir():
            pairs = [
                (r, expmod.load(path / f"{r.impl_key}.json"))
                for r in results
                if re.fullmatch(r"[A-Za-z0-9._-]+", r.impl_key) and (path / f"{r.impl_key}.json").is_file()
            ]
        else:
            exp = expmod.load(path)
            pairs = [(r, exp) for r in results if r.impl_key == exp.implementation]
            if not pairs:
                raise InputError(
                    f"--expectations: {path} lists known failures of {exp.implementation!r}, "
                    f"and no results file is a run of it"
                )
    except expmod.ExpectationsError as exc:
        raise InputError(f"--expectations: {exc}") from None
    for r, exp in pairs:
        n = modelmod.mark_known(r, exp)
        print(f"report: known failures of {r.impl_key} ({r.path}) from {exp.path}: {n} cases marked", file=sys.stderr)


def render_all(
    results: list[Results],
    formats,
    catalog: dict | None,
    title: str | None,
    failing_list: bool = True,
    suite_checks: dict | None = None,
) -> dict[str, bytes]:
    from appc_conformance.reports import html, junit, markdown  # noqa: PLC0415 (Jinja2 only when rendering)

    m = modelmod.build(results, catalog, suite_checks)
    out: dict[str, bytes] = {}
    if "html" in formats:
        out["report.html"] = html.render(m, **({"title": title} if title else {})).encode()
    if "markdown" in formats:
        md = (
            markdown.summary(m, title=title, failing_details=failing_list)
            if title
            else markdown.summary(m, failing_details=failing_list)
        )
        out["summary.md"] = md.encode()
    if "junit" in formats:
        out["junit.xml"] = junit.render(m)
    if "coverage" in formats:
        out["coverage.md"] = markdown.coverage(m).encode()
        out["coverage.json"] = (json.dumps(modelmod.coverage_json(m), indent=1, ensure_ascii=False) + "\n").encode()
    if "badge" in formats:
        from appc_conformance.reports import badge  # noqa: PLC0415

        out.update(badge.render(m))
    return out


def write_all(
    results_files, out_dir, catalog_path=None, title: str | None = None, parsed: dict | None = None
) -> list[Path]:
    """Every report format from these results files into ``out_dir`` (for ``run``).

    ``parsed`` maps a file to the document the caller already read from it and validated
    (``results.parse``), so that it is not read and validated twice. Raises ``ResultsError``
    (naming the file) for a malformed results file.
    """
    parsed = parsed or {}
    results = [Results(str(p), parsed[p]) if p in parsed else load_results(p) for p in results_files]
    catalog = modelmod.load_catalog(catalog_path or modelmod.default_catalog_path())
    suite = modelmod.suite_checks(catalog_path or modelmod.default_catalog_path())
    return _write_files(Path(out_dir), render_all(results, FORMATS, catalog, title, suite_checks=suite))


def _write_files(out: Path, files: dict[str, bytes]) -> list[Path]:
    """Each file through a temporary file and a rename: a reader never sees half a report."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        p = out / name
        tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, p)
        written.append(p)
    return written


def report_main(args: argparse.Namespace) -> int:
    try:
        results = _load_all(args.results)
        cat_path = args.catalog or modelmod.default_catalog_path()
        try:
            catalog = modelmod.load_catalog(cat_path)
        except (OSError, ValueError) as exc:
            raise InputError(f"{cat_path}: cannot read the requirement catalog: {exc}") from None
        if args.expectations is not None:
            _mark_known(results, args.expectations)
    except InputError as exc:
        return _err("report", str(exc))
    _warn_partial("report", results)
    formats = args.formats or FORMATS
    suite = modelmod.suite_checks(cat_path)  # publisher cases beside the catalog cover server rules
    files = render_all(results, formats, catalog, args.title, failing_list=not args.no_failing_list, suite_checks=suite)
    if args.check:
        stale = []
        for name, data in files.items():
            p = args.out / name
            if not p.is_file() or p.read_bytes() != data:
                stale.append(str(p))
        if args.json:
            _dump({"stale": stale})
        for s in stale:
            print(f"stale: {s} (regenerate it with: appc-conformance report ... --out {args.out})", file=sys.stderr)
        return EXIT_FAIL if stale else EXIT_OK
    try:
        written = [str(p) for p in _write_files(args.out, files)]
        if args.append_summary:
            summary = (
                files.get("summary.md")
                or render_all(results, ["markdown"], catalog, args.title, not args.no_failing_list, suite)["summary.md"]
            )
            with open(args.append_summary, "ab") as fh:
                fh.write(summary)
    except OSError as exc:
        return _err("report", f"cannot write the reports: {exc}")
    if args.json:
        _dump({"written": written})
    else:
        for w in written:
            print(w)
    return EXIT_OK


# -- diff --------------------------------------------------------------------------------------


def diff_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", type=Path, metavar="A", help="results file before (the baseline)")
    p.add_argument("b", type=Path, metavar="B", help="results file after")
    p.add_argument("--json", action="store_true", help="print the diff as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="say so when there is no difference")
    p.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="do not fail because A or B is an interrupted run (run.incomplete); it is still said",
    )


def diff_main(args: argparse.Namespace) -> int:
    try:
        a, b = _load_all([args.a, args.b])
    except InputError as exc:
        return _err("diff", str(exc))
    d = diffmod.diff_results(a, b)
    if args.json:
        _dump(d.as_json())
    else:
        sys.stdout.write(printable(diffmod.format_results_diff(d, verbose=args.verbose), newlines=True))
    if d.incomplete and not args.allow_incomplete:
        print(
            "appc-conformance diff: FAILED: an INCOMPLETE run cannot pass the gate "
            "(give --allow-incomplete to compare it anyway)",
            file=sys.stderr,
        )
        return EXIT_FAIL
    return EXIT_FAIL if d.regressions else EXIT_OK


# -- check -------------------------------------------------------------------------------------


def check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", nargs="+", type=Path, metavar="RESULTS", help="results files to check")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--expectations",
        type=Path,
        default=None,
        metavar="FILE",
        help="the known failures of the implementation (its 'implementation' must match the results)",
    )
    g.add_argument(
        "--expectations-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="pick DIR/<implementation>.json for each results file (default: the project's expectations/); "
        "without such a file every failure is unexpected",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="also fail when a known failure passes or is not in the run (the file needs cleaning)",
    )
    p.add_argument(
        "--allow-unavailable", action="store_true", help="do not fail for an implementation that could not be run"
    )
    p.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="do not fail for an interrupted run (run.incomplete); it is still reported as INCOMPLETE",
    )
    p.add_argument(
        "--write-template",
        type=Path,
        default=None,
        metavar="FILE",
        help="write an expectations file listing every current failure of the (single) results file, "
        "each with a TODO reason to fill in, and check nothing (exit 0)",
    )
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")


def check_main(args: argparse.Namespace) -> int:
    try:
        results = _load_all(args.results)
        if args.write_template:
            return _write_template(args.write_template, results)
        reports = []
        for r in results:
            exp = None
            if args.expectations:
                exp = expmod.load(args.expectations)
                if exp.implementation != r.impl_key:
                    raise InputError(
                        f"{args.expectations} lists known failures of {exp.implementation!r}, "
                        f"but {r.path} is a run of {r.impl_key!r}"
                    )
            else:
                d = args.expectations_dir or expmod.default_dir()
                candidate = d / f"{r.impl_key}.json"
                if re.fullmatch(r"[A-Za-z0-9._-]+", r.impl_key) and candidate.is_file():
                    exp = expmod.load(candidate)
                    if exp.implementation != r.impl_key:
                        raise InputError(
                            f"{candidate}: 'implementation' is {exp.implementation!r}, "
                            f"expected {r.impl_key!r} (the file's name)"
                        )
            reports.append(expmod.check(r, exp))
            if exp is not None:
                todo = [k for k in exp.known if expmod.is_todo(k.reason)]
                if todo:
                    print(
                        f"appc-conformance check: warning: {exp.path}: {len(todo)} known failures still have a "
                        f"TODO reason (first: {todo[0].id}): write why each one fails",
                        file=sys.stderr,
                    )
    except (InputError, expmod.ExpectationsError, OSError) as exc:
        return _err("check", str(exc))
    ok = all(rep.ok(args.strict, args.allow_unavailable, args.allow_incomplete) for rep in reports)
    incomplete = [rep.results.path for rep in reports if rep.incomplete]
    if args.json:
        _dump({"ok": ok, "incomplete": bool(incomplete), "checks": [rep.as_json() for rep in reports]})
    else:
        for rep in reports:
            sys.stdout.write(printable(expmod.format_text(rep), newlines=True))
        verdict = "check: ok" if ok else "check: FAILED"
        if incomplete:  # never a bare "ok" for an interrupted run
            verdict += f" (INCOMPLETE run: {', '.join(incomplete)}; " + (
                "allowed by --allow-incomplete)"
                if args.allow_incomplete
                else "give --allow-incomplete to accept a partial result)"
            )
        print(verdict)
    return EXIT_OK if ok else EXIT_FAIL


def _write_template(target: Path, results: list[Results]) -> int:
    """``check --write-template FILE``: writes the file, says what it holds, and checks nothing
    (every failure of the run is in it; the reasons are still to be written)."""
    if len(results) != 1:
        raise InputError("--write-template takes exactly one results file")
    folder = target.parent
    if not folder.is_dir():
        raise InputError(f"--write-template {target}: the folder {folder} does not exist (make it first)")
    doc = expmod.template_for(results[0])
    try:
        target.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--write-template {target}: cannot write: {exc.strerror or exc}") from None
    n = len(doc["known_failures"])
    print(
        f"wrote {target}: {n} known failure{'' if n == 1 else 's'} of {doc['implementation']} "
        f"({results[0].path}), each with the reason {expmod.TODO_REASON!r}: write why each one fails "
        f"(run, pytest and check warn while a TODO is left); nothing was checked",
        file=sys.stderr,
    )
    return EXIT_OK


# -- list --------------------------------------------------------------------------------------


def list_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-k",
        dest="pattern",
        default=None,
        metavar="PATTERN",
        help="case IDs matching this glob, or containing this text",
    )
    p.add_argument("--area", action="append", help="only this area (repeatable)")
    p.add_argument("--profile", action="append", help="only cases of this profile (repeatable)")
    p.add_argument("--strength", action="append", help="only this strength (repeatable)")
    p.add_argument("--op", action="append", help="only this operation (repeatable)")
    p.add_argument("--requirement", action="append", metavar="ID", help="only cases checking this requirement")
    p.add_argument(
        "--vectors", type=Path, default=None, metavar="DIR", help="the vector set (default: the bundled vectors/)"
    )
    p.add_argument(
        "--results",
        type=Path,
        default=None,
        metavar="FILE",
        help="list the cases of this results file instead, with their verdicts",
    )
    p.add_argument(
        "--verdict",
        action="append",
        choices=list(VERDICTS) + ["failing"],
        help="with --results: only this verdict (repeatable; 'failing' = every failure verdict)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON array")


def _matches(args, cid: str, area: str, profiles, strength: str, op: str, reqs) -> bool:
    if args.pattern and not (fnmatch.fnmatchcase(cid, args.pattern) or args.pattern in cid):
        return False
    if args.area and area not in args.area:
        return False
    if args.profile and not set(profiles) & set(args.profile):
        return False
    if args.strength and strength not in args.strength:
        return False
    if args.op and op not in args.op:
        return False
    return not (args.requirement and not set(reqs) & set(args.requirement))


def list_main(args: argparse.Namespace) -> int:
    rows = []
    if args.results:
        try:
            (r,) = _load_all([args.results])
        except InputError as exc:
            return _err("list", str(exc))
        want = set()
        for v in args.verdict or []:
            want |= set(FAILING) if v == "failing" else {v}
        for c in r.cases:
            if want and c["verdict"] not in want:
                continue
            if _matches(args, c["id"], c["area"], [c["profile"]], c["strength"], c["op"], c["requirements"]):
                rows.append(
                    {
                        "id": c["id"],
                        "profile": c["profile"],
                        "strength": c["strength"],
                        "op": c["op"],
                        "requirements": c["requirements"],
                        "verdict": c["verdict"],
                        "message": c.get("message", ""),
                    }
                )
        if args.json:
            _dump(rows)
        else:
            for x in rows:
                print(printable(f"{x['verdict']:<15} {x['id']} [{x['profile']}] {x['message']}".rstrip()))
        return EXIT_OK
    if args.verdict:
        return _err("list", "--verdict needs --results FILE")
    from appc_conformance.conformance import vectors  # noqa: PLC0415

    root = args.vectors or vectors.default_vectors_dir()
    try:
        vs = vectors.load(root)
    except (OSError, ValueError) as exc:
        return _err("list", f"cannot load the vector set at {root}: {exc}")
    for case in [*vs.cases, *vs.suite_cases]:  # publisher cases too (op check_publisher, run by the suite)
        if _matches(args, case.id, case.area, case.profiles, case.strength, case.op, case.requirements):
            rows.append(
                {
                    "id": case.id,
                    "profiles": case.profiles,
                    "strength": case.strength,
                    "op": case.op,
                    "requirements": case.requirements,
                    "ambiguities": case.raw.get("ambiguities", []),
                    "description": case.raw["description"],
                    "file": case.file,
                }
            )
    if args.json:
        _dump(rows)
    else:
        for x in rows:
            print(f"{x['id']}  [{', '.join(x['profiles'])}] {x['strength']} {' '.join(x['requirements'])}")
    if vs.problems:
        print(f"list: {len(vs.problems)} problems in the vector files (run: appc-conformance lint)", file=sys.stderr)
    return EXIT_OK


# -- vectors-diff ------------------------------------------------------------------------------


def vectors_diff_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("rev_a", metavar="REV_A", help="git revision before (e.g. main, HEAD~1, a tag)")
    p.add_argument(
        "rev_b",
        metavar="REV_B",
        nargs="?",
        default=diffmod.WORKTREE,
        help=f"git revision after (default: the working tree, also spelt {diffmod.WORKTREE})",
    )
    p.add_argument(
        "--repo",
        type=Path,
        default=None,
        metavar="DIR",
        help="the git checkout (default: this project's, or the current folder's when installed)",
    )
    p.add_argument(
        "--vectors-path",
        default="vectors",
        metavar="PATH",
        help="the vector set's folder inside the repository (default: vectors)",
    )
    p.add_argument(
        "--before",
        nargs="+",
        type=Path,
        default=[],
        metavar="RESULTS",
        help="results files of runs with REV_A's vectors (one per implementation)",
    )
    p.add_argument(
        "--after",
        nargs="+",
        type=Path,
        default=[],
        metavar="RESULTS",
        help="results files of runs with REV_B's vectors",
    )
    p.add_argument("--json", action="store_true", help="print the changes (and verdict moves) as JSON")


def vectors_diff_main(args: argparse.Namespace) -> int:
    project = Path(__file__).resolve().parent.parent
    # This project's checkout; an installed package has none, so then the current folder's repository.
    repo = args.repo or (project if (project / ".git").exists() else Path.cwd())
    try:
        before = diffmod.cases_at(repo, args.rev_a, args.vectors_path)
        after = diffmod.cases_at(repo, args.rev_b, args.vectors_path)
        res_a, res_b = _load_all(args.before), _load_all(args.after)
    except (diffmod.GitError, InputError, OSError) as exc:
        return _err("vectors-diff", str(exc))
    changes = diffmod.diff_vectors(before, after)
    moves = diffmod.verdict_moves(changes, res_a, res_b) if (res_a or res_b) else None
    regressed = any(m["diff"] is not None and m["diff"].regressions for m in (moves or {}).values())
    if args.json:
        _dump(
            {
                "before": args.rev_a,
                "after": args.rev_b,
                "changes": [c.as_json() for c in changes],
                "implementations": {
                    impl: {
                        "missing_results": m["missing"],
                        "moves": [mv.__dict__ for mv in m["moves"]],
                        "diff": m["diff"].as_json() if m["diff"] else None,
                    }
                    for impl, m in (moves or {}).items()
                },
                "regression": regressed,
            }
        )
    else:
        sys.stdout.write(diffmod.format_vectors_diff(args.rev_a, args.rev_b, changes, moves))
    return EXIT_FAIL if regressed else EXIT_OK
