"""credit_scoring: raw loan-applicant data to a tuned, cost-aware PD model, tracked in MLflow.

The package is grouped by concern (``docs/development.md`` has the map): ``data`` (the
applicant-table contract and its preparation), ``models`` (candidates and fitting),
``decisions`` (from PD to decision: the registered scorer), ``validation`` (statistics,
stability, the report), ``io`` (catalog datasets, MLflow, Optuna, the Hub) and
``pipelines``; Kedro's own files stay at the root.

Module paths of before the regrouping are public: models registered by earlier versions name
``credit_scoring.calibration.PDCalibrator`` and ``credit_scoring.estimators.CategoryOneHot``
in their skops files and ``credit_scoring.blend.BlendedPD`` as their family, and a team's
``conf/local/catalog.yml`` may name ``credit_scoring.datasets.ApplicantCSVDataset``. Each old
module path in ``MOVED`` still imports, as an alias of its new home, so those models load and
those catalogs run unchanged.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

__version__ = "0.1"

MOVED = {
    "credit_scoring.blend": "credit_scoring.models.blend",
    "credit_scoring.calibration": "credit_scoring.models.calibration",
    "credit_scoring.candidates": "credit_scoring.models.candidates",
    "credit_scoring.datasets": "credit_scoring.io.datasets",
    "credit_scoring.estimators": "credit_scoring.models.estimators",
    "credit_scoring.evaluation": "credit_scoring.models.evaluation",
    "credit_scoring.families": "credit_scoring.models.families",
    "credit_scoring.feature_build": "credit_scoring.data.feature_build",
    "credit_scoring.hub": "credit_scoring.io.hub",
    "credit_scoring.model_files": "credit_scoring.models.model_files",
    "credit_scoring.model_store": "credit_scoring.io.model_store",
    "credit_scoring.monitoring": "credit_scoring.validation.stability",
    "credit_scoring.optuna_storage": "credit_scoring.io.optuna_storage",
    "credit_scoring.pd_model": "credit_scoring.decisions.pd_model",
    "credit_scoring.preparation": "credit_scoring.data.preparation",
    "credit_scoring.processes": "credit_scoring.io.processes",
    "credit_scoring.profiling": "credit_scoring.data.woe",
    "credit_scoring.progress": "credit_scoring.models.progress",
    "credit_scoring.reporting": "credit_scoring.models.plots",
    "credit_scoring.schema": "credit_scoring.data.schema",
    "credit_scoring.scorecard": "credit_scoring.models.scorecard",
    "credit_scoring.scorer": "credit_scoring.decisions.scorer",
    "credit_scoring.synth": "credit_scoring.data.synth",
    "credit_scoring.tracking": "credit_scoring.io.tracking",
    "credit_scoring.validation_report": "credit_scoring.validation.report",
    "credit_scoring.validation_stats": "credit_scoring.validation.statistics",
}
"""Module path before the regrouping (wave 2) -> where it lives now."""

MOVED_NAMES = {
    # the encoders left the estimator factory (which imported the families, which imported it)
    "credit_scoring.models.estimators": {
        name: "credit_scoring.models.encoders"
        for name in ("CategoryOneHot", "NativeCategories", "PREPROCESSING", "original_feature")},
    "credit_scoring.models.evaluation": {"rank_candidates": "credit_scoring.models.selection"},
    # the registry's datasets left the candidate runs' module
    "credit_scoring.io.tracking": {
        name: "credit_scoring.io.registry"
        for name in ("MlflowChampionDataset", "MlflowModelVersionDataset",
                     "ValidationReportDataset", "FOLDS_TAG", "OOF_ARTIFACT")},
}
"""Names that left their module when it moved: old module -> {name: new module}."""


def public_face(package: str, homes: dict[str, str]):
    """A subpackage's module ``__getattr__`` and ``__dir__``: each public name (``homes``:
    name -> module of the subpackage) is imported from its module on first use, so importing
    the package stays as light as the module a caller needs (a deployed model imports no
    Kedro, Ibis or optbinning through ``credit_scoring.data`` or ``credit_scoring.models``)."""

    def __getattr__(name: str):
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{homes[name]}"), name)

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *homes})

    return __getattr__, __dir__


def moved_path(path: str) -> str:
    """``path`` (``module.Name``) at its current home; unchanged if it did not move."""
    module, _, name = path.rpartition(".")
    module = MOVED.get(module, module)
    return f"{MOVED_NAMES.get(module, {}).get(name, module)}.{name}"


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old module path (``MOVED``) as an alias of its new module: the same
    classes and functions, so an object rebuilt from an old path is of the current class."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED and MOVED[fullname] != fullname:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec) -> types.ModuleType:
        return types.ModuleType(spec.name, f"Alias of {MOVED[spec.name]} (credit_scoring.MOVED).")

    def exec_module(self, module: types.ModuleType) -> None:
        target = importlib.import_module(MOVED[module.__name__])
        names = {name: importlib.import_module(home) for name, home in
                 MOVED_NAMES.get(target.__name__, {}).items()}
        module.__dict__.update({k: v for k, v in vars(target).items() if not k.startswith("__")})
        module.__dict__.update({name: getattr(home, name) for name, home in names.items()})


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())
