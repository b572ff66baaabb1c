"""The package's layers, as docs/development.md draws them, are checked by import-linter.

``lint-imports`` reads the contracts in pyproject.toml (layers, no cycle, independent
pipelines). Each contract is shown to fail on a throw-away copy of the package with one
forbidden import added, so a green run means the rule holds, not that nothing was checked.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "src" / "credit_scoring"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on ``project``'s pyproject.toml and its own copy of the package."""
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=project, env=env,
                          capture_output=True, text=True, check=False)


def test_the_package_keeps_its_layers_and_has_no_import_cycle():
    result = lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("module", "forbidden", "broken"), [
    # the applicant table's contract reaching up to MLflow's datasets
    ("data/schema.py", "from credit_scoring.io import registry", "Layers"),
    # a fitting module reaching up to the decision policy
    ("models/calibration.py", "from credit_scoring.decisions import policy", "Layers"),
    # encoders importing the factory that imports them
    ("models/encoders.py", "from credit_scoring.models import estimators", "No import cycle"),
    # one pipeline's folder reaching into another's
    ("pipelines/scoring/nodes.py", "from credit_scoring.pipelines.tuning import nodes",
     "A pipeline never imports another pipeline's folder"),
])
def test_a_forbidden_import_breaks_the_contract_that_forbids_it(module, forbidden, broken,
                                                                tmp_path):
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(PACKAGE, tmp_path / "src" / "credit_scoring",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "src" / "credit_scoring" / module
    target.write_text(f"{target.read_text()}\n{forbidden}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout[-3000:]
    assert f"{broken}" in result.stdout and "BROKEN" in result.stdout, result.stdout[-3000:]


def test_the_root_holds_kedros_own_files_and_no_module_is_over_600_lines():
    root_modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root_modules) <= 8, root_modules
    too_long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
                if (n := len(p.read_text().splitlines())) > 600}
    assert too_long == {}


def test_every_module_of_the_root_and_every_subpackage_has_a_place_in_the_layers():
    """A new root module or subpackage is checked only once the contract names it."""
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "layers")
    placed = {name.strip() for layer in contract["layers"] for name in layer.split("|")}
    here = {f"credit_scoring.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    here |= {f"credit_scoring.{p.parent.name}" for p in PACKAGE.glob("*/__init__.py")}
    assert here == placed


def test_every_subpackage_names_its_public_face_and_every_name_resolves():
    for package in sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")):
        if package == "pipelines":
            continue
        module = importlib.import_module(f"credit_scoring.{package}")
        assert module.__all__ == sorted(module._HOMES), package
        for name in module.__all__:
            assert getattr(module, name) is not None, f"credit_scoring.{package}.{name}"
            assert name in dir(module)
