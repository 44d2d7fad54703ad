"""The rkt adapter (conformance/adapters/rkt): its build against an rkt tree, its mapping of the
protocol onto rkt's options, and rkt being "not available" without a tree or without Go.

The tests that build need an rkt source tree: they find one through RKT_SRC (a checkout of
github.com/rkt/rkt) and are skipped with the reason where there is none (CI has none). The
tests of the not-available path need no tree and always run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from appc_conformance.conformance import registry
from appc_conformance.conformance.adapters.rkt import build as rkt_build
from tests.helpers import ROOT, run_cli
from tests.rawadapter import AdapterProcess, adapter_env

PROFILE = "appc-0.8.11"


def _env_without_tree(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "RKT_SRC"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _fake_tree(tmp_path: Path) -> Path:
    """A folder shaped like an rkt tree (its package folders, a configure.ac), with no Go in it."""
    tree = tmp_path / "rkt"
    for mark in rkt_build.TREE_MARKS:
        (tree / mark).mkdir(parents=True)
    (tree / "configure.ac").write_text("AC_INIT([rkt], [1.30.0+git], [https://github.com/rkt/rkt/issues])\n")
    return tree


# ----------------------------------------------------------------------------- not available


def test_without_a_tree_rkt_is_not_available_and_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.delenv("RKT_SRC", raising=False)
    with pytest.raises(rkt_build.NotAvailable) as exc:
        rkt_build.build(tmp_path)
    text = str(exc.value)
    for part in ("--rkt-src", "RKT_SRC", "https://github.com/rkt/rkt", "171c416f"):
        assert part in text
    with pytest.raises(registry.NotAvailable, match="--rkt-src"):
        registry.command("rkt")
    assert list(tmp_path.iterdir()) == []  # nothing built, nothing cached


def test_a_folder_that_is_not_an_rkt_tree_is_named(tmp_path):
    with pytest.raises(rkt_build.TreeError, match="is not an rkt source tree: it has no rkt/image"):
        rkt_build.build(tmp_path / "cache", rkt_src=tmp_path)
    with pytest.raises(rkt_build.TreeError, match="no such folder"):
        rkt_build.build(tmp_path / "cache", rkt_src=tmp_path / "missing")


def test_without_go_rkt_is_not_available_with_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("APPC_CONFORMANCE_GO", str(tmp_path / "no-go"))
    with pytest.raises(rkt_build.NotAvailable, match="apt-get install golang-go"):
        rkt_build.build(tmp_path / "cache", rkt_src=_fake_tree(tmp_path))


def test_tree_version_and_label_never_hold_the_path(tmp_path):
    tree = rkt_build.rkt_tree(_fake_tree(tmp_path), env={})
    assert tree.version == "1.30.0+git"
    assert str(tmp_path) not in tree.version + tree.label() + " ".join(rkt_build.ldflags(tree))
    assert rkt_build.RktTree(tree.path, "1.30.0+git", "171c416f" + "0" * 32, True).label() == ".171c416f0000-dirty"


def test_module_entry_point_declines_without_a_tree():
    proc = subprocess.run(
        [sys.executable, "-m", "appc_conformance.conformance.adapters.rkt"],
        cwd=ROOT,
        env=_env_without_tree(),
        capture_output=True,
        timeout=120,
        input=b'{"op": "hello", "protocol": 1, "protocol_minor": 1, "profile": "appc-0.8.11"}\n'
        b'{"id": 1, "op": "fetch", "args": {"app": "example.com/app"}}\n',
    )
    hello, fetch = [json.loads(line) for line in proc.stdout.splitlines()]
    assert "id" not in hello and "https://github.com/rkt/rkt" in hello["unsupported"]
    assert fetch == {"id": 1, "unsupported": hello["unsupported"]}


@pytest.mark.parametrize("given", [None, "missing-folder"])
def test_run_without_a_tree_records_rkt_as_not_available(tmp_path, given):
    args = ["--rkt-src", str(tmp_path / given)] if given else []
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "appc_conformance",
            "run",
            "--impl",
            "rkt",
            *args,
            "--case",
            "app-strings/basic/name-only",
            "--out",
            str(tmp_path / "out"),
            "--no-report",
        ],
        cwd=tmp_path,
        env=_env_without_tree(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "rkt: not available" in proc.stderr + proc.stdout
    doc = json.loads((tmp_path / "out" / "results-rkt.json").read_text())
    impl = doc["implementation"]
    assert impl["available"] is False and doc["cases"] == []
    assert ("no such folder" if given else "--rkt-src DIR") in impl["unavailable_reason"]


def test_publish_without_a_tree_keeps_the_committed_summary(tmp_path):
    """CI has no rkt tree: its compatibility run must not drop rkt's committed row."""
    published = tmp_path / "COMPATIBILITY.md"
    published.write_text("the committed summary, rkt's row included\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "appc_conformance",
            "run",
            "--impl",
            "reference",
            "--impl",
            "rkt",
            "--case",
            "app-strings/basic/name-only",
            "--out",
            str(tmp_path / "out"),
            "--publish",
            str(published),
        ],
        cwd=tmp_path,
        env=_env_without_tree(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "rkt: not available" in proc.stderr and "not published" in proc.stderr
    assert published.read_text() == "the committed summary, rkt's row included\n"


# ----------------------------------------------------------------------------- with a tree


@pytest.fixture(scope="module")
def binary() -> Path:
    if not os.environ.get("RKT_SRC"):
        pytest.skip("no rkt source tree: set RKT_SRC to a checkout of https://github.com/rkt/rkt")
    try:
        return rkt_build.build()
    except rkt_build.NotAvailable as exc:
        pytest.skip(f"rkt adapter not available: {exc}")


@pytest.fixture
def adapter(binary):
    proc = AdapterProcess([str(binary)], adapter_env(None))
    answer = proc.hello()
    assert "ok" in answer, answer
    yield proc
    proc.close()


def test_scratch_folders_of_adapters_that_are_gone_are_swept(binary, tmp_path):
    """A process killed after a timeout leaves its scratch folder: the next adapter removes the
    folders whose process is gone, and only those."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = tmp_path / f"rkt-adapter-{dead.pid}-123"
    alive = tmp_path / f"rkt-adapter-{os.getpid()}-456"
    for d in (gone, alive):
        (d / "fetch-1").mkdir(parents=True)
    proc = AdapterProcess([str(binary)], adapter_env(None, TMPDIR=str(tmp_path)))
    try:
        assert "ok" in proc.hello()
        own = [p for p in tmp_path.iterdir() if p not in (gone, alive)]
        assert len(own) == 1 and own[0].name.startswith(f"rkt-adapter-{proc.proc.pid}-")
    finally:
        proc.close()
    assert not gone.exists() and alive.exists()
    assert not own[0].exists()  # an adapter that ends normally removes its own


def test_build_reuses_the_cached_binary(binary):
    assert rkt_build.build() == binary and os.access(binary, os.X_OK)


@pytest.mark.slow
def test_concurrent_builds_into_a_fresh_cache(binary, tmp_path):
    with ThreadPoolExecutor(max_workers=2) as pool:
        paths = list(pool.map(lambda _: rkt_build.build(tmp_path), range(2)))
    assert len(set(paths)) == 1 and paths[0].parent == tmp_path and os.access(paths[0], os.X_OK)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".rkt-adapter-")] == []


def test_hello_names_the_tree_by_version_and_commit_not_by_path(binary):
    proc = AdapterProcess([str(binary)], adapter_env(None))
    try:
        line = json.dumps(proc.hello())
        declined = proc.hello(profile="appc-imagetags")
    finally:
        proc.close()
    ok = json.loads(line)["ok"]
    tree = rkt_build.rkt_tree()
    assert ok["implementation"]["name"] == "rkt"
    assert ok["implementation"]["version"] == tree.version + tree.label()
    if tree.commit:
        assert re.fullmatch(r"\d+\.\d+\.\d+\S*\.[0-9a-f]{12}(-dirty)?", ok["implementation"]["version"])
    assert str(tree.path) not in line
    assert ok["ops"] == ["parse_app", "discover", "fetch"] and ok["profiles"] == [PROFILE]
    assert "custom-port" not in ok["features"]  # rkt discovers on the default ports only
    assert set(declined) == {"unsupported"}


def test_parse_app_reads_strings_as_rkt_does(adapter):
    ok = adapter.call("parse_app", app="example.com/app:1.0,os=linux")["ok"]
    assert ok == {"name": "example.com/app", "tag": None, "labels": {"version": "1.0", "os": "linux"}}
    assert adapter.call("parse_app", app="example.com/App")["error"]["kind"] == "invalid-identifier"
    path = adapter.call("parse_app", app="./images/app.aci")["error"]
    assert path["kind"] == "invalid-app-string" and "path" in path["message"]
    assert "docker image" in adapter.call("parse_app", app="docker://busybox")["error"]["message"]
    bad_url = adapter.call("parse_app", app="example.com/app,v=%zz")["error"]
    assert bad_url["kind"] == "invalid-app-string" and "URL" in bad_url["message"]


def test_fetch_options_rkt_cannot_express_are_unsupported(adapter):
    trust = {"keys": [], "verify_signatures": True, "trust_discovered_keys": False}
    port = adapter.call("fetch", app="127.0.0.253/app", trust=trust, port=8443, insecure=[], headers={})
    assert "default ports" in port["unsupported"]
    header = adapter.call(
        "fetch",
        app="127.0.0.253/app",
        trust=trust,
        port=None,
        insecure=[],
        headers={"127.0.0.253": {"X-Api-Key": ["k"]}},
    )
    assert "Authorization" in header["unsupported"]
    # What rkt can express goes through to rkt (nothing listens there: discovery fails).
    for headers in (
        {"127.0.0.253": {"Authorization": ["Basic dXNlcjpzZWNyZXQ="]}},
        {"127.0.0.253": {"Authorization": ["Bearer t0ken"]}},
    ):
        answer = adapter.call("fetch", app="127.0.0.253/app", trust=trust, port=None, insecure=["tls"], headers=headers)
        assert answer["error"]["kind"] == "discovery-failed", answer
    no_user = adapter.call(
        "fetch",
        app="127.0.0.253/app",
        trust=trust,
        port=None,
        insecure=[],
        headers={"127.0.0.253": {"Authorization": ["Basic OnNlY3JldA=="]}},
    )  # ":secret"
    assert "user and a password" in no_user["unsupported"]


# Fetch cases whose answers show each mapping at work (the harness serves them on ports 443 and 80).
MAPPING_CASES = {
    "fetch/signatures/key-trusted-for-every-name": "root key (rkt trust --root)",
    "fetch/signatures/key-trusted-for-a-longer-prefix": "prefix key (rkt trust --prefix)",
    "fetch/signatures/checks-off-broken-signature": "--insecure-options=image",
    "fetch/keys/discovered-key-trusted": "--trust-keys-from-https",
    "fetch/keys/discovered-key-not-trusted": "no --trust-keys-from-https",
    "fetch/transport/image-401-with-credentials": "headers as an auth.d basic configuration",
    "fetch/dependencies/image-id-differs": "a dependency, fetched as one of an image's",
    "fetch/dependencies/label-mismatch": "a dependency's labels",
    "fetch/key-algorithms/eddsa-trusted-key": "a trusted key rkt cannot read: unsupported",
    "fetch/key-algorithms/eddsa-signature-untrusted": "a signature rkt cannot read: rkt's refusal",
}


def test_fetch_mapping_through_the_harness(binary, tmp_path):
    args = [a for case in MAPPING_CASES for a in ("--case", case)]
    proc = run_cli("--impl", "rkt", *args, "--out", tmp_path, "--no-report", timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]  # only known failures (expectations/rkt.json)
    doc = json.loads((tmp_path / "results-rkt.json").read_text())
    cases = {c["id"]: c for c in doc["cases"]}
    if all(c["verdict"] == "skipped" for c in cases.values()):
        pytest.skip("ports 443 and 80 cannot be bound here: " + next(iter(cases.values()))["message"])
    actual = {i: c["actual"] for i, c in cases.items()}
    expected = {i: c["expected"] for i, c in cases.items()}
    # Accepted, with rkt's image ID: 64 hex digits, half of a SHA-512 (docs/FINDINGS.md).
    for i in (
        "fetch/signatures/key-trusted-for-every-name",
        "fetch/signatures/checks-off-broken-signature",
        "fetch/keys/discovered-key-trusted",
        "fetch/transport/image-401-with-credentials",
    ):
        ok = actual[i]["ok"]
        assert re.fullmatch(r"sha512-[0-9a-f]{64}", ok["image_id"]), (i, ok)
        assert ok["name"] == expected[i]["result"]["name"], i
    assert actual["fetch/signatures/checks-off-broken-signature"]["ok"]["urls"]["signature"] is None
    assert actual["fetch/signatures/key-trusted-for-a-longer-prefix"]["error"]["kind"] == "key-not-trusted"
    assert actual["fetch/keys/discovered-key-not-trusted"]["error"]["kind"] == "key-not-trusted"
    assert actual["fetch/dependencies/image-id-differs"]["error"]["kind"] == "image-id-mismatch"
    assert actual["fetch/dependencies/label-mismatch"]["error"]["kind"] == "manifest-mismatch"
    assert cases["fetch/key-algorithms/eddsa-trusted-key"]["verdict"] == "unsupported"
    assert actual["fetch/key-algorithms/eddsa-signature-untrusted"]["error"]["kind"] == "signature-invalid"
