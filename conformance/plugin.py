"""The pytest layer: one item per (case, profile), delegated to ``case_runner``.

Thin on purpose: options, collection, verdict -> pytest outcome, results file.
"""

from __future__ import annotations

import bisect
import fnmatch
import gc
import hashlib
import json
import os
import shlex
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import pytest

from appc_conformance.conformance import __version__, adapter, childlink, grading, pool, registry, vectors
from appc_conformance.conformance.adapter import AdapterSession
from appc_conformance.conformance.case_runner import run_case
from appc_conformance.text import printable

STASH = pytest.StashKey["Harness"]()


def pytest_addoption(parser):
    g = parser.getgroup("appc-conformance", "appc conformance suite")
    g.addoption(
        "--impl",
        default=None,
        metavar="NAME",
        help=f"bundled implementation to test: {', '.join(registry.IMPLEMENTATIONS)} (default: reference)",
    )
    g.addoption(
        "--adapter-cmd",
        default=None,
        metavar="COMMAND",
        help='command line of any other adapter (adapter protocol 1), e.g. "./my-adapter --flag"',
    )
    g.addoption(
        "--profile",
        action="append",
        default=None,
        choices=vectors.PROFILES,
        help="profile to test (repeatable; default: every profile)",
    )
    g.addoption("--results", default=None, metavar="FILE", help="write the results JSON file here")
    g.addoption("--vectors", default=None, metavar="DIR", help="vector set folder (default: the bundled one)")
    g.addoption(
        "--case",
        action="append",
        default=None,
        metavar="PATTERN",
        help="run only cases whose ID matches this glob (repeatable)",
    )
    g.addoption(
        "--adapter-timeout",
        type=vectors.adapter_timeout,
        default=10.0,
        metavar="SECONDS",
        help=f"per-request timeout, more than 0 and at most {vectors.MAX_ADAPTER_TIMEOUT:g} (default 10)",
    )
    g.addoption(
        "--pipeline",
        type=int,
        default=8,
        metavar="DEPTH",
        help="requests sent ahead to the adapter while earlier cases are recorded "
        "(default 8; 0: one request at a time)",
    )
    g.addoption(
        "--progress-file",
        default=None,
        metavar="FILE",
        help="append a line per case run to FILE (appc-conformance run shows progress from it)",
    )
    g.addoption(
        "--stop-on-eof",
        type=int,
        default=None,
        metavar="FD",
        help="stop the run, without writing results, when file descriptor FD reaches its end "
        "(appc-conformance run passes a pipe whose end means it is gone)",
    )
    g.addoption(
        "--network-sessions",
        type=int,
        default=pool.DEFAULT_WORKERS,
        metavar="N",
        help="adapter sessions per profile that run the discovery cases side by side "
        f"(default {pool.DEFAULT_WORKERS}; 1: one after another, in the run's order)",
    )
    g.addoption(
        "--pytest-protocol",
        action="store_true",
        default=False,
        help="run each case through pytest's full runtest protocol (setup, call and teardown "
        "hooks) instead of the harness's lighter one: slower; for plugins that hook "
        "pytest_runtest_makereport (--pdb, --trace and --runxfail imply it)",
    )
    g.addoption(
        "--rkt-src",
        default=None,
        metavar="DIR",
        help="an rkt source tree to build the rkt adapter against (--impl rkt; default: $RKT_SRC)",
    )
    g.addoption(
        "--expectations",
        default=None,
        metavar="FILE",
        help="known failures of this implementation: they are expected, and reported when they pass",
    )
    g.addoption(
        "--validate-adapter",
        action="store_true",
        default=False,
        help="check every message of the protocol against its JSON Schema (conformance/protocol/): "
        "a message that breaks it makes the case a protocol-error naming the place",
    )


class Harness:
    def __init__(self, config):
        self.config = config
        opt = config.option
        self.vectors_root = Path(opt.vectors).resolve() if opt.vectors else path_vector_root(config)
        self.profiles = opt.profile or list(vectors.PROFILES)
        self.timeout = opt.adapter_timeout
        self.depth = max(0, opt.pipeline)
        self.items: list = []  # the run order, once collection is over
        # Whether the main sessions get the test CA: yes, unless collection is over and it holds
        # vector items only, none of them a network case (then no adapter makes a TLS
        # connection, and the run never makes the CA nor imports the mock servers). Other items
        # (the generated suite's tests, say) may use the sessions for anything: they keep it.
        self.needs_ca = True
        self._public_folders: dict | None = None
        self.impl_id = None
        if opt.adapter_cmd:
            if opt.impl:
                raise pytest.UsageError("give --impl or --adapter-cmd, not both")
            argv = shlex.split(opt.adapter_cmd)
            if not argv:
                raise pytest.UsageError("--adapter-cmd is empty")
            if not adapter.LAUNCH.found(argv[0]):
                raise pytest.UsageError(f"--adapter-cmd: command not found: {argv[0]!r}")
            self.argv = argv
        else:
            self.impl_id = opt.impl or "reference"
            if opt.rkt_src:  # the rkt adapter's build reads the tree from RKT_SRC
                os.environ["RKT_SRC"] = str(Path(opt.rkt_src).expanduser().resolve())
            try:
                self.argv = registry.command(self.impl_id)
            except registry.UnknownImplementation as exc:
                raise pytest.UsageError(str(exc)) from None
            except registry.NotAvailable as exc:
                raise pytest.UsageError(f"implementation {self.impl_id!r} is not available: {exc}") from None
            if self.impl_id == "go-appc":  # built against a --spec-src tree: go-appc-NAME (docs/DECISIONS.md)
                from appc_conformance.conformance.adapters.go import build as go_build  # noqa: PLC0415

                self.impl_id = go_build.results_id()
        self.expectations = load_expectations(opt.expectations) if opt.expectations else None
        if self.expectations is not None and self.impl_id is not None:
            expectations_match(self.expectations, self.impl_id, opt.expectations)
        self.sessions: dict[str, AdapterSession] = {}
        # Network cases side by side (conformance/pool.py); None: in the run's order, here.
        self.pool = pool.NetworkPool(self.new_session, opt.network_sessions) if opt.network_sessions > 1 else None
        self.records: list = []
        self.progress = childlink.Progress(opt.progress_file) if opt.progress_file else None
        self.vector_order: dict | None = None  # item -> place in the vector order, when the run's differs
        self._record_places: list = []
        if opt.stop_on_eof is not None:
            childlink.watch_parent(opt.stop_on_eof, self.close)
        self.started = datetime.now(timezone.utc)
        self.t0 = time.monotonic()
        try:
            self.vector_set = vectors.load(self.vectors_root)
        except (vectors.VectorsError, OSError) as exc:
            raise pytest.UsageError(str(exc)) from None
        self.problems = [str(p) for p in self.vector_set.problems]
        self.cases_by_file: dict[str, list] = {}
        for case in self.vector_set.cases:
            self.cases_by_file.setdefault(case.file, []).append(case)
        self.suite_files = {c.file for c in self.vector_set.suite_cases}  # publisher cases: not for adapters
        self.suite_files_collected = 0
        self.cases_collected = 0  # case runs collected (before any deselection)
        self.problems_by_file: dict[str, list] = {}
        for p in self.vector_set.problems:
            self.problems_by_file.setdefault(p.file, []).append(p)
        # What is loaded so far (modules, the vector set) lives as long as the run: out of the
        # cyclic collector's sight, so pytest's full collections at the end (five of them, by
        # its unraisable-exception plugin) no longer walk it (0.2 s of each run).
        gc.freeze()

    def new_session(self, profile: str, ca: bool = True) -> AdapterSession:
        """A session; ``ca``: with the mock servers' test CA (made on first use, with the servers'
        modules); without it, the hello's ``ca_file`` is null, as the protocol allows."""
        return AdapterSession(
            self.argv,
            profile,
            timeout=self.timeout,
            ca_file=ca_bundle() if ca else None,
            validator=self.protocol_validator(),
        )

    def protocol_validator(self):
        """``--validate-adapter``: one validator (the schemas loaded once) for every session."""
        if not self.config.option.validate_adapter:
            return None
        if getattr(self, "_validator", None) is None:
            from appc_conformance.conformance import protocol  # noqa: PLC0415 (only with the option)

            self._validator = protocol.Validator()
        return self._validator

    def session(self, profile: str) -> AdapterSession:
        if profile not in self.sessions:
            self.sessions[profile] = self.new_session(profile, ca=self.needs_ca)
        return self.sessions[profile]

    def add_record(self, item: "VectorItem", rec) -> None:
        """Records are kept in the vector order, whatever order the items ran in."""
        if self.vector_order is None:
            self.records.append(rec)
            return
        place = self.vector_order[id(item)]
        at = bisect.bisect(self._record_places, place)
        self._record_places.insert(at, place)
        self.records.insert(at, rec)

    def run_item(self, item: "VectorItem"):
        """The item's record: from the network pool (started with the first item) or run here."""
        if self.pool is not None and pool.NetworkPool.is_network(item):
            if not self.pool.started:
                self.pool.start([i for i in self.items if isinstance(i, VectorItem)])
            if item in self.pool:
                return self.pool.record(item)
        self.send_ahead(item)
        return run_case(item.case, item.profile, self.session(item.profile), ticket=item.ticket)

    def send_ahead(self, item: "VectorItem") -> None:
        """Send ``item``'s request, then those of the next ``depth`` cases that need no mock
        server, so that the adapter answers them while pytest records the earlier ones."""
        if self.depth <= 0 or item.case.op in vectors.NETWORK_OPS:
            return
        session = self.session(item.profile)
        session.ensure()
        if item.ticket is None:
            item.ticket = session.submit(item.case.op, item.case.raw["input"])
        for nxt in self.items[item.position + 1 : item.position + 1 + self.depth]:
            if not isinstance(nxt, VectorItem) or nxt.case.op in vectors.NETWORK_OPS:
                break
            if nxt.ticket is None and nxt.profile in self.sessions:
                nxt.ticket = self.sessions[nxt.profile].submit(nxt.case.op, nxt.case.raw["input"])

    def public_folders(self) -> dict:
        """``_public_folders`` of this run, worked out once: the folders do not change."""
        if self._public_folders is None:
            self._public_folders = _public_folders(self.config, self.argv)
        return self._public_folders

    def close(self):
        if self.pool is not None:
            self.pool.close()
        for s in self.sessions.values():
            s.close()
        if self.progress is not None:
            self.progress.close()  # its last lines: written now, not whenever the interpreter ends

    def implementation(self) -> dict:
        info = {}
        for s in [*self.sessions.values(), *(self.pool.sessions() if self.pool else ())]:
            if s.hello and s.hello.ok:
                info = dict(s.hello.implementation)
                break
        return {
            "id": self.impl_id,
            "name": info.get("name", self.impl_id or public_argv(self.argv[:1], self.config)[0]),
            "version": info.get("version"),
            "language": info.get("language"),
            "homepage": info.get("homepage"),
            "available": True,
            "unavailable_reason": None,
            "command": public_argv(self.argv, self.config),
        }


def ca_bundle() -> str | None:
    """The PEM file with the mock servers' CA, created once per run (None until servers exist)."""
    try:
        from appc_conformance.servers import ca  # noqa: PLC0415
    except ImportError:
        return None
    return ca.bundle_path()


def expectations_match(exp, name: str | None, path: str) -> None:
    """A usage error unless the expectations file is about ``name`` (what results files call the
    implementation: its registry ID, or the name an external adapter gives in its hello)."""
    if exp.implementation != name:
        raise pytest.UsageError(
            f"--expectations {path} lists known failures of {exp.implementation!r}, but this run tests {name!r}"
        )


def check_adapter_expectations(h: "Harness") -> None:
    """For --adapter-cmd: the implementation's name is known from its hello only, so ask for it
    before the first case (a failed hello is left to the cases, which report it)."""
    first = next((i for i in h.items if isinstance(i, VectorItem)), None)
    if first is None:
        return
    hello = h.session(first.profile).ensure()
    if hello.ok:
        expectations_match(h.expectations, hello.implementation.get("name"), h.config.option.expectations)


def load_expectations(path: str):
    from appc_conformance.reports import expectations  # noqa: PLC0415 - the expectations file format belongs to the reports

    try:
        return expectations.load(path)
    except expectations.ExpectationsError as exc:
        raise pytest.UsageError(f"--expectations: {exc}") from None


def pytest_configure(config):
    if config.option.impl or config.option.adapter_cmd or _vector_args(config):
        config.stash[STASH] = Harness(config)


def _vector_args(config) -> bool:
    root = Path(config.option.vectors).resolve() if config.option.vectors else vectors.default_vectors_dir()
    for a in config.args:
        p = Path(a.split("::")[0]).resolve()
        if p == root or root in p.parents:
            return True
    return bool(_path_vector_roots(config))


def vector_root_of(path: Path) -> Path | None:
    """The vector folder ``path`` is, or is inside: the nearest folder (``path`` itself or a
    parent) that holds ``schema/vector-file.schema.json``. None when there is none."""
    path = path.resolve()
    for folder in ([path] if path.is_dir() else []) + list(path.parents):
        if (folder / "schema" / "vector-file.schema.json").is_file():
            return folder
    return None


def _path_vector_roots(config) -> list[Path]:
    """The vector folders of the paths given on the command line (in their order, once each)."""
    roots: list[Path] = []
    for a in config.args:
        p = Path(config.invocation_params.dir) / a.split("::")[0]
        root = vector_root_of(p) if p.exists() else None
        if root is not None and root not in roots:
            roots.append(root)
    return roots


def path_vector_root(config) -> Path:
    """Without --vectors: the vector folder the paths given are in (any folder with its own
    schema, installed or not), else the bundled one. Paths in two vector folders: a usage error."""
    roots = _path_vector_roots(config)
    if len(roots) > 1:
        raise pytest.UsageError(
            "the paths given are in different vector folders ("
            + ", ".join(map(str, roots))
            + "): run one at a time, or give --vectors DIR"
        )
    return roots[0] if roots else vectors.default_vectors_dir()


def pytest_unconfigure(config):
    h = config.stash.get(STASH, None)
    if h is not None:
        h.close()


def pytest_collect_file(file_path: Path, parent):
    h = parent.config.stash.get(STASH, None)
    if h is None or file_path.suffix != ".json":
        return None
    root = h.vectors_root
    if root not in file_path.parents or "schema" in file_path.relative_to(root).parts:
        return None
    if file_path.name == "requirements.json" and vectors._rel(file_path, root) not in h.problems_by_file:
        return None  # the catalog is collected only to report its problems
    return VectorFile.from_parent(parent, path=file_path)


class VectorFile(pytest.File):
    def collect(self):
        h: Harness = self.config.stash[STASH]
        rel = vectors._rel(self.path, h.vectors_root)
        h.suite_files_collected += rel in h.suite_files
        for i, p in enumerate(h.problems_by_file.get(rel, ())):
            yield ProblemItem.from_parent(self, name=f"<invalid-vector-{i}>", problem=str(p))
        for case in h.cases_by_file.get(rel, ()):
            for profile in h.profiles:
                if profile in case.profiles:
                    h.cases_collected += 1
                    yield VectorItem.from_parent(self, name=f"{case.id}[{profile}]", case=case, profile=profile)


class ProblemItem(pytest.Item):
    def __init__(self, *, problem: str, **kw):
        super().__init__(**kw)
        self.problem = problem

    def runtest(self):
        raise VectorProblem(self.problem)

    def repr_failure(self, excinfo, style=None):
        return f"broken vector: {self.problem}"

    def reportinfo(self):
        return self.path, None, self.name


class VectorProblem(Exception):
    pass


class CaseFailed(Exception):
    pass


class VectorItem(pytest.Item):
    def __init__(self, *, case, profile, **kw):
        super().__init__(**kw)
        self.case = case
        self.profile = profile
        self.record = None
        self.position = -1  # index in the run order
        self.ticket = None  # the request id, once sent ahead
        # -k selects by requirement ID too: pytest -k "TAG-03"
        self.extra_keyword_matches.update(case.requirements)
        self.extra_keyword_matches.update(case.raw.get("ambiguities", []))
        exp = self.config.stash[STASH].expectations
        entry = exp.lookup(case.id, profile) if exp is not None else None
        self.known = None if entry is None else f"known failure: {entry.reason}"
        if self.known is not None:
            self.add_marker(pytest.mark.xfail(reason=self.known, strict=False))

    def runtest(self):
        h: Harness = self.config.stash[STASH]
        rec = h.run_item(self)
        self.record = rec
        h.add_record(self, rec)
        if h.progress is not None:
            h.progress.case(rec.verdict, rec.id, rec.profile)
        if rec.verdict == grading.PASS:
            return
        if rec.verdict in grading.SKIPPING:
            pytest.skip(printable(f"{rec.verdict}: {rec.message}"))
        raise CaseFailed(printable(f"{rec.verdict}: {rec.message}"))

    def repr_failure(self, excinfo, style=None):
        rec = self.record
        if isinstance(excinfo.value, CaseFailed) and rec is not None:  # runtest keeps the record first
            lines = [
                f"{self.case.id} [{self.profile}] ({', '.join(self.case.requirements)}, "
                f"{self.case.strength}): {excinfo.value}",
                f"  case:     {self.case.raw['description']}",
                f"  input:    {json.dumps(rec.extra.get('request', self.case.raw.get('input')), ensure_ascii=False)[:500]}",
                f"  expected: {json.dumps(rec.expected, ensure_ascii=False)[:500]}",
                f"  actual:   {json.dumps(rec.actual, ensure_ascii=False)[:500]}",
            ]
            if rec.extra.get("requests_seen"):
                lines.append("  requests: " + "\n            ".join(rec.extra["requests_seen"][:20]))
            if rec.stderr:
                lines.append("  adapter stderr:\n    " + rec.stderr[-1500:].replace("\n", "\n    "))
            return printable("\n".join(lines), newlines=True)  # adapter text: no terminal control
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.case.id} [{self.profile}]"


def _uses_pytest_protocol(config) -> bool:
    """Whether vector items go through pytest's own runtest protocol (see ``pytest_runtest_protocol``)."""
    o = config.option
    return bool(
        o.pytest_protocol or getattr(o, "usepdb", False) or getattr(o, "trace", False) or getattr(o, "runxfail", False)
    )


_RERAISE = (pytest.exit.Exception, KeyboardInterrupt)  # what pytest's own protocol lets through


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """A vector item's own runtest protocol: run the case, report the three phases.

    A vector item has no fixtures, no setup and no teardown of its own; pytest's protocol (setup,
    call and teardown hooks, three report hooks) costs several adapter round trips per case.
    This one gives the same reports to the same report hooks (terminal, JUnit, -x, the results
    file), and applies the known-failure xfail itself. ``--pytest-protocol`` (and ``--pdb``,
    ``--trace``, ``--runxfail``) use pytest's protocol instead: docs/ARCHITECTURE.md, "The harness".
    """
    if not isinstance(item, VectorItem) or _uses_pytest_protocol(item.config):
        return None
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    ihook.pytest_runtest_logreport(report=_quiet_report(item, "setup"))
    call = pytest.CallInfo.from_call(item.runtest, when="call", reraise=_RERAISE)
    report = pytest.TestReport.from_item_and_call(item, call)
    if item.known is not None and not report.skipped:  # what pytest's xfail (strict=False) does
        report.wasxfail = item.known
        report.outcome = "skipped" if call.excinfo else "passed"
    ihook.pytest_runtest_logreport(report=report)
    if item.session.shouldfail or item.session.shouldstop:
        nextitem = None
    # Earlier items of other kinds may have left collectors set up: tear down what the next item
    # does not share, as pytest's teardown phase does.
    # (Nothing set up, as between two vector items: nothing to tear down.)
    teardown = (
        pytest.CallInfo.from_call(
            lambda: item.session._setupstate.teardown_exact(nextitem), when="teardown", reraise=_RERAISE
        )
        if item.session._setupstate.stack
        else None
    )
    ihook.pytest_runtest_logreport(
        report=pytest.TestReport.from_item_and_call(item, teardown)
        if teardown is not None and teardown.excinfo
        else _quiet_report(item, "teardown")
    )
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _quiet_report(item, when: Literal["setup", "call", "teardown"]):
    now = time.time()
    return pytest.TestReport(
        item.nodeid, item.location, {}, "passed", None, when, [], 0.0, now, now, user_properties=item.user_properties
    )


def pytest_collection_modifyitems(config, items):
    h = config.stash.get(STASH, None)
    patterns = config.option.case
    if h is None or not patterns:
        return
    check_case_patterns(h, patterns)
    keep, drop = [], []
    for item in items:
        if isinstance(item, VectorItem) and not any(fnmatch.fnmatchcase(item.case.id, p) for p in patterns):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    if drop and not any(isinstance(i, VectorItem) for i in keep):
        # the patterns name cases of the vector set, but none of the folders or files collected
        h.case_selected_none = len(drop)


def check_case_patterns(h, patterns) -> None:
    """A ``--case`` pattern that matches no case of the vector set is a usage error (as for
    ``appc-conformance run``), not a silent run of nothing (pytest's exit 5)."""
    ids = [c.id for c in h.vector_set.cases]
    empty = [p for p in patterns if not any(fnmatch.fnmatchcase(i, p) for i in ids)]
    if not empty:
        return
    suite = [p for p in empty if any(fnmatch.fnmatchcase(c.id, p) for c in h.vector_set.suite_cases)]
    if suite:
        raise pytest.UsageError(
            f"--case {', '.join(repr(p) for p in suite)} matches only publisher cases: they "
            f"test the suite's own check-publisher, not an adapter (tests/test_publisher.py "
            f"runs them; docs/VECTORS.md)"
        )
    raise pytest.UsageError(
        f"--case {', '.join(repr(p) for p in empty)} matches no case of the vector set in "
        f"{h.vectors_root} ({len(ids)} cases; {vectors.like_pattern(empty[0], ids)}; "
        f"appc-conformance list shows them)"
    )


def pytest_collection_finish(session):
    h = session.config.stash.get(STASH, None)
    if h is None:
        return
    if h.pool is not None:  # network cases last: the pool runs them while this runs the others
        h.vector_order = {id(item): i for i, item in enumerate(session.items)}
        session.items.sort(key=lambda it: isinstance(it, VectorItem) and pool.NetworkPool.is_network(it))
    h.items = list(session.items)
    h.needs_ca = any(not isinstance(i, VectorItem) or i.case.op in vectors.NETWORK_OPS for i in h.items)
    for i, item in enumerate(h.items):
        if isinstance(item, VectorItem):
            item.position = i
    if h.expectations is not None and h.impl_id is None:
        check_adapter_expectations(h)
    if h.progress is not None:
        h.progress.total(sum(isinstance(i, VectorItem) for i in h.items))


def vectors_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for p in sorted(root.rglob("*.json")):
        digest.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


#: The largest case input (and discovery hosts) a results file keeps, in characters of JSON:
#: larger ones are kept as an excerpt of their JSON text (``input_truncated``, ``hosts_truncated``).
INPUT_KEEP = 4096


def _bounded(obj):
    text = json.dumps(obj, ensure_ascii=False)
    if len(text) <= INPUT_KEEP:
        return obj, False
    return text[:INPUT_KEEP] + "…", True


def port_mode(h: Harness) -> dict:
    """``{"port_mode": ...}``: where the run's mock hosts listen, as discovery_runner decides it:
    "custom-port" when the adapter's hello offers the feature, else "default-ports" (443 and 80).
    Empty when no adapter session started, or no network case was taken."""
    network = getattr(h, "pool", None)
    sessions = [*h.sessions.values(), *(network.sessions() if network else ())]
    hellos = [s.hello for s in sessions if s.hello is not None and s.hello.ok]
    if not hellos:
        return {}
    # no mock host was stood up when no network case was taken (an adapter without discover)
    if not any(r.op in vectors.NETWORK_OPS and r.verdict != grading.NOT_IMPLEMENTED for r in h.records):
        return {}
    custom = all("custom-port" in hello.features for hello in hellos)
    return {"port_mode": "custom-port" if custom else "default-ports"}


def public_argv(argv, config) -> list:
    """A command line without the machine's absolute paths (reports.model.public_arg)."""
    from appc_conformance.reports.model import public_arg  # noqa: PLC0415

    roots = (vectors.project_root(), Path(config.invocation_params.dir))
    return [public_arg(str(a), roots) for a in argv]


def _public_folders(config, argv=()) -> dict:
    """What public_text replaces: the current folder, the project, the temporary folder, the
    home folder, and each absolute word of the adapter's command (by its public form)."""
    import tempfile  # noqa: PLC0415

    words = {w: public_argv([w], config)[0] for w in argv if isinstance(w, str) and w.startswith("/")}
    return {
        **words,
        str(Path(config.invocation_params.dir)): ".",
        str(vectors.project_root()): "<project>",
        tempfile.gettempdir(): "<tmp>",
        str(Path.home()): "~",
    }


def case_json(h: Harness, rec, case=None) -> dict:
    """A record as the results file has it, with what the run knows beside the verdict: whether
    the expectations file lists the case as a known failure (``known_failure``: the reason), and
    what was sent: the case's ``input`` and, for a discovery case, the ``hosts`` its mock servers
    served (both bounded, INPUT_KEEP). The adapter's stderr loses the machine's folders."""
    d = rec.to_json()
    known = h.expectations.lookup(rec.id, rec.profile) if h.expectations is not None else None
    if known is not None:
        d["known_failure"] = known.reason
    if case is not None:
        for key in ("input", "hosts"):
            if key in case.raw:
                d[key], cut = _bounded(case.raw[key])
                if cut:
                    d[f"{key}_truncated"] = True
    from appc_conformance.reports.model import public_text  # noqa: PLC0415

    folders = None
    for key in ("stderr", "message"):  # a failed handshake's message quotes stderr and the command
        if d.get(key):
            if folders is None:
                folders = h.public_folders()
            d[key] = public_text(d[key], folders)
    return d


def results_document(h: Harness) -> dict:
    by_id = {c.id: c for c in h.vector_set.cases}
    return {
        "format": "appc-conformance-results",
        "format_version": 1,
        "run": {
            "suite_version": __version__,
            "commit": git_commit(vectors.project_root()),
            "vectors_hash": vectors_hash(h.vectors_root),
            "profiles": h.profiles,
            "started": h.started.isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - h.t0, 3),
            **port_mode(h),
            "argv": public_argv(h.config.invocation_params.args, h.config),
            "problems": h.problems,
            "declined_profiles": declined_profiles(h),
        },
        "implementation": h.implementation(),
        "cases": [case_json(h, r, by_id.get(r.id)) for r in h.records],
    }


def declined_profiles(h: Harness) -> list[str]:
    """The run's profiles the adapter declined at the handshake (it answered ``unsupported``):
    the badge measures what an implementation attempted against the profiles it declares."""
    pool_ = getattr(h, "pool", None)
    out = set()
    for s in [*h.sessions.values(), *(pool_.sessions() if pool_ is not None else ())]:
        if s.hello is not None and not s.hello.ok and s.hello.status == "answer":
            out.add(s.profile)
    return sorted(out)


def run_completeness(h: Harness, exitstatus) -> dict:
    """``incomplete``, ``not_run`` and ``selection`` of the results' ``run`` (docs/REPORTS.md).

    Incomplete: a selected case run has no record (Ctrl-C, ``-x``, ``pytest.exit``) or the
    session was interrupted (even before collection ended). A selection (``--case``, ``-k``,
    ``--profile``, a sub-folder, ...) is a partial run by choice: it is complete when every case
    run it selected ran. The profiles are not a selection: ``run.profiles`` names them.
    """
    ran = {(r.id, r.profile) for r in h.records}
    selected = [i for i in h.items if isinstance(i, VectorItem)]
    not_run = [f"{i.case.id} [{i.profile}]" for i in selected if (i.case.id, i.profile) not in ran]
    interrupted = int(exitstatus) == int(pytest.ExitCode.INTERRUPTED)
    total = sum(1 for c in h.vector_set.cases for p in c.profiles if p in h.profiles)
    selection = None
    if len(selected) < total:
        o = h.config.option
        by = [f"--case {p}" for p in o.case or ()]
        by += [f"-k {o.keyword}"] if getattr(o, "keyword", "") else []
        by += [f"-m {o.markexpr}"] if getattr(o, "markexpr", "") else []
        by += [f"--deselect {d}" for d in getattr(o, "deselect", None) or ()]
        for a in h.config.args:
            p = Path(a.split("::")[0]).resolve()
            if p != h.vectors_root and (h.vectors_root in p.parents or "::" in a):
                by.append(vectors._rel(p, h.vectors_root) + (a[a.index("::") :] if "::" in a else ""))
        selection = {"selected": len(selected), "of": total, "by": by}
    return {"incomplete": bool(not_run) or interrupted, "not_run": not_run, "selection": selection}


def pytest_sessionfinish(session, exitstatus):
    h = session.config.stash.get(STASH, None)
    if h is None:
        return
    h.completeness = run_completeness(h, exitstatus)
    if not session.config.option.results or int(exitstatus) == int(pytest.ExitCode.USAGE_ERROR):
        return  # a usage error found after start-up ran nothing: no results, as for any usage error
    from appc_conformance.reports.results import write_results  # noqa: PLC0415 - writes atomically

    path = Path(session.config.option.results)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not validated here (a tenth of a millisecond per case): every reader validates, and the
    # project's tests validate the files the harness writes.
    doc = results_document(h)
    doc["run"].update(h.completeness)
    write_results(path, doc, validate_first=False)


def handshake_warnings(h: Harness) -> list[str]:
    """What the handshakes said that makes a run's verdicts hollow: an adapter that declares
    no operation, or a handshake that failed (every case of the profile got that verdict)."""
    pool_ = getattr(h, "pool", None)
    lines: dict[str, str] = {}
    for s in [*h.sessions.values(), *(pool_.sessions() if pool_ is not None else ())]:
        hello = s.hello
        if hello is None or s.profile in lines:
            continue
        if hello.ok and not hello.ops:
            lines[s.profile] = (
                f"warning: the adapter declares no operations for profile {s.profile}: every case is not-implemented"
            )
        elif not hello.ok and hello.status != "answer":
            lines[s.profile] = f"warning: handshake failed for profile {s.profile}: {hello.reason[:500]}"
    return [lines[p] for p in sorted(lines)]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    h = config.stash.get(STASH, None)
    if h is None:
        return
    counts: dict[str, int] = {}
    for r in h.records:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    impl = h.implementation()
    terminalreporter.section("appc conformance")
    terminalreporter.write_line(
        printable(
            f"implementation: {impl['name']} {impl.get('version') or ''} "
            f"({' '.join(shlex.quote(a) for a in public_argv(h.argv, config))})"
        )
    )
    terminalreporter.write_line(
        "verdicts: " + (", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "no case ran")
    )
    if not h.cases_collected and not any(isinstance(i, ProblemItem) for i in h.items):
        terminalreporter.write_line(
            f"no vector cases collected; the bundled vectors are in "
            f"{vectors.default_vectors_dir()}; give a vector folder as a path "
            "or --vectors DIR"
            + (
                ""
                if h.vectors_root == vectors.default_vectors_dir()
                else f" (this run's vector folder: {h.vectors_root})"
            ),
            yellow=True,
        )
        if h.suite_files_collected:
            terminalreporter.write_line(
                "the publisher cases (vectors/publisher) are run by the suite itself, "
                "not by adapters: python -m pytest tests/test_publisher.py"
            )
    if getattr(h, "case_selected_none", 0):
        terminalreporter.write_line(
            f"--case {', '.join(repr(p) for p in config.option.case)} selects none of the {h.case_selected_none} "
            f"case runs collected from the paths given: its cases are in another folder of the vector set "
            f"({h.vectors_root})",
            yellow=True,
        )
    for line in handshake_warnings(h):
        terminalreporter.write_line(line)
    unclassified: dict[str, int] = {}  # passes on an error of kind other: rejected, reason unknown
    for r in h.records:
        if r.unclassified and r.verdict == grading.PASS:
            unclassified[r.profile] = unclassified.get(r.profile, 0) + 1
    if unclassified:
        terminalreporter.write_line(
            "unclassified passes (an error of kind other where the case named kinds): "
            + ", ".join(f"{n} in {p}" for p, n in sorted(unclassified.items()))
        )
    ahead = sum(s.sent_ahead for s in h.sessions.values())
    quiet = all(s.quiet for s in h.sessions.values())
    terminalreporter.write_line(
        f"requests sent ahead (--pipeline {h.depth}): {ahead}"
        + ("" if quiet else "; none after the adapter wrote to stderr")
    )
    terminalreporter.write_line(
        "runtest protocol: "
        + ("pytest's own" if _uses_pytest_protocol(config) else "the harness's (--pytest-protocol for pytest's own)")
    )
    if h.expectations is not None:
        from appc_conformance.reports import expectations as expmod  # noqa: PLC0415

        for line in expmod.usage_warnings(h.expectations, [c.id for c in h.vector_set.cases]):
            terminalreporter.write_line(f"warning: {line}", yellow=True)
    fixed = [
        r
        for r in h.records
        if r.verdict == grading.PASS
        and h.expectations is not None
        and h.expectations.lookup(r.id, r.profile) is not None
    ]
    for r in fixed:
        terminalreporter.write_line(
            f"known failure now passes (remove it from the expectations file): {r.id} [{r.profile}]"
        )
    if h.problems:
        terminalreporter.write_line(
            f"broken vectors: {len(h.problems)} (their cases did not run; every other case did)"
        )
        for p in h.problems[:20]:
            terminalreporter.write_line(f"  {p}")
        if len(h.problems) > 20:
            terminalreporter.write_line(
                f"  ... {len(h.problems) - 20} more in the results file (run.problems) and from: appc-conformance lint"
            )
    done = getattr(h, "completeness", None)
    if done and done["incomplete"]:
        terminalreporter.write_line(
            f"INCOMPLETE run: {len(done['not_run'])} selected case runs did not run "
            "(interrupted or stopped early); the results file says so (run.not_run)",
            red=True,
            bold=True,
        )
    if config.option.results:
        terminalreporter.write_line(f"results: {public_argv([config.option.results], config)[0]}")
