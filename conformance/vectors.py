"""Load vector files, validate them against their schema, and check what a schema cannot.

A broken file never stops the others: every problem becomes a ``Problem`` that names the
file, the case (index and ID when known) and the field. The lint command and the pytest
plugin share this module, so a vector the lint accepts is exactly a vector the run accepts.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, get_args

from appc_conformance import cache

# The suite's profiles, defined here once (the publisher check, the expectations files and the
# CLI use these; the vector file schema's enum is checked against PROFILES by the tests).
Profile = Literal["appc-0.8.11", "appc-imagetags"]
PROFILES: tuple[Profile, ...] = get_args(Profile)
OPS = (
    "parse_app",
    "validate_imagetags",
    "resolve_tag",
    "merge_tag",
    "discover",
    "resolve",
    "validate_manifest",
    "match_manifest",
    "fetch",
)  # the adapter protocol's
NETWORK_OPS = ("discover", "resolve", "fetch")  # the ops whose cases need mock servers
#: Ops the suite runs itself, never sent to an adapter (docs/VECTORS.md, "Publisher cases"): their
#: cases are kept apart, in ``VectorSet.suite_cases``, so that no adapter run collects them.
SUITE_OPS = ("check_publisher",)
SUITE_AREAS = {"publisher": "check_publisher"}  # area -> the one op its cases have
STRENGTHS = ("must", "should", "may", "library", "ambiguous")

# What each op can answer (docs/ADAPTERS.md, sections 4, 6 and 6.1): the keys of its result, and
# the error kinds it can give. The lint refuses an expectation outside these (it could never be
# met, or would be met by an answer of another op); "other" fits every op.
_APP_ERRORS = ("invalid-app-string", "invalid-identifier")  # every op that takes an app string
_TAG_ERRORS = ("alias-cycle", "tag-not-found", "invalid-imagetags")  # resolve_tag
_MERGE_ERRORS = (*_TAG_ERRORS, "version-conflict")  # merge_tag
OP_OUTCOMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "parse_app": (("name", "tag", "labels"), _APP_ERRORS),
    "validate_imagetags": (("valid",), ("invalid-imagetags",)),
    "resolve_tag": (("labels",), _TAG_ERRORS),
    "merge_tag": (("labels",), _MERGE_ERRORS),
    "discover": (("aci", "pubkeys", "imagetags", "attempts"), ("discovery-failed", *_APP_ERRORS)),
    "resolve": (("labels", "aci", "pubkeys"), ("discovery-failed", "fetch-failed", *_MERGE_ERRORS, *_APP_ERRORS)),
    "validate_manifest": (("valid",), ("invalid-manifest",)),
    # match_manifest reads the app string as parse_app does, with its tag merged (AMB-15, AMB-21)
    "match_manifest": (("matches",), ("invalid-manifest", *_APP_ERRORS, *_MERGE_ERRORS)),
    "fetch": (
        ("image_id", "name", "labels", "urls"),
        (
            "signature-missing",
            "signature-invalid",
            "key-not-trusted",
            "manifest-mismatch",
            "image-id-mismatch",
            "size-exceeded",
            "not-an-image",
            "discovery-failed",
            "fetch-failed",
            "invalid-manifest",
            *_MERGE_ERRORS,
            *_APP_ERRORS,
        ),
    ),
    # the suite's own publisher check: the status of each rule (conformance/publisher_cases.py)
    "check_publisher": (("checks", "ok", "messages"), ()),
}


def outcome_problems(op: str, outcome: dict, where: str) -> list[tuple[str, str]]:
    """Why an accepted answer of a case cannot be right for ``op`` (field, message); [] if it fits."""
    if op not in OP_OUTCOMES:
        return []
    keys, kinds = OP_OUTCOMES[op]
    out = []
    if "result" in outcome:
        result = outcome["result"]
        if not result:
            out.append(
                (
                    f"{where}.result",
                    "an empty result accepts any answer: give the keys the answer "
                    f"must have ({op} answers {', '.join(keys)})",
                )
            )
        for k in result:
            if k not in keys:
                out.append((f"{where}.result", f"{k!r} is never part of a {op} answer (its keys: {', '.join(keys)})"))
        if "valid" in result and result["valid"] is not True:
            out.append(
                (
                    f"{where}.result.valid",
                    "'valid' is always true: an invalid input is an error answer (docs/ADAPTERS.md, section 6)",
                )
            )
        if "matches" in result and not isinstance(result["matches"], bool):
            out.append((f"{where}.result.matches", "'matches' is true or false"))
    if "error" in outcome:
        given = outcome["error"] if isinstance(outcome["error"], list) else [outcome["error"]]
        for k in given:
            if k != "other" and k not in kinds:
                out.append(
                    (f"{where}.error", f"{k!r} cannot come from {op} (its error kinds: {', '.join(kinds)}, other)")
                )
    return out


#: The per-request adapter timeout, in seconds, is a finite number in (0, MAX_ADAPTER_TIMEOUT]:
#: zero or less times every case out, and infinity, NaN or a huge number overflow the deadlines.
MAX_ADAPTER_TIMEOUT = 3600.0


def adapter_timeout(text: str) -> float:
    """``--adapter-timeout`` of the pytest plugin and of ``appc-conformance run``: the seconds,
    or ``argparse.ArgumentTypeError`` saying the valid range."""
    import argparse  # noqa: PLC0415
    import math  # noqa: PLC0415

    want = f"a number of seconds greater than 0 and at most {MAX_ADAPTER_TIMEOUT:g}"
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number: give {want}") from None
    if not math.isfinite(value) or not 0 < value <= MAX_ADAPTER_TIMEOUT:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: give {want}")
    return value


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def default_vectors_dir() -> Path:
    """The vector set: the source tree's ``vectors/``, or the copy installed with the package."""
    src = project_root() / "vectors"
    if (src / "schema").is_dir():
        return src
    return Path(__file__).resolve().parent / "_vectors"


@dataclass(frozen=True)
class Problem:
    file: str
    where: str  # "case 3 (app-strings/x/y)" or "file"
    field: str  # JSON path inside the case or file, "" for the whole thing
    message: str

    def __str__(self) -> str:
        loc = self.file
        if self.where:
            loc += f": {self.where}"
        if self.field:
            loc += f": field '{self.field}'"
        return f"{loc}: {self.message}"


@dataclass
class Case:
    """One validated case, as data; ``raw`` is the case object exactly as in the file."""

    id: str
    file: str
    index: int
    raw: dict

    @property
    def op(self) -> str:
        return self.raw["op"]

    @property
    def profiles(self) -> list[str]:
        return self.raw["profiles"]

    @property
    def requirements(self) -> list[str]:
        return self.raw["requirements"]

    @property
    def strength(self) -> str:
        return self.raw["strength"]

    @property
    def area(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def expected(self) -> dict:
        return self.raw["expect"]


@dataclass
class VectorSet:
    root: Path
    cases: list[Case] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    suite_cases: list[Case] = field(default_factory=list)  # SUITE_OPS cases: run by the suite, not adapters
    files: list[Path] = field(default_factory=list)


def _json_path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


#: Deepest nesting of arrays and objects a vector file may have (the bundled ones stay under
#: 20). Deeper files are a problem of that file: nothing recurses through them.
MAX_DEPTH = 100


class VectorsError(ValueError):
    """The vector set itself cannot be used (its schema is unreadable); names the file."""


def _too_deep(doc: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``doc`` nests arrays and objects more than ``limit`` levels (without recursion)."""
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


def load_catalog(root: Path) -> dict:
    """The requirement catalog: ``{"requirements": [...], "ambiguities": [...]}``."""
    return json.loads((root / "requirements.json").read_text())


def _checked_catalog(root: Path, rel: str) -> tuple[set | None, set | None, list[Problem]]:
    """The requirement and ambiguity IDs of the catalog, or (None, None, [the problem]).

    A broken catalog is a problem of ``requirements.json``; the cases are then loaded without
    checking their requirement IDs, so every other file still runs.
    """
    try:
        catalog = json.loads((root / "requirements.json").read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, RecursionError) as exc:
        msg = "nested too deeply" if isinstance(exc, RecursionError) else f"cannot read: {exc}"
        return None, None, [Problem(rel, "file", "", f"{msg}; requirement IDs of the cases are not checked")]
    except json.JSONDecodeError as exc:
        return (
            None,
            None,
            [
                Problem(
                    rel,
                    f"line {exc.lineno} column {exc.colno}",
                    "",
                    f"not valid JSON: {exc.msg}; requirement IDs of the cases are not checked",
                )
            ],
        )
    try:
        reqs = {r["id"] for r in catalog["requirements"]}
        ambs = {a["id"] for a in catalog.get("ambiguities", [])}
        if not all(isinstance(x, str) for x in reqs | ambs):
            raise TypeError("an ID is not a string")
    except (TypeError, KeyError, AttributeError) as exc:
        return (
            None,
            None,
            [
                Problem(
                    rel,
                    "file",
                    "",
                    'not a requirement catalog ({"requirements": [{"id": ...}], '
                    f'"ambiguities": [...]}}: {type(exc).__name__}: {exc}); '
                    "requirement IDs of the cases are not checked",
                )
            ],
        )
    return reqs, ambs, []


def vector_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*.json") if "schema" not in p.relative_to(root).parts and p.name != "requirements.json"
    )


def like_pattern(pattern: str, ids: list[str], n: int = 3) -> str:
    """For a ``--case`` pattern that matches nothing: the case folders nearest to its fixed
    part (``resolution/cycles/*``: ``resolution/cycle/``), or an example ID."""
    import difflib  # noqa: PLC0415

    head = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    folders = sorted({i[: len(i) - len(i.rsplit("/", 1)[-1])] for i in ids})
    near = difflib.get_close_matches(head, folders, n=n, cutoff=0.5) if head else []
    if near:
        return "nearest: " + ", ".join(f"{f}*" for f in near)
    return f"IDs look like {ids[0]}" if ids else "no case"


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


CACHE_ENV = cache.CACHE_ENV
CACHE_KEEP = 2000  # file digests kept in the cache (the bundled set has about 60 files)
CACHE_MAX_BYTES = 256 * 1024  # a cache file over this is not read (CACHE_KEEP digests take 136 KiB)


def cache_file() -> Path | None:
    """Where the digests of schema-checked vector files are kept, or None when caching is off
    (``appc_conformance.cache``: ``$APPC_CONFORMANCE_CACHE``, else ``~/.cache/appc-conformance``).
    In a folder of its own, made with mode 0700 (cache.write_private): the cache folder itself may
    have been made by something else with the user's umask (002 on many systems), and an entry
    is only read from a folder nobody else can write."""
    folder = cache.cache_dir()
    return None if folder is None else folder / "vectors" / "schema-checked.json"


class _SchemaCache:
    """Digests of vector files that passed every check, with this exact schema, this catalog,
    this jsonschema version and this checking code (all four are in the digest).

    A file whose digest is known skips the schema checks and the checks a schema cannot express
    (requirement IDs, host descriptions, accepted answers): their inputs are the file's bytes,
    the catalog and the code, so the answer would be the same. The checks across files (duplicate
    IDs) run on every load. A file with any problem is never recorded, so its messages are
    always fresh. The schema's own check against its meta-schema is recorded the same way. The
    cache is an optimisation only: if it cannot be read or written, nothing changes.

    The file is input like any other: it is read only when the folder and the file are this
    user's alone, not a link, a regular file and at most CACHE_MAX_BYTES (``cache.read_private``);
    and the check that keeps a case on its loopback mock hosts runs on every load, cached or not.
    """

    def __init__(self, path: Path | None, schema_bytes: bytes, catalog_bytes: bytes = b"", memory: bool = False):
        self.path = path
        self.memory = memory  # also what passed in this process (_PASSED_IN_PROCESS)
        salt = hashlib.sha256()
        for part in (schema_bytes, catalog_bytes, _jsonschema_version().encode(), _checking_code()):
            salt.update(hashlib.sha256(part).digest())
        self.salt = salt.digest()
        self.known: dict[str, None] = {}  # digests, in the file's order (newest first)
        self.new: dict[str, None] = {}  # digests recorded by this load
        raw = cache.read_private(path, CACHE_MAX_BYTES) if path is not None else None
        if raw is not None:
            try:
                data = json.loads(raw.decode("utf-8"))
                if isinstance(data, dict) and isinstance(data.get("checked"), list):
                    self.known = dict.fromkeys(
                        k for k in data["checked"][:CACHE_KEEP] if isinstance(k, str) and len(k) == 64
                    )
            except (ValueError, RecursionError):
                pass

    #: What ``key`` is given for the schema itself (no vector file's bytes are empty).
    SCHEMA_ITSELF = b""

    def key(self, data: bytes) -> str:
        return hashlib.sha256(self.salt + data).hexdigest()

    def __contains__(self, key: str) -> bool:
        if key in self.known or key in self.new:
            return True
        if self.memory and key in _PASSED_IN_PROCESS:
            self.new[key] = None  # checked by this process: the cache file gets it too
            return True
        return False

    def add(self, key: str) -> None:
        """``key`` was checked by this process and passed: recorded for the cache file and,
        with ``memory``, for this process (never a digest only read from the file)."""
        if key not in self.known:
            self.new[key] = None
        if self.memory:
            if len(_PASSED_IN_PROCESS) >= CACHE_KEEP:
                _PASSED_IN_PROCESS.clear()
            _PASSED_IN_PROCESS.add(key)

    def save(self) -> None:
        if self.path is None or not self.new:
            return
        keep = (list(reversed(self.new)) + list(self.known))[:CACHE_KEEP]  # newest first
        cache.write_private(
            self.path, json.dumps({"format": "appc-conformance-schema-cache", "checked": keep}).encode("utf-8")
        )


# The digests (as _SchemaCache.key gives them) that passed every check in this process, kept in
# memory only: a process that loads the vector set again (the suite's own tests run the harness
# in-process) skips what the same bytes, schema, catalog and code already passed, with the
# cache file or without one. ``load(cache=False)`` does not read it: it checks from scratch.
_PASSED_IN_PROCESS: set[str] = set()
# The schemas (by the digest of their bytes) that passed their check against their meta-schema
# in this process: that check reads the schema alone (the cache key above also holds the
# catalog, so a new catalog would check the same schema again).
_SCHEMAS_PASSED: set[str] = set()


def _checking_code() -> bytes:
    """The source of every module whose checks a cached file skips: this one, the publisher
    cases' rules and the mock servers' host descriptions (found without importing them)."""
    import importlib.util  # noqa: PLC0415

    here = Path(__file__).resolve().parent
    paths = [here / "vectors.py", here / "publisher_cases.py"]
    spec = importlib.util.find_spec("appc_conformance.servers")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        paths += sorted(Path(folder).glob("*.py"))
    digest = hashlib.sha256()
    for path in paths:
        try:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        except OSError:
            digest.update(path.name.encode() + b"\0(missing)")
    return digest.digest()


def _jsonschema_version() -> str:
    """jsonschema's version, without importing it: read off the name of its ``.dist-info``
    folder beside the package, where pip puts it (a listing of one folder; importlib.metadata
    searches every folder of the import path, a hundredth of a second of each load), else
    asked of importlib.metadata."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.find_spec("jsonschema")
    if spec is not None and spec.origin:
        try:
            found = [
                n
                for n in os.listdir(Path(spec.origin).parent.parent)
                if n.startswith("jsonschema-") and n.endswith(".dist-info")
            ]
        except OSError:
            found = []
        if len(found) == 1:
            return found[0][len("jsonschema-") : -len(".dist-info")]
    from importlib import metadata  # noqa: PLC0415

    try:
        return metadata.version("jsonschema")
    except metadata.PackageNotFoundError:
        return "unknown"


def load(root: Path | None = None, files: Iterable[Path] | None = None, *, cache: bool = True) -> VectorSet:
    """Load and check every vector file below ``root`` (or just ``files``).

    With ``cache`` (the default), the checks of a single file are skipped for files that already
    passed them with the same schema, catalog and code (see ``_SchemaCache``); ``lint --no-cache``
    passes ``cache=False`` to check everything from scratch.
    """
    root = Path(root or default_vectors_dir())
    vs = VectorSet(root=root)
    schema_path = root / "schema" / "vector-file.schema.json"
    try:
        schema_bytes = schema_path.read_bytes()
        schema = json.loads(schema_bytes)
        if not isinstance(schema, dict) or "case" not in schema.get("$defs", {}):
            raise ValueError("not the vector file schema (no $defs.case)")
        try:
            catalog_bytes = (root / "requirements.json").read_bytes()
        except OSError:
            catalog_bytes = b"(unreadable)"  # _checked_catalog reports it
        checked = _SchemaCache(cache_file() if cache else None, schema_bytes, catalog_bytes, memory=cache)
        problem = None
        schema_key = checked.key(checked.SCHEMA_ITSELF)
        schema_digest = hashlib.sha256(schema_bytes).hexdigest()
        if schema_key not in checked and cache and schema_digest in _SCHEMAS_PASSED:
            checked.add(schema_key)  # the same schema passed its own check in this process
        elif schema_key not in checked:
            import jsonschema  # noqa: PLC0415 (a load that skips every check never imports it)

            try:
                jsonschema.validators.validator_for(schema).check_schema(schema)
            except jsonschema.exceptions.SchemaError as exc:
                problem = exc.message
            else:
                checked.add(schema_key)
                _SCHEMAS_PASSED.add(schema_digest)
    except (OSError, ValueError, RecursionError) as exc:
        problem = str(exc) or type(exc).__name__
    if problem is not None:
        raise VectorsError(f"{schema_path}: the vector set's schema cannot be used: {problem}")
    validators = _Validators(schema)
    known_reqs, known_ambs, catalog_problems = _checked_catalog(root, _rel(root / "requirements.json", root))
    vs.problems += catalog_problems
    seen: dict[str, str] = {}
    for path in list(files) if files is not None else vector_files(root):
        vs.files.append(path)
        rel = _rel(path, root)
        try:
            data = path.read_bytes()
            doc = json.loads(data.decode("utf-8"))
            if checked.key(data) not in checked and _too_deep(doc):  # a known-good file is not
                raise RecursionError
        except (OSError, UnicodeDecodeError) as exc:
            vs.problems.append(Problem(rel, "file", "", f"cannot read: {exc}"))
            continue
        except json.JSONDecodeError as exc:
            vs.problems.append(Problem(rel, f"line {exc.lineno} column {exc.colno}", "", f"not valid JSON: {exc.msg}"))
            continue
        except RecursionError:
            vs.problems.append(
                Problem(rel, "file", "", f"arrays and objects nested too deeply (more than {MAX_DEPTH} levels)")
            )
            continue
        try:
            _load_file(vs, rel, data, doc, checked, validators, known_reqs, known_ambs, seen)
        except Exception as exc:  # noqa: BLE001 (one file's oddity never stops the others)
            vs.problems.append(Problem(rel, "file", "", f"cannot be checked: {type(exc).__name__}: {exc}"))
    checked.save()
    return vs


class _Validators:
    """The vector file schema's validators, for a whole file (``file``) and for one case
    (``case``), made on first use: a load whose files are all known good never imports jsonschema."""

    def __init__(self, schema: dict):
        self.schema = schema

    @functools.cached_property
    def _jsonschema(self):
        import jsonschema  # noqa: PLC0415

        return jsonschema

    @functools.cached_property
    def file(self):
        return self._jsonschema.validators.validator_for(self.schema)(self.schema)

    @functools.cached_property
    def case(self):
        return self._jsonschema.validators.validator_for(self.schema)(
            {"$schema": self.schema.get("$schema"), "$defs": self.schema["$defs"], "$ref": "#/$defs/case"}
        )

    def best(self, errors: list):
        """The error to report of several (jsonschema's choice)."""
        return self._jsonschema.exceptions.best_match(errors)


def _load_file(
    vs: VectorSet,
    rel: str,
    data: bytes,
    doc: Any,
    checked: "_SchemaCache",
    validators: _Validators,
    known_reqs: set | None,
    known_ambs: set | None,
    seen: dict,
) -> None:
    """Check one parsed vector file; its cases go to ``vs.cases``, its problems to ``vs.problems``."""
    key = checked.key(data)
    known_good = key in checked
    # File-level shape first (everything but the cases themselves).
    shell = dict(doc) if isinstance(doc, dict) else doc
    cases = shell.get("cases") if isinstance(shell, dict) else None
    if isinstance(shell, dict) and isinstance(cases, list):
        shell = {**shell, "cases": [{}]}  # cases are checked one by one below
    file_errors = (
        []
        if known_good
        else [e for e in validators.file.iter_errors(shell) if not (list(e.absolute_path)[:1] == ["cases"])]
    )
    if file_errors:
        for e in file_errors:
            vs.problems.append(Problem(rel, "file", _json_path(e.absolute_path) or "(top level)", e.message))
        return
    if not isinstance(cases, list):  # unreachable: the file schema asks for a list (and a known good file had one)
        raise ValueError(f"{rel}: 'cases' is not a list")
    area = doc["area"]
    clean = True  # no problem of any kind: the file may be recorded
    for i, raw in enumerate(cases):
        cid = raw.get("id") if isinstance(raw, dict) else None
        where = f"case {i}" + (f" ({cid})" if isinstance(cid, str) else "")
        errs = [] if known_good else sorted(validators.case.iter_errors(raw), key=lambda e: list(e.absolute_path))
        if errs:
            clean = False
            best = validators.best(errs)
            vs.problems.append(Problem(rel, where, _json_path(best.absolute_path) or "(case)", best.message))
            continue
        bad = _loopback_checked(key, i, raw) if known_good else _semantic_problems(raw, area, known_reqs, known_ambs)
        clean = clean and not bad
        if cid in seen:  # across files: checked on every load
            bad.append(("id", f"duplicate case ID, first defined in {seen[cid]}"))
        if bad:
            for fld, msg in bad:
                vs.problems.append(Problem(rel, where, fld, msg))
            continue
        assert isinstance(cid, str), f"{rel}: {where}: the case schema asks for a string id"
        seen[cid] = rel
        (vs.suite_cases if raw["op"] in SUITE_OPS else vs.cases).append(Case(id=cid, file=rel, index=i, raw=raw))
    if clean and not known_good:
        checked.add(key)


# The loopback check's findings in this process, by file digest and case index: the check reads
# nothing but the case, so the same bytes give the same findings. A process that loads the
# vector set again (the suite's own tests, which run the harness in-process) checks each file
# once; a new process checks again. Kept in memory only, at most _LOOPBACK_KEEP entries.
_LOOPBACK_SEEN: dict[tuple[str, int], list[tuple[str, str]]] = {}
_LOOPBACK_KEEP = 20_000


def _loopback_checked(key: str, index: int, raw: Any) -> list[tuple[str, str]]:
    found = _LOOPBACK_SEEN.get((key, index))
    if found is None:
        found = _loopback_problems(raw)
        if len(_LOOPBACK_SEEN) >= _LOOPBACK_KEEP:
            _LOOPBACK_SEEN.clear()
        _LOOPBACK_SEEN[(key, index)] = found
    return list(found)  # the caller adds to it


def _loopback_problems(raw: Any) -> list[tuple[str, str]]:
    """The check that keeps a network case on its own loopback mock hosts, alone: it runs for a
    file the cache knows as good too (a cache is never trusted to skip it)."""
    if not isinstance(raw, dict) or (raw.get("op") not in NETWORK_OPS and raw.get("op") not in SUITE_OPS):
        return []
    if not isinstance(raw.get("hosts"), dict) or not raw["hosts"]:
        return [("hosts", "discovery cases must describe the hosts")]
    return outside_hosts(raw)


# A URL's host, wherever a string of a case holds one ("https://HOST/...", "HOST:PORT" included).
_URL_HOST = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^/\s\"'<>?#@]*@)?(\[[^\]]*\]|[^/\s\"'<>?#:]*)")


def outside_hosts(raw: dict) -> list[tuple[str, str]]:
    """Hosts a network case would have an adapter contact that are not its own mock hosts.

    The mock hosts are loopback addresses given through placeholders (``{{a}}``, ``{{a.host}}``);
    any other host (a name, an outside address, another loopback address) in the app string's
    name or in a URL of the input or of what the hosts serve is a problem: the suite never lets
    a vector point an implementation off the machine. Returns (field, message) pairs.
    """
    from appc_conformance.servers.spec import FIRST_ADDRESS, HostsError, strings, substitute  # noqa: PLC0415

    hosts = raw.get("hosts")
    if not isinstance(hosts, dict):
        return []
    own = {f"127.0.0.{FIRST_ADDRESS + i}": sym for i, sym in enumerate(hosts)}
    values = {sym: {"netloc": f"{addr}:1", "host": addr} for addr, sym in own.items()}
    out: list[tuple[str, str]] = []

    def check(fld: str, host: str) -> None:
        host = host.strip("[]").lower()
        if host and "{" not in host and host not in own:  # "{...}": a URI template variable
            out.append(
                (
                    fld,
                    f"host {host!r} is none of the case's mock hosts ({', '.join(sorted(hosts))}, "
                    "written as {{SYMBOL}} or {{SYMBOL.host}}): vectors stay on the scenario's "
                    "loopback addresses",
                )
            )

    for fld in ("input", "hosts"):
        try:
            part = substitute(raw.get(fld), values)
        except HostsError:
            continue  # an unknown placeholder: servers.lint_case names it
        for text in strings(part):
            for m in _URL_HOST.finditer(text):
                check(fld, m.group(1))
            if text.startswith("//"):  # a scheme-relative URL (a redirect's target)
                check(fld, re.split(r"[/?#]", text[2:], maxsplit=1)[0].rsplit("@", 1)[-1].split(":")[0])
        if fld == "input" and isinstance(part, dict):
            dep = part.get("dependency")
            names = [part.get("app"), dep.get("imageName") if isinstance(dep, dict) else None]
            for name in names:
                if isinstance(name, str) and "://" not in name:
                    check("input", re.split(r"[/:,]", name, maxsplit=1)[0])
    return out


def _semantic_problems(raw: dict, area: str, known_reqs: set | None, known_ambs: set | None) -> list[tuple[str, str]]:
    out = []
    if not raw["id"].startswith(area + "/"):
        out.append(("id", f"case ID must start with the file's area '{area}/'"))
    for j, r in enumerate(raw["requirements"]):
        if known_reqs is not None and r not in known_reqs:
            out.append((f"requirements[{j}]", f"unknown requirement ID {r!r} (see vectors/requirements.json)"))
    for j, a in enumerate(raw.get("ambiguities", [])):
        if known_ambs is not None and known_ambs and a not in known_ambs:
            out.append((f"ambiguities[{j}]", f"unknown ambiguity ID {a!r} (see vectors/requirements.json)"))
    spec = raw.get("requests")
    for i, g in enumerate(spec if isinstance(spec, list) else [spec]):  # assertions naming their own
        where = f"requests[{i}]" if isinstance(spec, list) else "requests"
        for j, r in enumerate(g.get("requirements", []) if isinstance(g, dict) else []):
            if known_reqs is not None and r not in known_reqs:
                out.append(
                    (f"{where}.requirements[{j}]", f"unknown requirement ID {r!r} (see vectors/requirements.json)")
                )
    exp = raw["expect"]
    outcomes = exp.get("any_of", [exp])
    if raw["strength"] != "ambiguous" and "any_of" in exp and not raw.get("ambiguities"):
        out.append(("expect.any_of", "several accepted answers need 'ambiguities' naming why"))
    if (area in SUITE_AREAS or raw["op"] in SUITE_OPS) and SUITE_AREAS.get(area) != raw["op"]:
        out.append(
            (
                "op",
                f"the area {area!r} holds {SUITE_AREAS.get(area) or 'adapter'} cases, not "
                f"{raw['op']} cases (check_publisher cases go to the area publisher, alone)",
            )
        )
    if raw["op"] == "check_publisher":
        from appc_conformance.conformance import publisher_cases  # noqa: PLC0415 (what the publisher check reports)

        out += publisher_cases.problems(raw)
    if raw["op"] in NETWORK_OPS or raw["op"] in SUITE_OPS:
        if not raw.get("hosts"):
            out.append(("hosts", "discovery cases must describe the hosts"))
        else:
            from appc_conformance import servers  # noqa: PLC0415 - the host description format belongs to the mock servers

            out += [("hosts", p) for p in servers.lint_case(raw)]
            out += outside_hosts(raw)
    seen = []
    for j, o in enumerate(outcomes):
        out += outcome_problems(raw["op"], o, f"expect.any_of[{j}]" if "any_of" in exp else "expect")
        key = json.dumps(o, sort_keys=True)
        if key in seen:
            out.append((f"expect.any_of[{j}]", "the same accepted answer is listed twice"))
        seen.append(key)
    return out
