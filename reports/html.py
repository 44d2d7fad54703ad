"""The HTML compatibility matrix: one self-contained file (inline CSS and JS, no network).

Filters and the open drill-down live in the URL fragment, so a link shows what its sender saw:
``report.html#verdict=fail,crash&profile=appc-0.8.11&strength=must&q=tag&case=ID@PROFILE``.
"""

from __future__ import annotations

import functools
import io
import json
import os
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache

from appc_conformance import cache
from appc_conformance.reports.model import (
    KNOWN_FAILURE,
    NOW_PASSES,
    PORT_MODES,
    STATUSES,
    Model,
    incomplete_runs,
    partial_runs,
    partial_text,
    public_arg,
    public_path,
)
from appc_conformance.reports.results import FAILING, SKIPPING, VERDICTS

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _pretty(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False)


def _ms(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return ""
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


MAX_COMPILED = 4 * 1024 * 1024  # a compiled template's cache entry over this is not read


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """The templates compiled by an earlier run, kept in the suite's cache folder (compiling
    them costs a report about a sixth of a second). Jinja keys each entry by the template's
    source and its own and Python's versions. An optimisation only: a folder that cannot be
    read or written, or an unreadable entry, means compiling again, never a failed report.
    An entry is named by the template's name alone (not its path), so the folder holds one per
    template however many copies of the suite a machine runs; a copy whose template differs
    compiles it again. An entry is code that the report runs, so it is read only from a folder
    and a file that this user owns and nobody else can write (and not through a link), only a
    regular file of at most MAX_COMPILED bytes (``cache.read_private``: a FIFO or a device is
    never opened for reading); a cache folder set elsewhere that others can write to is not used."""

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return super().get_cache_key(name)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            data = cache.read_private(self._get_cache_filename(bucket), MAX_COMPILED)
            if data is not None:
                bucket.load_bytecode(io.BytesIO(data))
        except Exception:  # noqa: BLE001 (whatever an entry holds, the template is compiled again)
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            if cache.private_folder(self.directory):
                super().dump_bytecode(bucket)
        except OSError:
            pass


@functools.cache
def environment() -> jinja2.Environment:
    """The one template environment of this process (it keeps the templates it compiled)."""
    folder = cache.cache_dir()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=None if folder is None else _CompiledTemplates(str(folder / "templates")),
    )
    env.filters["pretty"] = _pretty
    env.filters["ms"] = _ms
    env.filters["public_arg"] = public_arg
    env.filters["public_path"] = public_path
    return env


def render(model: Model, title: str = "appc conformance: compatibility report") -> str:
    hashes = sorted({v for c in model.columns if isinstance(v := c.results.run.get("vectors_hash"), str) and v})
    suite = sorted({v for c in model.columns if isinstance(v := c.results.run.get("suite_version"), str) and v})
    reqs_by_id = {r.id: r for r in model.requirements}
    rows = []
    for row in model.rows:
        expected = [c.get("expected") for c in row.cells if c is not None]
        same_expected = all(e == expected[0] for e in expected)
        sent = next((c for c in row.cells if c is not None and "input" in c), None)
        # the search box finds a case by what it sent, too (the input's JSON, its start)
        search_input = (
            ""
            if sent is None
            else (sent["input"] if isinstance(sent["input"], str) else json.dumps(sent["input"], ensure_ascii=False))[
                :300
            ]
        )
        rows.append(
            {
                "row": row,
                "expected": expected[0] if expected else None,
                "same_expected": same_expected,
                "sent": sent,
                "search_input": search_input,
            }
        )
    totals = {s: 0 for s in STATUSES}
    for r in model.rows:
        for x in r.statuses():
            if x is not None:
                totals[x] = totals.get(x, 0) + 1
    # The verdict filter: every verdict, and the known-failure statuses when a run has them.
    shown = [s for s in totals if s in VERDICTS or totals[s]]
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            title=title,
            model=model,
            rows=rows,
            verdicts=shown,
            failing=(*FAILING, KNOWN_FAILURE),
            skipping=SKIPPING,
            hashes=hashes,
            suite_versions=suite,
            reqs_by_id=reqs_by_id,
            verdict_totals=totals,
            known_failure=KNOWN_FAILURE,
            now_passes=NOW_PASSES,
            port_modes=PORT_MODES,
            incomplete=incomplete_runs(model),
            partial=[partial_text(c, s) for c, s in partial_runs(model)],
        )
    )


def write(model: Model, path: str | Path, title: str | None = None) -> Path:
    p = Path(path)
    p.write_text(render(model, **({"title": title} if title else {})), encoding="utf-8")
    return p
