"""The fetch artefacts (real archives, keys and signatures) and the reference's checks of them."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

from appc_conformance import servers
from appc_conformance.conformance.adapters.reference import fetch as ref_fetch
from appc_conformance.conformance.adapters.reference.errors import RefError
from appc_conformance.servers import artefacts


def _gpg_verify(data: bytes, sig: bytes, pub: bytes) -> bool:
    with tempfile.TemporaryDirectory() as home:
        base = ["gpg", "--homedir", home, "--batch", "--no-tty", "--no-autostart"]
        subprocess.run(base + ["--import"], input=pub, capture_output=True, check=True)
        with open(f"{home}/d", "wb") as f:
            f.write(data)
        with open(f"{home}/s", "wb") as f:
            f.write(sig)
        return subprocess.run(base + ["--verify", f"{home}/s", f"{home}/d"], capture_output=True).returncode == 0


SPEC = {
    "app.aci": {
        "aci": {
            "name": "example.com/app",
            "labels": {"version": "1.0.0"},
            "compression": "gzip",
            "rootfs": {"etc/hello.txt": "hi\n"},
        }
    },
    "plain.aci": {
        "aci": {"name": "example.com/app", "labels": {"version": "1.0.0"}, "rootfs": {"etc/hello.txt": "hi\n"}}
    },
    "other.aci": {"aci": {"name": "example.com/app", "labels": {"version": "1.0.0"}}},
    "app.aci.asc": {"signature": {"of": "app.aci", "key": "alice"}},
    "app.aci.sig": {"signature": {"of": "app.aci", "key": "alice", "armor": False}},
    "alice.pub": {"public_key": "alice"},
    "tags.json": {"json": {"labels": {"stable": {"version": "1.0.0"}}}},
}


@pytest.fixture(scope="module")
def built():
    return artefacts.build(SPEC, extra_keys={"k": "{{key:bob}}"})


def test_archive_is_a_real_aci(built):
    tar_bytes = io.BytesIO(__import__("gzip").decompress(built.data["app.aci"]))
    with tarfile.open(fileobj=tar_bytes) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest").read())
    assert "manifest" in names and "rootfs" in names and "rootfs/etc/hello.txt" in names
    assert manifest["name"] == "example.com/app"
    assert manifest["labels"] == [{"name": "version", "value": "1.0.0"}]


def test_image_id_is_sha512_of_the_uncompressed_tar(built):
    tar = __import__("gzip").decompress(built.data["app.aci"])
    assert built.ids["app.aci"] == "sha512-" + hashlib.sha512(tar).hexdigest()
    # the same content uncompressed: same image ID (reproducible archives)
    assert built.ids["plain.aci"] == built.ids["app.aci"]
    assert built.data["plain.aci"] == tar
    # by default each archive's rootfs names the artefact: same manifest, different bytes
    assert built.ids["other.aci"] != built.ids["plain.aci"]


@pytest.mark.parametrize("how", artefacts.COMPRESSIONS)
def test_every_compression_decompresses_to_the_same_tar(how):
    tar = artefacts.build_tar(artefacts.manifest_text("example.com/x", {}), {"a": "b"})
    assert ref_fetch.decompress(artefacts.compress(tar, how)) == tar


def test_signatures_are_real_openpgp(built):
    pub = built.data["alice.pub"]
    assert pub.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert built.data["app.aci.asc"].startswith(b"-----BEGIN PGP SIGNATURE-----")
    assert not built.data["app.aci.sig"].startswith(b"-----")
    assert _gpg_verify(built.data["app.aci"], built.data["app.aci.asc"], pub)
    assert _gpg_verify(built.data["app.aci"], built.data["app.aci.sig"], pub)
    assert not _gpg_verify(built.data["plain.aci"], built.data["app.aci.asc"], pub)  # other bytes


def test_keys_are_made_once_per_run_and_extra_keys_too(built):
    again = artefacts.build({"k.pub": {"public_key": "alice"}})
    assert again.data["k.pub"] == built.data["alice.pub"]
    assert built.keys["bob"].startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert built.keys["bob"] != built.keys["alice"]


def test_placeholders(built):
    got = built.resolve(
        {"id": "{{id:app.aci}}", "size": "{{size:plain.aci}}", "k": "{{key:alice}}", "text": "n={{size:plain.aci}}"}
    )
    assert got["id"] == built.ids["app.aci"]
    assert got["size"] == len(built.data["plain.aci"]) and isinstance(got["size"], int)
    assert got["k"] == built.keys["alice"]
    assert got["text"] == f"n={len(built.data['plain.aci'])}"


def test_the_reference_verifier(built):
    v = ref_fetch.Verifier()
    v.add(built.data["alice.pub"])
    v.verify(built.data["app.aci"], built.data["app.aci.asc"], "x")  # no exception
    with pytest.raises(RefError) as e:
        v.verify(built.data["plain.aci"], built.data["app.aci.asc"], "x")
    assert e.value.kind == "signature-invalid"
    with pytest.raises(RefError) as e:
        v.verify(built.data["app.aci"], built.data["app.aci.sig"], "x")
    assert e.value.kind == "signature-invalid"  # binary: not ASCII-armoured
    v = ref_fetch.Verifier()
    v.add(built.keys["bob"].encode())
    with pytest.raises(RefError) as e:
        v.verify(built.data["app.aci"], built.data["app.aci.asc"], "x")
    assert e.value.kind == "key-not-trusted"


def test_key_prefixes():
    assert ref_fetch.key_covers("example.com/app", "example.com/app")
    assert ref_fetch.key_covers("example.com", "example.com/app")
    assert ref_fetch.key_covers("", "example.com/app")
    assert not ref_fetch.key_covers("example.com/ap", "example.com/app")
    assert not ref_fetch.key_covers("example.com/other", "example.com/app")


@pytest.mark.parametrize(
    "spec, needle",
    [
        ({"x": {"aci": {"name": "a", "compression": "zip"}}}, "compression"),
        ({"x": {"signature": {"of": "nope", "key": "alice"}}}, "names no artefact"),
        ({"x": {"signature": {"of": "x", "key": "Alice"}}}, "signature"),
        ({"x": {"aci": {}}}, "give 'name'"),
        ({"x": {"bogus": 1}}, "exactly one of"),
    ],
)
def test_check_names_the_place(spec, needle):
    problems = artefacts.check(spec)
    assert problems and any(needle in p for p in problems), problems


def test_lint_finds_unknown_artefact_references():
    case = {
        "op": "fetch",
        "input": {"app": "{{a.host}}/app", "dependency": {"imageID": "{{id:nope}}"}},
        "artefacts": {"t": {"text": "x"}},
        "hosts": {"a": {"paths": {"/x": {"artefact": "missing"}}}},
        "expect": {"result": {"image_id": "{{id:t}}"}},
    }
    problems = servers.lint_case(case)
    assert any("names no artefact" in p and "/x" in p for p in problems), problems
    assert any("{{id:nope}}" in p for p in problems), problems
    assert any("{{id:t}}" in p for p in problems), problems  # a text is not an archive


def test_the_mock_serves_artefact_bytes(built):
    import ssl
    import urllib.request

    hosts = {"a": {"paths": {"/app.aci": {"artefact": "app.aci"}}}}
    with servers.scenario(hosts, artefacts={"app.aci": SPEC["app.aci"]}) as sc:
        ctx = ssl.create_default_context(cafile=sc.ca_file)
        with urllib.request.urlopen(f"https://{sc.values['a']['netloc']}/app.aci", context=ctx, timeout=5) as r:
            body = r.read()
            ctype = r.headers["Content-Type"]
    assert body == built.data["app.aci"]
    assert ctype == "application/octet-stream"


@pytest.mark.slow  # many suite runs or long waits: in tox -e tests, not in tox -e quick
def test_the_worked_example_ace_adapter_passes_fetch_cases():
    """examples/ace-adapter/: the adapter that maps fetch onto an ACE command line, on a few cases."""
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    cmd = f"{sys.executable} {root / 'examples' / 'ace-adapter' / 'adapter.py'}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(root / "vectors" / "fetch"),
            "-q",
            "-p",
            "no:cacheprovider",
            "--adapter-cmd",
            cmd,
            "--profile",
            "appc-imagetags",
            "--case",
            "fetch/signatures/trusted-key-gzip",
            "--case",
            "fetch/signatures/untrusted-key",
            "--case",
            "fetch/imagetags/signed-document",
            "--case",
            "fetch/dependencies/image-id-differs",
            "--case",
            "fetch/transport/image-401-with-credentials",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "5 passed" in proc.stdout, proc.stdout[-2000:]


def test_a_keyring_leaves_nothing_behind():
    import os

    ring = artefacts.Keyring()
    ring.sign("temp", b"data")
    home = ring.home
    assert os.path.isdir(home)
    ring.close()
    assert not os.path.exists(home)


def test_without_gpg_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setattr(artefacts, "GPG", "gpg-that-does-not-exist")
    ring = artefacts.Keyring()
    try:
        with pytest.raises(artefacts.ArtefactError, match="gnupg"):
            ring.fingerprint("nobody")
    finally:
        ring.close()


def test_the_reference_keeps_gpg_homes_by_key_set_and_sweeps_those_of_killed_processes(tmp_path, monkeypatch):
    """The reference imports the same trusted keys once per process; a home holds only its own
    keys; its folder goes at exit, and what a killed process left is removed by the next one."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    parent = tmp_path / f"appc-conformance-{os.getuid()}"
    parent.mkdir(mode=0o700)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = parent / f"ref-gpg-{int(dead.stdout)}-abc"  # a killed process's folder
    left.mkdir()
    alive = parent / f"ref-gpg-{os.getppid()}-def"  # a running process's folder
    alive.mkdir()
    homes = ref_fetch._Homes()
    calls = []
    monkeypatch.setattr(ref_fetch, "_gpg", lambda home, args, data=None: calls.append((home, args, data)))
    one = homes.get((b"key-1",))
    assert not left.exists() and alive.exists()
    assert homes.get((b"key-1",)) == one and len(calls) == 1  # imported once
    two = homes.get((b"key-1", b"key-2"))
    assert two != one and [c[2] for c in calls[1:]] == [b"key-1", b"key-2"]
    for i in range(ref_fetch._Homes.KEEP + 2):
        homes.get((f"k{i}".encode(),))
    assert not Path(one).exists()  # the oldest went first
    homes.clear()
    assert not Path(two).parent.exists() and alive.exists()


def test_the_harness_signs_the_same_data_with_the_same_key_once(monkeypatch):
    ring = artefacts.Keyring()
    try:
        ring.fingerprint("k")
        calls = []
        real = artefacts._gpg
        monkeypatch.setattr(
            artefacts, "_gpg", lambda home, args, data=None: calls.append(args) or real(home, args, data)
        )
        first = ring.sign("k", b"an archive")
        assert ring.sign("k", b"an archive") == first and len(calls) == 1
        assert ring.sign("k", b"an archive", armor=False) != first  # another form: signed again
        assert ring.sign("k", b"another archive") != first
        assert len(calls) == 3
    finally:
        ring.close()


# --- archive layout (aci.md, Image Archives: MUSTs) and raw bytes --------------------------------

LAYOUT_MANIFEST = artefacts.manifest_text("example.com/app", {"version": "1.0.0"})


@pytest.mark.parametrize(
    "desc, why",
    [
        ({"extra_entries": {"README": "a third top-level entry\n"}}, "top-level"),
        ({"duplicate": ["rootfs/etc/hello.txt"]}, "twice"),
        ({"duplicate": ["manifest"]}, "twice"),
        ({"no_rootfs": True}, "rootfs"),
    ],
)
def test_the_reference_refuses_archives_that_break_the_layout(desc, why):
    """aci.md: only `manifest` (a file) and `rootfs` (a directory) at the top, no duplicate entries."""
    spec = {"x.aci": {"aci": {"name": "example.com/app", "labels": {"version": "1.0.0"}, **desc}}}
    built = artefacts.build(spec)
    tar_bytes = built.data["x.aci"]
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        names = tar.getnames()
    if "extra_entries" in desc:
        assert "README" in names
    if "duplicate" in desc:
        assert names.count(desc["duplicate"][0]) == 2
    if "no_rootfs" in desc:
        assert not any(n == "rootfs" or n.startswith("rootfs/") for n in names)
    with pytest.raises(RefError) as e:
        ref_fetch.read_manifest(tar_bytes)
    assert e.value.kind == "not-an-image" and why in str(e.value), str(e.value)


def test_the_reference_reads_a_well_formed_archive_and_one_without_directory_entries():
    assert ref_fetch.read_manifest(artefacts.build_tar(LAYOUT_MANIFEST, {"a/b": "c"})) == LAYOUT_MANIFEST
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:  # ./ names, no explicit rootfs/ entry
        for path, data in (("./manifest", LAYOUT_MANIFEST.encode()), ("./rootfs/etc/x", b"x")):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert ref_fetch.read_manifest(buf.getvalue()) == LAYOUT_MANIFEST


@pytest.mark.parametrize("how", ["gzip", "bzip2", "xz"])
def test_truncated_archives_are_real_cut_streams(how):
    whole = artefacts.build({"x.aci": {"aci": {"name": "example.com/app", "compression": how}}}).data["x.aci"]
    cut = artefacts.build(
        {"x.aci": {"aci": {"name": "example.com/app", "compression": how, "truncate": len(whole) // 2}}}
    )
    assert cut.data["x.aci"] == whole[: len(whole) // 2]
    assert "x.aci" not in cut.ids  # a cut archive has no image ID
    with pytest.raises(RefError) as e:
        ref_fetch.decompress(cut.data["x.aci"])
    assert e.value.kind == "not-an-image"


def test_raw_bytes_and_the_checks_of_the_new_members():
    assert artefacts.build({"b": {"hex": "1f8b0800ff"}}).data["b"] == b"\x1f\x8b\x08\x00\xff"
    for spec, needle in [
        ({"b": {"hex": "xyz"}}, "hex"),
        ({"x": {"aci": {"name": "a", "truncate": -1}}}, "truncate"),
        ({"x": {"aci": {"name": "a", "duplicate": "manifest"}}}, "duplicate"),
        ({"x": {"aci": {"name": "a", "extra_entries": {"rootfs/x": "y"}}}}, "extra_entries"),
    ]:
        problems = artefacts.check(spec)
        assert problems and any(needle in p for p in problems), (spec, problems)
    with pytest.raises(artefacts.ArtefactError, match="truncate"):
        artefacts.build({"x.aci": {"aci": {"name": "a", "truncate": 10**9}}})


def _fetch_cases():
    from appc_conformance.conformance import vectors

    return [c for c in vectors.load().cases if c.op == "fetch"]


def _responses(obj):
    if isinstance(obj, dict):
        if "endless" in obj:
            yield obj
        for v in obj.values():
            yield from _responses(v)


def test_endless_answers_outlast_the_harness_wait():
    """A client that reads a whole endless answer before it checks the size must never answer
    in time: the stream may not stop before the harness stops waiting (the case's timeout, or
    the default adapter timeout, 10 s), or the client would pass at the default timeout."""
    from appc_conformance.servers import spec

    found = 0
    for c in _fetch_cases():
        wait = min(c.raw.get("timeout", 10.0), 10.0)
        for resp in _responses(c.raw["hosts"]):
            e = resp["endless"] if isinstance(resp["endless"], dict) else {}
            seconds = min(float(e.get("max_seconds", spec.MAX_ENDLESS_SECONDS)), spec.MAX_ENDLESS_SECONDS)
            rate = e.get("chunk", 64 * 1024) / e.get("interval", 0.005)  # bytes per second at most
            assert seconds > 2 * wait, (c.id, seconds)
            assert e.get("max_bytes", 4 * 1024**3) > 2 * wait * rate, c.id
            found += 1
    assert found >= 2


def test_transport_rules_of_the_protocol_are_graded_library_and_say_so():
    """HTTPS only and certificate checks on downloads are the adapter protocol's and the Go
    library's rules (DISC-20), not the spec's: no must-level fetch case cites DISC-20, and each
    library case says in a note what it stands on."""
    for c in _fetch_cases():
        if "DISC-20" in c.raw["requirements"]:
            assert c.raw["strength"] in ("library", "should"), c.id
            if c.raw["strength"] == "library":
                assert "protocol" in c.raw.get("notes", "") and "DISC-20" in c.raw["notes"], c.id
