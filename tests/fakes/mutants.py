"""Mutants: the reference adapter with exactly one realistic bug, to measure what the suite catches.

    python tests/fakes/mutants.py BUG        # an adapter process (protocol 1) with that bug
    python tests/fakes/mutants.py none       # the control: every patched copy, no bug switched on
    python tests/fakes/mutants.py --list     # the catalogue as a table (--json for JSON)

How it works: this process imports the reference adapter, replaces some of its functions by
copies defined here (``_parse_app``, ``_resolve_tag``, ``_merge_tag``, ...), and runs the
reference's main loop. Where the reference has one function per rule (the manifest checks, the
discovery transport), a bug replaces just that rule's function instead (``RULE_BUGS``). Each copy is the reference's code with switches: ``on("BUG")`` is true
only in the process started for that bug. With no bug switched on (``none``) every copy must
behave exactly like the reference; tests/test_sensitivity.py checks that, so a mutant differs
from the reference by its one bug and nothing else. The reference itself is never edited.

``CATALOGUE`` lists every bug: its family, the requirement IDs it breaks, the vector areas that
are meant to catch it (a folder of vectors/, or one file such as ``discovery/walk``), and a
one-line description of the mistake an implementer would make. ``READINGS`` lists behaviours the
spec leaves open (AMB-xx): the same machinery, but every case must *pass* against them.
``ALTERNATIVES`` lists other behaviours the spec allows where the suite still grades a rule of
the adapter protocol or of the Go library (strength ``library``): they may fail such cases, but
no must-level case.

Bugs that would never end (no cycle check, reading an endless answer) are bounded where the
bound does not hide the bug: the cycle mutant answers with no labels after 100000 hops; the
endless-read mutants really do read until the harness's timeout stops them.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import sys
from dataclasses import asdict, dataclass
from urllib.parse import unquote, urlencode, urlsplit

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from appc_conformance.conformance.adapters.reference import __main__ as reference  # noqa: E402
from appc_conformance.conformance.adapters.reference import core  # noqa: E402
from appc_conformance.conformance.adapters.reference import discovery as disc  # noqa: E402
from appc_conformance.conformance.adapters.reference.errors import RefError  # noqa: E402


@dataclass(frozen=True)
class Bug:
    name: str
    family: (
        str  # parsing | identifiers | imagetags | resolution | merging | manifests | matching | discovery | security
    )
    requirements: tuple  # requirement IDs of vectors/requirements.json that the bug breaks
    areas: tuple  # vector areas (folders of vectors/) that are meant to catch it
    description: str


def _b(name, family, reqs, areas, description):
    return Bug(name, family, tuple(reqs.split()), tuple(areas.split()), description)


CATALOGUE: list[Bug] = [
    # --- app strings -----------------------------------------------------------------------
    _b(
        "colon-after-comma",
        "parsing",
        "APP-03",
        "app-strings",
        "a ':' after the first comma is accepted as part of a label value",
    ),
    _b(
        "duplicate-last-wins",
        "parsing",
        "APP-06",
        "app-strings",
        "a label key given twice is not an error: the last value silently wins",
    ),
    _b(
        "explicit-version-overrides-colon",
        "parsing",
        "APP-06 APP-PR-02",
        "app-strings",
        "the colon shorthand and an explicit version= (or tag=) are not seen as the same key; the explicit one wins",
    ),
    _b(
        "no-key-identifier-check",
        "parsing",
        "APP-05",
        "app-strings",
        "label keys of an app string are not checked to be AC Identifiers",
    ),
    _b(
        "name-key-allowed",
        "parsing",
        "APP-08",
        "app-strings",
        "'name' is accepted as an ordinary label key (the name is kept apart, so no clash is seen)",
    ),
    _b(
        "percent-decode-values",
        "parsing",
        "APP-07",
        "app-strings",
        "label values (and the colon value) are percent-decoded as if the app string were a URL query",
    ),
    _b(
        "tag-as-version",
        "parsing",
        "APP-PR-01",
        "app-strings",
        "in the image tags profile the text after ':' still becomes the version label instead of the tag",
    ),
    _b(
        "tag-key-not-reserved",
        "parsing",
        "APP-PR-02",
        "app-strings",
        "in the image tags profile ',tag=X' stays an ordinary label instead of meaning the tag X",
    ),
    _b(
        "trim-whitespace",
        "parsing",
        "APP-01 TYPE-02",
        "app-strings",
        "whitespace around the name, keys and values is stripped, so ' example.com/app' is accepted",
    ),
    _b(
        "split-on-every-equals",
        "parsing",
        "APP-04",
        "app-strings",
        "an item is split on every '=', so a value containing '=' (k=a=b) is rejected",
    ),
    _b(
        "empty-items-skipped",
        "parsing",
        "APP-04",
        "app-strings",
        "empty items (a trailing comma, ',,') are skipped instead of being an error",
    ),
    _b(
        "name-case-folded",
        "parsing",
        "APP-09 TYPE-02",
        "app-strings",
        "the image name is lower-cased before it is checked, so 'Example.com/app' is accepted",
    ),
    # --- AC Identifiers (shared by app strings, image tags documents and manifests) ---------
    _b(
        "identifier-uppercase-allowed",
        "identifiers",
        "TYPE-02",
        "app-strings imagetags manifests",
        "the AC Identifier pattern is matched case-insensitively",
    ),
    _b(
        "identifier-edges-unchecked",
        "identifiers",
        "TYPE-03",
        "app-strings imagetags manifests",
        "an AC Identifier is checked for its characters only, so leading or trailing separators pass",
    ),
    _b(
        "identifier-empty-allowed",
        "identifiers",
        "TYPE-01",
        "app-strings imagetags manifests",
        "the AC Identifier pattern accepts the empty string",
    ),
    _b(
        "identifier-unicode-letters",
        "identifiers",
        "TYPE-02",
        "app-strings imagetags manifests",
        "identifier characters are tested with str.isalnum()/islower(), so non-ASCII letters pass",
    ),
    # --- image tags documents ---------------------------------------------------------------
    _b(
        "imagetags-label-names-unchecked",
        "imagetags",
        "TAG-02 LBL-PR-01",
        "imagetags resolution merging",
        "label names in an image tags document are not checked to be AC Identifiers",
    ),
    _b(
        "imagetags-label-values-unchecked",
        "imagetags",
        "LBL-PR-01 TAG-01",
        "imagetags resolution merging",
        "label values in an image tags document are not checked to be strings",
    ),
    _b(
        "imagetags-unknown-member-rejected",
        "imagetags",
        "TAG-01",
        "imagetags resolution",
        "a document member other than 'aliases' and 'labels' makes the document invalid",
    ),
    _b(
        "imagetags-dangling-alias-invalid",
        "imagetags",
        "TAG-04",
        "imagetags resolution",
        "an alias whose target has no entry makes the whole document invalid instead of failing resolution",
    ),
    _b(
        "imagetags-alias-targets-unchecked",
        "imagetags",
        "TAG-01",
        "imagetags resolution",
        "alias targets are not checked to be strings",
    ),
    # --- resolution -------------------------------------------------------------------------
    _b(
        "one-alias-hop",
        "resolution",
        "TAG-03",
        "resolution merging",
        "only one alias is followed, so chains of aliases stop at the second tag",
    ),
    _b(
        "labels-before-aliases",
        "resolution",
        "TAG-05 TAG-03",
        "resolution merging",
        "a tag's own labels are used before its alias is followed",
    ),
    _b(
        "no-cycle-detection",
        "resolution",
        "TAG-06",
        "resolution merging",
        "aliases are followed with no cycle check (bounded here at 100000 hops, then it answers with no labels)",
    ),
    _b(
        "hop-limit-too-low",
        "resolution",
        "TAG-03",
        "resolution merging",
        "cycles are 'detected' by a hop limit of 16, so a long legitimate chain is reported as a cycle",
    ),
    _b(
        "missing-tag-version-fallback",
        "resolution",
        "TAG-04",
        "resolution",
        "a tag that resolves to no labels gives {version: TAG} instead of tag-not-found",
    ),
    _b(
        "labels-merged-along-chain",
        "resolution",
        "TAG-04 TAG-03",
        "resolution",
        "labels of the intermediate tags of an alias chain are merged into the result",
    ),
    _b("tag-case-insensitive", "resolution", "TAG-03 TAG-04", "resolution", "tags are looked up case-insensitively"),
    # --- merging ----------------------------------------------------------------------------
    _b(
        "resolved-labels-override",
        "merging",
        "TAG-09",
        "merging",
        "labels resolved from the tag overwrite the labels the user gave",
    ),
    _b(
        "phase1-skipped",
        "merging",
        "TAG-07",
        "merging",
        "without an image tags document the tag is dropped instead of becoming the version label",
    ),
    _b(
        "version-conflict-ignored",
        "merging",
        "TAG-07",
        "merging",
        "without a document, a tag overwrites an explicit version instead of failing with version-conflict",
    ),
    _b(
        "version-conflict-with-document",
        "merging",
        "TAG-09",
        "merging",
        "an explicit version plus a tag fails with version-conflict even when a document resolves the tag",
    ),
    _b(
        "empty-tag-is-a-tag",
        "merging",
        "APP-PR-04 TAG-08",
        "merging",
        "an empty tag is kept as '' and then resolved like a real tag",
    ),
    _b(
        "document-read-without-tag",
        "merging",
        "TAG-08",
        "merging",
        "the image tags document is parsed (and its errors reported) even when there is no tag",
    ),
    # --- manifests --------------------------------------------------------------------------
    _b("no-os-arch-whitelist", "manifests", "LBL-06", "manifests", "os and arch labels are accepted with any value"),
    _b(
        "arch-not-checked-against-os",
        "manifests",
        "LBL-06",
        "manifests",
        "os is checked against the whitelist but arch is not checked against the os",
    ),
    _b("arch-requires-os", "manifests", "LBL-05", "manifests", "an arch label without an os label is rejected"),
    _b(
        "duplicate-labels-allowed",
        "manifests",
        "LBL-02",
        "manifests",
        "a label name may appear twice in a manifest's labels (the last one wins)",
    ),
    _b("name-label-allowed", "manifests", "LBL-03", "manifests", "a manifest label called 'name' is accepted"),
    _b(
        "label-values-unchecked",
        "manifests",
        "LBL-01",
        "manifests",
        "manifest label values are not checked to be strings",
    ),
    _b(
        "imageid-not-checked",
        "manifests",
        "TYPE-09 DEP-03",
        "manifests",
        "a dependency's imageID is not validated at all",
    ),
    _b(
        "imageid-any-algorithm",
        "manifests",
        "TYPE-09",
        "manifests",
        "a dependency's imageID may name any hash algorithm (sha256-..., SHA512-...)",
    ),
    _b(
        "dependency-labels-not-checked",
        "manifests",
        "LBL-08 DEP-04",
        "manifests",
        "a dependency's labels are not validated like top-level labels",
    ),
    _b(
        "dependency-imagename-not-checked",
        "manifests",
        "DEP-02",
        "manifests",
        "a dependency's imageName is neither required nor checked to be an AC Identifier",
    ),
    _b("acversion-not-checked", "manifests", "TYPE-06", "manifests", "acVersion is not checked to be a SemVer version"),
    _b("ackind-case-insensitive", "manifests", "TYPE-06", "manifests", "acKind is compared case-insensitively"),
    _b("dependency-size-unchecked", "manifests", "DEP-05", "manifests", "a dependency's size may be any JSON value"),
    _b(
        "annotation-names-unchecked",
        "manifests",
        "TYPE-06",
        "manifests",
        "annotation names are not checked to be AC Identifiers",
    ),
    _b(
        "duplicate-annotations-allowed",
        "manifests",
        "ANN-01",
        "manifests",
        "an annotation name may appear twice in the annotations list",
    ),
    _b(
        "annotation-url-scheme-unchecked",
        "manifests",
        "ANN-02",
        "manifests",
        "homepage and documentation annotations are not checked to be http or https URLs",
    ),
    _b(
        "annotation-created-unchecked",
        "manifests",
        "ANN-03",
        "manifests",
        "the created annotation is not checked to be an RFC 3339 timestamp",
    ),
    _b(
        "member-names-case-insensitive",
        "manifests",
        "TYPE-06 LBL-01",
        "manifests",
        "manifest member names are matched case-insensitively (as Go's encoding/json does)",
    ),
    _b(
        "dependency-tag-unchecked",
        "manifests",
        "DEP-PR-01",
        "manifests",
        "in the image tags profile a dependency's tag may be any JSON value",
    ),
    # --- matching ---------------------------------------------------------------------------
    _b(
        "missing-label-matches",
        "matching",
        "VAL-04",
        "matching",
        "a requested label that the manifest lacks is treated as a match",
    ),
    _b("name-ignored", "matching", "VAL-01", "matching", "the manifest's name is not compared with the requested name"),
    _b(
        "name-prefix-match",
        "matching",
        "VAL-01",
        "matching",
        "the manifest's name only has to start with the requested name",
    ),
    _b(
        "value-prefix-match",
        "matching",
        "VAL-02",
        "matching",
        "a manifest label value only has to start with the requested value",
    ),
    _b("value-case-insensitive", "matching", "VAL-02", "matching", "label values are compared case-insensitively"),
    _b("values-trimmed", "matching", "VAL-02", "matching", "label values are compared after stripping whitespace"),
    _b(
        "exact-label-set",
        "matching",
        "VAL-03",
        "matching",
        "every manifest label must have been requested (extra manifest labels fail the match)",
    ),
    # --- discovery --------------------------------------------------------------------------
    _b(
        "no-walk-up",
        "discovery",
        "DISC-13",
        "discovery/walk discovery/prefix",
        "only the full name is tried; a failed level does not lead to its parent path",
    ),
    _b(
        "walk-up-only-on-404",
        "discovery",
        "DISC-13",
        "discovery/walk",
        "only a 404 leads to the parent path; any other 4xx (403, 410) ends the walk",
    ),
    _b(
        "all-levels-collected",
        "discovery",
        "DISC-14",
        "discovery/walk",
        "the walk goes on after a level with usable tags and adds the templates of parent levels",
    ),
    _b(
        "kinds-share-one-walk",
        "discovery",
        "DISC-15 DISC-PR-03",
        "discovery/walk discovery/imagetags",
        "one walk for every kind: the level where the first kind was found is the only one searched for the others",
    ),
    _b("no-prefix-check", "discovery", "DISC-08", "discovery/prefix", "a meta tag is used whatever its prefix"),
    _b(
        "prefix-check-reversed",
        "discovery",
        "DISC-08",
        "discovery/prefix",
        "the prefix test is written backwards: the prefix must start with the name, not the name with the prefix",
    ),
    _b(
        "pubkeys-rendered",
        "discovery",
        "DISC-02",
        "discovery/templates",
        "public key URLs are rendered as templates (and dropped when a variable has no value)",
    ),
    _b(
        "ext-not-required",
        "discovery",
        "DISC-03",
        "discovery/templates",
        "a template without {ext} is used, so the image and its signature get the same URL",
    ),
    _b(
        "unrenderable-variables-left",
        "discovery",
        "DISC-10",
        "discovery/templates",
        "a template variable without a value is left in the URL as written instead of skipping the template",
    ),
    _b(
        "implicit-latest-in-imagetags",
        "discovery",
        "DISC-PR-06",
        "discovery/templates discovery/resolve",
        "in the image tags profile a missing version is still rendered as 'latest'",
    ),
    _b(
        "imagetags-template-all-labels",
        "discovery",
        "DISC-PR-02",
        "discovery/imagetags",
        "image tags templates are rendered with every label, so {version} or {os} in them are filled in",
    ),
    _b(
        "labels-in-discovery-url",
        "discovery",
        "DISC-04",
        "discovery/meta-tags",
        "the app's labels are appended to the discovery URL as query parameters",
    ),
    _b(
        "meta-tags-by-regex",
        "discovery",
        "DISC-05",
        "discovery/meta-tags",
        "meta tags are found with a regular expression that wants name before content and double quotes",
    ),
    _b(
        "no-redirects",
        "discovery",
        "DISC-16",
        "discovery/redirects",
        "redirects of the discovery URL are not followed (a 3xx counts as a failed level)",
    ),
    _b(
        "merged-labels-not-used-for-images",
        "discovery",
        "TAG-11 DISC-PR-05",
        "discovery/resolve",
        "resolve merges the tag but renders the image templates with the labels as given",
    ),
    _b(
        "imagetags-fetched-without-tag",
        "discovery",
        "DISC-PR-05 TAG-08",
        "discovery/resolve",
        "resolve fetches the image tags document even when the app string has no tag",
    ),
    # --- security ---------------------------------------------------------------------------
    _b(
        "cert-not-verified",
        "security",
        "DISC-20 DISC-04",
        "discovery/transport fetch/transport",
        "TLS certificates are not verified at all",
    ),
    _b(
        "hostname-not-verified",
        "security",
        "DISC-20 DISC-04",
        "discovery/transport",
        "the certificate chain is verified but not that it was issued for the host",
    ),
    _b(
        "http-without-option",
        "security",
        "DISC-20 DISC-04",
        "discovery/transport fetch/transport",
        "plain HTTP is tried after an HTTPS failure even though the 'http' option was not given",
    ),
    _b(
        "insecure-tls-allows-http",
        "security",
        "DISC-20",
        "discovery/transport",
        "the 'tls' option (skip certificate checks) also allows plain HTTP",
    ),
    _b(
        "insecure-http-disables-tls-checks",
        "security",
        "DISC-20",
        "discovery/transport",
        "the 'http' option (allow plain HTTP) also turns certificate checks off",
    ),
    _b(
        "http-tried-first",
        "security",
        "DISC-20 DISC-04",
        "discovery/transport",
        "with the 'http' option, plain HTTP is tried before HTTPS",
    ),
    _b(
        "https-to-http-redirect-followed",
        "security",
        "DISC-16 DISC-04",
        "discovery/redirects fetch/transport",
        "a redirect from HTTPS to plain HTTP is followed without the 'http' option",
    ),
    _b(
        "headers-to-every-host",
        "security",
        "DISC-19",
        "discovery/headers",
        "every configured header is sent to every host, not only to the host it is configured for",
    ),
    _b(
        "headers-kept-across-redirects",
        "security",
        "DISC-19",
        "discovery/headers fetch/transport",
        "headers of the first host are sent again to the host a redirect leads to",
    ),
    _b(
        "headers-over-plain-http",
        "security",
        "DISC-19",
        "discovery/headers fetch/transport",
        "configured headers (credentials) are sent over plain HTTP too",
    ),
    _b("headers-ignored", "security", "DISC-19", "discovery/headers", "configured headers are never sent"),
    _b(
        "body-read-unbounded",
        "security",
        "DISC-13 TAG-10",
        "discovery/limits",
        "an answer is read to its end with only a per-read timeout: no size limit, no time limit for the whole fetch",
    ),
    # --- fetch: signatures, keys and validation of real images (FETCH_BUGS) ---------------------
    _b(
        "signature-skipped",
        "fetch",
        "DISC-18 VAL-05",
        "fetch/signatures",
        "the image's signature is never fetched or checked, even with signature checks on",
    ),
    _b(
        "any-key-trusted",
        "fetch",
        "DISC-18",
        "fetch/signatures fetch/keys",
        "a signature by a key the operator does not trust is accepted (only a bad signature is an error)",
    ),
    _b(
        "key-prefix-ignored",
        "fetch",
        "DISC-18",
        "fetch/signatures",
        "a trusted key is used for every name, whatever prefix the operator trusted it for",
    ),
    _b(
        "discovered-keys-always-trusted",
        "fetch",
        "DISC-18",
        "fetch/keys",
        "keys found through ac-discovery-pubkeys are trusted even when the operator does not allow it",
    ),
    _b(
        "tags-signature-skipped",
        "fetch",
        "TAG-12",
        "fetch/imagetags fetch/dependencies",
        "the image tags document is merged without fetching or checking its signature",
    ),
    _b(
        "manifest-name-not-compared",
        "fetch",
        "VAL-01",
        "fetch/manifest",
        "the manifest's name is not compared with the name used for discovery",
    ),
    _b(
        "manifest-labels-not-compared",
        "fetch",
        "VAL-02 VAL-04",
        "fetch/manifest fetch/imagetags",
        "the manifest's labels are not compared with the requested (merged) labels",
    ),
    _b(
        "image-id-not-checked",
        "fetch",
        "DEP-03",
        "fetch/dependencies",
        "a dependency's imageID is not compared with the hash of the retrieved image",
    ),
    _b(
        "image-id-of-served-bytes",
        "fetch",
        "DEP-03",
        "fetch/dependencies",
        "the image ID is the hash of the archive as served (compressed), not of the uncompressed tar",
    ),
    _b(
        "image-read-unbounded",
        "fetch",
        "DEP-05",
        "fetch/dependencies",
        "a dependency's size is checked only after the whole answer was read (no size or time bound on the "
        "download): endless data is read to the end",
    ),
    _b(
        "key-prefix-by-characters",
        "fetch",
        "DISC-18",
        "fetch/signatures",
        "a key's prefix is compared as characters, so a key trusted for host/ap is trusted for host/app",
    ),
    _b(
        "discovered-keys-ignored-for-tags",
        "fetch",
        "DISC-18 TAG-12",
        "fetch/keys",
        "the image tags document is checked with the configured keys only, never with discovered ones",
    ),
    _b(
        "tags-signature-optional",
        "fetch",
        "TAG-12",
        "fetch/imagetags",
        "an image tags document whose signature cannot be fetched is merged unsigned",
    ),
    _b(
        "checks-off-validates-nothing",
        "fetch",
        "VAL-01 VAL-02 DISC-18",
        "fetch/signatures",
        "with signature checks off the manifest's name and labels are not validated either",
    ),
    _b(
        "size-shorter-accepted",
        "fetch",
        "DEP-05",
        "fetch/dependencies",
        "a dependency's size is only an upper bound: an archive shorter than it is accepted",
    ),
    _b(
        "layout-unchecked",
        "fetch",
        "VAL-05",
        "fetch/manifest",
        "the archive's layout is not checked: a third top-level entry, duplicate entries or no rootfs pass",
    ),
    _b(
        "truncated-archive-accepted",
        "fetch",
        "VAL-05",
        "fetch/manifest",
        "the archive is decompressed as far as it goes and its manifest read from the start of the stream, "
        "nothing after it: a compressed archive that ends early is read as an image",
    ),
]

# Readings the spec leaves open (AMB-xx). They are not bugs: the suite must accept each of them,
# so every case must pass against them. The sensitivity run checks that too (a case that fails
# one of these is stricter than the spec).
READINGS: list[Bug] = [
    _b(
        "empty-tag-kept",
        "reading",
        "AMB-27",
        "app-strings merging",
        "'NAME:' in the image tags profile keeps the tag as '' (merging still treats '' as no tag)",
    ),
    _b(
        "cycle-as-tag-not-found",
        "reading",
        "AMB-19",
        "resolution merging",
        "an alias cycle is reported as tag-not-found instead of alias-cycle",
    ),
    _b(
        "prefix-segment-boundary",
        "reading",
        "AMB-03",
        "discovery/prefix",
        "a meta tag's prefix must end at a path segment boundary of the name",
    ),
    _b(
        "stop-walk-on-5xx",
        "reading",
        "AMB-01",
        "discovery/walk",
        "a 5xx answer ends the walk instead of leading to the parent path",
    ),
    _b(
        "imagetags-null-members-accepted",
        "reading",
        "AMB-30",
        "imagetags",
        "'aliases': null or 'labels': null are taken as absent ('or {}'), as Go's encoding/json does",
    ),
    _b(
        "armour-not-required",
        "reading",
        "AMB-33",
        "fetch/signatures fetch/imagetags",
        "a valid signature in binary OpenPGP form (not ASCII-armoured) is verified, for images and image tags "
        "documents alike",
    ),
]

# Other behaviours the spec allows, where the suite still grades a rule of the adapter protocol or
# the Go library (strength library) or a recommendation: they may fail such cases but no must-level
# case. The sensitivity run reports the must-level cases each fails (there must be none).
ALTERNATIVES: list[Bug] = [
    _b(
        "signature-first",
        "alternative",
        "DISC-PR-05 TAG-12",
        "fetch",
        "each signature is downloaded before its document or image (the spec fixes no order between the two)",
    ),
    _b(
        "plain-http-image-urls",
        "alternative",
        "DISC-21",
        "fetch",
        "http:// image and signature URLs are downloaded without the 'http' option (discovery.md restricts no "
        "scheme for image URLs; HTTPS only is the protocol's and the library's rule)",
    ),
]

BY_NAME = {b.name: b for b in CATALOGUE + READINGS + ALTERNATIVES}
ACTIVE: set[str] = set()


def on(name: str) -> bool:
    return name in ACTIVE


# --- AC Identifiers ------------------------------------------------------------------------------

_AC_ID_I = re.compile(core.AC_IDENTIFIER.pattern, re.IGNORECASE)
_AC_ID_CHARS = re.compile(r"^[a-z0-9._~/-]+$")
_AC_ID_EMPTY = re.compile(r"^([a-z0-9]+([-._~/][a-z0-9]+)*)?$")


def _is_ident(value) -> bool:
    if not isinstance(value, str):
        return False
    if on("identifier-uppercase-allowed"):
        return _AC_ID_I.match(value) is not None
    if on("identifier-edges-unchecked"):
        return _AC_ID_CHARS.match(value) is not None
    if on("identifier-empty-allowed"):
        return _AC_ID_EMPTY.match(value) is not None
    if on("identifier-unicode-letters"):
        words = re.split(r"[-._~/]", value)
        return all(w and all(c.isalnum() and not c.isupper() for c in w) for w in words) and not value.endswith("\n")
    return core.AC_IDENTIFIER.match(value) is not None


def _check_identifier(value, what, kind="invalid-identifier"):
    if not _is_ident(value):
        raise RefError(kind, f"{what} {value!r} is not an AC Identifier")
    return value


# --- app strings ---------------------------------------------------------------------------------

_COLON = "\0colon"  # the colon's value while labels are gathered (explicit-version-overrides-colon)
_TAG = "\0tag"  # the colon's tag when ',tag=' is an ordinary label (tag-key-not-reserved)


def _parse_app(app, profile):
    if not isinstance(app, str):
        raise RefError("invalid-app-string", "the app string must be a string")
    first_comma, first_colon = app.find(","), app.find(":")
    if app.count(":") > 1:
        raise RefError("invalid-app-string", "a colon may appear at most once")
    if first_colon > first_comma > -1 and not on("colon-after-comma"):
        raise RefError("invalid-app-string", "the colon may only follow the name")
    head, *items = app.split(",")
    colon_value = None
    if ":" in head:
        head, colon_value = head.split(":", 1)
        if on("percent-decode-values"):
            colon_value = unquote(colon_value)
    tags = profile == core.PROFILE_TAGS and not on("tag-as-version")
    colon_key = "version" if not tags else (_TAG if on("tag-key-not-reserved") else "tag")
    pairs = []
    if colon_value is not None:
        pairs.append((_COLON if on("explicit-version-overrides-colon") else colon_key, colon_value))
    for item in items:
        if not item and on("empty-items-skipped"):
            continue
        if "=" not in item:
            raise RefError("invalid-app-string", f"label {item!r} has no value")
        if on("split-on-every-equals"):
            parts = item.split("=")
            if len(parts) != 2:
                raise RefError("invalid-app-string", f"label {item!r} has more than one '='")
            key, value = parts
        else:
            key, value = item.split("=", 1)
        if on("trim-whitespace"):
            key, value = key.strip(), value.strip()
        if on("percent-decode-values"):
            value = unquote(value)
        pairs.append((key, value))
    name = head.strip() if on("trim-whitespace") else head
    seen: dict = {}
    for key, value in pairs:
        if key == "name" and not on("name-key-allowed"):
            raise RefError("invalid-app-string", "label 'name' is given more than once")
        if key in seen and not on("duplicate-last-wins"):
            raise RefError("invalid-app-string", f"label {key!r} is given more than once")
        seen[key] = value
    if _COLON in seen:
        seen.setdefault(colon_key, seen.pop(_COLON))
    if on("name-case-folded"):
        name = name.lower()
    name = _check_identifier(name, "the image name")
    tag = None
    if tags:
        tag = seen.pop(colon_key, None)
        if not (on("empty-tag-is-a-tag") or on("empty-tag-kept")):
            tag = tag or None  # an empty tag is no tag
    labels = {}
    for k, v in seen.items():
        labels[k if on("no-key-identifier-check") else _check_identifier(k, "the label name")] = v
    return {"name": name, "tag": tag, "labels": labels}


# --- image tags documents ------------------------------------------------------------------------
# One function per rule in the reference (core.imagetags_members, core.check_*); a bug replaces
# the rule it breaks (RULE_BUGS below).


def _null_members_accepted(doc):
    return doc.get("aliases") or {}, doc.get("labels") or {}


def _unknown_member_rejected(doc):
    extra = set(doc) - {"aliases", "labels"}
    if extra:
        raise RefError("invalid-imagetags", f"unknown members {sorted(extra)}")
    return RULE["imagetags_members"](doc)


def _dangling_alias_invalid(tag, target, aliases, labels):
    RULE["check_alias_target"](tag, target, aliases, labels)
    if target not in aliases and target not in labels:
        raise RefError("invalid-imagetags", f"alias {tag!r} points to {target!r}, which has no entry")


# --- resolution ----------------------------------------------------------------------------------

NO_CYCLE_BOUND = 100_000  # stands for "forever": the mutant answers instead of hanging the run


def _resolve_tag(text, tag):
    doc = core.load_imagetags(text)
    aliases, labels = doc["aliases"], doc["labels"]
    if on("tag-case-insensitive"):
        aliases = {str(k).lower(): (v.lower() if isinstance(v, str) else v) for k, v in aliases.items()}
        labels = {str(k).lower(): v for k, v in labels.items()}
        tag = tag.lower()
    asked, seen, hops, along = tag, {tag}, 0, {}
    while tag in aliases:
        if on("labels-before-aliases") and tag in labels:
            break
        if on("labels-merged-along-chain") and tag in labels:
            for k, v in labels[tag].items():
                along.setdefault(k, v)
        tag = aliases[tag]
        hops += 1
        if on("one-alias-hop"):
            break
        if on("hop-limit-too-low") and hops > 16:
            raise RefError("alias-cycle", "more than 16 alias hops: taken for a cycle")
        if on("no-cycle-detection"):
            if hops >= NO_CYCLE_BOUND:
                return {"labels": {}}
            continue
        if tag in seen:
            raise RefError(
                "tag-not-found" if on("cycle-as-tag-not-found") else "alias-cycle", f"aliases loop back to {tag!r}"
            )
        seen.add(tag)
    if tag not in labels:
        if on("missing-tag-version-fallback"):
            return {"labels": {"version": asked}}
        raise RefError("tag-not-found", f"tag {tag!r} has no labels")
    out = dict(labels[tag])
    for k, v in along.items():
        out.setdefault(k, v)
    return {"labels": out}


# --- merging -------------------------------------------------------------------------------------


def _merge_tag(text, labels, tag):
    labels = dict(labels)
    if on("document-read-without-tag") and text is not None:
        core.load_imagetags(text)
    if (tag is None) if on("empty-tag-is-a-tag") else (not tag):
        return {"labels": labels}
    if text is None:
        if on("phase1-skipped"):
            return {"labels": labels}
        if "version" in labels and not on("version-conflict-ignored"):
            raise RefError(
                "version-conflict", f"tag {tag!r} cannot become the version: version={labels['version']!r} is given"
            )
        labels["version"] = tag
        return {"labels": labels}
    if on("version-conflict-with-document") and "version" in labels:
        raise RefError("version-conflict", f"tag {tag!r} and version={labels['version']!r} are both given")
    for name, value in _resolve_tag(text, tag)["labels"].items():
        if on("resolved-labels-override"):
            labels[name] = value
        else:
            labels.setdefault(name, value)
    return {"labels": labels}


# --- manifests -----------------------------------------------------------------------------------
# The reference checks a manifest with one function per schema rule (core.check_*); a manifest
# bug replaces the function of the rule it breaks. ``RULE`` keeps the reference's own ones.

RULE = {
    name: getattr(core, name)
    for name in (
        "imagetags_members",
        "check_alias_target",
        "check_tag_label_name",
        "check_tag_label_value",
        "members",
        "check_label_name",
        "check_label_value",
        "check_unique_label",
        "check_os_arch",
        "check_ackind",
        "check_acversion",
        "check_image_name",
        "check_image_id",
        "check_dependency_labels",
        "check_size",
        "check_dependency_tag",
        "check_annotation_name",
        "check_unique_annotation",
        "check_annotation_url",
        "check_annotation_created",
    )
}

_IMAGE_ID_ANY = re.compile(r"^[A-Za-z0-9]+-[0-9a-fA-F]+$")


def _unchecked(*_args):
    """A rule that is not checked at all."""


def _members_any_case(obj):
    """Member lookup as Go's encoding/json does it: names matched ignoring case."""
    out: dict = {}
    for k, v in obj.items():
        out.setdefault(k.lower(), v)
    canonical = {"ackind": "acKind", "acversion": "acVersion", "imagename": "imageName", "imageid": "imageID"}
    return {canonical.get(k, k): v for k, v in out.items()}


def _label_name_identifier_only(name, where):
    if not core.is_ac_identifier(name):
        core._fail(f"{where}.name {name!r} is not an AC Identifier")


def _arch_requires_os(labels, where):
    if "arch" in labels and labels.get("os") is None:
        core._fail(f"{where}: arch without os")
    RULE["check_os_arch"](labels, where)


def _os_only(labels, where):
    if labels.get("os") is not None and labels["os"] not in core.VALID_OS_ARCH:
        core._fail(f"{where}: os {labels['os']!r} is not supported")


def _ackind_any_case(kind):
    if not isinstance(kind, str) or kind.lower() != "imagemanifest":
        core._fail("acKind must be 'ImageManifest'")


def _image_id_any_algorithm(value, where):
    if not (isinstance(value, str) and _IMAGE_ID_ANY.match(value)):
        core._fail(f"{where}.imageID {value!r} is not an Image ID")


RULE_BUGS = {
    "imagetags-null-members-accepted": {"imagetags_members": _null_members_accepted},
    "imagetags-unknown-member-rejected": {"imagetags_members": _unknown_member_rejected},
    "imagetags-alias-targets-unchecked": {"check_alias_target": _unchecked},
    "imagetags-dangling-alias-invalid": {"check_alias_target": _dangling_alias_invalid},
    "imagetags-label-names-unchecked": {"check_tag_label_name": _unchecked},
    "imagetags-label-values-unchecked": {"check_tag_label_value": _unchecked},
    "member-names-case-insensitive": {"members": _members_any_case},
    "label-values-unchecked": {"check_label_value": _unchecked},
    "name-label-allowed": {"check_label_name": _label_name_identifier_only},
    "duplicate-labels-allowed": {"check_unique_label": _unchecked},
    "arch-requires-os": {"check_os_arch": _arch_requires_os},
    "no-os-arch-whitelist": {"check_os_arch": _unchecked},
    "arch-not-checked-against-os": {"check_os_arch": _os_only},
    "ackind-case-insensitive": {"check_ackind": _ackind_any_case},
    "acversion-not-checked": {"check_acversion": _unchecked},
    "dependency-imagename-not-checked": {"check_image_name": _unchecked},
    "imageid-not-checked": {"check_image_id": _unchecked},
    "imageid-any-algorithm": {"check_image_id": _image_id_any_algorithm},
    "dependency-labels-not-checked": {"check_dependency_labels": _unchecked},
    "dependency-size-unchecked": {"check_size": _unchecked},
    "dependency-tag-unchecked": {"check_dependency_tag": _unchecked},
    "annotation-names-unchecked": {"check_annotation_name": _unchecked},
    "duplicate-annotations-allowed": {"check_unique_annotation": _unchecked},
    "annotation-url-scheme-unchecked": {"check_annotation_url": _unchecked},
    "annotation-created-unchecked": {"check_annotation_created": _unchecked},
}


# --- matching ------------------------------------------------------------------------------------


def _value_matches(have, want) -> bool:
    if have is None:
        return on("missing-label-matches")
    if not isinstance(have, str):
        return have == want
    if on("value-case-insensitive"):
        have, want = have.lower(), want.lower()
    if on("values-trimmed"):
        have, want = have.strip(), want.strip()
    if on("value-prefix-match"):
        return have.startswith(want)
    return have == want


def _match_manifest(app, text, profile):
    wanted = _parse_app(app, profile)
    manifest = core.load_manifest(text, profile)
    if on("name-prefix-match"):
        if not manifest["name"].startswith(wanted["name"]):
            return {"matches": False}
    elif manifest["name"] != wanted["name"] and not on("name-ignored"):
        return {"matches": False}
    have = manifest["labels"]
    if on("exact-label-set") and set(have) - set(wanted["labels"]):
        return {"matches": False}
    return {"matches": all(_value_matches(have.get(k), v) for k, v in wanted["labels"].items())}


# --- discovery -----------------------------------------------------------------------------------
# The reference's Transport with its rules overridden, and copies of the module's functions
# where a bug sits inside one, with the same switches.

FetchError = disc.FetchError


class _Transport(disc.Transport):
    def __init__(self, args, ca_file):
        super().__init__(args, ca_file)
        _port, insecure, _headers = disc._options(args)
        self.shared_level = None  # kinds-share-one-walk
        self.url_labels = {}  # labels-in-discovery-url
        if on("cert-not-verified") or (on("insecure-http-disables-tls-checks") and "http" in insecure):
            self.tls.check_hostname = False
            self.tls.verify_mode = ssl.CERT_NONE
        if on("hostname-not-verified"):
            self.tls.check_hostname = False
        if on("http-without-option") or (on("insecure-tls-allows-http") and "tls" in insecure):
            self.allow_http = True

    # Each rule of the reference's Transport, with its switches.
    def _follows_redirects(self):
        return not on("no-redirects")

    def _http_allowed(self, hop):
        return self.allow_http or (hop > 0 and on("https-to-http-redirect-followed"))

    def _headers_for(self, netloc, scheme, first_url):
        if on("headers-ignored"):
            pairs = []
        elif on("headers-to-every-host"):
            pairs = [p for hs in self.headers.values() for p in hs]
        else:
            key = urlsplit(first_url).netloc if on("headers-kept-across-redirects") else netloc
            pairs = self.headers.get(disc._norm_netloc(key, "https"), [])
        return pairs if scheme == "https" or on("headers-over-plain-http") else []

    def _read_body(self, resp, conn, url, limit, fetch_deadline):
        if on("body-read-unbounded") or (on("image-read-unbounded") and limit >= UNBOUNDED):
            return resp.read()  # to the end, however long it takes
        return super()._read_body(resp, conn, url, limit, fetch_deadline)

    def discovery_page(self, prefix):
        host, slash, path = prefix.partition("/")
        netloc = host if self.port is None else f"{host}:{self.port}"
        tail = (slash + path) + "?ac-discovery=1"
        if on("labels-in-discovery-url") and self.url_labels:
            tail += "&" + urlencode(sorted(self.url_labels.items()))
        schemes = ["https", "http"] if self.allow_http else ["https"]
        if on("http-tried-first") and self.allow_http:
            schemes.reverse()
        errors = []
        for scheme in schemes:
            try:
                return self.get(f"{scheme}://{netloc}{tail}", disc.MAX_PAGE)
            except FetchError as exc:
                errors.append(str(exc))
        raise FetchError("; then ".join(errors))


_META_RE = re.compile(r'<meta\s+name="([^"]*)"\s+content="([^"]*)"\s*/?>', re.IGNORECASE)


def _meta_tags(page):
    if not on("meta-tags-by-regex"):
        return _plain["meta_tags"](page)
    out = []
    for name, content in _META_RE.findall(page.decode("utf-8", errors="replace")):
        kind = disc.META_NAMES.get(name.strip().lower())
        tokens = content.split()
        if kind is not None and len(tokens) == 2:
            out.append((kind, tokens[0], tokens[1]))
    return out


def _render(template, values):
    if not on("unrenderable-variables-left"):
        return _plain["render"](template, values)
    return disc.TEMPLATE_VAR.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _prefix_ok(name, prefix):
    if on("no-prefix-check"):
        return True
    if on("prefix-check-reversed"):
        return prefix.startswith(name)
    if on("prefix-segment-boundary"):
        return name == prefix or name.startswith(prefix.rstrip("/") + "/")
    return name.startswith(prefix)


def _usable(kind, tags, name, labels):
    out = []
    for k, prefix, value in tags:
        if k != kind or not _prefix_ok(name, prefix):
            continue
        if kind == disc.PUBKEYS:
            if on("pubkeys-rendered"):
                value = _render(value, {**labels, "name": name})
                if value is None:
                    continue
            out.append(value)
            continue
        if not disc._has_ext(value) and not on("ext-not-required"):
            continue
        if kind == disc.ACI:
            values = {**labels, "name": name}
            a, s = _render(value, {**values, "ext": "aci"}), _render(value, {**values, "ext": "aci.asc"})
            if a is not None and s is not None:
                out.append({"aci": a, "asc": s})
        else:
            values = {**labels, "name": name} if on("imagetags-template-all-labels") else {"name": name}
            a = _render(value, {**values, "ext": "json"})
            s = _render(value, {**values, "ext": "json.asc"})
            if a is not None and s is not None:
                out.append({"url": a, "asc": s})
    return out


def _walk(kind, name, labels, tr, attempts):
    parts = name.split("/")
    levels = ["/".join(parts[:end]) for end in range(len(parts), 0, -1)]
    if on("no-walk-up"):
        levels = levels[:1]
    if on("kinds-share-one-walk") and getattr(tr, "shared_level", None) is not None:
        levels = [tr.shared_level]
    if on("labels-in-discovery-url"):
        tr.url_labels = labels
    found_all = []
    for prefix in levels:
        try:
            page = tr.discovery_page(prefix)
        except FetchError as exc:
            attempts.append({"prefix": prefix, "kind": kind, "error": str(exc)})
            if on("walk-up-only-on-404") and "status 404" not in str(exc):
                return found_all
            if on("stop-walk-on-5xx") and re.search(r"status 5\d\d", str(exc)):
                return found_all
            continue
        found = disc.usable(kind, disc.meta_tags(page), name, labels)
        if found:
            if on("kinds-share-one-walk") and getattr(tr, "shared_level", None) is None:
                tr.shared_level = prefix
            if on("all-levels-collected"):
                found_all += found
                continue
            return found
        attempts.append({"prefix": prefix, "kind": kind, "error": f"no usable {disc.KIND_META[kind]} meta tag"})
    return found_all


def _render_labels(labels, profile):
    if (profile == core.PROFILE_0811 or on("implicit-latest-in-imagetags")) and not labels.get("version"):
        return {**labels, "version": "latest"}
    return dict(labels)


def _resolve(args, profile, ca_file):
    app = core.parse_app(args["app"], profile)
    tr = disc.Transport(args, ca_file)
    name, labels, attempts = app["name"], dict(app["labels"]), []
    pubkeys = disc.walk(disc.PUBKEYS, name, disc._render_labels(labels, profile), tr, attempts)
    given = dict(labels)
    if profile == core.PROFILE_TAGS and (app.get("tag") or on("imagetags-fetched-without-tag")):
        endpoints = disc.walk(disc.IMAGETAGS, name, labels, tr, attempts)
        text = disc.fetch_imagetags(endpoints, tr) if endpoints else None
        labels = core.merge_tag(text, labels, app["tag"])["labels"]
    shown = given if on("merged-labels-not-used-for-images") else labels
    aci = disc.walk(disc.ACI, name, disc._render_labels(shown, profile), tr, attempts)
    if not aci:
        raise disc._failed(disc.ACI, name, attempts)
    return {
        "labels": labels,
        "aci": aci,
        "pubkeys": pubkeys,
        "attempts": [{"prefix": a["prefix"], "error": f"{a['kind']}: {a['error']}"} for a in attempts],
    }


_plain = {"meta_tags": disc.meta_tags, "render": disc.render}
DISCOVERY_PATCHES = {
    "Transport": _Transport,
    "meta_tags": _meta_tags,
    "render": _render,
    "usable": _usable,
    "walk": _walk,
    "_render_labels": _render_labels,
    "resolve": _resolve,
}


# --- the process ---------------------------------------------------------------------------------

PATCHES = {
    "is_ac_identifier": _is_ident,
    "check_identifier": _check_identifier,
    "parse_app": _parse_app,
    "resolve_tag": _resolve_tag,
    "merge_tag": _merge_tag,
    "match_manifest": _match_manifest,
}


# --- fetch ------------------------------------------------------------------------------------------
# The reference's fetch has one function per rule (conformance/adapters/reference/fetch.py); a bug
# replaces that rule's function, as RULE_BUGS do for the manifest checks.


def _accepts_unknown_key(status):
    return ("VALIDSIG" in status and "GOODSIG" in status) or "NO_PUBKEY" in status


def _always(*_args):
    return True


def _never(*_args):
    return False


UNBOUNDED = 1 << 62  # image-read-unbounded: the image's byte limit, and the sign to read it without a bound


def _prefix_by_characters(prefix, name):
    return name.startswith(prefix.strip("/"))


def _layout_manifest_only(members):
    from appc_conformance.conformance.adapters.reference import fetch as ref_fetch

    if not any(ref_fetch._member_path(m.name) == "manifest" and m.isfile() for m in members):
        raise RefError("not-an-image", "the archive has no manifest file")


def _decompress_as_far_as_it_goes(data):
    import bz2
    import lzma
    import zlib

    try:
        if data[:2] == b"\x1f\x8b":
            return zlib.decompressobj(31).decompress(data)
        if data[:3] == b"BZh":
            return bz2.BZ2Decompressor().decompress(data)
        if data[:6] == b"\xfd7zXZ\x00":
            return lzma.LZMADecompressor().decompress(data)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise RefError("not-an-image", f"the archive cannot be decompressed: {exc}") from None
    return data


def _read_manifest_from_the_stream(tar_bytes):
    """The manifest read from the start of the tar stream, as a streaming ACE reads it; what comes
    after it is never looked at (truncated-archive-accepted)."""
    import io
    import tarfile
    from appc_conformance.conformance.adapters.reference import fetch as ref_fetch

    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r|") as tar:
            for m in tar:
                if ref_fetch._member_path(m.name) == "manifest" and m.isfile():
                    return tar.extractfile(m).read().decode("utf-8")
    except (tarfile.TarError, UnicodeDecodeError) as exc:
        raise RefError("not-an-image", f"not a tar archive: {exc}") from None
    raise RefError("not-an-image", "the archive has no manifest file")


def _hash_served(served, tar_bytes):
    import hashlib

    return "sha512-" + hashlib.sha512(served).hexdigest()


FETCH_BUGS = {
    "signature-skipped": {"fetches_signature": _never},
    "any-key-trusted": {"accepts": _accepts_unknown_key},
    "key-prefix-ignored": {"key_covers": _always},
    "discovered-keys-always-trusted": {"uses_discovered_keys": _always},
    "armour-not-required": {"is_armoured": _always},
    "key-prefix-by-characters": {"key_covers": _prefix_by_characters},
    "discovered-keys-ignored-for-tags": {"document_keys": lambda configured, discovered: configured},
    "tags-signature-optional": {"tags_signature_required": _never},
    "checks-off-validates-nothing": {"validates_manifest": lambda verify: verify},
    "size-shorter-accepted": {"size_matches": lambda size, served: size is None or served <= size},
    "layout-unchecked": {"check_layout": _layout_manifest_only},
    "truncated-archive-accepted": {
        "decompress": _decompress_as_far_as_it_goes,
        "read_manifest": _read_manifest_from_the_stream,
    },
    "signature-first": {"signature_first": _always},
    "plain-http-image-urls": {"plain_http_downloads": _always},
    "tags-signature-skipped": {"checks_tags_signature": _never},
    "manifest-name-not-compared": {"name_matches": _always},
    "manifest-labels-not-compared": {"labels_match": _always},
    "image-id-not-checked": {"image_id_matches": _always},
    "image-id-of-served-bytes": {"compute_image_id": _hash_served},
    "image-read-unbounded": {"image_limit": lambda size: UNBOUNDED},
}


def install(bug: str) -> None:
    """Replace the reference's functions by the copies above and switch ``bug`` on."""
    if bug != "none" and bug not in BY_NAME:
        raise SystemExit(f"unknown bug {bug!r}; see --list")
    for attr, fn in PATCHES.items():
        assert hasattr(core, attr), attr
        setattr(core, attr, fn)
    for attr, fn in DISCOVERY_PATCHES.items():
        assert hasattr(disc, attr), attr
        setattr(disc, attr, fn)
    for attr, fn in RULE_BUGS.get(bug, {}).items():
        assert attr in RULE, attr
        setattr(core, attr, fn)
    if bug in FETCH_BUGS:  # imported after the discovery patches: its transport builds on theirs
        from appc_conformance.conformance.adapters.reference import fetch as ref_fetch

        for attr, fn in FETCH_BUGS[bug].items():
            assert hasattr(ref_fetch, attr), attr
            setattr(ref_fetch, attr, fn)
    ACTIVE.clear()
    if bug != "none":
        ACTIVE.add(bug)


def table() -> str:
    lines = ["| bug | family | requirements | areas | description |", "|---|---|---|---|---|"]
    for b in CATALOGUE + READINGS + ALTERNATIVES:
        lines.append(
            f"| `{b.name}` | {b.family} | {', '.join(b.requirements)} | {', '.join(b.areas)} | {b.description} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    if argv[0] == "--list":
        if "--json" in argv:
            print(
                json.dumps(
                    {
                        "bugs": [asdict(b) for b in CATALOGUE],
                        "readings": [asdict(b) for b in READINGS],
                        "alternatives": [asdict(b) for b in ALTERNATIVES],
                    },
                    indent=1,
                )
            )
        else:
            print(table())
        return 0
    bug = argv[0]
    install(bug)
    plain = reference.answer

    def answer(request, state):
        reply = plain(request, state)
        if request.get("op") == "hello" and "ok" in reply:
            reply["ok"]["implementation"]["name"] = f"mutant-{bug}"
        return reply

    reference.answer = answer
    return reference.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
