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
from sklearn.preprocessing import OneHotEncoder, StandardScaler


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
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                feature_schema["categorical"],
            ),
        ],
        verbose_feature_names_out=False,
    )


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
            # each distinct value is matched to a level once: a million rows, a few dozen values
            codes, values = pd.factorize(X[column])
            level = pd.Index(levels).get_indexer(pd.Index(values).astype(str))
            missing = len(levels) - 1  # missing_label is the last level
            level[level < 0] = missing
            X[column] = pd.Categorical.from_codes(
                np.where(codes >= 0, level[codes], missing), categories=levels)
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
