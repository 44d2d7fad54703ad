"""The Go adapter (conformance/adapters/go) as a process, through the adapter protocol only.

Discovery runs against a real HTTPS server on 127.0.0.1 (pytest-httpserver, with a test CA
from trustme that the adapter trusts through SSL_CERT_FILE or the hello's ca_file).
Skipped when Go or Debian's appc/spec library source is not installed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from appc_conformance.conformance.adapters.go import build as go_build  # noqa: E402
from tests.rawadapter import AdapterProcess, adapter_env, make_test_ca, page  # noqa: E402

pytestmark = pytest.mark.go

PROFILE = "appc-0.8.11"


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def binary() -> Path:
    try:
        return go_build.build()
    except go_build.NotAvailable as exc:
        pytest.skip(f"Go adapter not available: {exc}")


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_test_ca(tmp_path_factory)


@pytest.fixture(scope="module")
def server(tls):
    from pytest_httpserver import HTTPServer

    ctx, _ = tls
    srv = HTTPServer(host="127.0.0.1", port=0, ssl_context=ctx, threaded=True)
    srv.start()
    base = f"https://127.0.0.1:{srv.port}"
    q = "ac-discovery=1"
    # 127.0.0.1/app: images and keys.
    srv.expect_request("/app", query_string=q).respond_with_data(
        page(
            ("ac-discovery", "127.0.0.1/app", base + "/{name}-{version}.{ext}"),
            ("ac-discovery-pubkeys", "127.0.0.1/app", base + "/pubkeys.gpg"),
        ),
        content_type="text/html",
    )
    # 127.0.0.1/deep/app: found only at the host's root, after two failed prefixes; no keys.
    srv.expect_request("/", query_string=q).respond_with_data(
        page(
            ("ac-discovery", "127.0.0.1/deep", base + "/deep/{name}-{version}.{ext}"),
        ),
        content_type="text/html",
    )
    # 127.0.0.1/guarded: only with the header.
    srv.expect_request("/guarded", query_string=q, headers={"X-Conformance-Token": "s3cret"}).respond_with_data(
        page(
            ("ac-discovery", "127.0.0.1/guarded", base + "/g/{name}.{ext}"),
        ),
        content_type="text/html",
    )
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def adapter(binary, tls):
    proc = AdapterProcess([str(binary)], adapter_env(tls[1]))
    answer = proc.hello(ca_file=str(tls[1]))
    assert "ok" in answer, answer
    yield proc
    proc.close()


# ----------------------------------------------------------------------------- build


def test_build_reuses_the_cached_binary(binary):
    assert go_build.build() == binary
    assert os.access(binary, os.X_OK)


@pytest.mark.slow  # long waits, builds or bombs on purpose: in tox -e tests, not in tox -e quick
def test_concurrent_builds_into_a_fresh_cache(binary, tmp_path):
    # Go's own build cache is shared, so this mostly links; the point is the rename race.
    with ThreadPoolExecutor(max_workers=2) as pool:  # two builds race as well as three (a link each)
        paths = list(pool.map(lambda _: go_build.build(tmp_path), range(2)))
    assert len(set(paths)) == 1
    assert paths[0].parent == tmp_path and os.access(paths[0], os.X_OK)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".go-adapter-")] == []


def test_build_module_prints_the_binary_path(binary):
    out = subprocess.run(
        [sys.executable, "-m", "appc_conformance.conformance.adapters.go.build"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(binary)


def test_missing_toolchain_or_library_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("APPC_CONFORMANCE_GO", str(tmp_path / "no-go"))
    with pytest.raises(go_build.NotAvailable, match="apt-get install golang-go golang-github"):
        go_build.build(tmp_path)
    monkeypatch.delenv("APPC_CONFORMANCE_GO")
    monkeypatch.setattr(go_build, "NEEDED", (tmp_path / "no-such-library",))
    try:
        go_build.find_go()
    except go_build.NotAvailable:
        pytest.skip("no Go toolchain here")
    with pytest.raises(go_build.NotAvailable, match="golang-github-appc-spec-dev"):
        go_build.build(tmp_path)


def test_module_entry_point_declines_when_go_is_missing(tmp_path):
    env = {**adapter_env(None), "APPC_CONFORMANCE_GO": str(tmp_path / "no-go")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "appc_conformance.conformance.adapters.go"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, _ = proc.communicate(
        b'{"op": "hello", "protocol": 1, "profile": "appc-0.8.11"}\n'
        b'{"id": 1, "op": "parse_app", "args": {"app": "a"}}\n',
        timeout=60,
    )
    hello, parse = [json.loads(line) for line in out.splitlines()]
    assert "apt-get install" in hello["unsupported"] and "id" not in hello
    assert parse["id"] == 1 and "unsupported" in parse


def test_module_entry_point_runs_the_binary(binary):
    proc = AdapterProcess([sys.executable, "-m", "appc_conformance.conformance.adapters.go"], adapter_env(None))
    try:
        assert proc.hello()["ok"]["implementation"]["name"] == "appc-spec-go"
        assert proc.call("parse_app", app="example.com/app")["ok"]["name"] == "example.com/app"
    finally:
        proc.close()


# ----------------------------------------------------------------------------- hello


def test_hello_reports_the_library(binary, tls):
    proc = AdapterProcess([str(binary)], adapter_env(None))
    try:
        answer = proc.hello(ca_file=str(tls[1]))
    finally:
        proc.close()
    assert "id" not in answer
    ok = answer["ok"]
    assert ok["implementation"] == {
        "name": "appc-spec-go",
        "version": "0.8.11",
        "language": "go",
        "homepage": "https://github.com/appc/spec",
    }
    assert ok["profiles"] == [PROFILE]
    assert set(ok["ops"]) == {"parse_app", "validate_manifest", "discover", "resolve"}
    assert ok["features"] == ["custom-port", "host-headers", "ca-file"]


def test_hello_without_ca_file_does_not_claim_the_feature(binary):
    proc = AdapterProcess([str(binary)], adapter_env(None))
    try:
        answer = proc.hello(ca_file=None)
    finally:
        proc.close()
    assert answer["ok"]["features"] == ["custom-port", "host-headers"]


def test_other_profiles_are_declined(binary):
    proc = AdapterProcess([str(binary)], adapter_env(None))
    try:
        answer = proc.hello(profile="appc-imagetags")
        later = proc.call("parse_app", app="example.com/app")
    finally:
        proc.close()
    assert set(answer) == {"unsupported"}
    assert "unsupported" in later


# ----------------------------------------------------------------------------- transport


def test_malformed_lines_are_answered_and_the_adapter_goes_on(adapter):
    garbage = adapter.send_raw("this is not json")
    assert garbage["id"] is None and garbage["error"]["kind"] == "other"
    not_object = adapter.send_raw("[1, 2, 3]")
    assert not_object["error"]["kind"] == "other"
    bad_args = adapter.send_raw('{"id": 77, "op": "parse_app", "args": 5}')
    assert bad_args["id"] == 77 and bad_args["error"]["kind"] == "other"
    missing = adapter.send_raw('{"id": "x", "op": "parse_app", "args": {}}')
    assert missing["id"] == "x" and missing["error"]["kind"] == "other"
    answer = adapter.call("parse_app", app="example.com/app")
    assert answer["ok"]["name"] == "example.com/app"


def test_unknown_op_is_unsupported(adapter):
    assert "unsupported" in adapter.call("match_manifest", app="a", manifest="{}")


# ----------------------------------------------------------------------------- parse_app


def test_parse_app_version_label(adapter):
    answer = adapter.call("parse_app", app="example.com/reduce-worker:1.0.0,channel=alpha")
    assert answer["ok"] == {
        "name": "example.com/reduce-worker",
        "tag": None,
        "labels": {"version": "1.0.0", "channel": "alpha"},
    }


@pytest.mark.parametrize(
    "app,kind",
    [
        ("example.com/app:1:2", "invalid-app-string"),
        ("example.com/app,k", "invalid-app-string"),
        ("example.com/app,k=v,k=w", "invalid-app-string"),
        ("Example.com/app", "invalid-identifier"),
        ("example.com/app,Key=v", "invalid-identifier"),
        ("", "invalid-identifier"),
    ],
)
def test_parse_app_errors(adapter, app, kind):
    assert adapter.call("parse_app", app=app)["error"]["kind"] == kind


# ----------------------------------------------------------------------------- validate_manifest


def test_validate_manifest(adapter):
    good = {
        "acKind": "ImageManifest",
        "acVersion": "0.8.11",
        "name": "example.com/app",
        "labels": [{"name": "version", "value": "1.0"}],
    }
    assert adapter.call("validate_manifest", document=json.dumps(good))["ok"] == {"valid": True}
    for bad in (
        '{"acKind": "ImageManifest", "acVersion": "0.8.11"}',
        "{",
        "[]",
        json.dumps({**good, "name": "Bad Name"}),
    ):
        answer = adapter.call("validate_manifest", document=bad)
        assert answer["error"]["kind"] == "invalid-manifest", (bad, answer)


# ----------------------------------------------------------------------------- discover


def test_discover_with_custom_port(adapter, server):
    base = f"https://127.0.0.1:{server.port}"
    answer = adapter.call(
        "discover", app="127.0.0.1/app:1.0", what=["aci", "pubkeys"], port=server.port, insecure=[], headers={}
    )
    ok = answer["ok"]
    assert ok["aci"] == [{"aci": base + "/127.0.0.1/app-1.0.aci", "asc": base + "/127.0.0.1/app-1.0.aci.asc"}]
    assert ok["pubkeys"] == [base + "/pubkeys.gpg"]
    assert ok["attempts"] == []


def test_discover_renders_latest_without_version(adapter, server):
    ok = adapter.call("discover", app="127.0.0.1/app", what=["aci"], port=server.port, insecure=[], headers={})["ok"]
    assert ok["aci"][0]["aci"].endswith("/127.0.0.1/app-latest.aci")
    assert "pubkeys" not in ok


def test_discover_walks_up_the_name(adapter, server):
    ok = adapter.call("discover", app="127.0.0.1/deep/app:2", what=["aci"], port=server.port, insecure=[], headers={})[
        "ok"
    ]
    assert ok["aci"][0]["aci"] == f"https://127.0.0.1:{server.port}/deep/127.0.0.1/deep/app-2.aci"
    assert [a["prefix"] for a in ok["attempts"]] == ["127.0.0.1/deep/app", "127.0.0.1/deep"]
    assert all(a["error"] for a in ok["attempts"])


def test_discover_kind_found_nowhere_fails(adapter, server):
    answer = adapter.call(
        "discover", app="127.0.0.1/deep/app", what=["aci", "pubkeys"], port=server.port, insecure=[], headers={}
    )
    assert answer["error"]["kind"] == "discovery-failed"
    answer = adapter.call("discover", app="127.0.0.1/missing", what=["aci"], port=server.port, insecure=[], headers={})
    assert answer["error"]["kind"] == "discovery-failed"


def test_discover_host_headers(adapter, server):
    host = f"127.0.0.1:{server.port}"
    without = adapter.call("discover", app="127.0.0.1/guarded", what=["aci"], port=server.port, insecure=[], headers={})
    assert without["error"]["kind"] == "discovery-failed"
    with_header = adapter.call(
        "discover",
        app="127.0.0.1/guarded",
        what=["aci"],
        port=server.port,
        insecure=[],
        headers={host: {"X-Conformance-Token": ["s3cret"]}},
    )
    assert with_header["ok"]["aci"][0]["aci"].endswith("/g/127.0.0.1/guarded.aci")


def test_discover_imagetags_is_unsupported(adapter, server):
    answer = adapter.call(
        "discover", app="127.0.0.1/app", what=["imagetags"], port=server.port, insecure=[], headers={}
    )
    assert "unsupported" in answer


def test_discover_invalid_app(adapter, server):
    answer = adapter.call("discover", app="127.0.0.1/App", what=["aci"], port=server.port, insecure=[], headers={})
    assert answer["error"]["kind"] == "invalid-identifier"


def test_untrusted_certificate_and_insecure_tls(binary, tls, server):
    proc = AdapterProcess([str(binary)], adapter_env(None))  # the test CA is not trusted
    try:
        assert "ok" in proc.hello(ca_file=None)
        args = dict(app="127.0.0.1/app", what=["aci"], port=server.port, headers={})
        assert proc.call("discover", insecure=[], **args)["error"]["kind"] == "discovery-failed"
        assert "ok" in proc.call("discover", insecure=["tls"], **args)
    finally:
        proc.close()


def test_ca_file_from_hello_is_trusted(binary, tls, server):
    proc = AdapterProcess([str(binary)], adapter_env(None))
    try:
        assert "ca-file" in proc.hello(ca_file=str(tls[1]))["ok"]["features"]
        answer = proc.call("discover", app="127.0.0.1/app", what=["aci"], port=server.port, insecure=[], headers={})
        assert "ok" in answer, answer
    finally:
        proc.close()


def test_insecure_http_falls_back_on_the_same_port(adapter):
    """With a custom port the library's plain-HTTP fallback uses that same port."""
    from pytest_httpserver import HTTPServer

    plain = HTTPServer(host="127.0.0.1", port=0)
    plain.start()
    try:
        plain.expect_request("/app", query_string="ac-discovery=1").respond_with_data(
            page(
                ("ac-discovery", "127.0.0.1/app", "http://127.0.0.1/{name}.{ext}"),
            ),
            content_type="text/html",
        )
        args = dict(app="127.0.0.1/app", what=["aci"], port=plain.port, headers={})
        assert adapter.call("discover", insecure=[], **args)["error"]["kind"] == "discovery-failed"
        ok = adapter.call("discover", insecure=["http"], **args)["ok"]
        assert ok["aci"] == [
            {"aci": "http://127.0.0.1/127.0.0.1/app.aci", "asc": "http://127.0.0.1/127.0.0.1/app.aci.asc"}
        ]
    finally:
        plain.clear()
        plain.stop()


# ----------------------------------------------------------------------------- resolve


def test_resolve(adapter, server):
    base = f"https://127.0.0.1:{server.port}"
    ok = adapter.call("resolve", app="127.0.0.1/app:1.0", port=server.port, insecure=[], headers={})["ok"]
    assert ok["labels"] == {"version": "1.0"}
    assert ok["aci"] == [{"aci": base + "/127.0.0.1/app-1.0.aci", "asc": base + "/127.0.0.1/app-1.0.aci.asc"}]
    assert ok["pubkeys"] == [base + "/pubkeys.gpg"]


def test_resolve_without_keys_gives_an_empty_list(adapter, server):
    ok = adapter.call("resolve", app="127.0.0.1/deep/app", port=server.port, insecure=[], headers={})["ok"]
    assert ok["labels"] == {}
    assert ok["pubkeys"] == []
    assert ok["aci"][0]["aci"].endswith("/deep/127.0.0.1/deep/app-latest.aci")


def test_resolve_failure(adapter, server):
    answer = adapter.call("resolve", app="127.0.0.1/missing", port=server.port, insecure=[], headers={})
    assert answer["error"]["kind"] == "discovery-failed"


def test_unreachable_port_fails_discovery(adapter):
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    answer = adapter.call("discover", app="127.0.0.1/app", what=["aci"], port=port, insecure=[], headers={})
    assert answer["error"]["kind"] == "discovery-failed"


# ----------------------------------------------------------------------------- what a tree offers
# The build compiles probes against the tree (docs/DECISIONS.md, "The Go adapter on a tree with
# image tags"). Two trees made here from a copy of Debian's library stand for the others: one
# whose discovery takes no port (appc/spec before v0.8.11), one whose App has a Tag and whose
# schema has an image tags document (a tree like pull request 584; the document type below is
# this test's own minimal one, enough for the adapter's mapping).

TAGS_SCHEMA = """package schema

import (
	"fmt"

	"github.com/appc/spec/schema/types"
)

type ImageTags struct {
	Aliases map[string]string                       `json:"aliases"`
	Labels  map[string]map[types.ACIdentifier]string `json:"labels"`
}

// Resolve: one alias; a self-alias is an error; nil when the tag has no labels entry.
func (t *ImageTags) Resolve(tag string) (map[types.ACIdentifier]string, error) {
	if next, ok := t.Aliases[tag]; ok {
		if next == tag {
			return nil, fmt.Errorf("circular dependency between tag aliases")
		}
		tag = next
	}
	return t.Labels[tag], nil
}

func (t *ImageTags) MergeTag(labels types.LabelsMap, tag string) (types.LabelsMap, error) {
	if tag == "" {
		return labels, nil
	}
	if t == nil {
		if _, ok := labels["version"]; ok {
			return nil, fmt.Errorf("cannot set tag value to version label since version label is already defined")
		}
		labels["version"] = tag
		return labels, nil
	}
	resolved, err := t.Resolve(tag)
	if err != nil {
		return nil, err
	}
	for k, v := range resolved {
		if _, ok := labels[k]; !ok {
			labels[k] = v
		}
	}
	return labels, nil
}
"""


def variant_tree(dest: Path, kind: str) -> Path:
    """A copy of Debian's appc/spec tree changed to lack ("noport") or to have ("tags") an API."""
    if not (go_build.LIBRARY / "discovery").is_dir():
        pytest.skip(f"Debian's appc/spec library is not installed ({go_build.INSTALL})")
    import shutil

    shutil.copytree(go_build.LIBRARY, dest)
    if kind == "noport":
        disc = dest / "discovery" / "discovery.go"
        text = disc.read_text()
        for result in ("ACIEndpoints", "PublicKeys"):
            old = f"insecure InsecureOption, port uint) ({result}, []FailedAttempt, error) {{"
            assert text.count(old) == 1, old
            text = text.replace(old, f"insecure InsecureOption) ({result}, []FailedAttempt, error) {{\n\tvar port uint")
        disc.write_text(text)
    elif kind == "tags":
        parse = dest / "discovery" / "parse.go"
        text = parse.read_text()
        old = "type App struct {\n\tName   types.ACIdentifier\n"
        assert text.count(old) == 1
        parse.write_text(text.replace(old, old + "\tTag    string\n"))
        (dest / "schema" / "types" / "labelsmap_fixture.go").write_text(
            "package types\n\ntype LabelsMap map[ACIdentifier]string\n"
        )
        (dest / "schema" / "imagetags_fixture.go").write_text(TAGS_SCHEMA)
    return dest


def _variant(tmp_path_factory, kind):
    tree = variant_tree(tmp_path_factory.mktemp(kind) / "spec", kind)
    try:
        return go_build.build(spec_src=tree, spec_name=kind), go_build.api(spec_src=tree, spec_name=kind)
    except go_build.NotAvailable as exc:
        pytest.skip(f"Go adapter not available: {exc}")


def test_probes_find_debians_api(binary):
    found = go_build.api()
    assert found["probes"] == {
        "discport": True,
        "apptag": False,
        "imagetags": False,
        "discimagetags": False,
        "appmergetag": False,
        "deptag": False,
    }
    assert found["profiles"] == ["appc-0.8.11"]


def test_tree_whose_discovery_takes_no_port(tmp_path_factory):
    binary, found = _variant(tmp_path_factory, "noport")
    assert found["probes"]["discport"] is False and found["profiles"] == ["appc-0.8.11"]
    proc = AdapterProcess([str(binary)], adapter_env(None))
    try:
        hello = proc.hello()
        with_port = proc.call("discover", app="127.0.0.1/app", what=["aci"], port=8443)
        parsed = proc.call("parse_app", app="example.com/app:1.0")
    finally:
        proc.close()
    assert hello["ok"]["profiles"] == ["appc-0.8.11"]
    assert hello["ok"]["features"] == ["host-headers"]  # no custom-port: the harness sends no port
    assert "take no port" in with_port["unsupported"]
    assert parsed["ok"] == {"name": "example.com/app", "tag": None, "labels": {"version": "1.0"}}


def test_tree_with_tags_claims_the_image_tags_profile(tmp_path_factory):
    binary, found = _variant(tmp_path_factory, "tags")
    assert found["probes"] == {
        "discport": True,
        "apptag": True,
        "imagetags": True,
        "discimagetags": False,
        "appmergetag": False,
        "deptag": False,
    }
    assert found["profiles"] == ["appc-imagetags"]
    proc = AdapterProcess([str(binary)], adapter_env(None))
    try:
        declined = proc.hello(profile="appc-0.8.11")
        hello = proc.hello(profile="appc-imagetags")
        doc = json.dumps(
            {"aliases": {"latest": "1.x", "self": "self"}, "labels": {"1.x": {"version": "1.2"}, "empty": {}}}
        )
        answers = {
            "resolved": proc.call("resolve_tag", imagetags=doc, tag="latest"),
            "no-entry": proc.call("resolve_tag", imagetags=doc, tag="nosuch"),
            "empty-entry": proc.call("resolve_tag", imagetags=doc, tag="empty"),
            "cycle": proc.call("resolve_tag", imagetags=doc, tag="self"),
            "bad-json": proc.call("validate_imagetags", document="{"),
            "valid": proc.call("validate_imagetags", document=doc),
            "fallback": proc.call("merge_tag", imagetags=None, labels={"os": "linux"}, tag="2.0"),
            "conflict": proc.call("merge_tag", imagetags=None, labels={"version": "1"}, tag="2.0"),
            "no-tag": proc.call("merge_tag", imagetags=doc, labels={"os": "linux"}, tag=None),
            "merged": proc.call("merge_tag", imagetags=doc, labels={}, tag="latest"),
            "discover-tags": proc.call("discover", app="127.0.0.1/app", what=["imagetags"]),
            "match": proc.call("match_manifest", app="example.com/app", manifest="{}"),
        }
    finally:
        proc.close()
    assert "appc-imagetags only" in declined["unsupported"]
    assert hello["ok"]["profiles"] == ["appc-imagetags"]
    assert hello["ok"]["ops"] == [
        "parse_app",
        "validate_manifest",
        "discover",
        "resolve",
        "validate_imagetags",
        "resolve_tag",
        "merge_tag",
    ]
    assert answers["resolved"]["ok"] == {"labels": {"version": "1.2"}}
    assert answers["no-entry"]["error"]["kind"] == "tag-not-found"  # the library's nil result
    assert answers["empty-entry"]["ok"] == {"labels": {}}  # a non-nil empty map is an answer
    assert answers["cycle"]["error"]["kind"] == "alias-cycle"
    assert answers["bad-json"]["error"]["kind"] == "invalid-imagetags"
    assert answers["valid"]["ok"] == {"valid": True}
    assert answers["fallback"]["ok"] == {"labels": {"os": "linux", "version": "2.0"}}
    assert answers["conflict"]["error"]["kind"] == "version-conflict"
    assert answers["no-tag"]["ok"] == {"labels": {"os": "linux"}}
    assert answers["merged"]["ok"] == {"labels": {"version": "1.2"}}
    assert "no image tags discovery" in answers["discover-tags"]["unsupported"]
    assert "not implemented" in answers["match"]["unsupported"]


# ----------------------------------------------------------------------------- pull request 584
# Needs a checkout of appc/spec at refs/pull/584/head (commit 877c204): APPC_SPEC_PR584=DIR.

PR584 = os.environ.get("APPC_SPEC_PR584")


@pytest.fixture(scope="module")
def pr584(tmp_path_factory):
    if not PR584:
        pytest.skip("APPC_SPEC_PR584 (a checkout of appc/spec refs/pull/584/head) is not set")
    try:
        return go_build.build(spec_src=PR584, spec_name="pr584"), go_build.api(spec_src=PR584, spec_name="pr584")
    except go_build.NotAvailable as exc:
        pytest.skip(f"Go adapter not available: {exc}")


def test_pull_request_584_builds_and_claims_image_tags(pr584):
    binary, found = pr584
    assert found["probes"] == {
        "discport": False,
        "apptag": True,
        "imagetags": True,
        "discimagetags": True,
        "appmergetag": True,
        "deptag": True,
    }
    proc = AdapterProcess([str(binary)], adapter_env(None))
    try:
        hello = proc.hello(profile="appc-imagetags")
        parsed = proc.call("parse_app", app="example.com/app:stable,os=linux")
        doc = json.dumps({"aliases": {"latest": "3.x", "3.x": "3.0.1"}, "labels": {"3.0.1": {"version": "3.0.1"}}})
        one_alias = proc.call("resolve_tag", imagetags=doc, tag="3.x")
        two_aliases = proc.call("resolve_tag", imagetags=doc, tag="latest")
    finally:
        proc.close()
    assert hello["ok"]["profiles"] == ["appc-imagetags"] and "custom-port" not in hello["ok"]["features"]
    assert hello["ok"]["implementation"]["version"].endswith("+pr584.877c2040e720")
    assert set(hello["ok"]["ops"]) >= {"validate_imagetags", "resolve_tag", "merge_tag", "discover", "resolve"}
    assert parsed["ok"] == {"name": "example.com/app", "tag": "stable", "labels": {"os": "linux"}}
    assert one_alias["ok"] == {"labels": {"version": "3.0.1"}}
    # docs/FINDINGS.md PR-IT-2: Resolve follows one alias only.
    assert two_aliases["error"]["kind"] == "tag-not-found"
