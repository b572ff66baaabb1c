"""Model factory: a candidate's YAML spec -> one scikit-learn Pipeline (preprocessing + model).

Preprocessing is fitted inside the Pipeline, per CV fold, so imputation and scaling never
see held-out rows, and the fitted object that MLflow logs scores un-encoded applicant rows.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler


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


def build_estimator(
    spec: dict[str, Any], feature_schema: dict[str, Any], random_state: int
) -> Pipeline:
    """Instantiate a candidate from its spec.

    Args:
        spec: ``estimator`` (import path of a scikit-learn compatible classifier),
            ``params`` (its keyword arguments), ``preprocessing`` (a key of
            ``PREPROCESSING``) and optionally ``categorical_features_param``, the
            estimator argument that receives the categorical column names (CatBoost's
            ``cat_features``).
        feature_schema: the numeric / categorical column lists from data_processing.
        random_state: seed given to the estimator unless its params set one.
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
    if spec.get("categorical_features_param"):
        # a tuple: CatBoost copies a list, which breaks scikit-learn's clone() check
        params[spec["categorical_features_param"]] = tuple(feature_schema["categorical"])
    return Pipeline(
        [
            ("preprocess", PREPROCESSING[spec["preprocessing"]](feature_schema)),
            ("model", estimator_class(**params)),
        ]
    )


def split_calibration(model: BaseEstimator) -> tuple[Pipeline, Any]:
    """A fitted PD model -> (preprocessing + estimator ``Pipeline``, PD calibrator or None).

    A ``CalibratedClassifierCV`` fitted with ``ensemble=False`` holds one estimator
    refitted on all rows and one calibrator (``predict`` maps its PD to a calibrated PD).
    """
    if isinstance(model, CalibratedClassifierCV):
        if len(model.calibrated_classifiers_) != 1:
            raise ValueError(
                "Expected CalibratedClassifierCV(ensemble=False): one estimator, one calibrator."
            )
        fitted = model.calibrated_classifiers_[0]
        return fitted.estimator, fitted.calibrators[0]
    return model, None


def original_feature(encoded: str, features: list[str]) -> str:
    """Map an encoded column ('purpose_car (new)', 'missingindicator_age') to its attribute."""
    for feature in sorted(features, key=len, reverse=True):
        if encoded == feature or encoded.startswith(f"{feature}_"):
            return feature
        if encoded == f"missingindicator_{feature}":
            return feature
    return encoded


def predict_pd(preprocess, estimator, calibrator, rows: pd.DataFrame):
    """PD of raw ``rows`` from a model stored in parts (as the logged PD model holds it).

    ``CalibratedClassifierCV`` calibrates an estimator's ``decision_function`` where it
    has one (logistic regression) and its PD otherwise (tree ensembles); the calibrator
    is fed the same here.
    """
    inputs = preprocess.transform(rows)
    if calibrator is None:
        return estimator.predict_proba(inputs)[:, 1]
    return calibrator.predict(calibration_input(estimator, inputs))


def calibration_input(estimator, inputs):
    """What ``CalibratedClassifierCV`` calibrates: ``decision_function``, else the PD."""
    if hasattr(estimator, "decision_function"):
        return estimator.decision_function(inputs)
    return estimator.predict_proba(inputs)[:, 1]
