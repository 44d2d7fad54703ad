"""Hypothesis strategies for the inputs of every operation the suite grades without a network.

Inputs are built from pieces (names from AC Identifier pieces, near misses of them, label keys
and values, tags, alias graphs) so that they shrink to short, readable cases; the plain form of
each piece comes first, so a shrunk example keeps only what matters. Every strategy returns
the ``args`` of one protocol request.

Out of scope on purpose (the reference does not cover them, see expectation.py): annotation
values whose format the Go library checks (created, homepage, documentation), os/arch pairs an
implementation may add to the whitelist, non-standard JSON (NaN), numbers beyond 2**53, and the
backslash escapes of app strings (AMB-27). Member names in the wrong case are left to the
hand-written vectors (manifests/members): a generated one makes the Go library read a member
the reference ignores, and every later difference of that member is the same finding again.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from hypothesis import strategies as st

MISSING = object()  # a member left out of a document

ALNUM = "abcxyz0189"
WORDS = ["example", "com", "app", "a", "b", "x", "org", "v1", "0", "9", "db", "my", "worker"]
SEPARATORS = "-._~/"
# Characters that make an identifier invalid, and the ones with a meaning in app strings.
BAD_CHARS = "A Z#%&+;?@!$'*()[]{}\"\té"
STRUCTURAL = ":,="
VALUE_CHARS = "abc019.-_~/ +%&;?#!*'()@$[]{}éZ\t"

VALUES = ["1.0.0", "latest", "linux", "amd64", "beta", "", "3.x", "a=b", "1.0%2B1", "%zz", "a&b=c", "zoë", "a b", "a/b"]

TAGS = ["latest", "stable", "3.x", "3.0.x", "3.0.1", "3.0.1-2", "beta", "a", "b", "c"]
ODD_TAGS = ["", "Stable", "1.0 beta", "v1:rc+1", "ünï", "a/b", "3.0.1+build.2"]

JSON_JUNK = [None, 1, 1.5, True, "x", [], {}, ["x"], {"a": "b"}]


@st.composite
def _weighted(draw, branches: tuple, total: int):
    n = draw(st.integers(0, total - 1))
    for w, strategy in branches:
        if n < w:
            return draw(strategy)
        n -= w
    raise AssertionError("unreachable")


def weighted(*branches):
    """``one_of`` with weights: [(weight, strategy), ...]; shrinks towards the first branch."""
    branches = tuple((w, s) for w, s in branches if w > 0)
    return _weighted(branches, sum(w for w, _ in branches))


def rare(draw, n: int) -> bool:
    """True once in ``n`` draws; shrinks to False, so a shrunk example leaves the extra out."""
    return draw(st.integers(0, n - 1)) == n - 1


# --- identifiers -------------------------------------------------------------------------------

word = st.one_of(st.sampled_from(WORDS), st.text(ALNUM, min_size=1, max_size=5))


@st.composite
def identifiers(draw, separators: str = SEPARATORS, max_parts: int = 4) -> str:
    """A valid AC Identifier (the spec's regular expression)."""
    parts = draw(st.lists(word, min_size=1, max_size=max_parts))
    out = parts[0]
    for p in parts[1:]:
        out += draw(st.sampled_from(separators)) + p
    return out


@st.composite
def image_names(draw) -> str:
    """Names as people write them: a DNS name and a path; sometimes an IP or a bare word."""
    kind = draw(st.sampled_from(["domain", "domain", "domain", "deep", "ip", "bare"]))
    if kind == "ip":
        host = "127.0.0.1"
    elif kind == "bare":
        return draw(identifiers(separators="-", max_parts=2))
    else:
        host = ".".join(
            draw(st.lists(st.sampled_from(["example", "sub", "my-org", "a1"]), min_size=1, max_size=2))
            + [draw(st.sampled_from(["com", "org", "example"]))]
        )
    depth = (1, 3) if kind == "deep" else (1, 1)
    path = draw(st.lists(identifiers(separators="-._~", max_parts=2), min_size=depth[0], max_size=depth[1]))
    return host + "/" + "/".join(path)


@st.composite
def near_misses(draw, base) -> str:
    """A valid identifier with one mistake: a bad character, an edge separator, adjacent
    separators (AMB-26), a percent escape, emptiness, or a structural character."""
    s = draw(base)
    if not s:
        return draw(st.sampled_from(BAD_CHARS + STRUCTURAL + SEPARATORS))
    kind = draw(st.sampled_from(["bad-char", "edge", "adjacent", "percent", "empty", "structural", "upper"]))
    i = draw(st.integers(0, len(s)))
    if kind == "bad-char":
        return s[:i] + draw(st.sampled_from(BAD_CHARS)) + s[i:]
    if kind == "edge":
        sep = draw(st.sampled_from(SEPARATORS))
        return draw(st.sampled_from([sep + s, s + sep]))
    if kind == "adjacent":
        return s[:i] + draw(st.sampled_from(["--", "..", "//", "-.", "/~", "._"])) + s[i:]
    if kind == "percent":
        c = s[min(i, len(s) - 1)]
        return s[:i] + "%" + format(ord(c), "02x") + s[i + 1 :]
    if kind == "empty":
        return ""
    if kind == "structural":
        return s[:i] + draw(st.sampled_from(STRUCTURAL)) + s[i:]
    return s[:i] + s[i:].upper()


VALID_KEYS = ["version", "os", "arch", "channel", "build", "env", "example.com/build-id"]
VALID_OS_ARCH = [
    ("linux", "amd64"),
    ("linux", "i386"),
    ("freebsd", "amd64"),
    ("freebsd", "arm"),
    ("darwin", "x86_64"),
    ("darwin", "i386"),
]
BAD_OS_ARCH = [
    ("linux", "x86_64"),
    ("Linux", "amd64"),
    ("windows", "amd64"),
    ("", "amd64"),
    ("darwin", "arm"),
    ("freebsd", ""),
]


def values(structural: bool = True):
    chars = VALUE_CHARS + (STRUCTURAL if structural else "")
    return weighted((6, st.sampled_from(VALUES)), (3, st.text(chars, max_size=8)))


def label_values_for(key: str):
    if key == "os":
        return st.sampled_from([o for o, _ in VALID_OS_ARCH])
    if key == "arch":
        return st.sampled_from(sorted({a for _, a in VALID_OS_ARCH}))
    return values(structural=False)


@st.composite
def label_sets(draw, max_size: int = 4) -> dict:
    """Labels as a map (initial labels of merging); keys every reading accepts."""
    keys = draw(st.lists(st.sampled_from(VALID_KEYS), max_size=max_size, unique=True))
    return {k: draw(label_values_for(k)) for k in keys}


def mistakes(kinds: list, most: int = 2, none: int = 4):
    """How many mistakes, and which: none (the plain input) is the shrink target."""
    branches = [(none, st.just([])), (6, st.lists(st.sampled_from(kinds), min_size=1, max_size=1))]
    if most >= 2:
        branches.append((2, st.lists(st.sampled_from(kinds), min_size=2, max_size=most)))
    return weighted(*branches)


# --- app strings -------------------------------------------------------------------------------

APP_MISTAKES = [
    "key",
    "name",
    "no-equals",
    "empty-item",
    "structural-value",
    "structural-anywhere",
    "duplicate-key",
    "reserved-key",
    "colon-late",
    "percent-key",
    "empty-key",
]


@st.composite
def app_strings(draw) -> str:
    """``NAME[:VALUE][,KEY=VALUE]*``: a well-formed string with none, one or two mistakes (odd
    names and keys, items without '=', empty items, colons, commas and '=' where they break
    the structure, repeated or reserved keys), or now and then raw text."""
    if rare(draw, 15):
        return draw(st.text("ab.-/:,=%&;+ A~_1é", max_size=20))
    name = draw(image_names())
    colon = draw(weighted((3, st.none()), (2, st.sampled_from(TAGS)), (1, values(structural=False))))
    keys = draw(
        st.lists(
            weighted((6, st.sampled_from(VALID_KEYS)), (2, identifiers(max_parts=2)), (1, st.just("tag"))),
            max_size=4,
            unique=True,
        )
    )
    items = [[k, draw(label_values_for(k) if k != "tag" else st.sampled_from(TAGS))] for k in keys]
    for m in draw(mistakes(APP_MISTAKES)):
        i = draw(st.integers(0, len(items))) if items else 0
        if m == "name":
            name = draw(near_misses(st.just(name)))
        elif m in ("key", "percent-key"):
            base = items[i % len(items)][0] if items else "channel"
            bad = draw(near_misses(st.just(base)))
            if m == "percent-key":
                bad = "".join("%" + format(ord(c), "02x") if draw(st.booleans()) else c for c in base) or "%61"
            items.insert(i, [bad, draw(values(structural=False))])
        elif m == "no-equals":
            items.insert(i, [draw(st.sampled_from(VALID_KEYS)), None])
        elif m == "empty-item":
            items.insert(i, ["", None])
        elif m == "empty-key":
            items.insert(i, ["", draw(values(structural=False))])
        elif m == "structural-value":
            v = draw(values(structural=False))
            j = draw(st.integers(0, len(v)))
            items.insert(i, [draw(st.sampled_from(VALID_KEYS)), v[:j] + draw(st.sampled_from(STRUCTURAL)) + v[j:]])
        elif m == "duplicate-key" and items:
            items.insert(i, [items[i % len(items)][0], draw(values(structural=False))])
        elif m == "reserved-key":
            items.insert(i, [draw(st.sampled_from(["name", "tag", "version"])), draw(values(structural=False))])
        elif m == "colon-late":
            items.insert(i, [draw(st.sampled_from(VALID_KEYS)), "a:" + draw(st.sampled_from(TAGS))])
    out = name + (":" + colon if colon is not None else "")
    out += "".join("," + k + ("=" + v if v is not None else "") for k, v in items)
    if "structural-anywhere" in draw(st.just(APP_MISTAKES)) and rare(draw, 12):
        i = draw(st.integers(0, len(out)))
        out = out[:i] + draw(st.sampled_from(STRUCTURAL)) + out[i:]
    return out


def parse_app_args():
    return app_strings().map(lambda app: {"app": app})


# --- image tags documents ----------------------------------------------------------------------

tags = weighted((9, st.sampled_from(TAGS)), (1, st.sampled_from(ODD_TAGS)))


@st.composite
def alias_graphs(draw) -> dict:
    """Aliases over a small pool of tags (chains, forks and cycles come naturally), or an
    explicit chain ``t0 -> t1 -> ... -> tn`` that may loop back and may have a fork into it."""
    if draw(st.booleans()):
        return dict(draw(st.lists(st.tuples(tags, tags), max_size=6)))
    n = draw(weighted((4, st.integers(1, 8)), (1, st.integers(9, 20))))
    chain = {f"t{i}": f"t{i + 1}" for i in range(n)}
    if rare(draw, 3):
        chain[f"t{n}"] = f"t{draw(st.integers(0, n))}"
    if rare(draw, 3):
        chain["fork"] = f"t{draw(st.integers(0, n))}"
    return chain


IMAGETAGS_MISTAKES = [
    "aliases-junk",
    "labels-junk",
    "alias-target",
    "entry-junk",
    "entry-key",
    "entry-value",
    "extra-member",
    "empty-entry",
]


@st.composite
def imagetags_documents(draw) -> Any:
    """A document as a JSON value: a valid alias graph and labels, with none, one or two mistakes."""
    aliases = draw(alias_graphs())
    ends = [t for t in aliases.values() if t not in aliases] or list(aliases.values())
    pool = sorted(set(ends) | set(aliases)) or TAGS
    # Labels on most ends of the chains; sometimes on other tags too (intermediate ones: AMB-18).
    labelled = [t for t in sorted(set(ends)) if not rare(draw, 4)]
    labelled += [
        t
        for t in draw(st.lists(weighted((2, st.sampled_from(pool)), (1, tags)), max_size=2, unique=True))
        if t not in labelled
    ]
    labels = {t: draw(label_sets(max_size=3)) for t in labelled}
    doc: dict = {}
    if aliases or rare(draw, 3):
        doc["aliases"] = aliases
    if labels or rare(draw, 3):
        doc["labels"] = labels
    for m in draw(mistakes(IMAGETAGS_MISTAKES, most=1, none=10)):
        if m in ("aliases-junk", "labels-junk"):
            doc[m.split("-")[0]] = draw(st.sampled_from(JSON_JUNK))
        elif m == "alias-target" and aliases:
            doc["aliases"][draw(st.sampled_from(sorted(aliases)))] = draw(st.sampled_from([1, None, ["x"]]))
        elif m == "entry-junk" and labels:
            doc["labels"][draw(st.sampled_from(sorted(labels)))] = draw(st.sampled_from([None, "x", ["version"], 1]))
        elif m == "entry-key" and labels:
            entry = doc["labels"][draw(st.sampled_from(sorted(labels)))]
            entry[draw(near_misses(st.sampled_from(VALID_KEYS)))] = "1"
        elif m == "entry-value" and labels:
            entry = doc["labels"][draw(st.sampled_from(sorted(labels)))]
            entry[draw(st.sampled_from(VALID_KEYS))] = draw(st.sampled_from([1, None, ["a"], True]))
        elif m == "empty-entry":
            doc.setdefault("labels", {})
            if isinstance(doc["labels"], dict):
                doc["labels"][draw(st.sampled_from(pool))] = {}
        elif m == "extra-member":
            doc["comment"] = draw(st.sampled_from(JSON_JUNK))
    return doc


@st.composite
def imagetags_texts(draw) -> str:
    kind = draw(weighted((30, st.just("object")), (1, st.just("other-json")), (1, st.just("malformed"))))
    if kind == "other-json":
        return json.dumps(draw(st.sampled_from([None, [], ["latest"], "x", 1, [{"aliases": {}}]])))
    text = json.dumps(draw(imagetags_documents()), ensure_ascii=False)
    if kind == "malformed":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    return text


@st.composite
def _request_tag(draw, text: str) -> str:
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    names = []
    if isinstance(doc, dict):
        for member in ("aliases", "labels"):
            if isinstance(doc.get(member), dict):
                names += list(doc[member])
    if names and not rare(draw, 5):
        return draw(st.sampled_from(names))
    return draw(tags)


@st.composite
def validate_imagetags_args(draw) -> dict:
    return {"document": draw(imagetags_texts())}


@st.composite
def resolve_tag_args(draw) -> dict:
    text = draw(imagetags_texts())
    return {"imagetags": text, "tag": draw(_request_tag(text))}


@st.composite
def merge_tag_args(draw) -> dict:
    """A document (or none), initial labels (a label set) and a tag (or none)."""
    text = draw(weighted((5, imagetags_texts()), (2, st.none())))
    tag = draw(weighted((8, _request_tag(text) if text is not None else tags), (1, st.sampled_from([None, ""]))))
    return {"imagetags": text, "labels": draw(label_sets()), "tag": tag}


# --- manifests ---------------------------------------------------------------------------------

SEMVER_NUMBERS = ["0", "1", "8", "11", "10", "01", "00", "+1"]
SEMVER_IDS = ["alpha", "1", "rc.1", "x-y", "0a", "01", "", "a..b", "é"]
ANNOTATION_NAMES = ["authors", "appc.io/executor/supports-systemd-notify", "description", "x"]


@st.composite
def semvers(draw) -> str:
    """SemVer-like strings: mostly valid, with leading zeros, signs, empty or odd identifiers."""
    out = ".".join(
        draw(
            st.lists(
                weighted((5, st.sampled_from(SEMVER_NUMBERS[:5])), (1, st.sampled_from(SEMVER_NUMBERS[5:]))),
                min_size=3,
                max_size=3,
            )
        )
    )
    if rare(draw, 3):
        out += "-" + ".".join(
            draw(
                st.lists(
                    weighted((5, st.sampled_from(SEMVER_IDS[:5])), (1, st.sampled_from(SEMVER_IDS[5:]))),
                    min_size=1,
                    max_size=2,
                )
            )
        )
    if rare(draw, 4):
        out += "+" + ".".join(
            draw(
                st.lists(
                    weighted((5, st.sampled_from(SEMVER_IDS[:5])), (1, st.sampled_from(SEMVER_IDS[5:]))),
                    min_size=1,
                    max_size=2,
                )
            )
        )
    return out


@st.composite
def label_lists(draw, min_size: int = 0, max_size: int = 4) -> list:
    """A valid manifest label list: unique names, whitelisted os/arch."""
    keys = draw(
        st.lists(
            st.sampled_from(["version", "channel", "build", "env", "example.com/build-id"]) | identifiers(max_parts=2),
            min_size=min_size,
            max_size=max_size,
            unique=True,
        )
    )
    out = [{"name": k, "value": draw(values(structural=False))} for k in keys if k not in ("os", "arch", "name")]
    if rare(draw, 2):
        os_, arch = draw(st.sampled_from(VALID_OS_ARCH))
        out.insert(draw(st.integers(0, len(out))), {"name": "os", "value": os_})
        if draw(st.booleans()):
            out.insert(draw(st.integers(0, len(out))), {"name": "arch", "value": arch})
    elif rare(draw, 6):
        out.append({"name": "arch", "value": draw(st.sampled_from(["amd64", "z80"]))})  # arch alone: no check
    return out


@st.composite
def valid_dependencies(draw, profile_tags: bool) -> dict:
    dep: dict = {"imageName": draw(image_names())}
    if rare(draw, 3):
        dep["imageID"] = _hex_id(draw)
    if rare(draw, 3):
        dep["labels"] = draw(label_lists(max_size=2))
    if rare(draw, 4):
        dep["size"] = draw(st.integers(0, 2**53))
    if rare(draw, 8):
        dep["tag"] = draw(tags)  # AMB-25 in appc-0.8.11, a string in appc-imagetags
    return dep


def _hex_id(draw) -> str:
    return "sha512-" + draw(st.text("0123456789abcdef", min_size=128, max_size=128))


@st.composite
def valid_manifests(draw, min_labels: int = 0) -> dict:
    doc: dict = {
        "acKind": "ImageManifest",
        "acVersion": draw(weighted((4, st.just("0.8.11")), (1, semvers()))),
        "name": draw(image_names()),
    }
    if min_labels or draw(st.booleans()):
        doc["labels"] = draw(label_lists(min_size=min_labels))
    if rare(draw, 3):
        doc["dependencies"] = draw(st.lists(valid_dependencies(True), min_size=1, max_size=2))
    if rare(draw, 4):
        names = draw(st.lists(st.sampled_from(ANNOTATION_NAMES), min_size=1, max_size=3, unique=True))
        doc["annotations"] = [{"name": n, "value": draw(values(structural=False))} for n in names]
    return doc


MANIFEST_MISTAKES = [
    "acKind",
    "acVersion",
    "name",
    "labels",
    "label",
    "dependencies",
    "dependency",
    "annotations",
    "annotation",
    "unknown-member",
    "os-arch",
    "duplicate-label",
    "image-id",
    "size",
]


def _pick_list(draw, doc: dict, member: str, factory) -> list:
    if not isinstance(doc.get(member), list) or not doc[member]:
        doc[member] = [factory]
    return doc[member]


@st.composite
def _label_mistake(draw, labels: list, annotation: bool = False) -> None:
    i = draw(st.integers(0, len(labels) - 1))
    label = labels[i] if isinstance(labels[i], dict) else {"name": "channel", "value": "x"}
    kind = draw(
        st.sampled_from(
            [
                "no-name",
                "no-value",
                "name-null",
                "value-null",
                "value-number",
                "not-object",
                "name-near-miss",
                "duplicate",
            ]
            + ([] if annotation else ["reserved", "os-arch"])
        )
    )
    label = dict(label)
    if kind == "no-name":
        label.pop("name", None)
    elif kind == "no-value":
        label.pop("value", None)
    elif kind == "name-null":
        label["name"] = None
    elif kind == "value-null":
        label["value"] = None
    elif kind == "value-number":
        label["value"] = 7
    elif kind == "not-object":
        label = draw(st.sampled_from(["version", None, ["version", "1"]]))
    elif kind == "name-near-miss":
        label["name"] = draw(near_misses(st.sampled_from(VALID_KEYS[:5])))
    elif kind == "duplicate":
        labels.insert(i, dict(label))
    elif kind == "reserved":
        label = {"name": "name", "value": "example.com/app"}
    elif kind == "os-arch":
        os_, arch = draw(st.sampled_from(BAD_OS_ARCH))
        labels[:] = [lb for lb in labels if not (isinstance(lb, dict) and lb.get("name") in ("os", "arch"))] or labels
        labels.append({"name": "os", "value": os_})
        label = {"name": "arch", "value": arch}
    labels[i if i < len(labels) else -1] = label


@st.composite
def manifest_documents(draw, min_labels: int = 0, most: int = 2, none: int = 4) -> dict:
    """An image manifest as a JSON value: a valid one with none, one or two mistakes."""
    doc = draw(valid_manifests(min_labels=min_labels))
    for m in draw(mistakes(MANIFEST_MISTAKES, most=most, none=none)):
        if m == "acKind":
            v = draw(st.sampled_from(["PodManifest", "imagemanifest", "", None, 1, MISSING]))
        elif m == "acVersion":
            v = draw(
                weighted(
                    (3, semvers()),
                    (
                        2,
                        st.sampled_from(
                            ["0.8", "v0.8.11", "0.8.11.1", " 0.8.11", "0.0.0", "1.0.0-", "1.0.0+", "", "0.8.x"]
                        ),
                    ),
                    (1, st.sampled_from([None, 0.8, MISSING])),
                )
            )
        elif m == "name":
            v = draw(
                weighted((3, near_misses(st.just(doc["name"]))), (1, st.sampled_from([None, 42, MISSING, "database"])))
            )
        elif m in ("labels", "dependencies", "annotations"):
            v = draw(st.sampled_from([None, {"version": "1.0.0"}, "x", 1]))
        elif m == "os-arch":
            labels = _pick_list(draw, doc, "labels", {"name": "channel", "value": "x"})
            os_, arch = draw(st.sampled_from(BAD_OS_ARCH + [("", "amd64")]))
            labels[:] = [lb for lb in labels if not (isinstance(lb, dict) and lb.get("name") in ("os", "arch"))]
            labels += [{"name": "os", "value": os_}] + ([{"name": "arch", "value": arch}] if arch else [])
            continue
        elif m == "duplicate-label":
            labels = _pick_list(draw, doc, "labels", {"name": "channel", "value": "x"})
            first = labels[0] if isinstance(labels[0], dict) else {"name": "channel", "value": "x"}
            labels.append({"name": first.get("name"), "value": draw(st.sampled_from([first.get("value"), "other"]))})
            continue
        elif m in ("image-id", "size"):
            deps = _pick_list(draw, doc, "dependencies", {"imageName": "example.com/base"})
            dep = deps[0] if isinstance(deps[0], dict) else {"imageName": "example.com/base"}
            deps[0] = dep
            h = _hex_id(draw)
            dep["imageID" if m == "image-id" else "size"] = draw(
                st.sampled_from(
                    ["sha256-" + h[7:71], "SHA512-" + h[7:], "sha512-zzz", "md5-" + h[7:39], "sha512-" + h[7:] + "-1"]
                    if m == "image-id"
                    else [-1, 1.5, "12", None, True, [], -(2**60)]
                )
            )
            continue
        elif m in ("label", "annotation"):
            member = "labels" if m == "label" else "annotations"
            lst = _pick_list(draw, doc, member, {"name": "channel" if m == "label" else "authors", "value": "x"})
            draw(_label_mistake(lst, annotation=m == "annotation"))
            continue
        elif m == "dependency":
            deps = _pick_list(draw, doc, "dependencies", {"imageName": "example.com/base"})
            dep = deps[draw(st.integers(0, len(deps) - 1))]
            field = draw(st.sampled_from(["imageName", "imageID", "size", "labels", "label", "tag", "not-object"]))
            if field == "imageName":
                dep["imageName"] = draw(
                    weighted((3, near_misses(image_names())), (1, st.sampled_from([None, 5, MISSING])))
                )
            elif field == "imageID":
                h = _hex_id(draw)
                dep["imageID"] = draw(
                    st.sampled_from(
                        [
                            h.upper().replace("SHA512", "sha512"),
                            h[:39],
                            "sha256-" + h[7:71],
                            "sha512-",
                            "sha512-zzz",
                            h.replace("-", ""),
                            None,
                            5,
                            h + "-x",
                        ]
                    )
                )
            elif field == "size":
                dep["size"] = draw(st.sampled_from([-1, 1.5, "12", None, True, 1e3]))
            elif field == "labels":
                dep["labels"] = draw(st.sampled_from([None, {"os": "linux"}, "x"]))
            elif field == "label":
                dep["labels"] = (
                    dep.get("labels")
                    if isinstance(dep.get("labels"), list) and dep["labels"]
                    else [{"name": "env", "value": "x"}]
                )
                draw(_label_mistake(dep["labels"]))
            elif field == "tag":
                dep["tag"] = draw(st.sampled_from([3, None, ["a"], ""]))
            else:
                deps[deps.index(dep)] = draw(st.sampled_from(["example.com/base", None, 1]))
            dep.pop("_", None)
            doc["dependencies"] = [
                {k: v for k, v in d.items() if v is not MISSING} if isinstance(d, dict) else d for d in deps
            ]
            continue
        else:  # unknown-member
            doc[draw(st.sampled_from(["x-comment", "metadata", "extra"]))] = draw(st.sampled_from(JSON_JUNK))
            continue
        doc[m] = v
    return {k: v for k, v in doc.items() if v is not MISSING}


@st.composite
def manifest_texts(draw) -> str:
    kind = draw(weighted((40, st.just("object")), (1, st.just("other-json")), (1, st.just("malformed"))))
    if kind == "other-json":
        return json.dumps(draw(st.sampled_from([None, [], "x", 1])))
    text = json.dumps(draw(manifest_documents()), ensure_ascii=False)
    if kind == "malformed":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    return text


def validate_manifest_args():
    return manifest_texts().map(lambda text: {"document": text})


def _value_variant(draw, value: str) -> str:
    kind = draw(st.sampled_from(["upper", "prefix", "longer", "space", "other"]))
    if kind == "upper" and value.upper() != value:
        return value.upper()
    if kind == "prefix" and len(value) > 1:
        return value[:-1]
    if kind == "longer":
        return value + "x"
    if kind == "space":
        return value + " "
    return draw(values(structural=False).filter(lambda v: v != value))


@st.composite
def match_manifest_args(draw) -> dict:
    """A (mostly valid) manifest, and an app string asking for its name and some of its labels,
    with one change or none: another or a near name, a value a little different, a label the
    manifest lacks, or the version given after the colon."""
    doc = draw(manifest_documents(min_labels=1, most=1, none=24))
    text = json.dumps(doc, ensure_ascii=False)
    name = doc["name"] if isinstance(doc.get("name"), str) and doc["name"] else "example.com/app"
    labels = doc.get("labels") if isinstance(doc.get("labels"), list) else []
    have = [
        lb
        for lb in labels
        if isinstance(lb, dict) and isinstance(lb.get("name"), str) and isinstance(lb.get("value"), str)
    ]
    items = [[lb["name"], lb["value"]] for lb in have if not rare(draw, 4)]
    change = draw(
        weighted(
            (2, st.just("none")),
            (2, st.just("name")),
            (3, st.just("value")),
            (2, st.just("extra")),
            (1, st.just("colon")),
        )
    )
    colon = None
    if change == "name":
        cut = name.rsplit("/", 1)[0] if "/" in name else name[:-1]
        name = draw(
            weighted(
                (3, st.sampled_from([cut or name + "x", name + "/sub", name + "x", name.upper()])), (1, image_names())
            )
        )
    elif change == "value" and items:
        item = items[draw(st.integers(0, len(items) - 1))]
        item[1] = _value_variant(draw, item[1])
    elif change == "extra":
        key = draw(st.sampled_from(["version", "os", "arch", "channel"]))
        items = [it for it in items if it[0] != key] + [[key, draw(label_values_for(key))]]
    elif change == "colon":
        version = [it for it in items if it[0] == "version"]
        colon = version[0][1] if version and draw(st.booleans()) else draw(st.sampled_from(TAGS))
        items = [it for it in items if it[0] != "version"]
    items = draw(st.permutations(items)) if items else items
    app = name + (":" + colon if colon is not None else "") + "".join(f",{k}={v}" for k, v in items)
    return {"app": app, "manifest": text}


# op -> the strategy of its arguments (discover's takes the profile)
STRATEGIES: dict[str, Callable[..., st.SearchStrategy[dict]]] = {
    "parse_app": parse_app_args,
    "validate_imagetags": validate_imagetags_args,
    "resolve_tag": resolve_tag_args,
    "merge_tag": merge_tag_args,
    "validate_manifest": validate_manifest_args,
    "match_manifest": match_manifest_args,
}


# --- discovery pages and host layouts ------------------------------------------------------
# One mock host "a" (servers/), an image name under it, and at every level of the walk (the full
# name, each parent, the bare host) nothing, a 4xx, or a page of meta tags. Only readings every
# client shares are generated: statuses 200 and 4xx (AMB-01), tags in <head> with two tokens
# (AMB-12), prefixes that end at a path segment (AMB-03), templates with {ext} and the variables
# the spec names (AMB-05, AMB-06, AMB-22), one usable template per kind and level (AMB-08), no
# redirects, TLS trouble or insecure options (AMB-09, AMB-10; hand-written vectors cover them).

SEGMENTS = ["project", "sub", "app", "x1"]
ACI_PATTERNS = [
    "{name}.{ext}",
    "{name}-{version}.{ext}",
    "{name}-{os}-{arch}.{ext}",
    "{version}/{name}.{ext}",
    "{name}-{version}-{os}.{ext}",
]


def _level_target(level: str) -> str:
    return f"/{level}?ac-discovery=1" if level else "/?ac-discovery=1"


@st.composite
def _meta_tags(draw, level: str, index: int, available: set, name: str, flags: dict, what: list) -> list:
    tags = []
    for kind in ("aci", "pubkeys"):
        usable_seen = False
        n = draw(weighted((3, st.just(1)), (1, st.just(0)), (1, st.just(2))))
        present_unusable = False
        for j in range(n):
            prefix_kind = draw(st.sampled_from(["host", "level", "mismatch"]))
            prefix = {
                "host": "{{a.host}}",
                "level": "{{a.host}}/" + level if level else "{{a.host}}",
                "mismatch": draw(st.sampled_from(["{{a.host}}/zzz", "127.0.0.99", "{{a.host}}/" + name + "/deeper"])),
            }[prefix_kind]
            if kind == "aci":
                pattern = draw(st.sampled_from(ACI_PATTERNS))
                content = f"https://{{{{a}}}}/l{index}t{j}/{pattern}"
                renderable = all(v in available for v in ("version", "os", "arch") if "{" + v + "}" in pattern)
            else:  # key URLs are used as given, braces included (DISC-02)
                content = f"https://{{{{a}}}}/keys/l{index}k{j}" + draw(
                    st.sampled_from([".gpg", ".gpg", "-{name}.gpg"])
                )
                renderable = True
            usable = prefix_kind != "mismatch" and renderable
            if usable and usable_seen:
                continue  # AMB-08: at most one usable endpoint per kind and level
            usable_seen = usable_seen or usable
            present_unusable = present_unusable or not usable
            tag_name = "ac-discovery" if kind == "aci" else "ac-discovery-pubkeys"
            tags.append([tag_name, f"{prefix} {content}"])
        if present_unusable and not usable_seen and kind in what:
            flags["unusable_level"] = True  # AMB-02: present but unusable tags
    return tags


@st.composite
def discovery_cases(draw, profile: str) -> dict:
    """``{"input": ..., "hosts": ..., "flags": ...}`` with the case's placeholders (servers/)."""
    path = draw(st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3))
    name = "/".join(path)
    labels = {}
    version = draw(st.sampled_from([None, "1.0.0", "2"]))
    if version is not None:
        labels["version"] = version
    if rare(draw, 3):
        labels["os"] = "linux"
        if draw(st.booleans()):
            labels["arch"] = "amd64"
    available = set(labels) | ({"version"} if profile == "appc-0.8.11" else set())
    what = draw(st.sampled_from([["aci"], ["aci"], ["pubkeys"], ["aci", "pubkeys"]]))
    flags: dict = {}
    levels = ["/".join(path[:i]) for i in range(len(path), 0, -1)] + [""]
    paths = {}
    for index, level in enumerate(levels):
        kind = draw(
            weighted(
                (4, st.just("page")),
                (3, st.just("absent")),
                (2, st.just("404")),
                (1, st.sampled_from(["403", "410", "404-with-tags"])),
            )
        )
        if kind == "absent":
            continue
        if kind in ("403", "410", "404"):
            paths[_level_target(level)] = {"status": int(kind)}
            continue
        tags = draw(_meta_tags(level, index, available, name, flags if kind == "page" else {}, what))
        resp = {"meta": tags}
        if kind == "404-with-tags":
            resp["status"] = 404
        paths[_level_target(level)] = resp
    app = "{{a.host}}/" + name
    if version is not None and profile == "appc-0.8.11" and draw(st.booleans()):
        app += ":" + version
        labels.pop("version")
    app += "".join(f",{k}={v}" for k, v in labels.items())
    return {"input": {"app": app, "what": what}, "hosts": {"a": {"paths": paths}}, "flags": flags}


STRATEGIES["discover"] = discovery_cases
