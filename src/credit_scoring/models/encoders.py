"""Encoders: how a candidate's model input columns become its estimator's inputs.

The preprocessing recipes a candidate names in YAML (``PREPROCESSING``): one-hot with
median imputation and missing flags (optionally scaled), pandas categories for the
boosting libraries that split on categories natively, or the model input as it is. Their classes are stored with every
model in skops, so their import paths are on ``model_files.SKOPS_TRUSTED_TYPES``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler


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
    # the model input as it is: for an estimator that classes its inputs itself (the WoE
    # scorecard: missing values and unseen categories are classes of its own) and the blend
    "passthrough": lambda schema: FunctionTransformer(feature_names_out="one-to-one"),
}
"""Preprocessing recipes a candidate can name in its ``preprocessing`` key."""


def original_feature(encoded: str, features: list[str]) -> str:
    """Map an encoded column ('purpose_car (new)', 'missingindicator_age') to its attribute."""
    for feature in sorted(features, key=len, reverse=True):
        if encoded == feature or encoded.startswith(f"{feature}_"):
            return feature
        if encoded == f"missingindicator_{feature}":
            return feature
    return encoded
