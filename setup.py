"""Build hook: the installed package carries the vector set and the expectations files.

The metadata lives in pyproject.toml; this file only adds one step to ``build_py``. The
vectors have one home, the top-level ``vectors/`` folder, and the bundled implementations'
known failures theirs, ``expectations/``. A build copies their JSON files into the build tree
(never into the source tree): the vectors into ``appc_conformance/conformance/_vectors``, which is
where ``appc_conformance.conformance.vectors.default_vectors_dir()`` looks when it is not running
from a checkout, and the expectations into ``appc_conformance/expectations``, where
``appc_conformance.reports.expectations.default_dir()`` finds them (beside the package's reports/,
as the checkout's expectations/ sits beside its reports/). An editable install needs no copy: it
runs from the checkout, whose ``vectors/`` and ``expectations/`` are used.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
VECTORS = HERE / "vectors"
# Each data folder of the checkout and where a build puts its JSON files.
COPIES = (
    (VECTORS, ("appc_conformance", "conformance", "_vectors")),
    (HERE / "expectations", ("appc_conformance", "expectations")),
)
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
        if not sorted((HERE / "expectations").glob("*.json")):
            raise SystemExit(f"cannot package the expectations: {HERE / 'expectations'} has no IMPL.json")
        for folder, target in COPIES:
            dest = Path(self.build_lib).joinpath(*target)
            if dest.exists():
                shutil.rmtree(dest)  # a file removed from the source leaves no stale copy
            for src in sorted(folder.rglob("*.json")):
                out = dest / src.relative_to(folder)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, out)

    def get_outputs(self, include_bytecode=True):
        outputs = list(super().get_outputs(include_bytecode))
        if not getattr(self, "editable_mode", False):
            for folder, target in COPIES:
                dest = Path(self.build_lib).joinpath(*target)
                outputs += [str(dest / p.relative_to(folder)) for p in sorted(folder.rglob("*.json"))]
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
