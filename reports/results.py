"""Results files: read them (with errors that name the file and the place) and write them atomically.

A results file is one run of the suite against one implementation; its JSON Schema is
``reports/schema/results.schema.json``. The harness calls :func:`write_results`; every
report, diff and check calls :func:`load_results`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

# The verdicts are the grading module's (one definition); FAILING: a conformance failure,
# SKIPPING: neither pass nor failure; ENVIRONMENT_SKIP: the environment could not run the case
# (e.g. ports 443/80 not permitted), which says nothing about the implementation, so
# percentages leave it out. Re-exported: the reports import them from here.
from appc_conformance.conformance.grading import FAILING, PASS, SKIPPING, VERDICTS, Verdict  # noqa: F401
from appc_conformance.conformance.grading import SKIPPED as ENVIRONMENT_SKIP  # noqa: F401

FORMAT = "appc-conformance-results"
FORMAT_VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "results.schema.json"


class ResultsError(Exception):
    """A results file that cannot be used; ``str()`` names the file and the place."""

    def __init__(self, path: str | os.PathLike | None, where: str, message: str):
        self.path = str(path) if path is not None else "<results>"
        self.where = where
        self.message = message
        loc = self.path + (f": {where}" if where else "")
        super().__init__(f"{loc}: {message}")


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _json_path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _case_label(data: Any, parts: list) -> str:
    """'cases[3] (app-strings/x/y [appc-0.8.11])' for an error inside a case, else ''."""
    if len(parts) >= 2 and parts[0] == "cases" and isinstance(parts[1], int):
        try:
            c = data["cases"][parts[1]]
            return f" ({c.get('id')} [{c.get('profile')}])" if isinstance(c, dict) and "id" in c else ""
        except (KeyError, IndexError, TypeError):
            return ""
    return ""


def validate(data: Any, path: str | os.PathLike | None = None) -> None:
    """Raise :class:`ResultsError` unless ``data`` is a valid results document."""
    if not isinstance(data, dict):
        raise ResultsError(path, "(top level)", f"expected a JSON object, found {type(data).__name__}")
    fmt = data.get("format")
    if fmt != FORMAT:
        raise ResultsError(
            path, "field 'format'", f"not an appc conformance results file (format is {fmt!r}, expected {FORMAT!r})"
        )
    version = data.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise ResultsError(
            path,
            "field 'format_version'",
            f"written by a newer suite (format version {version}); "
            f"this one reads version {FORMAT_VERSION}: upgrade appc-conformance",
        )
    import jsonschema  # noqa: PLC0415 (only readers validate: the harness writes without it)

    validator_cls = jsonschema.validators.validator_for(schema())
    errors = list(validator_cls(schema()).iter_errors(data))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        parts = list(best.absolute_path)
        where = f"field '{_json_path(parts)}'{_case_label(data, parts)}" if parts else "(top level)"
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise ResultsError(path, where, best.message + more)
    seen: dict[tuple, int] = {}
    profiles = set(data["run"]["profiles"])
    for i, c in enumerate(data["cases"]):
        key = (c["id"], c["profile"])
        if key in seen:
            raise ResultsError(
                path,
                f"field 'cases[{i}]' ({c['id']} [{c['profile']}])",
                f"the same case and profile appear twice (first at cases[{seen[key]}])",
            )
        seen[key] = i
        if profiles and c["profile"] not in profiles:
            raise ResultsError(
                path,
                f"field 'cases[{i}].profile' ({c['id']})",
                f"profile {c['profile']!r} is not among the run's profiles {sorted(profiles)}",
            )


#: How deeply a results file may nest arrays and objects: a record (3 levels) holds an answer
#: (the harness takes 64) and a case's expect object (a vector file nests at most 100).
MAX_DEPTH = 200


def too_deep(doc, limit: int) -> bool:
    """Whether ``doc`` (as json.loads gives it) nests arrays and objects more than ``limit``
    levels: level by level, without recursion (7 ms for a results file of 2,600 records)."""
    level = [doc] if type(doc) is dict or type(doc) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        nxt: list = []
        for v in level:
            nxt.extend(v.values() if type(v) is dict else v)
        level = [v for v in nxt if type(v) is dict or type(v) is list]
    return False


def loads_bounded(text: str, limit: int):
    """``json.loads(text)``; RecursionError (from the decoder, or when the document nests more than
    ``limit`` levels, which later readers such as jsonschema would recurse into) says so."""
    data = json.loads(text)  # the decoder raises RecursionError past the interpreter's limit
    if too_deep(data, limit):
        raise RecursionError
    return data


def parse(text: str, path: str | os.PathLike | None = None) -> dict:
    """Parse and validate the text of a results file."""
    if not text.strip():
        raise ResultsError(path, "", "the file is empty (was the run interrupted before it wrote results?)")
    try:
        data = loads_bounded(text, MAX_DEPTH)
    except RecursionError:
        raise ResultsError(
            path, "", f"arrays and objects nested too deeply (more than {MAX_DEPTH} levels): not a results file"
        ) from None
    except json.JSONDecodeError as exc:
        # The decoder reports an unterminated string, or an error at the very end, only when
        # the text stops before the document does.
        truncated = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        if truncated:
            msg = (
                f"truncated: the file ends before the JSON document does (interrupted run or copy?); "
                f"JSON decoder: {exc.msg}"
            )
        else:
            msg = f"not valid JSON: {exc.msg}"
        raise ResultsError(path, f"line {exc.lineno} column {exc.colno}", msg) from None
    validate(data, path)
    return data


@dataclass
class Results:
    """A loaded, valid results file. ``data`` is the document exactly as read."""

    path: str
    data: dict

    @property
    def run(self) -> dict:
        return self.data["run"]

    @property
    def implementation(self) -> dict:
        return self.data["implementation"]

    @property
    def cases(self) -> list[dict]:
        return self.data["cases"]

    @property
    def available(self) -> bool:
        return bool(self.implementation.get("available"))

    @property
    def impl_key(self) -> str:
        """The implementation's registry ID, or its name for an external adapter."""
        impl = self.implementation
        return impl.get("id") or impl["name"]

    @property
    def label(self) -> str:
        impl = self.implementation
        version = impl.get("version")
        return impl["name"] + (f" {version}" if version else "")

    def by_key(self) -> dict[tuple[str, str], dict]:
        """``{(case ID, profile): case}``."""
        return {(c["id"], c["profile"]): c for c in self.cases}

    @property
    def incomplete(self) -> bool:
        """The run stopped before every case run it selected had run (``run.incomplete``)."""
        return self.run.get("incomplete") is True

    @property
    def not_run(self) -> list[str]:
        """The selected case runs that did not run, as 'CASE-ID [PROFILE]'."""
        return list(self.run.get("not_run") or [])

    @property
    def selection(self) -> dict | None:
        """A partial run by choice (``run.selection``): ``{"selected", "of", "by"}``, else None."""
        sel = self.run.get("selection")
        return sel if isinstance(sel, dict) else None

    def incomplete_line(self) -> str | None:
        """One loud line for the console when the run is incomplete, else None."""
        if not self.incomplete:
            return None
        n = len(self.not_run)
        some = ", ".join(self.not_run[:3]) + (", ..." if n > 3 else "")
        return (
            f"INCOMPLETE: {self.path} is an interrupted run: {n} selected case runs did not run"
            + (f" ({some})" if n else "")
            + "; its verdicts cover only what ran"
        )

    def selection_line(self) -> str | None:
        """One line for a partial run by choice, else None."""
        sel = self.selection
        if sel is None:
            return None
        by = ", ".join(sel.get("by") or []) or "a selection"
        return f"partial run: {self.path} ran {sel.get('selected')} of {sel.get('of')} case runs ({by})"


def load_results(path: str | os.PathLike) -> Results:
    """Read and validate one results file; raise :class:`ResultsError` naming it on any problem."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ResultsError(p, "", "no such file") from None
    except OSError as exc:
        raise ResultsError(p, "", f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResultsError(p, f"byte {exc.start}", "not UTF-8 text") from None
    return Results(str(p), parse(text, p))


#: A UTF-16 surrogate code point on its own: JSON text may spell one ("\\ud800"), Python keeps it
#: in a string, but UTF-8 cannot encode it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(data: dict) -> str:
    """The text of a results file: indented, with each case on one line.

    Readable and diffable line by line, and fast: ``json.dumps`` with ``indent`` runs the
    pure-Python encoder, which over thousands of cases costs more than the rest of the write.

    Always valid UTF-8 JSON: a lone surrogate in any string (an adapter may send "\\ud800", a
    vector may hold one) becomes U+FFFD, the replacement character, as a UTF-8 decoder does
    with a byte it cannot read. Nothing else of the document changes.
    """
    if len(data) < 2 or not isinstance(data.get("cases"), list) or not data["cases"] or list(data)[-1] != "cases":
        text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    else:
        head = {k: v for k, v in data.items() if k != "cases"}
        text = json.dumps(head, indent=1, ensure_ascii=False)
        body = ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in data["cases"])
        text = text[:-2] + ',\n "cases": [\n' + body + "\n ]\n}\n"
    # With ensure_ascii=False a surrogate can only stand inside a string as itself: replace it there.
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def write_results(path: str | os.PathLike, data: dict, *, validate_first: bool = True) -> Path:
    """Write a results document atomically: a temporary file beside ``path``, then ``os.replace``.

    An interrupted run leaves either the previous file or the complete new one, never half a
    file. The document is validated first (``ResultsError`` names the field), so a harness bug
    shows at once instead of in the report. Returns the path written.
    """
    target = Path(path)
    if validate_first:
        validate(data, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(data)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable; not every filesystem allows opening a directory
        dfd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return target
