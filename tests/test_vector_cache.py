"""The cache of schema-checked vector files: it only skips work, it never hides a problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from appc_conformance.conformance import vectors
from tests.helpers import VECTORS


@pytest.fixture(autouse=True)
def fresh_process_memory(monkeypatch):
    """Each test starts as a new process does: nothing checked yet (the harness runs of other
    tests in this worker checked the same bytes)."""
    monkeypatch.setattr(vectors, "_PASSED_IN_PROCESS", set())
    monkeypatch.setattr(vectors, "_LOOPBACK_SEEN", {})
    monkeypatch.setattr(vectors, "_SCHEMAS_PASSED", set())


def copy_vectors(tmp_path, monkeypatch, area: str, names: tuple) -> Path:
    """A vector set of the files ``names`` of ``area``, with a cache folder of its own."""
    monkeypatch.setenv(vectors.CACHE_ENV, str(tmp_path / "cache"))
    dest = tmp_path / "vectors"
    shutil.copytree(VECTORS / "schema", dest / "schema")
    shutil.copy2(VECTORS / "requirements.json", dest / "requirements.json")
    (dest / area).mkdir()
    for name in names:
        shutil.copy2(VECTORS / area / name, dest / area / name)
    return dest


@pytest.fixture
def root(tmp_path, monkeypatch):
    # two files: a cache entry each, one changed at a time
    return copy_vectors(tmp_path, monkeypatch, "app-strings", ("basic.json", "colon.json"))


def cached_keys() -> list:
    path = vectors.cache_file()
    return json.loads(path.read_text())["checked"] if path.exists() else []


def test_second_load_skips_the_schema_but_gives_the_same_cases(root, capsys):
    first = vectors.load(root)
    assert not first.problems and first.cases
    assert len(cached_keys()) == len(first.files) + 1  # and the schema's own check
    second = vectors.load(root)
    assert [(c.id, c.raw) for c in second.cases] == [(c.id, c.raw) for c in first.cases]
    # Proof that a known digest really skips the schema: forge an entry for a file the schema
    # rejects; with the cache the problem goes unseen, without it (and in the lint) it shows.
    path = root / "app-strings" / "basic.json"
    doc = json.loads(path.read_text())
    doc["cases"][0]["strength"] = "sometimes"
    path.write_text(json.dumps(doc))
    schema_bytes = (root / "schema" / "vector-file.schema.json").read_bytes()
    catalog_bytes = (root / "requirements.json").read_bytes()
    forged = vectors._SchemaCache(vectors.cache_file(), schema_bytes, catalog_bytes)
    forged.add(forged.key(path.read_bytes()))
    forged.save()
    assert not [p for p in vectors.load(root).problems if p.field == "strength"]
    assert [p.field for p in vectors.load(root, cache=False).problems] == ["strength"]
    # The lint loads as a run does; --no-cache checks every file from scratch.
    from appc_conformance.conformance import cli

    capsys.readouterr()
    assert cli.main(["lint", "--vectors", str(root)]) == 0
    assert "strength" not in capsys.readouterr().err
    assert cli.main(["lint", "--vectors", str(root), "--no-cache"]) == 1
    assert "'sometimes'" in capsys.readouterr().err


def test_a_changed_file_is_checked_again(root):
    vectors.load(root)
    path = root / "app-strings" / "basic.json"
    doc = json.loads(path.read_text())
    doc["cases"][0]["strength"] = "sometimes"
    path.write_text(json.dumps(doc))
    vs = vectors.load(root)
    assert [p.field for p in vs.problems] == ["strength"], [str(p) for p in vs.problems]
    assert len(cached_keys()) == len(vs.files) + 1  # the broken version is not recorded


def test_a_changed_schema_invalidates_every_entry(root):
    vectors.load(root)
    schema_path = root / "schema" / "vector-file.schema.json"
    schema = json.loads(schema_path.read_text())
    schema["$defs"]["case"]["properties"]["description"]["maxLength"] = 3
    schema_path.write_text(json.dumps(schema))
    vs = vectors.load(root)
    assert vs.problems and all(p.field == "description" for p in vs.problems)


def test_a_changed_catalog_checks_every_file_again(root):
    vectors.load(root)
    catalog_path = root / "requirements.json"
    catalog = json.loads(catalog_path.read_text())
    catalog["requirements"] = [r for r in catalog["requirements"] if r["id"] != "APP-01"]
    catalog_path.write_text(json.dumps(catalog))
    vs = vectors.load(root)
    assert vs.problems and all("unknown requirement ID 'APP-01'" in p.message for p in vs.problems)


def test_cache_off_and_unwritable_cache_change_nothing(root, monkeypatch, tmp_path):
    monkeypatch.setenv(vectors.CACHE_ENV, "off")
    assert vectors.cache_file() is None
    assert not vectors.load(root).problems
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(vectors.CACHE_ENV, str(blocker / "sub"))  # cannot be created
    assert not vectors.load(root).problems
    monkeypatch.setenv(vectors.CACHE_ENV, str(tmp_path / "garbage"))
    vectors.cache_file().parent.mkdir(parents=True, mode=0o700)  # garbage/vectors/, as the cache makes it
    vectors.cache_file().write_text("{not json")
    assert not vectors.load(root).problems
    assert cached_keys()  # rewritten


def test_a_change_of_the_checking_code_checks_every_file_again(root, monkeypatch):
    """The checks a cached file skips are code too: a file recorded by other code is checked."""
    path = root / "app-strings" / "basic.json"
    doc = json.loads(path.read_text())
    doc["cases"][0]["requirements"] = ["NO-SUCH-REQ"]  # a problem only the semantic checks see
    path.write_text(json.dumps(doc))
    schema_bytes = (root / "schema" / "vector-file.schema.json").read_bytes()
    catalog_bytes = (root / "requirements.json").read_bytes()
    monkeypatch.setattr(vectors, "_checking_code", lambda: b"other code")
    forged = vectors._SchemaCache(vectors.cache_file(), schema_bytes, catalog_bytes)
    forged.add(forged.key(path.read_bytes()))  # recorded as good by "other code"
    forged.save()
    assert not [p for p in vectors.load(root).problems if "NO-SUCH-REQ" in p.message]  # that code's cache
    monkeypatch.undo()
    monkeypatch.setenv(vectors.CACHE_ENV, str(root.parent / "cache"))
    assert [p.field for p in vectors.load(root).problems] == ["requirements[0]"]


def test_the_schema_s_own_check_is_cached_and_a_broken_schema_is_never_recorded(root):
    schema_path = root / "schema" / "vector-file.schema.json"
    schema = json.loads(schema_path.read_text())
    schema["$defs"]["case"]["properties"]["description"]["maxLength"] = "three"  # not a schema
    schema_path.write_text(json.dumps(schema))
    for _ in range(2):
        with pytest.raises(vectors.VectorsError, match="schema cannot be used"):
            vectors.load(root)


@pytest.fixture
def network_root(tmp_path, monkeypatch):
    return copy_vectors(tmp_path, monkeypatch, "discovery", ("meta-tags.json",))


def test_the_loopback_check_runs_once_per_process_for_the_same_bytes_and_again_for_new_ones(network_root, monkeypatch):
    """A file the cache knows as good still has its hosts checked (never trusted to the cache);
    a second load in the same process reuses that check's findings for the same bytes only."""
    calls = []
    real = vectors.outside_hosts
    monkeypatch.setattr(vectors, "outside_hosts", lambda raw: calls.append(raw["id"]) or real(raw))
    vectors.load(network_root)  # full checks (they include the hosts), then cached
    cases = len(vectors.load(network_root).cases)
    checked = len(calls)
    assert cases and checked >= cases
    vectors.load(network_root)
    assert len(calls) == checked  # same bytes, same process: not checked again
    path = network_root / "discovery" / "meta-tags.json"
    doc = json.loads(path.read_text())
    doc["cases"][0]["input"]["app"] = "example.com/app"  # off the machine
    path.write_text(json.dumps(doc, indent=1))
    problems = vectors.load(network_root).problems
    assert len(calls) > checked
    assert [p.field for p in problems] == ["input"], problems


def test_what_passed_in_this_process_is_not_checked_again_by_it(root, monkeypatch):
    """In memory, as the cache file (with the cache file off too): the same bytes, schema,
    catalog and code are checked once per process; ``cache=False`` still checks from scratch,
    and a changed file is checked again."""
    monkeypatch.setenv(vectors.CACHE_ENV, "off")
    calls = []
    real = vectors._semantic_problems
    monkeypatch.setattr(vectors, "_semantic_problems", lambda raw, *a: calls.append(raw["id"]) or real(raw, *a))
    first = vectors.load(root)
    assert calls and not first.problems
    calls.clear()
    assert [c.raw for c in vectors.load(root).cases] == [c.raw for c in first.cases]
    assert calls == []
    vectors.load(root, cache=False)
    assert len(calls) == len(first.cases)
    calls.clear()
    path = root / "app-strings" / "basic.json"
    doc = json.loads(path.read_text())
    doc["cases"][0]["strength"] = "sometimes"
    path.write_text(json.dumps(doc))
    assert [p.field for p in vectors.load(root).problems] == ["strength"]
    assert calls and all(c.startswith("app-strings/basic/") for c in calls)


def test_a_digest_read_from_the_cache_file_is_not_taken_as_checked_by_this_process(root, monkeypatch):
    """A forged entry of the cache file hides a problem from a load that reads that file (the
    cache file's own trust rules decide that), never from a load without it."""
    path = root / "app-strings" / "basic.json"
    doc = json.loads(path.read_text())
    doc["cases"][0]["strength"] = "sometimes"
    path.write_text(json.dumps(doc))
    schema_bytes = (root / "schema" / "vector-file.schema.json").read_bytes()
    forged = vectors._SchemaCache(vectors.cache_file(), schema_bytes, (root / "requirements.json").read_bytes())
    forged.new[forged.key(path.read_bytes())] = None
    forged.save()
    assert not vectors.load(root).problems
    monkeypatch.setenv(vectors.CACHE_ENV, "off")
    assert [p.field for p in vectors.load(root).problems] == ["strength"]


def test_the_schema_s_own_check_runs_once_per_process_whatever_the_catalog(root, monkeypatch):
    """The meta-schema check reads the schema alone: a changed catalog (a new cache key) does
    not check the same schema again in this process; ``cache=False`` does."""
    import jsonschema

    monkeypatch.setenv(vectors.CACHE_ENV, "off")
    checks = []
    cls = jsonschema.validators.validator_for(json.loads((root / "schema" / "vector-file.schema.json").read_text()))
    real = cls.check_schema
    monkeypatch.setattr(cls, "check_schema", lambda schema, *a, **kw: checks.append(1) or real(schema, *a, **kw))
    vectors.load(root)
    assert checks == [1]
    catalog = root / "requirements.json"
    catalog.write_text(catalog.read_text() + "\n")
    vectors.load(root)
    assert checks == [1]
    vectors.load(root, cache=False)
    assert checks == [1, 1]
