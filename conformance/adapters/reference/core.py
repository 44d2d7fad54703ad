"""The reference semantics of everything that needs no network.

Written from the spec (types.md, aci.md), the image tags draft, and, for app strings, the
library's documented grammar. Choices the spec leaves open are in docs/DECISIONS.md.
Standard library only: this module is an implementation under test like any other.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, NoReturn
from urllib.parse import urlsplit

from .errors import RefError

PROFILE_0811 = "appc-0.8.11"
PROFILE_TAGS = "appc-imagetags"

AC_IDENTIFIER = re.compile(r"^[a-z0-9]+([-._~/][a-z0-9]+)*$")
AC_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
IMAGE_ID = re.compile(r"^sha512-[0-9a-f]+$")
# aci.md: the combinations whitelisted by default (an implementation may add more).
VALID_OS_ARCH = {
    "linux": {"amd64", "i386"},
    "freebsd": {"amd64", "i386", "arm"},
    "darwin": {"x86_64", "i386"},
}


def is_ac_identifier(value: Any) -> bool:
    return isinstance(value, str) and AC_IDENTIFIER.match(value) is not None


def check_identifier(value: Any, what: str, kind: str = "invalid-identifier") -> str:
    if not is_ac_identifier(value):
        raise RefError(kind, f"{what} {value!r} is not an AC Identifier")
    return value


# --- app strings -------------------------------------------------------------------------


def parse_app(app: str, profile: str) -> dict:
    """``NAME[:VALUE][,KEY=VALUE]*``; the colon's value is ``version`` (0.8.11) or the tag."""
    if not isinstance(app, str):
        raise RefError("invalid-app-string", "the app string must be a string")
    first_comma = app.find(",")
    first_colon = app.find(":")
    if app.count(":") > 1:
        raise RefError("invalid-app-string", "a colon may appear at most once")
    if first_colon > first_comma > -1:
        raise RefError("invalid-app-string", "the colon may only follow the name")
    head, *items = app.split(",")
    colon_value = None
    if first_colon > -1:
        head, colon_value = head.split(":", 1)
    colon_key = "version" if profile == PROFILE_0811 else "tag"
    pairs: list[tuple[str, str]] = [("name", head)]
    if colon_value is not None:
        pairs.append((colon_key, colon_value))
    for item in items:
        if "=" not in item:
            raise RefError("invalid-app-string", f"label {item!r} has no value")
        key, value = item.split("=", 1)
        pairs.append((key, value))
    seen: dict[str, str] = {}
    for key, value in pairs:
        if key in seen:
            raise RefError("invalid-app-string", f"label {key!r} is given more than once")
        seen[key] = value
    name = check_identifier(seen.pop("name"), "the image name")
    tag = None
    if profile == PROFILE_TAGS:
        tag = seen.pop("tag", None) or None  # an empty tag is no tag
    labels = {check_identifier(k, "the label name"): v for k, v in seen.items()}
    return {"name": name, "tag": tag, "labels": labels}


# --- image tags documents ------------------------------------------------------------------

# One function per rule of the document, looked up by name at each use, as for manifests below.


def imagetags_members(doc: dict) -> tuple:
    """``aliases`` and ``labels``; a missing one is empty, other members are ignored."""
    return doc.get("aliases", {}), doc.get("labels", {})


def check_alias_target(tag: str, target: Any, aliases: dict, labels: dict) -> None:
    if not isinstance(target, str):
        raise RefError("invalid-imagetags", f"alias {tag!r} does not point to a string")


def check_tag_label_name(name: str, tag: str) -> None:
    check_identifier(name, f"label name of tag {tag!r}", "invalid-imagetags")


def check_tag_label_value(name: str, value: Any, tag: str) -> None:
    if not isinstance(value, str):
        raise RefError("invalid-imagetags", f"label {name!r} of tag {tag!r} is not a string")


def load_imagetags(text: str) -> dict:
    """Parse and check an image tags document; returns ``{"aliases": {...}, "labels": {...}}``."""
    try:
        doc = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise RefError("invalid-imagetags", f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise RefError("invalid-imagetags", "the document is not a JSON object")
    aliases, labels = imagetags_members(doc)
    if not isinstance(aliases, dict):
        raise RefError("invalid-imagetags", "'aliases' is not an object")
    if not isinstance(labels, dict):
        raise RefError("invalid-imagetags", "'labels' is not an object")
    for tag, target in aliases.items():
        check_alias_target(tag, target, aliases, labels)
    for tag, entry in labels.items():
        if not isinstance(entry, dict):
            raise RefError("invalid-imagetags", f"labels of tag {tag!r} are not an object")
        for name, value in entry.items():
            check_tag_label_name(name, tag)
            check_tag_label_value(name, value, tag)
    return {"aliases": aliases, "labels": labels}


def validate_imagetags(text: str) -> dict:
    load_imagetags(text)
    return {"valid": True}


def resolve_tag(text: str, tag: str) -> dict:
    doc = load_imagetags(text)
    aliases = doc["aliases"]
    seen = {tag}
    while tag in aliases:
        tag = aliases[tag]
        if tag in seen:
            raise RefError("alias-cycle", f"aliases loop back to {tag!r}")
        seen.add(tag)
    if tag not in doc["labels"]:
        raise RefError("tag-not-found", f"tag {tag!r} has no labels")
    return {"labels": dict(doc["labels"][tag])}


def merge_tag(text: str | None, labels: dict, tag: str | None) -> dict:
    """Labels merging of the draft; phase 2 (no tag) is checked first (docs/DECISIONS.md)."""
    labels = dict(labels)
    if not tag:
        return {"labels": labels}
    if text is None:
        if "version" in labels:
            raise RefError(
                "version-conflict", f"tag {tag!r} cannot become the version: version={labels['version']!r} is given"
            )
        labels["version"] = tag
        return {"labels": labels}
    for name, value in resolve_tag(text, tag)["labels"].items():
        labels.setdefault(name, value)
    return {"labels": labels}


# --- image manifests -----------------------------------------------------------------------


def _fail(message: str) -> NoReturn:
    raise RefError("invalid-manifest", message)


# One function per rule of the manifest schema (docs/image.md), looked up by name at each use:
# the sensitivity catalogue (tests/fakes/mutants.py) breaks a rule by replacing its function.


def members(obj: dict) -> dict:
    """The members of a JSON object, as the manifest reads them: by their exact names."""
    return obj


def check_label_name(name: Any, where: str) -> None:
    if not is_ac_identifier(name):
        _fail(f"{where}.name {name!r} is not an AC Identifier")
    if name == "name":
        _fail(f"{where}: a label cannot be called 'name'")


def check_label_value(value: Any, where: str) -> None:
    if not isinstance(value, str):
        _fail(f"{where}.value is not a string")


def check_unique_label(name: Any, seen: dict, where: str) -> None:
    if name in seen:
        _fail(f"{where}: label {name!r} appears twice")


def check_os_arch(labels: dict, where: str) -> None:
    os_ = labels.get("os")
    if os_ is not None:
        if os_ not in VALID_OS_ARCH:
            _fail(f"{where}: os {os_!r} is not supported")
        if "arch" in labels and labels["arch"] not in VALID_OS_ARCH[os_]:
            _fail(f"{where}: arch {labels['arch']!r} is not supported for os {os_!r}")


def check_labels(value: Any, where: str) -> dict:
    if not isinstance(value, list):
        _fail(f"{where} is not a list")
    # Checked by the rule functions, which a mutant of the sensitivity runs may skip: Any.
    out: dict[Any, Any] = {}
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            _fail(f"{where}[{i}] is not an object")
        item = members(item)
        name, val = item.get("name"), item.get("value")
        check_label_name(name, f"{where}[{i}]")
        check_label_value(val, f"{where}[{i}]")
        check_unique_label(name, out, where)
        out[name] = val
    check_os_arch(out, where)
    return out


def check_ackind(kind: Any) -> None:
    if kind != "ImageManifest":
        _fail("acKind must be 'ImageManifest'")


def check_acversion(version: Any) -> None:
    if not isinstance(version, str) or not SEMVER.match(version):
        _fail(f"acVersion {version!r} is not a SemVer version")


def check_image_name(value: Any, where: str) -> None:
    if not is_ac_identifier(value):
        _fail(f"{where}.imageName {value!r} is not an AC Identifier")


def check_image_id(value: Any, where: str) -> None:
    if not (isinstance(value, str) and IMAGE_ID.match(value)):
        _fail(f"{where}.imageID {value!r} is not a sha512 Image ID")


def check_dependency_labels(value: Any, where: str) -> None:
    check_labels(value, where)


def check_size(value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _fail(f"{where}.size is not a non-negative integer")


def check_dependency_tag(value: Any, where: str, profile: str) -> None:
    if profile == PROFILE_TAGS and not isinstance(value, str):
        _fail(f"{where}.tag is not a string")


def check_annotation_name(name: Any, where: str) -> None:
    if not is_ac_identifier(name):
        _fail(f"{where}.name is not an AC Identifier")


def check_unique_annotation(name: Any, seen: set, where: str) -> None:
    """aci.md: annotation names are unique within the list."""
    if name in seen:
        _fail(f"{where}: annotation {name!r} appears twice")


# aci.md: these annotations hold URLs whose scheme is http or https.
URL_ANNOTATIONS = ("homepage", "documentation")


def check_annotation_url(name: Any, value: str, where: str) -> None:
    """homepage and documentation: a URL with the scheme http or https and a host."""
    if name not in URL_ANNOTATIONS:
        return
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        _fail(f"{where}: {name} {value!r} is not an http or https URL")


# types.md, Timestamps Type: RFC 3339 date-time, with the 'T' between date and time.
RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$")


def check_annotation_created(name: Any, value: str, where: str) -> None:
    """created: a timestamp (RFC 3339 date-time, section 5.6)."""
    if name != "created":
        return
    m = RFC3339.match(value)
    ok = m is not None
    if m is not None:
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        try:  # a leap second (:60) is allowed by RFC 3339
            datetime(year, month, day, hour, minute, min(second, 59))
        except ValueError:
            ok = False
        if second > 60 or (m.group(9) and (int(m.group(9)) > 23 or int(m.group(10)) > 59)):
            ok = False
    if not ok:
        _fail(f"{where}: created {value!r} is not an RFC 3339 timestamp")


def load_manifest(text: str, profile: str) -> dict:
    try:
        doc = json.loads(text)
    except (TypeError, ValueError) as exc:
        _fail(f"not JSON: {exc}")
    if not isinstance(doc, dict):
        _fail("the manifest is not a JSON object")
    doc = members(doc)
    check_ackind(doc.get("acKind"))
    check_acversion(doc.get("acVersion"))
    if not is_ac_identifier(doc.get("name")):
        _fail(f"name {doc.get('name')!r} is not an AC Identifier")
    labels = check_labels(doc.get("labels", []), "labels")
    deps = doc.get("dependencies", [])
    if not isinstance(deps, list):
        _fail("dependencies is not a list")
    for i, dep in enumerate(deps):
        where = f"dependencies[{i}]"
        if not isinstance(dep, dict):
            _fail(f"{where} is not an object")
        dep = members(dep)
        check_image_name(dep.get("imageName"), where)
        if "imageID" in dep:
            check_image_id(dep["imageID"], where)
        if "labels" in dep:
            check_dependency_labels(dep["labels"], f"{where}.labels")
        if "size" in dep:
            check_size(dep["size"], where)
        if "tag" in dep:
            check_dependency_tag(dep["tag"], where, profile)
    annotations = doc.get("annotations", [])
    if not isinstance(annotations, list):
        _fail("annotations is not a list")
    seen: set[Any] = set()
    for i, ann in enumerate(annotations):
        if not isinstance(ann, dict):
            _fail(f"annotations[{i}] is not an object")
        ann = members(ann)
        name, value = ann.get("name"), ann.get("value")
        check_annotation_name(name, f"annotations[{i}]")
        if not isinstance(value, str):
            _fail(f"annotations[{i}].value is not a string")
        check_unique_annotation(name, seen, "annotations")
        seen.add(name)
        check_annotation_url(name, value, f"annotations[{i}]")
        check_annotation_created(name, value, f"annotations[{i}]")
    return {"name": doc["name"], "labels": labels}


def validate_manifest(text: str, profile: str) -> dict:
    load_manifest(text, profile)
    return {"valid": True}


def match_manifest(app: str, text: str, profile: str) -> dict:
    """disc.md §Validation: same name, and every requested label present with the same value."""
    wanted = parse_app(app, profile)
    manifest = load_manifest(text, profile)
    if manifest["name"] != wanted["name"]:
        return {"matches": False}
    have = manifest["labels"]
    return {"matches": all(have.get(k) == v for k, v in wanted["labels"].items())}
