"""Files on disk are input too: a planted or forged cache entry (conformance/vectors.py's
schema-checked.json, reports/html.py's compiled templates) never skips the loopback check,
never hangs a command and never costs more than its size bound (appc_conformance/cache.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from appc_conformance import cache
from appc_conformance.conformance import cli, vectors
from tests.helpers import ROOT, VECTORS

OFF_LOOPBACK = "192.0.2.10"


@pytest.fixture(autouse=True)
def fresh_process_memory(monkeypatch):
    """Each test starts as a new process does: nothing checked in memory yet."""
    monkeypatch.setattr(vectors, "_PASSED_IN_PROCESS", set())
    monkeypatch.setattr(vectors, "_LOOPBACK_SEEN", {})
    monkeypatch.setattr(vectors, "_SCHEMAS_PASSED", set())


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A vector set of one discovery file whose first case aims the adapter at 192.0.2.10, and
    a cache folder for it."""
    monkeypatch.setenv(vectors.CACHE_ENV, str(tmp_path / "cache"))
    dest = tmp_path / "vectors"
    shutil.copytree(VECTORS / "schema", dest / "schema")
    shutil.copy2(VECTORS / "requirements.json", dest / "requirements.json")
    (dest / "discovery").mkdir()
    doc = json.loads((VECTORS / "discovery" / "resolve.json").read_text())
    doc["cases"] = doc["cases"][:3]
    meta = doc["cases"][0]["hosts"]["a"]["paths"]["/app?ac-discovery=1"]["meta"]
    meta[0][1] = f"{{{{a.host}}}} https://{OFF_LOOPBACK}/aci/{{name}}-{{version}}.{{ext}}"
    (dest / "discovery" / "resolve.json").write_text(json.dumps(doc))
    return dest


def forge(root, folder, *, mode=0o700, file_mode=0o600, owner=None):
    """Write the vector cache of the cache folder ``folder`` (its vectors/schema-checked.json), knowing
    every file of ``root`` as good; ``mode`` and ``owner`` are its folder's."""
    schema_bytes = (root / "schema" / "vector-file.schema.json").read_bytes()
    catalog_bytes = (root / "requirements.json").read_bytes()
    sc = vectors._SchemaCache(None, schema_bytes, catalog_bytes)
    keys = [sc.key(sc.SCHEMA_ITSELF)] + [sc.key(p.read_bytes()) for p in vectors.vector_files(root)]
    folder = folder / "vectors"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "schema-checked.json"
    path.write_text(json.dumps({"format": "appc-conformance-schema-cache", "checked": keys}))
    path.chmod(file_mode)
    if owner is not None:
        os.chown(path, owner, owner)
        os.chown(folder, owner, owner)
    folder.chmod(mode)
    return path


def outside(vs) -> list:
    return [p for p in vs.problems if OFF_LOOPBACK in p.message]


def test_without_a_cache_the_lint_refuses_the_off_loopback_case(root):
    assert outside(vectors.load(root, cache=False))


@pytest.mark.parametrize("how", ["folder-anyone-can-write", "file-others-can-write", "another-users"])
def test_a_forged_cache_of_someone_else_is_not_read(root, tmp_path, capsys, how):
    """The issue's forgery: a schema-checked.json that knows the off-loopback file as good, in a
    folder anyone can write (or writable by others, or owned by another user)."""
    folder = tmp_path / "cache"
    if how == "another-users":
        if os.getuid() != 0:
            pytest.skip("making a file of another user needs root")
        forge(root, folder, mode=0o755, file_mode=0o644, owner=65534)
    elif how == "folder-anyone-can-write":
        forge(root, folder, mode=0o777, file_mode=0o644)
    else:
        forge(root, folder, file_mode=0o666)
    assert cli.main(["lint", "--vectors", str(root)]) == 1
    assert OFF_LOOPBACK in capsys.readouterr().err
    vs = vectors.load(root)
    assert outside(vs)
    assert len(vs.cases) == 2  # the two good cases, nothing more vanishes


def test_even_a_private_cache_never_skips_the_loopback_check(root, tmp_path):
    """This user's own cache, knowing the off-loopback file as good (copied from elsewhere, or
    written by an older suite): the case is still refused, and the other cases still load."""
    forge(root, tmp_path / "cache")
    vs = vectors.load(root)
    assert outside(vs), [str(p) for p in vs.problems]
    assert [c.id for c in vs.cases] == [c.id for c in vectors.load(root, cache=False).cases]
    # and a network case whose hosts are gone is refused too, cached or not
    doc = json.loads((root / "discovery" / "resolve.json").read_text())
    del doc["cases"][1]["hosts"]
    (root / "discovery" / "resolve.json").write_text(json.dumps(doc))
    forge(root, tmp_path / "cache")
    assert any(p.field == "hosts" for p in vectors.load(root).problems)


def test_a_private_cache_is_still_used(root, tmp_path):
    """The rule keeps the cache working for its owner: an entry written by a load is read back."""
    good = json.loads((root / "discovery" / "resolve.json").read_text())
    good["cases"] = good["cases"][1:]
    (root / "discovery" / "resolve.json").write_text(json.dumps(good))
    vectors.load(root)
    path = tmp_path / "cache" / "vectors" / "schema-checked.json"
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert oct(path.parent.stat().st_mode & 0o777) == oct(0o700)
    sc = vectors._SchemaCache(
        path, (root / "schema" / "vector-file.schema.json").read_bytes(), (root / "requirements.json").read_bytes()
    )
    assert sc.key((root / "discovery" / "resolve.json").read_bytes()) in sc


def test_nothing_is_written_into_a_folder_others_can_write(root, tmp_path):
    folder = tmp_path / "cache" / "vectors"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    vectors.load(root)
    assert list(folder.iterdir()) == []


def test_a_cache_folder_made_with_a_group_writable_umask_still_caches(root, tmp_path):
    """The cache folder made by something else under umask 002 (0775): the digests go to a
    folder of their own, made 0700, and are used."""
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o775)
    good = json.loads((root / "discovery" / "resolve.json").read_text())
    good["cases"] = good["cases"][1:]
    (root / "discovery" / "resolve.json").write_text(json.dumps(good))
    vectors.load(root)
    sc = vectors._SchemaCache(
        vectors.cache_file(),
        (root / "schema" / "vector-file.schema.json").read_bytes(),
        (root / "requirements.json").read_bytes(),
    )
    assert sc.key((root / "discovery" / "resolve.json").read_bytes()) in sc


# -- planted files that are not regular files, or too big ----------------------------------------

PROBE = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from appc_conformance.conformance import cli
def peak_mib():  # this process's own peak (ru_maxrss also counts the parent's size when it was spawned)
    try:
        return int(next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")).split()[1]) // 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
t0 = time.monotonic()
code = cli.main(sys.argv[1:])
print("EXIT", code, round(time.monotonic() - t0, 2), peak_mib(),
      file=sys.stderr)
sys.exit(code)
"""


def probe(argv, cache_folder, timeout=60):
    """``appc-conformance ARGV`` in a child limited to 1 GiB of address space, with the cache in
    ``cache_folder``; fails the test when it takes over ``timeout`` seconds."""
    env = dict(os.environ, APPC_CONFORMANCE_CACHE=str(cache_folder))
    try:
        proc = subprocess.run(
            [sys.executable, "-c", PROBE, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"appc-conformance {' '.join(argv)} still running after {timeout} s")
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    assert last.startswith("EXIT"), proc.stderr[-3000:]
    _, code, seconds, rss = last.split()
    return int(code), float(seconds), int(rss), proc


def plant(path, kind):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    if kind == "fifo":
        os.mkfifo(path, 0o600)
    elif kind == "link-to-dev-zero":
        path.symlink_to("/dev/zero")
    else:  # a sparse regular file of 2 GiB
        with open(path, "wb") as f:
            f.truncate(2 << 30)
        path.chmod(0o600)


@pytest.mark.parametrize("kind", ["fifo", "link-to-dev-zero", "huge-file"])
def test_a_planted_vector_cache_file_neither_hangs_nor_fills_memory(root, tmp_path, kind):
    good = json.loads((root / "discovery" / "resolve.json").read_text())
    good["cases"] = good["cases"][1:]
    (root / "discovery" / "resolve.json").write_text(json.dumps(good))
    folder = tmp_path / "planted"
    plant(folder / "vectors" / "schema-checked.json", kind)
    code, seconds, rss, proc = probe(["lint", "--vectors", str(root)], folder)
    assert code == 0, proc.stderr[-2000:]
    assert rss < 300, rss  # MiB: a lint's own size, not the planted file's


@pytest.mark.parametrize("kind", ["fifo", "huge-file"])
def test_a_planted_template_cache_entry_neither_hangs_nor_fills_memory(tmp_path, kind):
    """``report`` with a compiled-template entry that is a FIFO or 2 GiB: compiled again."""
    from tests.report_fixtures import three_runs

    results = three_runs(tmp_path)["reference"]
    folder = tmp_path / "planted"
    probe(["report", str(results), "--out", str(tmp_path / "first"), "--format", "html"], folder)
    entries = sorted((folder / "templates").iterdir())
    assert entries
    for e in entries:
        e.unlink()
        plant(e, kind)
    code, seconds, rss, proc = probe(
        ["report", str(results), "--out", str(tmp_path / "out"), "--format", "html"], folder
    )
    assert code == 0, proc.stderr[-2000:]
    assert (tmp_path / "out" / "report.html").read_text() == (tmp_path / "first" / "report.html").read_text()
    assert rss < 300, rss


def test_read_private_bounds():
    """The reader's rules, one at a time, on files of this user in a private folder."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o700)
        p = os.path.join(d, "f")
        with open(p, "wb") as f:
            f.write(b"x" * 10)
        os.chmod(p, 0o600)
        assert cache.read_private(p, 10) == b"x" * 10
        assert cache.read_private(p, 9) is None
        os.chmod(p, 0o620)
        assert cache.read_private(p, 10) is None
        os.chmod(p, 0o600)
        os.chmod(d, 0o770)
        assert cache.read_private(p, 10) is None
        os.chmod(d, 0o700)
        os.symlink(d, d + "-link")
        try:
            assert cache.read_private(os.path.join(d + "-link", "f"), 10) is None  # a linked folder
        finally:
            os.unlink(d + "-link")
