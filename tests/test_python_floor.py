"""The Python floor in pyproject.toml's requires-python is the real one.

Every pinned dependency says which Pythons it runs on (its Requires-Python metadata, read here
from the installed distributions). The project's floor must be one that every pin supports (not
lower: an install on an older Python would fail in pip or at import), and not higher than the
highest of the pins' floors (a floor higher than needed turns users away for no reason). The
development extra (tox) must install on Debian 12's own Python (3.11), which the README's set-up
commands use.
"""

from __future__ import annotations

import re
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from tests.helpers import ROOT

DEBIAN_12_PYTHON = "3.11"
MINORS = [f"3.{m}" for m in range(0, 40)]


def _pyproject() -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def lowest_minor(spec: str | None) -> str:
    """The lowest 3.x release a Requires-Python specifier admits ("3.0" when there is none)."""
    if not spec:
        return "3.0"
    s = SpecifierSet(spec)
    for minor in MINORS:
        if s.contains(f"{minor}.0") or s.contains(f"{minor}.99"):
            return minor
    raise AssertionError(f"Requires-Python {spec!r} admits no Python 3 release up to {MINORS[-1]}")


def _key(minor: str) -> tuple:
    return tuple(int(p) for p in minor.split("."))


def pins(requirements: list) -> dict:
    """{distribution name: (pinned version, its installed Requires-Python)}."""
    out = {}
    for text in requirements:
        req = Requirement(text)
        pinned = [s.version for s in req.specifier if s.operator == "=="]
        assert len(pinned) == 1, f"{text!r} is not pinned with == (pyproject.toml pins every dependency)"
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{req.name} is not installed: install the project first (pip install -e .)")
        assert dist.version == pinned[0], f"{req.name} {dist.version} is installed, pyproject pins {pinned[0]}"
        out[req.name] = (pinned[0], dist.metadata.get("Requires-Python"))
    return out


def test_lowest_minor_reads_specifiers():
    assert lowest_minor(">=3.10") == "3.10"
    assert lowest_minor(">=3.9, !=3.9.1") == "3.9"
    assert lowest_minor(">3.10") == "3.10"  # 3.10.1 and later
    assert lowest_minor(None) == "3.0"
    assert lowest_minor("~=3.12") == "3.12"


def test_requires_python_is_the_pins_real_floor():
    project = _pyproject()["project"]
    floor = lowest_minor(project["requires-python"])
    runtime = pins(project["dependencies"])
    floors = {name: lowest_minor(rp) for name, (_v, rp) in runtime.items()}
    needed = max(floors.values(), key=_key)
    too_new = {n: f for n, f in floors.items() if _key(f) > _key(floor)}
    assert not too_new, (
        f"requires-python says {floor}, but these pins need a newer Python: {too_new}; the floor is {needed}"
    )
    assert floor == needed, (
        f"requires-python says {floor}, but no pin needs more than {needed} (pins' floors: {floors})"
    )
    # The pins named in the Quick start's reasoning really are the ones that set the floor.
    assert {n for n, f in floors.items() if f == needed} >= {
        "pytest",
        "hypothesis",
        "jsonschema",
        "pytest-httpserver",
    } & set(floors)


def test_development_extra_installs_on_debian_12_python():
    project = _pyproject()["project"]
    dev = pins(project["optional-dependencies"]["dev"])
    for name, (version, rp) in dev.items():
        assert SpecifierSet(rp or "").contains(f"{DEBIAN_12_PYTHON}.0") or SpecifierSet(rp or "").contains(
            f"{DEBIAN_12_PYTHON}.2"
        ), f"{name} {version} needs Python {rp}: the README's set-up on Debian 12 (Python 3.11) would fail"


def test_readme_states_the_floor():
    floor = lowest_minor(_pyproject()["project"]["requires-python"])
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    stated = re.findall(r"Python (3\.\d+) or newer", quick)
    assert stated and all(s == floor for s in stated), (stated, floor)
