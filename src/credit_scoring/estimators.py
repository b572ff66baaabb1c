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
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from credit_scoring.evaluation import balanced_sample_weight


def _one_hot(feature_schema: dict[str, Any], scale: bool) -> ColumnTransformer:
    """Median-impute (with missing flags) and optionally scale numbers; one-hot categories.

    Missing categories are kept as their own level (missingness is often predictive in
    credit data) and levels unseen in training encode as all zeros instead of failing.
    """
    numeric_steps = [SimpleImputer(strategy="median", add_indicator=True)]
    if scale:
        numeric_steps.append(StandardScaler())
    return ColumnTransformer(
        [
            ("numeric", make_pipeline(*numeric_steps), feature_schema["numeric"]),
            ("categorical", CategoryOneHot(), feature_schema["categorical"]),
        ],
        verbose_feature_names_out=False,
    )


def _level_codes(values: pd.Series, levels: list[str]) -> np.ndarray:
    """Position of each value in ``levels`` (-1: missing or unseen); each distinct value is
    looked up once, so a million rows cost a few dozen string comparisons."""
    codes, distinct = pd.factorize(values)
    position = pd.Index(levels).get_indexer(pd.Index(distinct).astype(str))
    return np.where(codes >= 0, np.append(position, -1)[codes], -1)


class CategoryOneHot(TransformerMixin, BaseEstimator):
    """One-hot encoding of text / category columns: a 0/1 column per level seen in ``fit``.

    What ``OneHotEncoder(handle_unknown="ignore")`` does, with a missing value as a level of
    its own (``<column>_nan``) when training had one, and levels unseen in training encoded
    as all zeros; but looked up once per distinct value instead of once per row, which
    makes scoring a million rows seconds faster.
    """

    def fit(self, X: pd.DataFrame, y=None) -> CategoryOneHot:
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.categories_ = [sorted(X[c].dropna().astype(str).unique()) for c in X.columns]
        self.has_missing_ = [bool(X[c].isna().any()) for c in X.columns]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        widths = [len(levels) + missing
                  for levels, missing in zip(self.categories_, self.has_missing_, strict=True)]
        encoded = np.zeros((len(X), sum(widths)))
        rows = np.arange(len(X))
        offset = 0
        for column, levels, missing, width in zip(self.feature_names_in_, self.categories_,
                                                  self.has_missing_, widths, strict=True):
            codes = _level_codes(X[column], levels)
            if missing:  # the missing level is the last column of this attribute
                codes[X[column].isna().to_numpy()] = len(levels)
            seen = codes >= 0
            encoded[rows[seen], offset + codes[seen]] = 1.0
            offset += width
        return encoded

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray([f"{column}_{level}"
                           for column, levels, missing in zip(self.feature_names_in_,
                                                              self.categories_,
                                                              self.has_missing_, strict=True)
                           for level in [*levels, *(["nan"] if missing else [])]], dtype=object)


class NativeCategories(TransformerMixin, BaseEstimator):
    """Give categorical columns a pandas ``category`` dtype for native tree handling.

    XGBoost (``enable_categorical``) and CatBoost (``cat_features``) split on categories
    directly, but only read the ``category`` dtype. Levels are those seen in ``fit``, plus
    ``missing_label``, which also absorbs missing and unseen values: a category the model
    never saw is scored like a missing one instead of failing. Numbers pass untouched
    (both libraries route missing numbers natively).
    """

    def __init__(self, columns: list[str], missing_label: str = "__missing__") -> None:
        self.columns = columns
        self.missing_label = missing_label

    def fit(self, X: pd.DataFrame, y=None) -> NativeCategories:
        self.categories_ = {
            c: sorted(X[c].dropna().astype(str).unique()) + [self.missing_label]
            for c in self.columns
        }
        self.feature_names_in_ = list(X.columns)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X[self.feature_names_in_].copy()
        for column, levels in self.categories_.items():
            codes = _level_codes(X[column], levels)
            codes[codes < 0] = len(levels) - 1  # missing and unseen: missing_label, the last
            X[column] = pd.Categorical.from_codes(codes, categories=levels)
        return X

    def get_feature_names_out(self, input_features=None) -> list[str]:
        return list(self.feature_names_in_)


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
        from credit_scoring.families import early_stopping_params  # noqa: PLC0415  (cycle)

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


PREPROCESSING = {
    "one_hot_scaled": lambda schema: _one_hot(schema, scale=True),
    "one_hot": lambda schema: _one_hot(schema, scale=False),
    "native_categorical": lambda schema: NativeCategories(schema["categorical"]),
}
"""Preprocessing recipes a candidate can name in its ``preprocessing`` key."""


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
    from credit_scoring.families import FAMILIES  # noqa: PLC0415  (cycle)

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


def original_feature(encoded: str, features: list[str]) -> str:
    """Map an encoded column ('purpose_car (new)', 'missingindicator_age') to its attribute."""
    for feature in sorted(features, key=len, reverse=True):
        if encoded == feature or encoded.startswith(f"{feature}_"):
            return feature
        if encoded == f"missingindicator_{feature}":
            return feature
    return encoded


def predict_pd(preprocess, estimator, calibrator, rows: pd.DataFrame) -> np.ndarray:
    """PD of model input ``rows`` from a model stored in parts (as the logged PD model holds it)."""
    pd_scores = estimator.predict_proba(preprocess.transform(rows))[:, 1]
    return pd_scores if calibrator is None else calibrator.predict(pd_scores)
