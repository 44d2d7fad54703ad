"""The adapter protocol as JSON Schema (conformance/protocol/): the schemas themselves, the
harness's ``--validate-adapter``, and the traffic of the bundled adapters and the examples."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys

import jsonschema
import pytest

from appc_conformance.conformance import protocol, registry, vectors
from appc_conformance.conformance.run_verb import add_arguments, child_argv, make_plan
from tests.helpers import ROOT, run_suite, verdicts
from tests.miniatures import command as miniature

DOCS = ROOT / "docs" / "ADAPTERS.md"
EXAMPLES = {
    "minimal-adapter": ROOT / "examples" / "minimal-adapter" / "adapter.py",
    "ace-adapter": ROOT / "examples" / "ace-adapter" / "adapter.py",
}
# The cases of the operations each example implements (parse_app; fetch).
EXAMPLE_CASES = {
    "minimal-adapter": ("app-strings/basic/*", "app-strings/empty-tag/*"),
    "ace-adapter": ("fetch/dependencies/image-id-matches", "fetch/dependencies/image-id-differs"),
}
# A small selection that holds every operation, with ok and error answers of each.
OP_COMPLETE = (
    "app-strings/basic/*",
    "app-strings/empty-tag/*",
    "imagetags/label-names/*",
    "resolution/alias/*",
    "merging/dependency/*",
    "merging/errors/self-cycle",
    "discovery/headers/c*",
    "discovery/meta/extra-token",
    "discovery/resolve/alias-*",
    "discovery/resolve/document-404",
    "manifests/annotations/*",
    "matching/labels/*",
    "matching/names/uppercase-request",
    "fetch/dependencies/image-id-matches",
    "fetch/dependencies/image-id-differs",
)


@pytest.fixture(scope="module")
def validator():
    return protocol.Validator()


# -- the schemas ---------------------------------------------------------------------------------


def test_every_message_has_a_valid_draft_2020_12_schema():
    schemas = protocol.load_all()
    names = {f"{m}.schema.json" for m in protocol.MESSAGES}
    assert set(schemas) == names | {"common.schema.json"}, "a schema file without a message, or the reverse"
    for name, doc in schemas.items():
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        jsonschema.Draft202012Validator.check_schema(doc)  # the meta-schema check
        assert doc.get("title") or name == "common.schema.json", f"{name} has no title"


def test_the_schemas_name_every_operation_and_error_kind_of_the_vectors_and_the_docs():
    assert set(protocol.OPS) == set(vectors.OPS) - {"check_publisher"}
    kinds = protocol.load_all()["common.schema.json"]["$defs"]["errorKind"]["enum"]
    vector_schema = json.loads((ROOT / "vectors" / "schema" / "vector-file.schema.json").read_text())
    assert kinds == vector_schema["$defs"]["errorKind"]["enum"]
    section4 = DOCS.read_text().split("## 4. Error kinds")[1].split("## 5.")[0]
    assert kinds == re.findall(r"^\| `([a-z-]+)` \|", section4, re.M)


@pytest.mark.parametrize(
    "message, instance",
    [
        (
            "hello.request",
            {"op": "hello", "protocol": 1, "protocol_minor": 1, "profile": "appc-0.8.11", "ca_file": "/tmp/ca.pem"},
        ),
        ("hello.request", {"op": "hello", "protocol": 1, "profile": "appc-imagetags", "ca_file": None}),
        (
            "hello.answer",
            {
                "ok": {
                    "implementation": {"name": "libfoo", "version": "2.3.0", "language": "rust", "homepage": None},
                    "profiles": ["appc-0.8.11"],
                    "ops": ["parse_app"],
                    "features": [],
                }
            },
        ),
        ("hello.answer", {"unsupported": "only appc-0.8.11 is implemented"}),
        ("parse_app.request", {"id": 7, "op": "parse_app", "args": {"app": "example.com/app,os=linux"}}),
        ("parse_app.answer", {"id": 1, "ok": {"name": "example.com/app", "tag": None, "labels": {"version": "1.0"}}}),
        ("parse_app.answer", {"id": 1, "ok": {"name": "a", "tag": None, "labels": {}, "extra": [1]}}),
        ("parse_app.answer", {"id": 2, "error": {"kind": "invalid-app-string", "message": "colon after a label"}}),
        ("parse_app.answer", {"id": 3, "unsupported": "needs plain HTTP"}),
        ("fetch.answer", {"id": 3, "failed": {"message": "actool: flag provided but not defined: -port"}}),
        ("error.answer", {"id": 4, "error": {"kind": "other"}}),
        (
            "discover.answer",
            {
                "id": 5,
                "ok": {
                    "aci": [{"aci": "https://127.0.0.2/a.aci", "asc": "https://127.0.0.2/a.aci.asc"}],
                    "pubkeys": ["https://127.0.0.2/keys.asc"],
                    "attempts": [{"prefix": "127.0.0.2/app", "error": "HTTP 404"}],
                },
            },
        ),
        (
            "fetch.answer",
            {
                "id": 6,
                "ok": {
                    "image_id": "sha512-9f86d0",
                    "name": "127.0.0.2/app",
                    "labels": {"os": "linux"},
                    "urls": {"image": "https://127.0.0.2/app.aci", "signature": None, "imagetags": None},
                },
            },
        ),
    ],
)
def test_valid_messages_pass(validator, message, instance):
    assert validator.check(message, instance) is None


@pytest.mark.parametrize(
    "message, instance, at, schema_path",
    [
        ("hello.answer", {"ok": {"ops": [1]}}, "$.ok.ops[0]", "properties/ok/properties/ops/items/type"),
        ("hello.answer", {"ok": {"implementation": {"name": " "}}}, "$.ok.implementation.name", "/pattern"),
        ("hello.answer", {"ok": {}, "unsupported": "no"}, "$", "oneOf"),
        (
            "parse_app.answer",
            {"id": 1, "ok": {"name": "a", "tag": None, "labels": {"version": 1}}},
            "$.ok.labels.version",
            "properties/ok/properties/labels/additionalProperties/type",
        ),
        ("parse_app.answer", {"id": 1, "ok": {"name": "a", "labels": {}}}, "$.ok", "properties/ok/required"),
        ("parse_app.answer", {"id": 1, "error": {"kind": "typo-kind"}}, "$.error.kind", "properties/kind/enum"),
        ("parse_app.answer", {"id": 1, "error": {"kind": "other"}, "ok": {}}, "$", "oneOf"),
        ("parse_app.answer", {"id": 1}, "$", "oneOf"),
        ("validate_manifest.answer", {"id": 1, "ok": {"valid": False}}, "$.ok.valid", "properties/valid/const"),
        ("match_manifest.answer", {"id": 1, "ok": {"matches": "yes"}}, "$.ok.matches", "properties/matches/type"),
        ("failed.answer", {"id": 1, "failed": {"message": 3}}, "$.failed.message", "properties/message/type"),
        (
            "fetch.request",
            {
                "id": 1,
                "op": "fetch",
                "args": {
                    "app": "a",
                    "dependency": {"imageName": "a"},
                    "port": None,
                    "insecure": [],
                    "headers": {},
                    "trust": {"keys": [], "verify_signatures": True, "trust_discovered_keys": False},
                },
            },
            "$.args",
            "properties/args/oneOf",
        ),
    ],
)
def test_a_broken_message_is_refused_with_its_place(validator, message, instance, at, schema_path):
    why = validator.check(message, instance)
    assert why is not None
    assert f"{message}.schema.json at {at}:" in why
    assert schema_path in why.split("(schema path: ")[1]


def test_every_request_of_the_vectors_is_valid(validator):
    """The requests the harness builds from each case's input (network cases: with the port,
    insecure and headers a scenario adds) break no request schema."""
    problems = []
    for n, case in enumerate(vectors.load(vectors.default_vectors_dir()).cases):
        if case.op not in protocol.OPS:
            continue
        args = dict(case.raw["input"])
        if case.op in vectors.NETWORK_OPS:  # as a scenario makes them (a size placeholder: a number)
            args = json.loads(re.sub(r'"\{\{size:[^}]*\}\}"', "1024", json.dumps(args)))
            args = {"port": 41234, "insecure": [], "headers": {}, **args}
        why = validator.request(case.op, {"id": n + 1, "op": case.op, "args": args})
        if why:
            problems.append(f"{case.id}: {why}")
    assert not problems, problems[:5]


# -- the harness -------------------------------------------------------------------------------


def test_run_passes_the_option_to_the_pytest_plugin(tmp_path):
    p = argparse.ArgumentParser()
    add_arguments(p)
    for given, passed in (([], False), (["--validate-adapter"], True)):
        args = p.parse_args(["--impl", "reference", "--out", str(tmp_path), *given])
        job = make_plan(args)[0]
        job.private, job.progress_path = tmp_path / "r.json", tmp_path / "p.txt"
        assert ("--validate-adapter" in child_argv(job, args, 3)) is passed


def test_an_answer_that_breaks_the_schema_is_a_protocol_error_naming_the_place(tmp_path):
    """The ``wrong`` miniature answers ``{"valid": "mutant"}``: graded ``fail`` by default,
    a protocol-error naming the schema and the place with ``--validate-adapter``."""
    sel = ("--case", "manifests/annotations/valid", "--profile", "appc-0.8.11")
    _, plain = run_suite(tmp_path, "--adapter-cmd", miniature("wrong"), *sel)
    assert [c["verdict"] for c in plain["cases"]] == ["fail"]
    _, checked = run_suite(tmp_path, "--adapter-cmd", miniature("wrong"), "--validate-adapter", *sel)
    (case,) = checked["cases"]
    assert case["verdict"] == "protocol-error"
    assert (
        "the answer breaks the protocol schema validate_manifest.answer.schema.json at $.ok.valid" in case["message"]
    ), case["message"]
    assert "schema path: properties/ok/properties/valid/const" in case["message"]


# -- the bundled adapters and the examples -----------------------------------------------------


def _traffic_is_valid(tmp_path, *adapter, cases=OP_COMPLETE):
    proc, doc = run_suite(tmp_path, *adapter, "--validate-adapter", *(a for pat in cases for a in ("--case", pat)))
    assert doc is not None, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "--validate-adapter" in doc["run"]["argv"]
    broken = [(c["id"], c["profile"], c["message"]) for c in verdicts(doc).get("protocol-error", [])]
    assert not broken, broken[:5]
    return doc


@pytest.mark.parametrize("impl", list(registry.IMPLEMENTATIONS))
def test_the_bundled_adapters_traffic_is_valid(tmp_path, impl):
    try:
        registry.command(impl)
    except registry.NotAvailable as exc:
        pytest.skip(f"{impl} is not available: {exc}")
    doc = _traffic_is_valid(tmp_path, "--impl", impl)
    assert {c["op"] for c in doc["cases"]} == set(protocol.OPS)  # the selection is op-complete
    answered = {c["op"] for c in doc["cases"] if c["verdict"] not in ("not-implemented", "skipped")}
    # the reference answers every operation, and rightly: checking its answers changes no verdict;
    # go-appc and actool answer the operations they declare
    assert answered == set(protocol.OPS) if impl == "reference" else answered, answered
    if impl == "reference":
        assert set(verdicts(doc)) == {"pass"}, {v: len(cs) for v, cs in verdicts(doc).items()}
        forms = {(c["op"], next(k for k in ("ok", "error") if k in c["actual"])) for c in doc["cases"]}
        assert forms == {(op, form) for op in protocol.OPS for form in ("ok", "error")}


@pytest.mark.slow
def test_the_reference_traffic_over_the_whole_vector_set_is_valid(tmp_path):
    """Every request the harness builds (network cases with their scenario's port and
    artefacts) and every answer of the reference, in both profiles."""
    proc, doc = run_suite(tmp_path, "--impl", "reference", "--validate-adapter")
    assert doc is not None, proc.stdout[-2000:]
    assert {c["op"] for c in doc["cases"]} == set(protocol.OPS)
    assert set(verdicts(doc)) == {"pass"}, {v: len(cs) for v, cs in verdicts(doc).items()}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_the_examples_traffic_is_valid(tmp_path, name):
    doc = _traffic_is_valid(tmp_path, "--adapter-cmd", f"{sys.executable} {EXAMPLES[name]}", cases=EXAMPLE_CASES[name])
    assert verdicts(doc).get("pass"), "the example answered nothing"


def _documented_commands() -> list[str]:
    """The two lines of docs/ADAPTERS.md that check a transcript offline."""
    text = DOCS.read_text()
    block = text.split("### Checking an adapter against the schemas")[1].split("```sh\n")[1].split("```")[0]
    lines = [ln for ln in block.splitlines() if ln.strip() and not ln.startswith("#")]
    assert any("python -m appc_conformance.conformance.protocol" in ln for ln in lines), lines
    return lines


REQUESTS = [
    {"op": "hello", "protocol": 1, "protocol_minor": 1, "profile": "appc-0.8.11", "ca_file": None},
    {"id": 1, "op": "parse_app", "args": {"app": "example.com/reduce-worker:1.0.0,channel=alpha"}},
    {"id": 2, "op": "parse_app", "args": {"app": "example.com/app,channel=beta:1.2.3"}},
    {"id": 3, "op": "parse_app", "args": {"app": "example.com/App"}},
]


def test_the_documented_offline_check_runs_on_the_minimal_example(tmp_path):
    (tmp_path / "requests.jsonl").write_text("".join(json.dumps(r) + "\n" for r in REQUESTS))
    adapter = f"{sys.executable} {EXAMPLES['minimal-adapter']}"
    for line in _documented_commands():
        if line.startswith("python "):
            line = sys.executable + line[len("python") :]
        line = line.replace("./my-adapter", adapter)
        proc = subprocess.run(line, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, (line, proc.stdout, proc.stderr)
    assert "every message is valid" in proc.stdout
    assert len((tmp_path / "answers.jsonl").read_text().splitlines()) == len(REQUESTS)

    # The same check refuses a broken answer, and says where.
    answers = (tmp_path / "answers.jsonl").read_text().splitlines()
    bad = json.loads(answers[1])
    bad["ok"]["labels"]["version"] = 1
    (tmp_path / "answers.jsonl").write_text("\n".join([answers[0], json.dumps(bad), *answers[2:]]) + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "appc_conformance.conformance.protocol", "requests.jsonl", "answers.jsonl"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "answer 2: breaks the protocol schema parse_app.answer.schema.json at $.ok.labels.version" in proc.stdout


def test_a_hello_answer_that_breaks_the_schema_is_a_protocol_error_for_the_profile(tmp_path, validator):
    """``{"unsupported": 42}`` passes the handshake checks every run makes (the reason is shown
    as text); with the schemas it is a protocol-error that names the place."""
    from appc_conformance.conformance.adapter import AdapterSession

    script = tmp_path / "adapter.py"
    script.write_text(
        "import sys\nsys.stdin.readline()\nprint('{\"unsupported\": 42}', flush=True)\nsys.stdin.read()\n"
    )
    plain = AdapterSession([sys.executable, str(script)], "appc-0.8.11", timeout=30)
    checked = AdapterSession([sys.executable, str(script)], "appc-0.8.11", timeout=30, validator=validator)
    try:
        assert (plain.ensure().ok, plain.hello.status, plain.hello.reason) == (False, "answer", "42")
        hello = checked.ensure()
        assert (hello.ok, hello.status) == (False, "protocol-error")
        assert "hello.answer.schema.json at $.unsupported: 42 is not of type 'string'" in hello.reason
    finally:
        plain.close()
        checked.close()


def _json_blocks(section: str) -> list[str]:
    return re.findall(r"```json\n(.*?)```", section, re.S)


def test_the_messages_shown_in_the_docs_are_valid(validator):
    """The handshake of section 2, the fetch result of section 6.1 and the transcript of
    section 12 (docs/ADAPTERS.md) agree with the schemas."""
    text = DOCS.read_text()
    hello_request, hello_answer = (json.loads(b) for b in _json_blocks(text.split("## 2. The handshake")[1])[:2])
    assert validator.check("hello.request", hello_request) is None
    assert validator.check("hello.answer", hello_answer) is None
    fetch_result = json.loads(_json_blocks(text.split("### 6.1")[1])[0])
    assert validator.answer("fetch", {"id": 1, "ok": fetch_result}) is None
    transcript = text.split("Try it by hand.")[1].split("Then the suite")[0]
    lines = [json.loads(ln) for ln in transcript.splitlines() if ln.startswith("{")]
    assert len(lines) == 8
    assert protocol.check_transcript(lines[0::2], lines[1::2]) == []


def test_a_transcript_is_checked_in_request_order():
    hello, parse = REQUESTS[0], REQUESTS[1]
    ok = {"id": 1, "ok": {"name": "example.com/reduce-worker", "tag": None, "labels": {"version": "1.0.0"}}}
    good_hello = {"ok": {"ops": ["parse_app"]}}
    assert protocol.check_transcript([hello, parse], [good_hello, ok]) == []
    assert protocol.check_transcript([hello, parse], [good_hello, {**ok, "id": 2}]) == [
        "answer 2: its id 2 is not the id of request 2 (1)"
    ]
    assert protocol.check_transcript([hello, parse], [good_hello]) == ["requests 2 to 2 have no answer"]
    (why,) = protocol.check_transcript([hello, parse], [good_hello, good_hello])
    assert why.startswith("answer 2: breaks the protocol schema parse_app.answer.schema.json at $: 'id'")
