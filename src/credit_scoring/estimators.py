"""Model factory: a candidate's YAML spec -> one scikit-learn Pipeline (preprocessing + model).

Preprocessing is fitted inside the Pipeline, per CV fold, so imputation and scaling never
see held-out rows, and the fitted object that MLflow logs scores un-encoded applicant rows.
"""

from __future__ import annotations

from typing import Any

from kedro.utils import load_obj
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


PREPROCESSING = {
    "one_hot_scaled": lambda schema: _one_hot(schema, scale=True),
    "one_hot": lambda schema: _one_hot(schema, scale=False),
}
"""Preprocessing recipes a candidate can name in its ``preprocessing`` key."""


def build_estimator(
    spec: dict[str, Any], feature_schema: dict[str, Any], random_state: int
) -> Pipeline:
    """Instantiate a candidate from its spec.

    Args:
        spec: ``estimator`` (import path of a scikit-learn compatible classifier),
            ``params`` (its keyword arguments) and ``preprocessing`` (a key of
            ``PREPROCESSING``).
        feature_schema: the numeric / categorical column lists from data_processing.
        random_state: seed given to the estimator unless its params set one.
    """
    if spec["preprocessing"] not in PREPROCESSING:
        raise ValueError(
            f"Unknown preprocessing '{spec['preprocessing']}' for {spec['estimator']}; "
            f"choose one of {list(PREPROCESSING)}."
        )
    estimator_class = load_obj(spec["estimator"])
    params = dict(spec.get("params") or {})
    if "random_state" in estimator_class().get_params():
        params.setdefault("random_state", random_state)
    return Pipeline(
        [
            ("preprocess", PREPROCESSING[spec["preprocessing"]](feature_schema)),
            ("model", estimator_class(**params)),
        ]
    )
