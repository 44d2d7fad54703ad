"""Where identifiers and tags sit in the inputs, and how to swap them out.

Used to find the parts of an input that touch an ambiguity (docs/DECISIONS.md, AMB-xx) and to
build the "other reading" of that input, which the reference then answers. Nothing here decides
an answer: the app string is only split as its documented grammar says (``NAME[:VALUE][,K=V]*``,
APP-01..04), documents only as JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

# The spec's regular expression for an AC Identifier (TYPE-04) and the prose reading without
# the adjacency rule (AMB-26: only the characters and the first and last one are checked).
STRICT_IDENTIFIER = re.compile(r"^[a-z0-9]+([-._~/][a-z0-9]+)*$")
RELAXED_IDENTIFIER = re.compile(r"^[a-z0-9]([a-z0-9._~/-]*[a-z0-9])?$")
# Tags every reading accepts (AMB-23 leaves the tag syntax open; these are the vectors' plain tags).
PLAIN_TAG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
# What AMB-28 leaves open: the case and the length of the digest.
HEXISH_IMAGE_ID = re.compile(r"^sha512-[0-9a-fA-F]+$")
CANONICAL_IMAGE_ID = re.compile(r"^sha512-[0-9a-f]{128}$")


def adjacent_only(value: Any) -> bool:
    """An identifier only the prose reading accepts: valid but for adjacent separators (AMB-26)."""
    return isinstance(value, str) and bool(RELAXED_IDENTIFIER.match(value)) and not STRICT_IDENTIFIER.match(value)


def plain_tag(value: Any) -> bool:
    return isinstance(value, str) and bool(PLAIN_TAG.match(value))


def placeholder(i: int, original: str) -> str:
    """A strict identifier standing in for ``original``; keeps "has a domain" for names."""
    first = original.split("/", 1)[0]
    return f"amb{i}.example/p" if "." in first else f"amb{i}x"


# --- app strings -------------------------------------------------------------------------------


@dataclass
class AppParts:
    """``NAME[:COLON][,KEY[=VALUE]]*`` split losslessly: ``join()`` gives the string back."""

    name: str
    colon: Optional[str]
    items: list = field(default_factory=list)  # [(key, value or None when the item has no '=')]

    @classmethod
    def split(cls, app: str) -> "AppParts":
        head, *rest = app.split(",")
        name, colon = head.split(":", 1) if ":" in head else (head, None)
        items = [tuple(it.split("=", 1)) if "=" in it else (it, None) for it in rest]
        return cls(name, colon, [tuple(i) for i in items])

    def join(self) -> str:
        out = self.name + (":" + self.colon if self.colon is not None else "")
        for key, value in self.items:
            out += "," + key + ("=" + value if value is not None else "")
        return out

    def keys(self) -> list:
        return [k for k, _ in self.items]

    def copy(self) -> "AppParts":
        return AppParts(self.name, self.colon, list(self.items))

    def tag_values(self, profile: str) -> list:
        """The tags the string gives under the image tags draft (colon value and ``tag=`` items)."""
        if profile != "appc-imagetags":
            return []
        out = [self.colon] if self.colon is not None else []
        return out + [v for k, v in self.items if k == "tag" and v is not None]

    def has_version(self, profile: str) -> bool:
        return (profile == "appc-0.8.11" and self.colon is not None) or "version" in self.keys()


def app_identifiers(app: str) -> list:
    """The strings at identifier positions of an app string: the name and every label key."""
    p = AppParts.split(app)
    return [p.name] + p.keys()


def rename_app(app: str, mapping: dict) -> str:
    p = AppParts.split(app)
    p.name = mapping.get(p.name, p.name)
    p.items = [(mapping.get(k, k), v) for k, v in p.items]
    return p.join()


# --- JSON documents ----------------------------------------------------------------------------


def loads_object(text: Any) -> Optional[dict]:
    """The document as a dict when it is a JSON object (standard JSON only), else None."""
    if not isinstance(text, str):
        return None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, TypeError):
        return None
    return doc if isinstance(doc, dict) else None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False)


def _label_list_names(labels: Any, visit: Callable[[str], Any], holder: Any = None) -> None:
    if isinstance(labels, list):
        for item in labels:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                item["name"] = visit(item["name"])


def manifest_identifiers(doc: dict, visit: Callable[[str], Any]) -> None:
    """Call ``visit`` on every identifier of a manifest (in place: its return value replaces it)."""
    if isinstance(doc.get("name"), str):
        doc["name"] = visit(doc["name"])
    _label_list_names(doc.get("labels"), visit)
    deps = doc.get("dependencies")
    if isinstance(deps, list):
        for dep in deps:
            if isinstance(dep, dict):
                if isinstance(dep.get("imageName"), str):
                    dep["imageName"] = visit(dep["imageName"])
                _label_list_names(dep.get("labels"), visit)
    _label_list_names(doc.get("annotations"), visit)


def imagetags_label_names(doc: dict, visit: Callable[[str], Any]) -> None:
    """Call ``visit`` on every label name of an image tags document (in place, keys renamed)."""
    labels = doc.get("labels")
    if not isinstance(labels, dict):
        return
    for tag, entry in list(labels.items()):
        if isinstance(entry, dict):
            labels[tag] = {visit(k): v for k, v in entry.items()}


def imagetags_tags(doc: dict) -> list:
    """Every tag a document names: alias keys, alias targets that are strings, labels keys."""
    out = []
    aliases, labels = doc.get("aliases"), doc.get("labels")
    if isinstance(aliases, dict):
        out += list(aliases) + [t for t in aliases.values() if isinstance(t, str)]
    if isinstance(labels, dict):
        out += list(labels)
    return out


def alias_walk(doc: dict, tag: str) -> tuple:
    """Follow the aliases from ``tag``: (tags visited in order, True when they loop)."""
    aliases = doc["aliases"] if isinstance(doc.get("aliases"), dict) else {}
    seen = [tag]
    while tag in aliases and isinstance(aliases[tag], str):
        tag = aliases[tag]
        if tag in seen:
            return seen, True
        seen.append(tag)
    return seen, False
