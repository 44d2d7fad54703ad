"""The publisher check (``appc-conformance check-publisher``) against mock hosts that get each rule
right, and then each rule wrong, one at a time."""
from __future__ import annotations

import copy
import json

import pytest

import servers
from conformance import cli, publisher

APP = "{{a.host}}/app,version=1.0.0"
IMG, ASC = "/images/{{a.host}}/app-1.0.0.aci", "/images/{{a.host}}/app-1.0.0.aci.asc"
TJ, TA = "/tags/{{a.host}}/app.json", "/tags/{{a.host}}/app.json.asc"
GOOD_META = [["ac-discovery", "{{a.host}}/app https://{{a}}/images/{name}-{version}.{ext}"],
             ["ac-discovery-pubkeys", "{{a.host}}/app https://{{a}}/keys/app.asc"],
             ["ac-discovery-imagetags", "{{a.host}}/app https://{{a}}/tags/{name}.{ext}"]]
ARTEFACTS = {
    "app.aci": {"aci": {"name": "{{a.host}}/app", "labels": {"version": "1.0.0", "os": "linux"},
                        "compression": "gzip"}},
    "app.aci.asc": {"signature": {"of": "app.aci", "key": "alice"}},
    "alice.pub": {"public_key": "alice"},
    "tags.json": {"json": {"aliases": {"stable": "1.0.0"}, "labels": {"1.0.0": {"version": "1.0.0"}}}},
    "tags.json.asc": {"signature": {"of": "tags.json", "key": "alice"}},
    "evil.aci": {"aci": {"name": "{{a.host}}/app", "labels": {"version": "1.0.0"}, "rootfs": {"x": "evil"}}},
    "other.aci": {"aci": {"name": "{{a.host}}/other", "labels": {"version": "1.0.0"}}},
    "v2.aci": {"aci": {"name": "{{a.host}}/app", "labels": {"version": "2.0.0"}}},
    "bad-tags.json": {"json": {"labels": {"stable": {"Version": "1.0.0"}}}},
    "bad-tags.json.asc": {"signature": {"of": "bad-tags.json", "key": "alice"}},
    "mallory.asc": {"signature": {"of": "app.aci", "key": "mallory"}},
    "binary.asc": {"signature": {"of": "app.aci", "key": "alice", "armor": False}},
}


def good_paths() -> dict:
    return {"/app?ac-discovery=1": {"meta": copy.deepcopy(GOOD_META)},
            "/keys/app.asc": {"artefact": "alice.pub"},
            IMG: {"artefact": "app.aci"}, ASC: {"artefact": "app.aci.asc"},
            TJ: {"artefact": "tags.json"}, TA: {"artefact": "tags.json.asc"}}


def run_check(paths: dict, app: str = APP, profile: str = "appc-imagetags") -> dict:
    with servers.scenario({"a": {"paths": paths}}, artefacts=ARTEFACTS) as sc:
        client = publisher.Client(sc.port, sc.ca_file, False, {})
        report = publisher.check(sc.substitute(app), profile, client, [])
    return {c["rule"]: c for c in report.to_json()["checks"]} | {"_ok": report.to_json()["ok"],
                                                                 "_text": report.text()}


def statuses(result: dict) -> dict:
    return {k: v["status"] for k, v in result.items() if not k.startswith("_")}


def test_a_good_host_passes_every_rule():
    r = run_check(good_paths())
    assert set(statuses(r).values()) == {"pass"}, r["_text"]
    assert r["_ok"]


def test_a_good_host_in_the_released_profile():
    r = run_check(good_paths(), profile="appc-0.8.11")
    s = statuses(r)
    assert s.pop("imagetags-tag") == s.pop("imagetags-document") == s.pop("imagetags-signature") == "skip"
    assert set(s.values()) == {"pass"}, r["_text"]


def _meta(paths, meta):
    paths["/app?ac-discovery=1"] = {"meta": meta}
    return paths


BROKEN = {
    # rule -> (how the host gets it wrong, the status expected)
    "template-ext": (lambda p: _meta(p, [["ac-discovery", "{{a.host}}/app https://{{a}}/images/{name}-{version}.aci"],
                                         *GOOD_META]), "fail"),
    "https-template": (lambda p: _meta(p, [["ac-discovery", "{{a.host}}/app http://{{a}}/images/{name}-{version}.{ext}"],
                                           *GOOD_META[1:]]), "warn"),
    "pubkeys-tag": (lambda p: _meta(p, [GOOD_META[0], GOOD_META[2]]), "warn"),
    "imagetags-tag": (lambda p: _meta(p, GOOD_META[:2]), "warn"),
    "imagetags-document": (lambda p: {**p, TJ: {"artefact": "bad-tags.json"}, TA: {"artefact": "bad-tags.json.asc"}},
                           "fail"),
    "imagetags-signature": (lambda p: {**p, TA: {"status": 404}}, "fail"),
    "image": (lambda p: {**p, IMG: {"status": 404}}, "fail"),
    "image-signature": (lambda p: {**p, IMG: {"artefact": "evil.aci"}}, "fail"),
    "image-manifest": (lambda p: {**p, IMG: {"artefact": "other.aci"}, ASC: None}, "fail"),
    "meta-tags": (lambda p: _meta(p, [["ac-discovery", "{{a.host}}/app"], *GOOD_META]), "fail"),
}


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_each_rule_broken_alone(rule):
    how, expected = BROKEN[rule]
    paths = {k: v for k, v in how(good_paths()).items() if v is not None}
    r = run_check(paths)
    s = statuses(r)
    assert s[rule] == expected, r["_text"]
    assert r[rule]["messages"], r["_text"]
    if rule == "pubkeys-tag":  # without published keys no signature can be verified (unless --key)
        assert s["image-signature"] == "fail" and not r["_ok"]
        assert any("no published key" in m for m in r["image-signature"]["messages"])
    else:
        assert r["_ok"] == (expected != "fail")
    # the rules that do not depend on the broken one still pass
    independent = {"meta-tags", "template-ext", "https-template", "pubkeys-tag", "imagetags-tag"} - {rule}
    for other in independent:
        assert s[other] in ("pass",), (other, r["_text"])


@pytest.mark.parametrize("sig, needle", [
    ("mallory.asc", "does not publish"),
    ("binary.asc", "not an ASCII-armoured"),
])
def test_image_signature_problems_are_named(sig, needle):
    r = run_check({**good_paths(), ASC: {"artefact": sig}})
    assert r["image-signature"]["status"] == "fail"
    assert any(needle in m for m in r["image-signature"]["messages"]), r["_text"]


def test_labels_the_image_is_served_for():
    r = run_check({**good_paths(), IMG: {"artefact": "v2.aci"}})
    assert r["image-manifest"]["status"] == "fail"
    assert any("version" in m for m in r["image-manifest"]["messages"]), r["_text"]


def test_a_tag_is_resolved_through_the_document():
    r = run_check(good_paths(), app="{{a.host}}/app:stable")
    assert set(statuses(r).values()) == {"pass"}, r["_text"]


def test_tags_on_a_parent_page_are_found():
    paths = good_paths()
    paths["/?ac-discovery=1"] = paths.pop("/app?ac-discovery=1")
    r = run_check(paths)
    assert set(statuses(r).values()) == {"pass"}, r["_text"]


def test_no_discovery_page():
    r = run_check({"/other": {"body": "x"}})
    assert r["meta-tags"]["status"] == "fail" and not r["_ok"]


def test_the_verb(tmp_path, capsys):
    with servers.scenario({"a": {"paths": good_paths()}}, artefacts=ARTEFACTS) as sc:
        out = tmp_path / "report.json"
        argv = ["check-publisher", sc.substitute(APP), "--profile", "appc-imagetags", "--port", str(sc.port),
                "--ca-file", sc.ca_file, "--json", str(out)]
        assert cli.main(argv) == 0
        doc = json.loads(out.read_text())
        assert doc["ok"] and doc["format"] == "appc-conformance-publisher-check"
        assert "PASS  image-signature (VAL-05, must)" in capsys.readouterr().out
    paths = {**good_paths(), IMG: {"status": 404}}
    with servers.scenario({"a": {"paths": paths}}, artefacts=ARTEFACTS) as sc:
        assert cli.main(["check-publisher", sc.substitute(APP), "--port", str(sc.port),
                         "--ca-file", sc.ca_file]) == 1


@pytest.mark.parametrize("argv", [
    ["check-publisher", "Example.com/app"],
    ["check-publisher", "example.com/app", "--header", "nonsense"],
    ["check-publisher", "example.com/app", "--key", "/nonexistent/key.asc"],
])
def test_bad_arguments_exit_2(argv, capsys):
    assert cli.main(argv) == 2
    assert "check-publisher" in capsys.readouterr().err


def test_keys_and_headers_from_the_command_line(tmp_path):
    """--key verifies where the host publishes no key; --header reaches only its host."""
    paths = _meta(good_paths(), [GOOD_META[0], GOOD_META[2]])  # no pubkeys tag
    paths[IMG] = {"artefact": "app.aci", "require_header": {"Authorization": "Basic dTpw"}}
    with servers.scenario({"a": {"paths": paths}}, artefacts=ARTEFACTS) as sc:
        key = tmp_path / "alice.asc"
        key.write_bytes(sc.built.data["alice.pub"])
        out = tmp_path / "r.json"
        base = ["check-publisher", sc.substitute(APP), "--profile", "appc-imagetags", "--port", str(sc.port),
                "--ca-file", sc.ca_file, "--json", str(out)]
        assert cli.main(base + ["--key", str(key)]) == 1  # the image answers 401 without the header
        checks = {c["rule"]: c for c in json.loads(out.read_text())["checks"]}
        assert checks["image"]["status"] == "fail" and "401" in checks["image"]["messages"][0]
        netloc = sc.values["a"]["netloc"]
        assert cli.main(base + ["--key", str(key), "--header", f"{netloc}=Authorization:Basic dTpw"]) == 0
        checks = {c["rule"]: c for c in json.loads(out.read_text())["checks"]}
        assert checks["image-signature"]["status"] == "pass"
        assert checks["pubkeys-tag"]["status"] == "warn"
        sent = [e for e in sc.log.requests() if e.path.startswith("/images/")]
        assert any(e.header_values("Authorization") for e in sent)
