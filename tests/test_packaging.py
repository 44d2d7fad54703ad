"""The suite as an installed package: a wheel carries the vectors, schemas, templates and entry
points, and once installed in a fresh virtual environment it works outside any checkout.

The wheel is built from a copy of the source tree, so the checkout never gets a build/ folder
or a copy of the vectors. Without network access the build needs a setuptools that can write
wheels by itself (70.1 or newer, or the ``wheel`` package beside it) in this interpreter;
otherwise pip builds in an isolated environment, as ``pip install .`` does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.xdist_group("packaging")  # one worker builds the wheel and its venv, once
INSTALLED_VECTORS = "appc_conformance/conformance/_vectors"  # where a wheel carries the vector set
IGNORE = shutil.ignore_patterns(
    ".git",
    ".tox",
    ".venv",
    ".benchmarks",
    ".hypothesis",
    "build",
    "dist",
    "out",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    "node_modules",
)


def _backend_ready() -> bool:
    """Can this interpreter build the wheel without fetching a build backend?"""
    try:
        import setuptools
    except ImportError:
        return False
    parts = []
    for p in setuptools.__version__.split(".")[:2]:
        parts.append(int("".join(ch for ch in p if ch.isdigit()) or 0))
    if tuple(parts) >= (70, 1):
        return True
    try:
        import wheel  # noqa: F401
    except ImportError:
        return False
    return tuple(parts) >= (64, 0)


def _run(argv, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, **kw)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(the source copy, the wheel) built with pip from a copy of the checkout."""
    base = tmp_path_factory.mktemp("packaging")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=IGNORE, symlinks=True)
    dist = base / "dist"
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)]
    if _backend_ready():
        argv.insert(4, "--no-build-isolation")
    proc = _run(argv, cwd=base)
    wheels = sorted(dist.glob("appc_conformance-*.whl"))
    assert proc.returncode == 0 and len(wheels) == 1, (
        f"pip wheel failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    )
    return src, wheels[0]


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    """A fresh virtual environment with the wheel installed; returns its bin/ folder."""
    _, wheel = built
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=False, symlinks=(os.name != "nt")).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / ("python.exe" if os.name == "nt" else "python")
    proc = _run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q", str(wheel)]
    )
    assert proc.returncode == 0, f"pip install failed:\n{proc.stdout}\n{proc.stderr}"
    # The dependencies (pytest, jsonschema, ...) come from the environment running this test,
    # added after the package is installed, and behind the new environment's own site-packages.
    purelib = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "zz_test_dependencies.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
    return bindir


def _outside(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("elsewhere")
    assert ROOT not in work.parents
    return work


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def test_wheel_carries_vectors_schemas_templates_and_entry_points(built):
    src, wheel = built
    names = set(zipfile.ZipFile(wheel).namelist())
    vectors = sorted(p.relative_to(src / "vectors").as_posix() for p in (src / "vectors").rglob("*.json"))
    assert "schema/vector-file.schema.json" in vectors and "requirements.json" in vectors
    missing = [v for v in vectors if f"{INSTALLED_VECTORS}/{v}" not in names]
    assert not missing, f"vector files missing from the wheel: {missing}"
    extra = sorted(
        n for n in names if n.startswith(f"{INSTALLED_VECTORS}/") and n[len(INSTALLED_VECTORS) + 1 :] not in vectors
    )
    assert not extra, f"files in the wheel's vectors that the source does not have: {extra}"
    with zipfile.ZipFile(wheel) as zf:
        copy = json.loads(zf.read(f"{INSTALLED_VECTORS}/requirements.json"))
    assert copy == json.loads((src / "vectors" / "requirements.json").read_text())

    for folder, pattern in (
        ("reports/schema", "*.json"),
        ("reports/templates", "*"),
        ("conformance/protocol", "*.schema.json"),
    ):
        files = sorted((src / folder).glob(pattern))
        assert files, f"{folder} is empty in the source"
        for f in files:
            assert f"appc_conformance/{folder}/{f.name}" in names, f"{folder}/{f.name} is not in the wheel"
    for required in (
        "__init__.py",
        "servers/__init__.py",
        "conformance/adapters/go/adapter.go",
        "conformance/adapters/reference/__main__.py",
        "conformance/plugin.py",
        "reports/cli.py",
    ):
        assert f"appc_conformance/{required}" in names, f"appc_conformance/{required} is not in the wheel"
    go_sources = sorted((src / "conformance" / "adapters" / "go").rglob("*.go"))  # with probes/
    assert any(f.parent.name == "probes" for f in go_sources)
    for f in go_sources:
        rel = f.relative_to(src).as_posix()
        assert f"appc_conformance/{rel}" in names, f"{rel} is not in the wheel"
    # One distinctive top-level name: nothing else is installed at the top of site-packages.
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"appc_conformance"}, tops
    assert not any(n.startswith(("tests/", "examples/")) for n in names)

    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "appc-conformance = appc_conformance.conformance.cli:main" in text
    assert "[pytest11]" in text and "appc_conformance.conformance.plugin" in text


def test_build_leaves_one_copy_of_the_vectors(built):
    src, _ = built
    assert not (ROOT / "conformance" / "_vectors").exists(), "a copy of the vectors in the checkout"
    assert not (src / "conformance" / "_vectors").exists(), "the build wrote into the source tree"


def test_installed_package_lints_its_own_vectors_outside_the_checkout(installed, built, tmp_path_factory):
    src, _ = built
    work = _outside(tmp_path_factory)
    env = _clean_env()
    py = installed / "python"
    where = _run(
        [
            str(py),
            "-c",
            "import appc_conformance.conformance.vectors as v; print(v.__file__); print(v.default_vectors_dir())",
        ],
        cwd=work,
        env=env,
    )
    assert where.returncode == 0, where.stderr
    module, vectors_dir = where.stdout.split()
    prefix = str(installed.parent)
    assert module.startswith(prefix), f"conformance imported from {module}, not the new environment"
    assert vectors_dir.startswith(prefix) and vectors_dir.endswith("_vectors")

    cli = installed / "appc-conformance"
    helped = _run([str(cli), "--help"], cwd=work, env=env)
    assert helped.returncode == 0 and "lint" in helped.stdout, helped.stdout + helped.stderr

    linted = _run([str(cli), "lint"], cwd=work, env=env)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    n_files = len(
        [
            p
            for p in (src / "vectors").rglob("*.json")
            if "schema" not in p.relative_to(src / "vectors").parts and p.name != "requirements.json"
        ]
    )
    assert linted.stdout.startswith(f"{n_files} files, "), linted.stdout
    assert linted.stdout.rstrip().endswith(" 0 problems")


def test_ci_script_passes_the_exit_code_and_publishes_the_summary(installed, tmp_path_factory):
    """ci/run-conformance.sh with the installed command: 0 and a step summary for a correct
    adapter, 1 for a wrong one; relative output folders work from any folder."""
    work = _outside(tmp_path_factory)
    good = work / "adapter.py"
    shutil.copyfile(ROOT / "examples" / "minimal-adapter" / "adapter.py", good)
    bad = work / "bad.py"
    bad.write_text(good.read_text().replace('"tag": None', '"tag": ""'))
    script = ROOT / "ci" / "run-conformance.sh"
    env = _clean_env()
    env["PATH"] = f"{installed}{os.pathsep}{env.get('PATH', '')}"
    env["GITHUB_STEP_SUMMARY"] = str(work / "step-summary.md")
    common = ["--name", "minimal-example"]
    tail = ["--", "--case", "app-strings/basic/*", "--profile", "appc-0.8.11"]

    ok = _run(["bash", str(script), *common, f"{sys.executable} {good}", "out-good", *tail], cwd=work, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (work / "out-good" / "results-minimal-example.json").is_file()
    published = (work / "step-summary.md").read_text()
    assert published.startswith((work / "out-good" / "summary.md").read_text().rstrip("\n"))
    assert "<details><summary>coverage.md</summary>" in published

    del env["GITHUB_STEP_SUMMARY"]
    failed = _run(["bash", str(script), *common, f"{sys.executable} {bad}", "out-bad", *tail], cwd=work, env=env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "compatibility summary" in failed.stdout  # printed when there is no step summary file


CLASH = "raise ImportError('this is the project\\'s own {name} package, not the suite\\'s')\n"


def test_installed_run_verb_grades_an_adapter_outside_the_checkout_beside_packages_named_like_the_suites(
    installed, tmp_path_factory
):
    """From an implementer's repository outside the checkout, which has its own conformance/,
    reports/ and servers/ packages (the CI recipe runs from the repository root): the installed
    `appc-conformance run` grades an adapter (verdicts and reports), and neither it nor pytest
    started by hand imports any of those packages."""
    work = _outside(tmp_path_factory)
    for name in ("conformance", "reports", "servers"):
        (work / name).mkdir()
        (work / name / "__init__.py").write_text(CLASH.format(name=name))
    adapter = work / "adapter.py"
    shutil.copyfile(ROOT / "examples" / "minimal-adapter" / "adapter.py", adapter)
    env = _clean_env()
    ran = _run(
        [
            str(installed / "appc-conformance"),
            "run",
            "--adapter-cmd",
            f"{sys.executable} {adapter}",
            "--name",
            "minimal",
            "--out",
            "out",
            "--case",
            "app-strings/basic/*",
        ],
        cwd=work,
        env=env,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    results = json.loads((work / "out" / "results-minimal.json").read_text())
    verdicts = {(c["id"], c["profile"]): c["verdict"] for c in results["cases"]}
    assert verdicts[("app-strings/basic/name-only", "appc-0.8.11")] == "pass"
    assert verdicts[("app-strings/basic/name-only", "appc-imagetags")] == "not-implemented"
    assert set(verdicts.values()) == {"pass", "not-implemented"}
    assert (work / "out" / "summary.md").read_text().strip()

    py = installed / "python"
    where = _run(
        [str(py), "-c", "import appc_conformance.conformance.vectors as v; print(v.default_vectors_dir())"],
        cwd=work,
        env=env,
    )
    assert where.returncode == 0, where.stderr
    by_hand = _run(
        [
            str(py),
            "-m",
            "pytest",
            where.stdout.strip(),
            "-q",
            "-p",
            "no:cacheprovider",
            "--adapter-cmd",
            f"{sys.executable} {adapter}",
            "--case",
            "app-strings/basic/*",
        ],
        cwd=work,
        env=env,
    )
    assert by_hand.returncode == 0, by_hand.stdout[-3000:] + by_hand.stderr[-3000:]
    assert " passed" in by_hand.stdout and "ImportError" not in by_hand.stdout


def test_wheel_carries_the_expectations_files(built):
    """The installed suite knows the bundled implementations' known failures: `run --help`
    names "the bundled expectations/", so the wheel carries every expectations/IMPL.json where
    reports.expectations.default_dir() looks for them."""
    src, wheel = built
    names = set(zipfile.ZipFile(wheel).namelist())
    files = sorted((src / "expectations").glob("*.json"))
    assert files, "the source has no expectations/*.json"
    for f in files:
        assert f"appc_conformance/expectations/{f.name}" in names, f"expectations/{f.name} is not in the wheel"
        with zipfile.ZipFile(wheel) as zf:
            assert json.loads(zf.read(f"appc_conformance/expectations/{f.name}")) == json.loads(f.read_text())


@pytest.mark.slow  # long waits, builds or bombs on purpose: in tox -e tests, not in tox -e quick
@pytest.mark.go
def test_installed_run_of_go_appc_has_only_known_failures(installed, tmp_path_factory):
    """From the wheel, outside any checkout: `appc-conformance run --impl go-appc` uses the
    bundled expectations (the console says which file), exits 0, and JUnit shows no failure."""
    from appc_conformance.conformance.adapters.go import build as go_build

    try:
        go_build.build()  # the installed copy builds the same source into the same cache
    except go_build.NotAvailable as exc:
        pytest.skip(f"Go adapter not available: {exc}")
    work = _outside(tmp_path_factory)
    ran = _run(
        [str(installed / "appc-conformance"), "run", "--impl", "go-appc", "--out", "out"], cwd=work, env=_clean_env()
    )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-4000:]
    assert f"go-appc: expectations {installed.parent}" in ran.stderr, ran.stderr[-3000:]
    assert "known failures" in ran.stderr
    import xml.etree.ElementTree as ET

    root = ET.parse(work / "out" / "junit.xml").getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    assert sum(int(s.get("tests", 0)) for s in suites) > 0
    assert sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites) == 0, [
        tc.get("name") for tc in root.iter("testcase") if tc.find("failure") is not None
    ][:10]
    assert not [tc for tc in root.iter("testcase") if tc.find("failure") is not None or tc.find("error") is not None]
    # check finds the same bundled file: every failure is known
    checked = _run(
        [str(installed / "appc-conformance"), "check", "out/results-go-appc.json"], cwd=work, env=_clean_env()
    )
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-2000:]
    assert " 0 unexpected failures" in checked.stdout


def test_checkout_root_imports_the_package_through_its_own_folders(tmp_path):
    """From a checkout, with only its root on the import path (no install, no import hook: what
    a type checker or an editor sees), appc_conformance.conformance, .reports and .servers are
    the top-level folders (through the links in appc_conformance/), and whatever finds files
    beside its module (the vector set, the expectations, the schemas, the Go sources) finds the
    checkout's own."""
    for name in ("conformance", "reports", "servers"):
        link = ROOT / "appc_conformance" / name
        assert link.is_symlink() and link.resolve() == ROOT / name, f"appc_conformance/{name} is not a link to {name}/"
    probe = (
        "import importlib.util, json, sys; sys.path[:0] = [sys.argv[1]]; "
        "print(json.dumps({n: importlib.util.find_spec('appc_conformance.' + n).origin "
        "for n in ('conformance', 'reports', 'servers')}))"
    )
    bare = _run([sys.executable, "-I", "-S", "-c", probe, str(ROOT)], cwd=tmp_path, env=_clean_env())
    assert bare.returncode == 0, bare.stderr
    for name, origin in json.loads(bare.stdout).items():
        assert Path(origin).resolve() == ROOT / name / "__init__.py", (name, origin)
    files = (
        "import sys; sys.path[:0] = [sys.argv[1]]; "
        "from appc_conformance.conformance import vectors, protocol; "
        "from appc_conformance.conformance.adapters.go import build; "
        "from appc_conformance.reports import expectations, html, results; "
        "print(vectors.__file__); print(vectors.default_vectors_dir()); print(expectations.default_dir()); "
        "print(results.SCHEMA_PATH); print(html.TEMPLATES); print(protocol.SCHEMA_DIR); print(build.HERE)"
    )
    found = _run([sys.executable, "-I", "-c", files, str(ROOT)], cwd=tmp_path, env=_clean_env())
    assert found.returncode == 0, found.stderr
    module, *paths = found.stdout.split("\n")[:7]
    assert module == str(ROOT / "appc_conformance" / "conformance" / "vectors.py")  # through the link
    assert [Path(p) for p in paths] == [
        ROOT / "vectors",
        ROOT / "expectations",
        ROOT / "reports" / "schema" / "results.schema.json",
        ROOT / "reports" / "templates",
        ROOT / "conformance" / "protocol",
        ROOT / "conformance" / "adapters" / "go",
    ]
