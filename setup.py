"""Build hook: the installed package carries the vector set.

The metadata lives in pyproject.toml; this file only adds one step to ``build_py``. The
vectors have one home, the top-level ``vectors/`` folder. A build copies its JSON files into
``appc_conformance/conformance/_vectors`` inside the build tree (never into the source tree), which is where
``appc_conformance.conformance.vectors.default_vectors_dir()`` looks when it is not running from a checkout.
An editable install needs no copy: it runs from the checkout, whose ``vectors/`` is used.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
VECTORS = HERE / "vectors"
TARGET = ("appc_conformance", "conformance", "_vectors")
# The folders of the checkout and the package each installs as (docs/ARCHITECTURE.md, "Packaging").
TOP = "appc_conformance"
FOLDERS = ("conformance", "reports", "servers")



class build_py_with_vectors(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        if not (VECTORS / "schema").is_dir():
            raise SystemExit(f"cannot package the vectors: {VECTORS}/schema is missing")
        dest = Path(self.build_lib).joinpath(*TARGET)
        if dest.exists():
            shutil.rmtree(dest)  # a vector removed from the source leaves no stale copy
        for src in sorted(VECTORS.rglob("*.json")):
            out = dest / src.relative_to(VECTORS)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, out)

    def get_outputs(self, include_bytecode=True):
        outputs = list(super().get_outputs(include_bytecode))
        if not getattr(self, "editable_mode", False):
            dest = Path(self.build_lib).joinpath(*TARGET)
            outputs += [str(dest / p.relative_to(VECTORS)) for p in sorted(VECTORS.rglob("*.json"))]
        return outputs


def _packages():
    """Every package of the three folders, named under TOP, and where each folder lives."""
    names, dirs = [TOP], {TOP: TOP}
    for folder in FOLDERS:
        dirs[f"{TOP}.{folder}"] = folder
        for init in sorted((HERE / folder).rglob("__init__.py")):
            rel = init.parent.relative_to(HERE)
            names.append(".".join((TOP, *rel.parts)))
    return names, dirs


PACKAGES, PACKAGE_DIR = _packages()
setup(cmdclass={"build_py": build_py_with_vectors}, packages=PACKAGES, package_dir=PACKAGE_DIR)
