"""Unit tests of the reference discovery's parts (the vectors grade the whole through the adapter)."""

from __future__ import annotations

import time

import pytest

from appc_conformance import servers
from appc_conformance.conformance.adapters.reference import discovery as d
from appc_conformance.conformance.adapters.reference.errors import RefError, Unsupported


def test_render_is_single_pass_every_occurrence_raw():
    assert d.render("https://h/{name}/{name}.{ext}", {"name": "h/app", "ext": "aci"}) == "https://h/h/app/h/app.aci"
    assert (
        d.render("https://h/{name}-{version}.{ext}", {"name": "n", "version": "{ext}", "ext": "aci"})
        == "https://h/n-{ext}.aci"
    )
    assert d.render("https://h/{name}.{ext}", {"name": "a b?c#d", "ext": "aci"}) == "https://h/a b?c#d.aci"
    assert d.render("https://h/{os}.{ext}", {"ext": "aci"}) is None
    assert d.render("https://h/{name}.{ext}}", {"name": "n", "ext": "aci"}) is None
    assert d.render("https://h/{{name}.{ext}", {"name": "n", "ext": "aci"}) is None


def test_meta_tags_parsing():
    page = (
        '<html><head><META Name="AC-Discovery" content="  p   https://x/{name}.{ext} ">'
        '<meta name="ac-discovery-pubkeys" content="p\thttps://x/k">'
        '<meta name="ac-discovery" content="p https://x/a https://x/b">'
        '<meta name="ac-discovery" content="onlyprefix">'
        '<!-- <meta name="ac-discovery" content="p https://x/comment.{ext}"> -->'
        "<script>\"<meta name='ac-discovery' content='p https://x/script.{ext}'>\"</script>"
        '<meta name="ac-discovery-imagetags" content="p https://x/{name}.{ext}" content="p other">'
        '</head><body><meta name=ac-discovery content="p https://x/body.{ext}"></body></html>'
    ).encode()
    assert d.meta_tags(page) == [
        ("aci", "p", "https://x/{name}.{ext}"),
        ("pubkeys", "p", "https://x/k"),
        ("imagetags", "p", "https://x/{name}.{ext}"),
        ("aci", "p", "https://x/body.{ext}"),
    ]


def test_usable_checks_prefix_ext_and_variables():
    tags = [
        ("aci", "other.com", "https://x/{name}.{ext}"),
        ("aci", "h/a", "https://x/noext"),
        ("aci", "h", "https://x/{name}-{version}.{ext}"),
        ("aci", "h", "https://x/{name}.{ext}"),
        ("pubkeys", "h", "https://x/{name}.gpg"),
        ("imagetags", "h", "https://x/{name}-{version}.{ext}"),
        ("imagetags", "h", "https://x/{name}.{ext}"),
    ]
    assert d.usable("aci", tags, "h/app", {}) == [{"aci": "https://x/h/app.aci", "asc": "https://x/h/app.aci.asc"}]
    assert d.usable("aci", tags, "h/app", {"version": "1", "ext": "zip", "name": "x"})[0] == {
        "aci": "https://x/h/app-1.aci",
        "asc": "https://x/h/app-1.aci.asc",
    }
    assert d.usable("pubkeys", tags, "h/app", {}) == ["https://x/{name}.gpg"]
    assert d.usable("imagetags", tags, "h/app", {"version": "1"}) == [
        {"url": "https://x/h/app.json", "asc": "https://x/h/app.json.asc"}
    ]


def test_bad_arguments():
    with pytest.raises(RefError):
        d.Transport({"port": "443"}, None)
    with pytest.raises(RefError):
        d.Transport({"port": True}, None)
    with pytest.raises(Unsupported):
        d.Transport({"insecure": ["everything"]}, None)
    with pytest.raises(Unsupported):
        d.discover({"app": "h/app", "what": ["imagetags"]}, "appc-0.8.11", None)
    t = d.Transport({"port": 8443, "headers": {"H:443": {"X": "1"}, "h:8443": {"Y": ["2", "3"]}}}, None)
    assert t.headers == {"h": [("X", "1")], "h:8443": [("Y", "2"), ("Y", "3")]}


def _args(sc, app, **kw):
    return sc.adapter_args({"app": app, **kw})


def test_page_over_the_size_limit_fails_its_level(monkeypatch):
    monkeypatch.setattr(d, "MAX_PAGE", 10_000)
    hosts = {
        "a": {
            "paths": {
                "/app?ac-discovery=1": {
                    "meta": [["ac-discovery", "{{a.host}} https://{{a}}/leaf/{name}.{ext}"]],
                    "pad_to": 20_000,
                },
                "/?ac-discovery=1": {"meta": [["ac-discovery", "{{a.host}} https://{{a}}/root/{name}.{ext}"]]},
            }
        }
    }
    with servers.scenario(hosts) as sc:
        out = d.discover(_args(sc, "{{a.host}}/app", what=["aci"]), "appc-0.8.11", sc.ca_file)
        assert out["aci"][0]["aci"].endswith("/root/127.0.0.2/app.aci")
        assert "over the limit" in out["attempts"][0]["error"]


def test_fetch_time_is_bounded_as_a_whole(monkeypatch):
    monkeypatch.setattr(d, "FETCH_TIMEOUT", 0.5)
    hosts = {
        "a": {
            "paths": {
                "/app?ac-discovery=1": {"body": "<html>", "endless": {"chunk": 8, "interval": 0.1}},
                "/?ac-discovery=1": {"meta": [["ac-discovery", "{{a.host}} https://{{a}}/root/{name}.{ext}"]]},
            }
        }
    }
    with servers.scenario(hosts) as sc:
        t = time.monotonic()
        out = d.discover(_args(sc, "{{a.host}}/app", what=["aci"]), "appc-0.8.11", sc.ca_file)
        assert time.monotonic() - t < 2
        assert out["aci"][0]["aci"].endswith("/root/127.0.0.2/app.aci")


def test_operation_deadline_aborts(monkeypatch):
    monkeypatch.setattr(d, "FETCH_TIMEOUT", 0.3)
    monkeypatch.setattr(d, "OP_DEADLINE", 0.5)
    with servers.scenario({"a": {"paths": {"*": {"delay": 5}}}}) as sc:
        with pytest.raises(RefError) as info:
            d.discover(_args(sc, "{{a.host}}/a/b/c/d", what=["aci"]), "appc-0.8.11", sc.ca_file)
        assert info.value.kind == "discovery-failed" and "time limit" in info.value.message


def test_redirect_hops_are_limited():
    hosts = {"a": {"paths": {"/app?ac-discovery=1": {"redirect": "/app?ac-discovery=1"}}}}
    with servers.scenario(hosts) as sc:
        with pytest.raises(RefError):
            d.discover(_args(sc, "{{a.host}}/app", what=["aci"]), "appc-0.8.11", sc.ca_file)
        assert (
            sc.check({"count": [{"match": "a /app?ac-discovery=1", "min": d.MAX_HOPS + 1, "max": d.MAX_HOPS + 1}]})
            == []
        )


def test_headers_follow_their_host_across_redirects_and_never_go_plain():
    hosts = {
        "a": {
            "paths": {
                "/app?ac-discovery=1": {
                    "https": {"redirect": "https://{{b}}/x?ac-discovery=1"},
                    "http": {"status": 404},
                }
            }
        },
        "b": {"paths": {"/x?ac-discovery=1": {"status": 500}}},
    }
    with servers.scenario(hosts) as sc:
        args = _args(
            sc,
            "{{a.host}}/app",
            what=["aci"],
            insecure=["http"],
            headers={"{{a}}": {"X-A": ["1"]}, "{{b}}": {"X-B": ["2"]}},
        )
        with pytest.raises(RefError):
            d.discover(args, "appc-0.8.11", sc.ca_file)
        assert (
            sc.check(
                {
                    "headers": [
                        {"match": "https a *", "present": {"X-A": "1"}, "absent": ["X-B"]},
                        {"match": "https b *", "present": {"X-B": "2"}, "absent": ["X-A"]},
                        {"match": "http * *", "absent": ["X-A", "X-B"]},
                    ],
                    "some": ["http a /app?ac-discovery=1", "http a /?ac-discovery=1"],
                }
            )
            == []
        )
