"""Every link between the project's documents resolves: relative Markdown links (the file, and
the heading its #anchor names), and the references written as text, such as
``docs/DECISIONS.md, "Speed of a run"``, in the documents and in the code (a section that moves
to another document must take its references along)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)
# docs/NAME.md, "Title" / docs/NAME.md ("Title") / docs/NAME.md "Title" / ..., section "Title"
TEXT_REF = re.compile(
    r"((?:docs/)?[A-Z]+\.md|servers/README\.md),?\s+\(?(?:section\s+)?([\"'])((?:(?!\2)[^\n]|\n[ \t]*(?:#|//)?[ \t]*(?=\S)){3,90}?)\2"
)
SKIP = {".git", ".venv", ".tox", "build", "dist", "node_modules", "out", "appc-conformance-out"}


def _tracked(*patterns: str) -> list[Path]:
    try:
        names = subprocess.run(
            ["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        return [ROOT / n for n in names if (ROOT / n).is_file()]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: every such file
        return [p for pat in patterns for p in ROOT.rglob(pat) if not SKIP.intersection(p.relative_to(ROOT).parts)]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def headings(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return HEADING.findall(text)


def test_relative_links_in_markdown_resolve():
    broken = []
    for md in _tracked("*.md"):
        text = re.sub(r"```.*?```", "", md.read_text(encoding="utf-8"), flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
                continue
            path, _, anchor = target.partition("#")
            dest = (md.parent / path).resolve() if path else md
            where = f"{md.relative_to(ROOT)}: ({target})"
            if not dest.exists():
                broken.append(f"{where}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in {slug(h) for h in headings(dest)}:
                broken.append(f"{where}: no heading with that anchor")
    assert not broken, "\n".join(broken)


def _doc(name: str, referrer: Path) -> Path | None:
    for candidate in (ROOT / name, ROOT / "docs" / name, referrer.parent / name):
        if candidate.is_file():
            return candidate
    return None


def _titles(doc: Path) -> list[str]:
    """What a textual reference may name: a heading, or the bold lead of a paragraph or bullet."""
    text = doc.read_text(encoding="utf-8")
    leads = re.findall(r"^\s*(?:- )?\*\*([^*]+)\*\*", text, re.M)
    titles = [re.sub(r"[`*]", "", t) for t in headings(doc) + leads]
    return titles + [re.sub(r"^\d+(\.\d+)*\.?\s+", "", t) for t in titles]  # "9.1 Limits ...": "Limits ..."


def test_textual_references_to_sections_name_a_section_of_that_document():
    files = _tracked("*.md", "*.py", "*.go", "*.ini", "*.json", "*.toml", "*.sh", "*.yml")
    broken = []
    for f in files:
        if f.suffix == ".json" and "vectors" not in f.relative_to(ROOT).parts or f == Path(__file__):
            continue  # other JSON is data; this file's own examples are patterns
        for name, _, title in TEXT_REF.findall(f.read_text(encoding="utf-8", errors="replace")):
            title = re.sub(r"\s*\n[ \t]*(?:#|//)?[ \t]*", " ", title)  # a title broken across lines
            doc = _doc(name, f)
            if doc is None:
                broken.append(f"{f.relative_to(ROOT)}: {name} does not exist")
                continue
            if not any(t.startswith(title) for t in _titles(doc)):
                broken.append(f"{f.relative_to(ROOT)}: {name} has no section {title!r}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize(
    "heading, anchor",
    [
        ("1. Transport", "1-transport"),
        ("6.1 `fetch` (protocol 1.1, optional)", "61-fetch-protocol-11-optional"),
        ("Changes in 1.1", "changes-in-11"),
    ],
)
def test_slug_is_githubs(heading, anchor):
    assert slug(heading) == anchor
