"""A badge per implementation for an implementer's README: a shields.io endpoint JSON and an SVG.

``badge-NAME.json`` follows the shields.io endpoint schema (``schemaVersion`` 1, ``label``,
``message``, ``color``): a README shows it through the shields.io endpoint badge, pointed at the
file's public URL. ``badge-NAME.svg`` is the same badge drawn here (a Jinja2 template, nothing
fetched), for a README that links the file directly. NAME is the NAME of a results file named
``results-NAME.json`` (as ``run`` names them: the implementation's registry ID, or ``--name``
for an adapter given by ``--adapter-cmd``), so a run's results and badges are named alike; for a
results file named otherwise, the implementation's registry ID or its adapter's name.

The message is the headline score of the reports (passed over attempted cases, every profile of
the run), with the share of the vector set attempted when it is not all of it:
``97% pass · 80% attempted``; the share is of the profiles the implementation declares (a profile
it declined at the handshake, ``run.declined_profiles``, is left out). A ``--case`` or
``--profile`` subset says so: ``100% pass · subset: 13 of 1280 case runs``. An implementation that attempted nothing reads "not implemented",
one that could not be run "not available"; an incomplete run says so. The colour follows the
score; grey when there is no score.
"""

from __future__ import annotations

import re
from pathlib import Path

from appc_conformance.reports.model import Column, Counts, Model

LABEL = "appc conformance"
TEMPLATES = Path(__file__).resolve().parent / "templates"

#: (lowest score, colour), first match wins: the shields.io named colours and their hex values.
COLOURS = (
    (100.0, "brightgreen"),
    (95.0, "green"),
    (80.0, "yellowgreen"),
    (60.0, "yellow"),
    (40.0, "orange"),
    (0.0, "red"),
)
HEX = {
    "brightgreen": "#4c1",
    "green": "#97ca00",
    "yellowgreen": "#a4a61d",
    "yellow": "#dfb317",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "lightgrey": "#9f9f9f",
}


def badge_name(col: Column) -> str:
    """The NAME of ``badge-NAME.json``: that of ``results-NAME.json``, else the implementation's
    key; safe as a file name."""
    m = re.fullmatch(r"results-(.+)\.json", Path(str(col.results.path)).name)
    key = m[1] if m else col.results.impl_key
    return re.sub(r"[^A-Za-z0-9._-]+", "-", key).strip("-.") or "implementation"


def endpoint(model: Model, col: Column) -> dict:
    """The shields.io endpoint document for one column."""
    if not col.available:
        return {"schemaVersion": 1, "label": LABEL, "message": "not available", "color": "lightgrey"}
    t = declared_totals(model, col)
    if t.percent is None:
        message, color = ("not implemented" if t.not_implemented else "no cases"), "lightgrey"
    else:
        message = f"{t.percent_text()} pass"
        if t.attempted < t.graded:
            message += f" · {t.coverage_text()} attempted"
        # the colour never shows a failure as a full pass (99.6 % is not brightgreen)
        color = next(c for floor, c in COLOURS if t.percent >= floor)
    sel = col.results.selection
    if sel:  # a --case or --profile subset: never read as the whole suite
        message += f" · subset: {sel.get('selected')} of {sel.get('of')} case runs"
    if col.results.run.get("incomplete") is True:
        message += " (incomplete run)"
    return {"schemaVersion": 1, "label": LABEL, "message": message, "color": color}


def declared_totals(model: Model, col: Column) -> Counts:
    """The column's totals over the profiles the implementation declares: a profile it declined
    at the handshake (``run.declined_profiles``) is not part of what it could have attempted, so
    a 0.8.11-only implementation reads the same whether or not the run offered it the other."""
    declined = set(col.results.run.get("declined_profiles") or ())
    if not declined:
        return model.totals[col.index]
    out = Counts()
    for profile, per_col in model.totals_by_profile.items():
        if profile not in declined:
            c = per_col[col.index]
            out.by_verdict.update(c.by_verdict)
            out.by_status.update(c.by_status)
            out.known += c.known
            out.now_passing += c.now_passing
            out.unclassified += c.unclassified
    return out


# Approximate advance widths of Verdana 11 px (the font shields.io badges use), in pixels.
_NARROW = set("fijlrtI.,:;!|'() ")
_WIDE = set("mwMW%@")


def text_width(text: str) -> int:
    w = 0.0
    for ch in text:
        w += 3.9 if ch in _NARROW else 10.0 if ch in _WIDE else 8.0 if ch.isupper() else 7.0
    return int(round(w))


def svg(doc: dict) -> str:
    """The endpoint document drawn as a flat badge (self-contained SVG)."""
    from appc_conformance.reports.html import environment  # noqa: PLC0415 (the reports' Jinja2 set-up)

    label, message = doc["label"], doc["message"]
    lw, mw = text_width(label) + 10, text_width(message) + 10
    return (
        environment()
        .get_template("badge.svg.j2")
        .render(label=label, message=message, lw=lw, mw=mw, colour=HEX.get(doc["color"], doc["color"]))
    )


def render(model: Model) -> dict[str, bytes]:
    """``{file name: content}``: badge-NAME.json and badge-NAME.svg for every column."""
    import json  # noqa: PLC0415

    out: dict[str, bytes] = {}
    for col in model.columns:
        name, n = badge_name(col), 2
        while f"badge-{name}.json" in out:  # two runs of one implementation in one report
            name, n = f"{badge_name(col)}-{n}", n + 1
        doc = endpoint(model, col)
        out[f"badge-{name}.json"] = (json.dumps(doc, ensure_ascii=False) + "\n").encode()
        out[f"badge-{name}.svg"] = svg(doc).encode()
    return out
