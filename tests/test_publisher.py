"""The publisher check (``appc-conformance check-publisher``) against mock hosts that get each rule
right, and then each rule wrong, one at a time: the hosts are the publisher cases of
vectors/publisher (run here, by the suite itself); the verb's options are tested below."""

from __future__ import annotations

import copy
import json

import pytest

from appc_conformance import servers
from appc_conformance.conformance import cli, publisher, publisher_cases, vectors

APP = "{{a.host}}/app,version=1.0.0"
IMG, ASC = "/images/{{a.host}}/app-1.0.0.aci", "/images/{{a.host}}/app-1.0.0.aci.asc"
TJ, TA = "/tags/{{a.host}}/app.json", "/tags/{{a.host}}/app.json.asc"
GOOD_META = [
    ["ac-discovery", "{{a.host}}/app https://{{a}}/images/{name}-{version}.{ext}"],
    ["ac-discovery-pubkeys", "{{a.host}}/app https://{{a}}/keys/app.asc"],
    ["ac-discovery-imagetags", "{{a.host}}/app https://{{a}}/tags/{name}.{ext}"],
]
ARTEFACTS = {
    "app.aci": {
        "aci": {"name": "{{a.host}}/app", "labels": {"version": "1.0.0", "os": "linux"}, "compression": "gzip"}
    },
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
    return {
        "/app?ac-discovery=1": {"meta": copy.deepcopy(GOOD_META)},
        "/keys/app.asc": {"artefact": "alice.pub"},
        IMG: {"artefact": "app.aci"},
        ASC: {"artefact": "app.aci.asc"},
        TJ: {"artefact": "tags.json"},
        TA: {"artefact": "tags.json.asc"},
    }


def _meta(paths, meta):
    paths["/app?ac-discovery=1"] = {"meta": meta}
    return paths


# -- the publisher cases (vectors/publisher): every host scenario, as data -----------------------

PUBLISHER_VECTORS = vectors.default_vectors_dir() / "publisher"


def _publisher_set():
    vs = vectors.load(vectors.default_vectors_dir(), vectors.vector_files(PUBLISHER_VECTORS))
    assert not vs.problems, "\n".join(map(str, vs.problems))
    return vs


PUBLISHER_SET = _publisher_set()
RUNS = [(c, p) for c in PUBLISHER_SET.suite_cases for p in c.profiles]


def _run(case, profile):
    out = publisher_cases.run(case, profile)
    if out.skipped:
        pytest.skip(out.skipped)
    return out


@pytest.mark.parametrize("case, profile", RUNS, ids=[f"{c.id}[{p}]" for c, p in RUNS])
def test_every_publisher_case_gets_the_rule_verdicts_it_expects(case, profile):
    """check-publisher against the case's mock hosts gives each rule the status the case states."""
    out = _run(case, profile)
    assert out.mismatches == [], out.text()


def test_the_publisher_cases_break_every_rule_and_keep_it():
    """Each rule passes in some case and fails (or warns, for a SHOULD) in another: no rule is
    only ever seen right, and the cases cite each rule's requirements."""
    seen: dict = {}
    cited = set()
    for c in PUBLISHER_SET.suite_cases:
        cited |= set(c.requirements)
        for rule, status in c.raw["expect"]["result"]["checks"].items():
            seen.setdefault(rule, set()).add(status)
    for rule, _reqs, strength in publisher.RULES:
        assert "pass" in seen[rule], rule
        assert ("fail" if strength == "must" else "warn") in seen[rule] or "fail" in seen[rule], rule
    assert {r for _, reqs, _ in publisher.RULES for r in reqs} <= cited
    assert {"DISC-06", "DISC-12", "DISC-PR-01"} <= cited


def _forgets_rule(rule):
    """A publisher check that never reports ``rule`` failing (as if the rule were not coded)."""
    real = publisher.Report.set

    def set_(self, name, status, message=""):
        if name == rule and status in (publisher.FAIL, publisher.WARN):
            status = publisher.PASS
        real(self, name, status, message)

    return set_


@pytest.mark.parametrize(
    "rule, case_id",
    [
        ("template-ext", "publisher/template-ext/no-ext/imagetags"),
        ("https-template", "publisher/https-template/plain-http-only/0.8.11"),
        ("imagetags-tag", "publisher/imagetags-tag/missing"),
    ],
)
def test_a_check_that_forgets_a_rule_is_caught_by_its_case(monkeypatch, rule, case_id):
    case = next(c for c in PUBLISHER_SET.suite_cases if c.id == case_id)
    monkeypatch.setattr(publisher.Report, "set", _forgets_rule(rule))
    out = _run(case, case.profiles[0])
    assert any(m.startswith(f"rule {rule}: expected ") for m in out.mismatches), out.text()


def test_a_check_that_trusts_any_signature_is_caught(monkeypatch):
    monkeypatch.setattr(publisher.Keys, "verify", lambda self, data, sig: None)
    case = next(c for c in PUBLISHER_SET.suite_cases if c.id == "publisher/image-signature/tampered-image")
    out = _run(case, "appc-imagetags")
    assert "rule image-signature: expected fail, the check gave pass" in " ".join(out.mismatches), out.text()


def test_a_message_the_case_names_must_be_there():
    case = copy.deepcopy(next(c for c in PUBLISHER_SET.suite_cases if c.id == "publisher/image/missing/0.8.11"))
    case.raw["expect"]["result"]["messages"] = {"image": "HTTP 410"}
    out = _run(case, "appc-0.8.11")
    assert out.mismatches and "no message contains 'HTTP 410'" in out.mismatches[0], out.text()


def _lint(tmp_path, cases, area="publisher"):
    import shutil

    root = tmp_path / "v"
    shutil.copytree(vectors.default_vectors_dir() / "schema", root / "schema")
    shutil.copy(vectors.default_vectors_dir() / "requirements.json", root / "requirements.json")
    (root / area).mkdir()
    (root / area / "x.json").write_text(json.dumps({"area": area, "description": "d", "cases": cases}))
    return vectors.load(root, cache=False)


def _case(**over):
    raw = copy.deepcopy(next(c for c in PUBLISHER_SET.suite_cases if c.id == "publisher/image/missing/0.8.11").raw)
    return {**raw, **over}


@pytest.mark.parametrize(
    "over, area, needle",
    [
        ({}, "discovery", "holds adapter cases, not check_publisher"),
        ({"op": "resolve", "expect": {"result": {"labels": {}}}}, "publisher", "holds check_publisher cases"),
        ({"requirements": ["APP-01"]}, "publisher", "APP-01 is checked by no rule"),
        ({"input": {"app": "{{a.host}}/app", "keys": ["nope"]}}, "publisher", "names no public_key artefact"),
        ({"expect": {"result": {"checks": {"image": "fail"}}}}, "publisher", "required"),
        ({"expect": {"error": "other"}}, "publisher", "result"),
    ],
)
def test_lint_refuses_a_publisher_case_that_cannot_be_right(tmp_path, over, area, needle):
    c = _case(**over)
    c["id"] = f"{area}/x/y"
    vs = _lint(tmp_path, [c], area)
    assert not vs.cases and not vs.suite_cases
    assert any(needle in str(p) for p in vs.problems), vs.problems


def test_publisher_cases_are_kept_apart_from_adapter_cases():
    vs = vectors.load()
    assert vs.suite_cases and all(c.op == "check_publisher" for c in vs.suite_cases)
    assert not any(c.op in vectors.SUITE_OPS or c.area == "publisher" for c in vs.cases)


def test_the_verb(tmp_path, capsys):
    with servers.scenario({"a": {"paths": good_paths()}}, artefacts=ARTEFACTS) as sc:
        out = tmp_path / "report.json"
        argv = check_argv(sc, out)
        assert cli.main(argv) == 0
        doc = json.loads(out.read_text())
        assert doc["ok"] and doc["format"] == "appc-conformance-publisher-check"
        assert "PASS  image-signature (VAL-05, must)" in capsys.readouterr().out
    paths = {**good_paths(), IMG: {"status": 404}}
    with servers.scenario({"a": {"paths": paths}}, artefacts=ARTEFACTS) as sc:
        assert cli.main(["check-publisher", sc.substitute(APP), "--port", str(sc.port), "--ca-file", sc.ca_file]) == 1


def check_argv(sc, out) -> list:
    """``check-publisher`` of APP on the scenario's hosts (image tags profile), its report to ``out``."""
    return [
        "check-publisher",
        sc.substitute(APP),
        "--profile",
        "appc-imagetags",
        "--port",
        str(sc.port),
        "--ca-file",
        sc.ca_file,
        "--json",
        str(out),
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["check-publisher", "Example.com/app"],
        ["check-publisher", "example.com/app", "--header", "nonsense"],
        ["check-publisher", "example.com/app", "--key", "/nonexistent/key.asc"],
    ],
)
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
        base = check_argv(sc, out)
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


# -- coverage: the publisher cases cover the rules for servers ------------------------------------


def test_coverage_counts_the_publisher_cases(tmp_path, capsys):
    """With the bundled catalog, coverage.md/.json and the HTML show DISC-06, DISC-12 and DISC-PR-01
    covered by publisher checks, though no adapter case cites them."""
    from appc_conformance.reports.results import write_results
    from tests.report_fixtures import make_results

    r = tmp_path / "r.json"
    write_results(r, make_results())
    assert cli.main(["report", str(r), "--out", str(tmp_path / "o"), "--format", "coverage", "--format", "html"]) == 0
    capsys.readouterr()
    cov = json.loads((tmp_path / "o" / "coverage.json").read_text())
    by = {x["id"]: x for x in cov["requirements"]}
    for rid in ("DISC-06", "DISC-12", "DISC-PR-01"):
        assert rid not in cov["uncovered"]
        assert by[rid]["cases"] == 0 and by[rid]["publisher_cases"] >= 2, by[rid]
    # a client's duty a publisher case cites (the manifest against the request) is not covered by it
    assert by["VAL-01"]["publisher_cases"] == 0 and "VAL-01" in cov["uncovered"]
    md = (tmp_path / "o" / "coverage.md").read_text()
    assert "## Requirements covered by publisher checks" in md
    line = next(x for x in md.splitlines() if x.startswith("| DISC-06 |"))
    assert "0 + " in line and "publisher" in line and "covered by publisher checks" in line
    assert (
        "- DISC-06 (must)" not in md.split("## Requirements without a case")[-1]
        or "## Requirements without a case" not in md
    )
    assert "covered by publisher checks:" in (tmp_path / "o" / "report.html").read_text()


def test_coverage_without_publisher_cases_keeps_them_uncovered(tmp_path):
    """The check above can fail: a catalog with no publisher cases beside it leaves the rules
    without a case (and a requirement cited only by a publisher case is covered by it)."""
    from appc_conformance.reports import model

    catalog = json.loads((vectors.default_vectors_dir() / "requirements.json").read_text())
    (tmp_path / "requirements.json").write_text(json.dumps(catalog))
    assert model.suite_checks(tmp_path / "requirements.json") == {}
    bare = model.build([], catalog)
    assert {"DISC-06", "DISC-12", "DISC-PR-01"} <= {r.id for r in bare.uncovered_requirements}
    suite = model.suite_checks(vectors.default_vectors_dir() / "requirements.json")
    full = model.build([], catalog, suite)
    assert not {"DISC-06", "DISC-12", "DISC-PR-01"} & {r.id for r in full.uncovered_requirements}


def test_a_case_with_an_app_string_the_check_refuses_is_a_mismatch_not_a_crash():
    case = copy.deepcopy(next(c for c in PUBLISHER_SET.suite_cases if c.id == "publisher/image/missing/0.8.11"))
    case.raw["input"]["app"] = "Not An Identifier"
    out = _run(case, "appc-0.8.11")
    assert not out.ok and "input.app 'Not An Identifier'" in out.mismatches[0], out.text()


def test_list_shows_the_publisher_cases(capsys):
    assert cli.main(["list", "--area", "publisher", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in rows} == {c.id for c in PUBLISHER_SET.suite_cases}
    assert {r["op"] for r in rows} == {"check_publisher"}


def test_port_applies_to_every_host_not_only_the_first_page(tmp_path):
    """Issue 22, item 9: --port reached the discovery page only; the key, the image tags and the
    image, published without a port (as a host on 443 publishes them), went to port 443."""
    meta = [[kind, content.replace("https://{{a}}/", "https://{{a.host}}/")] for kind, content in GOOD_META]
    paths = _meta(good_paths(), meta)
    with servers.scenario({"a": {"paths": paths}}, artefacts=ARTEFACTS) as sc:
        out = tmp_path / "r.json"
        code = cli.main(
            [
                "check-publisher",
                sc.substitute(APP),
                "--profile",
                "appc-imagetags",
                "--port",
                str(sc.port),
                "--ca-file",
                sc.ca_file,
                "--json",
                str(out),
            ]
        )
        checks = {c["rule"]: c for c in json.loads(out.read_text())["checks"]}
        assert code == 0, checks
        for rule in ("pubkeys-tag", "imagetags-document", "image", "image-signature"):
            assert checks[rule]["status"] == "pass", checks[rule]
        fetched = {e.path.split("?")[0] for e in sc.log.requests()}
        assert {"/keys/app.asc", sc.substitute(TJ), sc.substitute(IMG)} <= fetched, fetched
