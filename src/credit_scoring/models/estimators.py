"""Model factory: a candidate's YAML spec -> one scikit-learn Pipeline (preprocessing + model).

Preprocessing is fitted inside the Pipeline, per CV fold, so imputation and scaling never
see held-out rows, and the fitted object that MLflow logs scores un-encoded applicant rows.
Boosting families stop adding trees when a slice of the rows they are fitted on stops
improving (``PDPipeline``), so early stopping never sees a scored fold either.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from credit_scoring.models.encoders import PREPROCESSING
from credit_scoring.models.evaluation import balanced_sample_weight
from credit_scoring.models.families import FAMILIES, early_stopping_params


class PDPipeline(Pipeline):
    """Preprocessing + estimator, with early stopping inside ``fit`` for boosting families.

    With ``early_stopping`` (``rounds``, ``validation_share``), ``fit`` holds out a
    stratified, seeded slice of the rows it is given, fits the preprocessing and the
    estimator on the rest and stops adding trees once the slice's log loss has not improved
    for ``rounds`` rounds (the estimator's ``n_estimators`` / ``iterations`` is the cap), as
    scikit-learn's ``HistGradientBoostingClassifier`` does with its ``validation_fraction``.
    Everything that fits a model (cross-validation, tuning trials, the final refit) calls
    ``fit`` with the training part only, so the rows that score a fold never steer it.
    Without ``early_stopping`` it is scikit-learn's ``Pipeline``.
    """

    def __init__(self, steps, *, early_stopping: dict[str, Any] | None = None,
                 random_state: int | None = None, memory=None, verbose: bool = False) -> None:
        super().__init__(steps, memory=memory, verbose=verbose)
        self.early_stopping = early_stopping
        self.random_state = random_state

    def fit(self, X, y=None, **params):
        if not self.early_stopping:
            return super().fit(X, y, **params)
        unknown = [key for key in params if not key.startswith("model__")]
        if unknown:
            raise TypeError(f"PDPipeline with early stopping passes only model__ params: {unknown}")
        y = pd.Series(np.asarray(y), index=X.index)
        fit_rows, stop_rows = train_test_split(
            np.arange(len(X)), test_size=self.early_stopping["validation_share"], stratify=y,
            random_state=self.random_state)
        preprocess, model = self.steps[0][1], self.steps[-1][1]
        inputs = preprocess.fit_transform(X.iloc[fit_rows], y.iloc[fit_rows])
        stop_inputs = preprocess.transform(X.iloc[stop_rows])
        model.fit(inputs, y.iloc[fit_rows],
                  **{key.removeprefix("model__"): np.asarray(value)[fit_rows]
                     for key, value in params.items()},
                  **early_stopping_params(model, stop_inputs, y.iloc[stop_rows],
                                          self.early_stopping["rounds"]))
        return self

    def __getitem__(self, ind):
        """A slice is a plain ``Pipeline`` (e.g. ``model[:-1]``, the preprocessing a PD model
        stores): early stopping is about fitting, and skops trusts scikit-learn's class."""
        if isinstance(ind, slice):
            return Pipeline(self.steps[ind], memory=self.memory, verbose=self.verbose)
        return super().__getitem__(ind)


def with_params(spec: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A copy of a candidate spec whose estimator params are updated with ``overrides``."""
    return {**spec, "params": {**(spec.get("params") or {}), **overrides}}


def _takes_seed(estimator_class: type) -> bool:
    # XGBoost accepts random_state through **kwargs, CatBoost lists it only in __init__
    return (
        "random_state" in inspect.signature(estimator_class).parameters
        or "random_state" in estimator_class().get_params()
    )


def _monotone_params(spec: dict[str, Any], feature_schema: dict[str, Any]) -> dict[str, Any]:
    """Monotone constraints from data_processing.expected_effects when ``enforce`` is on, for
    a family that supports them (XGBoost, LightGBM, CatBoost); others are left free and the
    validation report checks their effects."""
    directions = feature_schema.get("expected_effects") or {}
    family = FAMILIES.get(spec["estimator"])
    if not (feature_schema.get("monotone_constraints") and directions and family
            and family.monotone):
        return {}
    if spec["preprocessing"] != "native_categorical":
        raise ValueError(
            f"{spec['estimator']} with preprocessing '{spec['preprocessing']}' cannot take the "
            "monotone constraints of data_processing.expected_effects (enforce: true): its "
            "input columns are known only after fitting. Use preprocessing: "
            "native_categorical, or set enforce: false.")
    # native categories keep the model input's columns, in order: numbers, then categories
    columns = feature_schema["numeric"] + feature_schema["categorical"]
    return family.monotone([directions.get(column, 0) for column in columns])


def build_estimator(
    spec: dict[str, Any], feature_schema: dict[str, Any], random_state: int
) -> Pipeline:
    """Instantiate a candidate from its spec.

    Args:
        spec: ``estimator`` (import path of a scikit-learn compatible classifier),
            ``params`` (its keyword arguments), ``preprocessing`` (a key of
            ``PREPROCESSING``) and optionally ``categorical_features_param``, the
            estimator argument that receives the categorical column names (CatBoost's
            ``cat_features``), and ``early_stopping`` (``rounds``, ``validation_share``)
            for a family with an early-stopping entry in ``families.FAMILIES``.
        feature_schema: the numeric / categorical column lists from data_processing.
        random_state: seed given to the estimator unless its params set one, and of the
            early-stopping slice.
    """
    if spec["preprocessing"] not in PREPROCESSING:
        raise ValueError(
            f"Unknown preprocessing '{spec['preprocessing']}' for {spec['estimator']}; "
            f"choose one of {list(PREPROCESSING)}."
        )
    from kedro.utils import load_obj  # noqa: PLC0415  (training only: a deployed model needs no Kedro)

    estimator_class = load_obj(spec["estimator"])
    params = dict(spec.get("params") or {})
    if _takes_seed(estimator_class):
        params.setdefault("random_state", random_state)
    params.update(_monotone_params(spec, feature_schema))
    if spec.get("categorical_features_param"):
        # a tuple: CatBoost copies a list, which breaks scikit-learn's clone() check
        params[spec["categorical_features_param"]] = tuple(feature_schema["categorical"])
    return PDPipeline(
        [
            ("preprocess", PREPROCESSING[spec["preprocessing"]](feature_schema)),
            ("model", estimator_class(**params)),
        ],
        early_stopping=spec.get("early_stopping"),
        random_state=random_state,
    )


def fit_candidate(candidate: dict[str, Any], X: pd.DataFrame, y: pd.Series,
                  feature_schema: dict[str, Any]) -> Pipeline:
    """A candidate (``spec``, ``random_state``, ``class_weighting``) fitted once on (X, y).

    Class weights reach the estimator only (the preprocessing and any calibration see the
    true bad rate).
    """
    estimator = build_estimator(candidate["spec"], feature_schema, candidate["random_state"])
    weights = balanced_sample_weight(y, candidate["class_weighting"])
    return estimator.fit(X, y, **({} if weights is None else {"model__sample_weight": weights}))


def predict_pd(preprocess, estimator, calibrator, rows: pd.DataFrame) -> np.ndarray:
    """PD of model input ``rows`` from a model stored in parts (as the logged PD model holds it)."""
    pd_scores = estimator.predict_proba(preprocess.transform(rows))[:, 1]
    return pd_scores if calibrator is None else calibrator.predict(pd_scores)
