"""The answers a generated input accepts: the reference's answer, widened where the spec is open.

``build(ask, op, profile, args)`` asks the reference (``ask(op, args)`` returns a protocol answer)
about the input as given and, where the input touches an ambiguity of docs/DECISIONS.md, about
the input as the other reading sees it. Every answer one of those readings gives is accepted,
and the AMB-xx IDs that widened the set are recorded. Error kinds are compared loosely: an error
the reference reports as ``other`` accepts any kind, and kinds that only differ by which check
runs first (an app string's structure or its identifiers; an app string or its manifest) are
accepted together. ``None`` means the input is outside what the reference covers (excluded).
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from . import grammar as g

ERROR_KINDS = [
    "invalid-app-string",
    "invalid-identifier",
    "invalid-imagetags",
    "alias-cycle",
    "tag-not-found",
    "version-conflict",
    "discovery-failed",
    "fetch-failed",
    "invalid-manifest",
    "other",
]
PARSE_KINDS = ["invalid-app-string", "invalid-identifier"]
TAG_KINDS = ["invalid-imagetags", "tag-not-found"]
TAGS = "appc-imagetags"
V0811 = "appc-0.8.11"

# Annotation names whose values have a format (ANN-02, ANN-03: dates, URLs): the hand-written
# cases in vectors/manifests/annotations.json cover them; generated inputs leave them out.
FORMATTED_ANNOTATIONS = {"created", "homepage", "documentation"}
# os/arch pairs an implementation may add to the whitelist (aci.md: "can be updated by an
# implementation that supports other combinations"); the Go library adds these.
PLATFORM_EXTENSIONS = {"aarch64", "aarch64_be", "armv6l", "armv7l", "armv7b", "ppc64", "ppc64le", "s390x"}
MAX_VARIANTS = 4  # readings combined at most (2**4 reference calls)
# AMB-29: the tagged releases of the spec up to the one the profiles implement (its changelog).
TAGGED_RELEASES = {
    "0.1.0",
    "0.1.1",
    "0.2.0",
    "0.3.0",
    "0.4.0",
    "0.4.1",
    "0.5.0",
    "0.5.1",
    "0.5.2",
    "0.6.0",
    "0.6.1",
    "0.7.0",
    "0.7.1",
    "0.7.2",
    "0.7.3",
    "0.7.4",
    *(f"0.8.{i}" for i in range(12)),
}
# AMB-32: tag labels a manifest could not carry (a name label; os/arch off every whitelist).
_OS_ARCH_DEFAULT = {"linux": {"amd64", "i386"}, "freebsd": {"amd64", "i386", "arm"}, "darwin": {"x86_64", "i386"}}

Ask = Callable[[str, dict], dict]


@dataclass
class Expectation:
    outcomes: list  # accepted outcomes, in the vector format
    ambiguities: list  # AMB-xx IDs whose readings widened them
    reference: dict  # the reference's answer to the input as given
    notes: list = field(default_factory=list)
    relaxed: Optional[dict] = None  # its answer under every reading at once (names the cause)

    @property
    def cause(self) -> dict:
        """The answer whose message names what the input breaks: under all readings if any."""
        return self.relaxed if self.relaxed is not None else self.reference

    @property
    def expect(self) -> dict:
        return self.outcomes[0] if len(self.outcomes) == 1 else {"any_of": self.outcomes}


class _Accepted:
    """The set of accepted outcomes; errors are kept as one outcome with every accepted kind."""

    def __init__(self):
        self.results: list = []
        self.kinds: list = []
        self.ambiguities: set = set()
        self.first: Optional[str] = None  # "result" or "error": the reference's own outcome first
        self.relaxed: Optional[dict] = None
        self._relaxed_size = 0

    def _size(self) -> tuple:
        return len(self.results), len(self.kinds)

    def add_result(self, result: dict, amb: tuple = ()) -> None:
        before = self._size()
        if result not in self.results:
            self.results.append(result)
        self.first = self.first or "result"
        self._grew(before, amb)

    def add_error(self, kinds, amb: tuple = ()) -> None:
        before = self._size()
        for k in [kinds] if isinstance(kinds, str) else kinds:
            if k not in self.kinds:
                self.kinds.append(k)
        self.first = self.first or "error"
        self._grew(before, amb)

    def _grew(self, before: tuple, amb: tuple) -> None:
        if self._size() != before:
            self.ambiguities.update(amb)

    def add_answer(self, op: str, answer: dict, post: Optional[Callable] = None, amb: tuple = ()) -> None:
        if "ok" in answer:
            result = answer["ok"]
            self.add_result(post(result) if post else result, amb)
        elif "error" in answer:
            kind = answer["error"].get("kind", "other")
            self.add_error(loosen(kind), amb)
            if kind == "alias-cycle":
                self.add_error("tag-not-found", amb + ("AMB-19",))

    def outcomes(self) -> list:
        err = [{"error": sorted(self.kinds, key=ERROR_KINDS.index)}] if self.kinds else []
        err = [{"error": e["error"][0]} if len(e["error"]) == 1 else e for e in err]
        res = [{"result": r} for r in self.results]
        return err + res if self.first == "error" else res + err


def loosen(kind: str) -> list:
    if kind == "other" or kind not in ERROR_KINDS:
        return list(ERROR_KINDS)
    if kind in PARSE_KINDS:
        return list(PARSE_KINDS)
    return [kind]


# --- readings ----------------------------------------------------------------------------------
# A reading is (AMB id, transform); transform(args) -> (args', post) or None when it does not apply.
# post maps a result of args' back to the terms of args (e.g. placeholder names back).


def _identity(result):
    return result


def _inverse_renamer(mapping: dict) -> Callable:
    back = {v: k for k, v in mapping.items()}

    def post(result: dict) -> dict:
        out = dict(result)
        if isinstance(out.get("name"), str):
            out["name"] = back.get(out["name"], out["name"])
        if isinstance(out.get("labels"), dict):
            out["labels"] = {back.get(k, k): v for k, v in out["labels"].items()}
        return out

    return post


def _mapping(found: list) -> dict:
    mapping: dict = {}
    for ident in found:
        if ident not in mapping:
            mapping[ident] = g.placeholder(len(mapping), ident)
    return mapping


def _collect(visit_fn, doc: dict) -> list:
    found: list = []

    def visit(s):
        if g.adjacent_only(s):
            found.append(s)
        return s

    visit_fn(copy.deepcopy(doc), visit)
    return found


def _renamed(visit_fn, doc: dict, mapping: dict) -> dict:
    doc = copy.deepcopy(doc)
    visit_fn(doc, lambda s: mapping.get(s, s))
    return doc


def amb26_app(args: dict, key: str = "app", doc_key: Optional[str] = None, doc_visit=None):
    found = [x for x in g.app_identifiers(args[key]) if g.adjacent_only(x)]
    doc = g.loads_object(args.get(doc_key)) if doc_key else None
    if doc is not None:
        found += _collect(doc_visit, doc)
    if not found:
        return None
    mapping = _mapping(found)
    new = dict(args, **{key: g.rename_app(args[key], mapping)})
    if doc is not None:
        new[doc_key] = g.dumps(_renamed(doc_visit, doc, mapping))
    return new, _inverse_renamer(mapping)


def amb26_doc(args: dict, doc_key: str, doc_visit):
    doc = g.loads_object(args.get(doc_key))
    if doc is None:
        return None
    found = _collect(doc_visit, doc)
    if not found:
        return None
    mapping = _mapping(found)
    return dict(args, **{doc_key: g.dumps(_renamed(doc_visit, doc, mapping))}), _inverse_renamer(mapping)


def empty_tag(args: dict, profile: str):
    """AMB-27: an empty tag may mean "no tag"; the reading without it."""
    if profile != TAGS:
        return None
    p = g.AppParts.split(args["app"])
    q = p.copy()
    if q.colon == "":
        q.colon = None
    q.items = [(k, v) for k, v in q.items if not (k == "tag" and v == "")]
    if q == p:
        return None
    return dict(args, app=q.join()), _identity


def _deps(doc: dict) -> list:
    deps = doc.get("dependencies")
    return [d for d in deps if isinstance(d, dict)] if isinstance(deps, list) else []


def amb28_image_ids(args: dict, key: str):
    """AMB-28: neither the digest's case nor its length is specified: the canonical form instead."""
    doc = g.loads_object(args.get(key))
    if doc is None:
        return None
    changed = False
    for dep in _deps(doc):
        iid = dep.get("imageID")
        if isinstance(iid, str) and g.HEXISH_IMAGE_ID.match(iid) and not g.CANONICAL_IMAGE_ID.match(iid):
            dep["imageID"] = "sha512-" + "0" * 128
            changed = True
    return (dict(args, **{key: g.dumps(doc)}), _identity) if changed else None


def amb25_dependency_tag(args: dict, key: str, profile: str):
    """AMB-25: a v0.8.11 parser may drop a dependency's unknown ``tag`` member."""
    if profile != V0811:
        return None
    doc = g.loads_object(args.get(key))
    if doc is None:
        return None
    changed = False
    for dep in _deps(doc):
        if "tag" in dep:
            del dep["tag"]
            changed = True
    return (dict(args, **{key: g.dumps(doc)}), _identity) if changed else None


def amb07_latest(args: dict, profile: str):
    """AMB-07: with no version asked for, a 0.8.11 client may ask for version=latest."""
    if profile != V0811:
        return None
    p = g.AppParts.split(args["app"])
    if p.has_version(profile):
        return None
    p.items.append(("version", "latest"))
    return dict(args, app=p.join()), _identity


def amb14_noarch(args: dict):
    """AMB-14: os/arch asked for but absent from the manifest may match ("noarch")."""
    doc = g.loads_object(args.get("manifest"))
    if doc is None or not isinstance(doc.get("labels", []), list):
        return None
    have = {lb.get("name") for lb in doc.get("labels", []) if isinstance(lb, dict)}
    p = g.AppParts.split(args["app"])
    drop = [k for k in p.keys() if k in ("os", "arch") and k not in have]
    if not drop:
        return None
    p.items = [(k, v) for k, v in p.items if k not in drop]
    return dict(args, app=p.join()), _identity


def amb30_nulls(args: dict, key: str, kind: str):
    """AMB-30: a JSON null where the schema types an optional member or a map value may be read as
    absent (as Go's encoding/json does): the document without those members."""
    doc = g.loads_object(args.get(key))
    if doc is None:
        return None
    changed = False

    def drop(obj: dict) -> None:
        nonlocal changed
        for k in [k for k, v in obj.items() if v is None]:
            del obj[k]
            changed = True

    drop(doc)
    if kind == "manifest":
        for dep in _deps(doc):
            drop(dep)
    else:
        for member in ("aliases", "labels"):
            if isinstance(doc.get(member), dict):
                drop(doc[member])
        for entry in (doc.get("labels") or {}).values() if isinstance(doc.get("labels"), dict) else ():
            if isinstance(entry, dict):
                drop(entry)
    return (dict(args, **{key: g.dumps(doc)}), _identity) if changed else None


def amb32_unmatchable_labels(doc: Optional[dict]) -> bool:
    """AMB-32: a tag's labels hold 'name', or an os/arch pair on no whitelist."""
    entries = doc.get("labels") if doc is not None else None
    if not isinstance(entries, dict):
        return False
    for entry in entries.values():
        if not isinstance(entry, dict):
            continue
        if "name" in entry:
            return True
        os_, arch = entry.get("os"), entry.get("arch")
        if isinstance(os_, str) and (
            os_ not in _OS_ARCH_DEFAULT or (isinstance(arch, str) and arch not in _OS_ARCH_DEFAULT[os_])
        ):
            return True
    return False


def amb18_first_labels(args: dict, key: str, tag: Any):
    """AMB-18: the reading that uses the labels of the first tag on the alias chain that has any."""
    doc = g.loads_object(args.get(key))
    if doc is None or not isinstance(tag, str) or not tag:
        return None
    aliases, labels = doc.get("aliases"), doc.get("labels")
    if not isinstance(aliases, dict) or not isinstance(labels, dict):
        return None
    walked, loops = g.alias_walk(doc, tag)
    # The requested tag's own labels lose to its alias (TAG-05, must); labels of the tags met
    # on the way are AMB-18, and so are the requested tag's when the aliases loop (AMB-19).
    for t in walked if loops else walked[1:]:
        if t in aliases and t in labels:
            del aliases[t]
            return dict(args, **{key: g.dumps(doc)}), _identity
    return None


# --- per operation -----------------------------------------------------------------------------


def _apply_readings(acc: _Accepted, ask: Ask, op: str, args: dict, readings: list) -> None:
    """Every combination of the readings that apply, each answered by the reference."""
    readings = [r for r in readings if r[1](args) is not None][:MAX_VARIANTS]
    for size in range(1, len(readings) + 1):
        for combo in itertools.combinations(readings, size):
            cur, posts, ambs, ok = args, [], [], True
            for amb, transform in combo:
                step = transform(cur)
                if step is None:
                    ok = False
                    break
                cur, post = step
                posts.append(post)
                ambs.append(amb)
            if not ok or cur == args:
                continue

            def post(result, posts=tuple(posts)):
                for p in reversed(posts):
                    result = p(result)
                return result

            answer = ask(op, cur)
            acc.add_answer(op, answer, post, tuple(ambs))
            if len(combo) >= acc._relaxed_size:
                acc.relaxed, acc._relaxed_size = answer, len(combo)


def _app_extras(acc: _Accepted, app: str, profile: str) -> None:
    p = g.AppParts.split(app)
    first = p.name.split("/", 1)[0]
    if p.name and "." not in first:
        acc.add_error(PARSE_KINDS, ("AMB-27",))  # a name that does not start with a domain
    if (
        "/" not in p.name
        and p.colon is not None
        and p.colon[:1].isdigit()
        and "/" in p.colon
        and p.colon.split("/", 1)[0].isdigit()
    ):
        acc.add_error(PARSE_KINDS, ("AMB-27",))  # example.com:443/app: a port, for another reader
    for tag in p.tag_values(profile):
        if tag != "" and not g.plain_tag(tag):
            acc.add_error(PARSE_KINDS, ("AMB-23",))


def _empty_tag_results(acc: _Accepted, app: str, profile: str) -> None:
    p = g.AppParts.split(app)
    if profile == TAGS and "" in p.tag_values(profile):
        for r in list(acc.results):
            if isinstance(r, dict) and r.get("tag") is None:
                acc.add_result(dict(r, tag=""), ("AMB-27",))


def _has_escape(app: str) -> bool:
    return "\\," in app or "\\:" in app or "\\=" in app


def _manifest_out_of_scope(text: Any) -> Optional[str]:
    doc = g.loads_object(text)
    if doc is None:
        return None
    label_lists = [doc.get("labels")] + [d.get("labels") for d in _deps(doc)]
    for labels in label_lists:
        if isinstance(labels, list):
            for lb in labels:
                if isinstance(lb, dict) and lb.get("name") == "arch" and lb.get("value") in PLATFORM_EXTENSIONS:
                    return "an os/arch pair an implementation may add to the whitelist"
    anns = doc.get("annotations")
    if isinstance(anns, list):
        for a in anns:
            if isinstance(a, dict) and a.get("name") in FORMATTED_ANNOTATIONS:
                return f"annotation {a.get('name')!r}, whose value format the suite does not check"
    return None


def build(ask: Ask, op: str, profile: str, args: dict) -> Optional[Expectation]:
    """The accepted answers for ``op(args)`` in ``profile``; None when the input is excluded."""
    fn = _BUILDERS[op]
    ref = ask(op, args)
    if "unsupported" in ref:
        return None
    acc = _Accepted()
    acc.add_answer(op, ref)
    if fn(acc, ask, profile, args, ref) is False:
        return None
    return Expectation(acc.outcomes(), sorted(acc.ambiguities), ref, [], acc.relaxed)


def _parse_app(acc, ask, profile, args, ref):
    if _has_escape(args["app"]):
        return False  # escaping is open (AMB-27): every answer would have to be accepted
    _apply_readings(
        acc,
        ask,
        "parse_app",
        args,
        [
            ("AMB-26", amb26_app),
            ("AMB-27", lambda a: empty_tag(a, profile)),
        ],
    )
    _app_extras(acc, args["app"], profile)
    _empty_tag_results(acc, args["app"], profile)
    return True


def _validate_manifest(acc, ask, profile, args, ref):
    if _manifest_out_of_scope(args["document"]):
        return False
    _apply_readings(
        acc,
        ask,
        "validate_manifest",
        args,
        [
            ("AMB-26", lambda a: amb26_doc(a, "document", g.manifest_identifiers)),
            ("AMB-28", lambda a: amb28_image_ids(a, "document")),
            ("AMB-25", lambda a: amb25_dependency_tag(a, "document", profile)),
            ("AMB-30", lambda a: amb30_nulls(a, "document", "manifest")),
        ],
    )
    _manifest_extras(acc, args["document"], profile)
    return True


def _manifest_extras(acc, text, profile):
    doc = g.loads_object(text)
    if doc is None:
        return
    version = doc.get("acVersion")
    if isinstance(version, str) and version not in TAGGED_RELEASES:
        acc.add_error("invalid-manifest", ("AMB-29",))  # SemVer, but no tagged release
    for dep in _deps(doc):
        iid = dep.get("imageID")
        if isinstance(iid, str) and g.HEXISH_IMAGE_ID.match(iid) and not g.CANONICAL_IMAGE_ID.match(iid):
            acc.add_error("invalid-manifest", ("AMB-28",))
        if "tag" in dep and profile == V0811:
            acc.add_error("invalid-manifest", ("AMB-25",))
        if profile == TAGS and isinstance(dep.get("tag"), str) and not g.plain_tag(dep["tag"]):
            acc.add_error("invalid-manifest", ("AMB-23",))


def _match_manifest(acc, ask, profile, args, ref):
    if _has_escape(args["app"]) or _manifest_out_of_scope(args["manifest"]):
        return False
    if "error" in ref:
        # Which input is checked first is not specified: the kinds of each failing input count.
        for sub_op, sub_args in (
            ("parse_app", {"app": args["app"]}),
            ("validate_manifest", {"document": args["manifest"]}),
        ):
            sub = ask(sub_op, sub_args)
            if "error" in sub:
                acc.add_error(loosen(sub["error"].get("kind", "other")))
    _apply_readings(
        acc,
        ask,
        "match_manifest",
        args,
        [
            ("AMB-26", lambda a: amb26_app(a, "app", "manifest", g.manifest_identifiers)),
            ("AMB-28", lambda a: amb28_image_ids(a, "manifest")),
            ("AMB-25", lambda a: amb25_dependency_tag(a, "manifest", profile)),
            ("AMB-07", lambda a: amb07_latest(a, profile)),
            ("AMB-14", amb14_noarch),
            ("AMB-27", lambda a: empty_tag(a, profile)),
            ("AMB-30", lambda a: amb30_nulls(a, "manifest", "manifest")),
        ],
    )
    _app_extras(acc, args["app"], profile)
    _manifest_extras(acc, args["manifest"], profile)
    p = g.AppParts.split(args["app"])
    if profile == TAGS and [t for t in p.tag_values(profile) if t]:
        # AMB-15: whether the tag takes part in matching (merged first) is open.
        if acc.results:
            acc.add_result({"matches": True}, ("AMB-15",))
            acc.add_result({"matches": False}, ("AMB-15",))
        if "version" in p.keys():
            acc.add_error("version-conflict", ("AMB-15", "AMB-21"))
    return True


def _imagetags_odd_tags(doc: Optional[dict], tags: list) -> bool:
    names = list(tags) + (g.imagetags_tags(doc) if doc is not None else [])
    return any(isinstance(t, str) and not g.plain_tag(t) for t in names)


def _validate_imagetags(acc, ask, profile, args, ref):
    _apply_readings(
        acc,
        ask,
        "validate_imagetags",
        args,
        [
            ("AMB-26", lambda a: amb26_doc(a, "document", g.imagetags_label_names)),
            ("AMB-30", lambda a: amb30_nulls(a, "document", "imagetags")),
        ],
    )
    doc = g.loads_object(args["document"])
    if doc is not None and _imagetags_odd_tags(doc, []):
        acc.add_error("invalid-imagetags", ("AMB-23",))
    if amb32_unmatchable_labels(doc):
        acc.add_error("invalid-imagetags", ("AMB-32",))
    return True


def _final_entry_empty(doc: Optional[dict], tag: Any) -> bool:
    if doc is None or not isinstance(tag, str) or not isinstance(doc.get("labels"), dict):
        return False
    walked, loops = g.alias_walk(doc, tag)
    return not loops and doc["labels"].get(walked[-1]) == {}


def _resolve_tag(acc, ask, profile, args, ref):
    _apply_readings(
        acc,
        ask,
        "resolve_tag",
        args,
        [
            ("AMB-26", lambda a: amb26_doc(a, "imagetags", g.imagetags_label_names)),
            ("AMB-18", lambda a: amb18_first_labels(a, "imagetags", a["tag"])),
            ("AMB-30", lambda a: amb30_nulls(a, "imagetags", "imagetags")),
        ],
    )
    doc = g.loads_object(args["imagetags"])
    if amb32_unmatchable_labels(doc):
        acc.add_error("invalid-imagetags", ("AMB-32",))
    if _final_entry_empty(doc, args["tag"]):
        acc.add_error("tag-not-found", ("AMB-20",))  # "has no labels": missing, or empty too
    if _imagetags_odd_tags(doc, [args["tag"]]):
        acc.add_error(TAG_KINDS, ("AMB-23",))
    return True


def _merge_tag(acc, ask, profile, args, ref):
    text, labels, tag = args["imagetags"], args["labels"], args["tag"]
    if not tag:
        if text is None:  # AMB-16: the literal phase 1 with an empty tag
            if "version" in labels:
                acc.add_error("version-conflict", ("AMB-16",))
            else:
                acc.add_result({"labels": dict(labels, version="")}, ("AMB-16",))
        return True
    if text is None:
        if not g.plain_tag(tag):
            acc.add_error(ERROR_KINDS, ("AMB-23",))
        return True
    _apply_readings(
        acc,
        ask,
        "merge_tag",
        args,
        [
            ("AMB-26", lambda a: amb26_doc(a, "imagetags", g.imagetags_label_names)),
            ("AMB-18", lambda a: amb18_first_labels(a, "imagetags", a["tag"])),
            ("AMB-30", lambda a: amb30_nulls(a, "imagetags", "imagetags")),
        ],
    )
    doc = g.loads_object(text)
    if amb32_unmatchable_labels(doc):
        acc.add_error("invalid-imagetags", ("AMB-32",))
    resolved = ask("resolve_tag", {"imagetags": text, "tag": tag})
    not_found = "error" in resolved and resolved["error"].get("kind") == "tag-not-found"
    if not_found or _final_entry_empty(doc, tag):
        # AMB-20 (and AMB-17): an unresolvable tag may fall back to version=TAG.
        acc.add_error("tag-not-found", ("AMB-20",))
        acc.add_answer(
            "merge_tag", ask("merge_tag", {"imagetags": None, "labels": labels, "tag": tag}), amb=("AMB-20", "AMB-17")
        )
    if _imagetags_odd_tags(doc, [tag]):
        acc.add_error(TAG_KINDS, ("AMB-23",))
    return True


_BUILDERS = {
    "parse_app": _parse_app,
    "validate_manifest": _validate_manifest,
    "match_manifest": _match_manifest,
    "validate_imagetags": _validate_imagetags,
    "resolve_tag": _resolve_tag,
    "merge_tag": _merge_tag,
}
OPS = tuple(_BUILDERS)


def build_discovery(ask: Ask, op: str, profile: str, args: dict, flags: dict) -> Optional[Expectation]:
    """``discover`` against live mock hosts: the kinds asked for are compared (``attempts`` and
    other extra keys are not); AMB-13 (keys found nowhere: an empty list) and AMB-02 (tags
    present but unusable: stopping, in appc-0.8.11) widen the accepted answers."""
    if op != "discover":
        return None
    what = list(args.get("what") or ["aci", "pubkeys"])

    def restrict(result: dict) -> dict:
        return {k: result[k] for k in what if k in result}

    ref = ask(op, args)
    if "unsupported" in ref:
        return None
    acc = _Accepted()
    acc.add_answer(op, ref, restrict)
    if "pubkeys" in what and "error" in ref:
        others = [k for k in what if k != "pubkeys"]
        if not others:
            acc.add_result({"pubkeys": []}, ("AMB-13",))
        else:
            sub = ask(op, dict(args, what=others))
            if "ok" in sub:
                acc.add_result(dict(restrict(sub["ok"]), pubkeys=[]), ("AMB-13",))
    if flags.get("unusable_level") and profile == V0811:
        acc.add_error("discovery-failed", ("AMB-02",))
    return Expectation(acc.outcomes(), sorted(acc.ambiguities), ref, [])


def describe(outcomes: list) -> str:
    return json.dumps(outcomes[0] if len(outcomes) == 1 else {"any_of": outcomes}, ensure_ascii=False)
