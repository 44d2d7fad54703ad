"""Text from adapters (answers, messages, the hello's name and version, stderr) and from
results files is untrusted: these functions make it safe to show.

``printable`` is for a terminal: every control character (C0 but tab and, when allowed, newline;
DEL; C1) and every bidirectional override or isolate is shown as an escape (``\\x1b``,
``\\u202e``), so an answer cannot clear the screen, set the window title, move the cursor or
forge a line with a carriage return. ``markdown`` is for Markdown text (a table cell, a list
item): the same, and HTML and Markdown syntax shown as the characters they are. ``markdown_code``
is for the inside of a code span.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and the bidi controls of Unicode
# (embeddings, overrides, isolates, marks that reorder text when shown).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_NL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def printable(text: object, newlines: bool = False) -> str:
    """``text`` with every control character shown as an escape; ``newlines`` keeps line feeds
    (a multi-line block), else they are escaped too (one line)."""
    return (_CONTROL if newlines else _CONTROL_NL).sub(_escape, str(text))


# Markdown's punctuation that can start or end inline syntax (emphasis, code, links, images,
# tables, headings, strikethrough, math) is escaped with a backslash, as CommonMark allows for any
# ASCII punctuation; & < > become entities, so no HTML (a tag, a comment) gets through; and what
# would start a block at the start of the text (a list item, an ordered list) is escaped there.
_MD = re.compile(r"[\\`*_\[\]|#~$]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_BLOCK_START = re.compile(r"^(\s*)([-+=]|\d+[.)])")


def _one_line(text: object) -> str:
    return printable(re.sub(r"\r\n|\r|\n", " ", str(text)))


def markdown(text: object, line_start: bool = False) -> str:
    """``text`` as Markdown text that renders as exactly these characters, on one line;
    ``line_start``: it starts a line or a list item, where ``- `` or ``1.`` would start a block."""
    one = _one_line(text)
    out = "".join(_ENTITIES.get(ch) or ("\\" + ch if _MD.match(ch) else ch) for ch in one)
    if not line_start:
        return out
    return _BLOCK_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], out, count=1)


def markdown_code(text: object) -> str:
    """``text`` for the inside of a code span in a table cell: literal there, but a backtick
    would end the span (shown as '), a pipe the cell (escaped, as GitHub's tables allow)."""
    return _one_line(text).replace("`", "'").replace("|", "\\|")
