"""Model families: everything the project knows about an estimator, in one entry each.

A family entry says how a fitted estimator is stored (its framework's native, code-free
format), read back, turned into a PD, explained (reason codes) and which package it needs
where the model is deployed. Candidates in ``parameters_*.yml`` name an estimator by import
path; that path must be a key of ``FAMILIES``. Adding a family (say ExtraTrees, or another
boosting library) is one entry here plus its YAML (candidate spec, search space).

Contributions (per row and model input column, positive = pushes the PD up):

- XGBoost, LightGBM, CatBoost: the library's own exact TreeSHAP, in log-odds (over the
  trees the model predicts with: up to the best round when it stopped early);
- scikit-learn tree ensembles: exact (path-dependent) TreeSHAP from ``shap``, in PD points;
- logistic regression: coefficient x (standardised) input, in log-odds;
- the WoE scorecard: coefficient x WoE above the attribute's best class (its points below
  their maximum), in log-odds;
- the prior-only benchmark has none (every applicant gets the same PD);
- a blend (``credit_scoring.models.blend``): its members' contributions, weighted, in log-odds.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io

from credit_scoring import moved_path
from credit_scoring.models import scorecard
from credit_scoring.models.encoders import original_feature
from credit_scoring.models.model_files import (
    UnsafeModelError,
    check_savable,
    inside,
    load_skops,
    mlmodel,
)

COMPLEXITY = {0: "prior only", 1: "logistic regression", 2: "scorecard",
              3: "a single forest or boosted model", 4: "a blend"}
"""The complexity order of the champion candidates, simplest first."""
BLEND = "credit_scoring.models.blend.BlendedPD"
"""The blended candidate thresholding builds from the best single candidates (not a YAML one)."""


def _save_skops(estimator: Any, path: Path) -> None:
    check_savable(estimator, "estimator")
    skops.io.dump(estimator, path)


def _load_xgboost(path: Path) -> Any:
    import xgboost  # noqa: PLC0415  (only models of this family need it installed)

    model = xgboost.XGBClassifier()
    model.load_model(path)
    return model


def _load_catboost(path: Path) -> Any:
    import catboost  # noqa: PLC0415  (only models of this family need it installed)

    return catboost.CatBoostClassifier().load_model(str(path), "cbm")


class LightGBMBinary:
    """A LightGBM binary model read from its text file, with the scikit-learn ``predict_proba``.

    LightGBM's scikit-learn wrapper can only be restored from a pickle; its ``Booster``
    reads the native text format, including the category levels of pandas columns.
    """

    def __init__(self, booster: Any) -> None:
        self.booster_ = booster

    def predict_proba(self, inputs) -> np.ndarray:
        pd_scores = self.booster_.predict(inputs)
        return np.column_stack([1 - pd_scores, pd_scores])


def _load_lightgbm(path: Path) -> LightGBMBinary:
    import lightgbm  # noqa: PLC0415  (only models of this family need it installed)

    return LightGBMBinary(lightgbm.Booster(model_file=str(path)))


@dataclass(frozen=True)
class NativeFormat:
    """How one framework stores a fitted model without code, and reads it back."""

    package: str | None                 # pip distribution the deployed model needs (None:
                                        # the project's own code reads it)
    suffixes: tuple[str, ...]           # file name suffixes; the first is what we write
    save: Callable[[Any, Path], None]
    load: Callable[[Path], Any]
    # MLflow flavour folders published by others (Hub downloads): flavour name, MLmodel key
    # of the data file, and MLmodel key -> values read (anything else is refused); None: no
    # MLflow flavour stores it (a blend is a folder of its members' files)
    flavour: str | None = None
    flavour_data: str | None = None
    flavour_rules: tuple[tuple[str, tuple[str, ...]], ...] = ()


FORMATS = {
    "sklearn": NativeFormat(
        "scikit-learn", (".skops",), _save_skops, load_skops,
        "sklearn", "pickled_model", (("serialization_format", ("skops",)),),
    ),
    "xgboost": NativeFormat(
        "xgboost", (".ubj", ".json"), lambda model, path: model.save_model(path), _load_xgboost,
        "xgboost", "data",
        (("model_class", ("xgboost.sklearn.XGBClassifier",)), ("model_format", ("ubj", "json"))),
    ),
    "catboost": NativeFormat(
        "catboost", (".cbm", ".cb"), lambda model, path: model.save_model(str(path), format="cbm"),
        _load_catboost, "catboost", "data",
        (("model_type", ("CatBoostClassifier",)), ("save_format", ("cbm",))),
    ),
    "lightgbm": NativeFormat(
        "lightgbm", (".txt", ".lgb"), lambda model, path: model.booster_.save_model(str(path)),
        _load_lightgbm, "lightgbm", "data", (("model_class", ("lightgbm.basic.Booster",)),),
    ),
    # the WoE scorecard's own table (classes, WoE, coefficients) as JSON: no optbinning, no pickle
    "scorecard": NativeFormat(None, (".json",), scorecard.save, scorecard.load),
}
"""Framework (top-level package of the estimator class) -> its native, code-free format.

``credit_scoring.models.blend`` adds ``blend``, a folder of its members' files, when it is
imported (as ``credit_scoring.models`` does): a blend reads its members through this
module, so this module cannot import it."""


def _xgboost_shap(estimator, inputs) -> np.ndarray:
    import xgboost  # noqa: PLC0415

    matrix = xgboost.DMatrix(inputs, enable_categorical=True)
    # the trees predict_proba uses: up to the best round when early stopping ran
    best = getattr(estimator, "best_iteration", None)
    rounds = (0, best + 1) if best is not None else (0, 0)
    return estimator.get_booster().predict(matrix, pred_contribs=True,
                                           iteration_range=rounds)[:, :-1]


def _lightgbm_shap(estimator, inputs) -> np.ndarray:
    return np.asarray(estimator.booster_.predict(inputs, pred_contrib=True))[:, :-1]


def _catboost_shap(estimator, inputs) -> np.ndarray:
    import catboost  # noqa: PLC0415

    pool = catboost.Pool(inputs, cat_features=estimator.get_cat_feature_indices())
    return estimator.get_feature_importance(pool, type="ShapValues")[:, :-1]


@functools.lru_cache(maxsize=2)  # the champion (and a challenger), not every forest ever seen
def _tree_explainer(estimator):
    import shap  # noqa: PLC0415  (only scikit-learn tree ensembles need it)

    return shap.TreeExplainer(estimator)


def _sklearn_tree_shap(estimator, inputs) -> np.ndarray:
    values = _tree_explainer(estimator).shap_values(
        np.asarray(inputs, dtype=float), check_additivity=False
    )
    return np.asarray(values)[:, :, list(estimator.classes_).index(1)]


def _linear(estimator, inputs, reference) -> np.ndarray:
    # coefficient x deviation from the average training applicant, one-hot levels included
    return (np.asarray(inputs, dtype=float) - reference) * estimator.coef_[0]


def _xgboost_stopping(estimator, inputs, y, rounds: int) -> dict[str, Any]:
    estimator.set_params(early_stopping_rounds=rounds)
    return {"eval_set": [(inputs, y)], "verbose": False}


def _lightgbm_stopping(estimator, inputs, y, rounds: int) -> dict[str, Any]:
    import lightgbm  # noqa: PLC0415

    stop = {"callbacks": [lightgbm.early_stopping(rounds, first_metric_only=True, verbose=False)]}
    if "eval_X" in inspect.signature(estimator.fit).parameters:  # LightGBM >= 4.7
        return {**stop, "eval_X": inputs, "eval_y": y}
    return {**stop, "eval_set": [(inputs, y)]}


def _catboost_stopping(estimator, inputs, y, rounds: int) -> dict[str, Any]:
    import catboost  # noqa: PLC0415

    # use_best_model (CatBoost's default with an eval set) keeps the trees up to the best round
    return {"eval_set": catboost.Pool(inputs, y, cat_features=estimator.get_param("cat_features")),
            "early_stopping_rounds": rounds}


@dataclass(frozen=True)
class Family:
    """One estimator class: its native format, and how its PDs are explained."""

    format: str                                            # key of FORMATS
    contributions: Callable[..., np.ndarray] | None        # None: nothing to explain
    packages: tuple[str, ...] = ()                         # extra packages to explain
    # contributions relative to the training mean of the encoded inputs (passed as a third
    # argument); tree SHAP values are relative to the average applicant already
    centred: bool = False
    # boosting: fit keyword arguments that stop adding trees when (inputs, y) stop improving
    early_stopping: Callable[..., dict[str, Any]] | None = None
    # contributions in log-odds; False: in PD points (shap on a scikit-learn forest)
    log_odds: bool = True
    # estimator arguments that constrain the effect of each input column (+1 increasing,
    # -1 decreasing, 0 free); None: the family cannot be constrained
    monotone: Callable[[list[int]], dict[str, Any]] | None = None
    # how hard the model is to explain and challenge (``COMPLEXITY``): a simpler model
    # that performs as well is preferred
    complexity: int = 3
    # contributions measured from each attribute's best class (a scorecard's points below
    # their maximum): reasons are cited against that, not the approved applicants' average
    from_best_class: bool = False


def _constraint_text(directions: list[int]) -> dict[str, Any]:
    # text, not a list: CatBoost copies a list, which breaks scikit-learn's clone() check
    return {"monotone_constraints": f"({','.join(map(str, directions))})"}


FAMILIES = {
    "sklearn.dummy.DummyClassifier": Family("sklearn", None, complexity=0),
    "sklearn.linear_model.LogisticRegression": Family("sklearn", _linear, centred=True,
                                                      complexity=1),
    "sklearn.ensemble.RandomForestClassifier": Family("sklearn", _sklearn_tree_shap, ("shap",),
                                                      log_odds=False),
    "sklearn.ensemble.ExtraTreesClassifier": Family("sklearn", _sklearn_tree_shap, ("shap",),
                                                    log_odds=False),
    "xgboost.XGBClassifier": Family("xgboost", _xgboost_shap, early_stopping=_xgboost_stopping,
                                    monotone=_constraint_text),
    "lightgbm.LGBMClassifier": Family("lightgbm", _lightgbm_shap,
                                      early_stopping=_lightgbm_stopping,
                                      monotone=lambda d: {"monotone_constraints": list(d)}),
    "credit_scoring.models.scorecard.WoEScorecard": Family(
        "scorecard", lambda estimator, inputs: estimator.contributions(inputs), complexity=2,
        from_best_class=True),
    "catboost.CatBoostClassifier": Family("catboost", _catboost_shap,
                                          early_stopping=_catboost_stopping,
                                          monotone=_constraint_text),
}
"""Estimator import path (as written in parameters_*.yml) -> its family; the blend's entry
(``BLEND``) is added by ``credit_scoring.models.blend``."""


class UnknownFamilyError(ValueError):
    """An estimator without an entry in ``FAMILIES``: it can be neither stored nor explained."""


def unknown_family_message(estimator: str) -> str:
    return (f"'{estimator}' is not a known model family, so the champion could not be "
            f"stored natively or explained. Known: {sorted(FAMILIES)}; add an entry to "
            "credit_scoring.models.families.FAMILIES.")


def family_key(name: str) -> str:
    """The ``FAMILIES`` key of a family ``name`` read from a stored model; a model stored
    before a class moved names its old import path (``credit_scoring.MOVED``)."""
    return name if name in FAMILIES else moved_path(name)


def family_name(estimator: Any) -> str:
    """The ``FAMILIES`` key of a fitted estimator (matched on package and class name)."""
    cls = type(estimator)
    package = cls.__module__.split(".")[0]
    for name in FAMILIES:
        if name.split(".")[0] == package and name.rsplit(".", 1)[1] == cls.__name__:
            return name
    raise UnknownFamilyError(unknown_family_message(f"{cls.__module__}.{cls.__name__}"))


def complexity(family: str) -> int:
    """A family's place in ``COMPLEXITY`` (the blend's once ``models.blend`` is imported)."""
    return FAMILIES[family].complexity


def native_format(family: str) -> NativeFormat:
    return FORMATS[FAMILIES[family].format]


def requirements(family: str, estimator: Any = None) -> list[str]:
    """Distributions a deployed model of ``family`` needs beyond the project's own (for a
    blend, ``estimator``'s members' distributions)."""
    if family == BLEND:
        return list(dict.fromkeys(package for member in estimator.members
                                  for package in requirements(member.family)))
    package = native_format(family).package
    return [*([package] if package else []), *FAMILIES[family].packages]


def early_stopping_params(estimator: Any, inputs, y, rounds: int) -> dict[str, Any]:
    """Fit keyword arguments that make ``estimator`` stop once (inputs, y) stop improving.

    Raises:
        ValueError: for a family that cannot stop early (no boosting rounds).
    """
    family = family_name(estimator)
    stopping = FAMILIES[family].early_stopping
    if stopping is None:
        raise ValueError(f"{family} has no boosting rounds to stop early: remove its "
                         "early_stopping key, or add an early_stopping entry to its family.")
    return stopping(estimator, inputs, y, rounds)


def contributions(family: str, estimator: Any, inputs, reference=None) -> np.ndarray | None:
    """Contributions of each estimator input column to each row's PD (None: not explainable).

    Args:
        reference: training mean of the estimator inputs, for a ``centred`` family.
    """
    entry = FAMILIES[family]
    if entry.contributions is None:
        return None
    if entry.centred:
        return entry.contributions(estimator, inputs, np.asarray(reference, dtype=float))
    return entry.contributions(estimator, inputs)


def attribute_contributions(family: str, preprocess, estimator, model_input: pd.DataFrame,
                            reference=None) -> pd.DataFrame | None:
    """Contributions per model input column: encoded columns (one-hot levels, missing flags)
    summed back to the attribute they encode. None for a family without contributions."""
    values = contributions(family, estimator, preprocess.transform(model_input), reference)
    if values is None:
        return None
    encoded = list(preprocess.get_feature_names_out())
    attributes = [original_feature(name, list(preprocess.feature_names_in_)) for name in encoded]
    return pd.DataFrame(values, index=model_input.index, columns=encoded).T.groupby(
        attributes, sort=False).sum().T


def centring_reference(family: str, preprocess, X: pd.DataFrame) -> list[float] | None:
    """What a ``centred`` family's contributions are measured from: the training mean of the
    estimator inputs (None for the other families)."""
    if not FAMILIES[family].centred:
        return None
    return np.asarray(preprocess.transform(X), dtype=float).mean(axis=0).tolist()


def load_flavour_folder(folder: Path) -> Any:
    """The estimator of an MLflow flavour folder (e.g. a Hub download), read code-free.

    Raises:
        UnsafeModelError: for a flavour, class or format the project cannot read without
            running code (a pickled scikit-learn model, LightGBM's pickled wrapper ...).
    """
    flavors = mlmodel(folder).get("flavors", {})
    for fmt in FORMATS.values():
        conf = flavors.get(fmt.flavour) if fmt.flavour else None
        if conf is None:
            continue
        refused = {key: conf.get(key) for key, allowed in fmt.flavour_rules
                   if conf.get(key) not in allowed}
        if refused:
            raise UnsafeModelError(
                f"{Path(folder).name}: {fmt.flavour} model with {refused}; only "
                f"{dict(fmt.flavour_rules)} is read without running code."
            )
        return fmt.load(inside(folder, conf[fmt.flavour_data]))
    raise UnsafeModelError(
        f"{Path(folder).name} holds no model in a code-free format the project reads: "
        f"flavours {sorted(flavors)}, readable "
        f"{sorted(f.flavour for f in FORMATS.values() if f.flavour)}."
    )


def format_of_file(path: Path) -> NativeFormat | None:
    """The native format a single downloaded estimator file is in, by its suffix (None: unknown).

    A lone skops file is not an estimator the project can use (it needs its preprocessing).
    """
    return next((f for f in FORMATS.values()
                 if Path(path).suffix in f.suffixes and f.flavour not in ("sklearn", None)), None)


def file_kinds() -> str:
    """The single-file formats ``format_of_file`` reads, for messages."""
    return ", ".join(f"{'/'.join(f.suffixes)} ({f.package})" for f in FORMATS.values()
                     if f.flavour not in ("sklearn", None))
