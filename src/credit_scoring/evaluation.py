"""PD-model evaluation shared by every pipeline: the metrics a credit-risk reviewer reads.

One place computes ROC AUC, Gini, KS, PR AUC, Brier score and log loss, for a single
sample (``pd_metrics``) and across the persisted cross-validation folds
(``cross_validate_pd``), so no metric is computed two ways in this project.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    make_scorer,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import PredefinedSplit, cross_validate

from credit_scoring.estimators import build_estimator
from credit_scoring.schema import features, target

logger = logging.getLogger(__name__)


def gini(y_true, pd_scores) -> float:
    """Accuracy ratio / Gini coefficient: 2 * AUC - 1."""
    return 2.0 * roc_auc_score(y_true, pd_scores) - 1.0


def ks_statistic(y_true, pd_scores) -> float:
    """Kolmogorov-Smirnov: the largest gap between the bad and good cumulative PD distributions."""
    fpr, tpr, _ = roc_curve(y_true, pd_scores)
    return float(np.max(tpr - fpr))


def _log_loss(y_true, pd_scores) -> float:
    return log_loss(y_true, pd_scores, labels=[0, 1])


METRICS = {
    "roc_auc": roc_auc_score,
    "gini": gini,
    "ks": ks_statistic,
    "pr_auc": average_precision_score,
    "brier": brier_score_loss,
    "log_loss": _log_loss,
}
"""Metric name -> function of (y_true, PD). Names are what MLflow shows."""

HIGHER_IS_BETTER = {
    "roc_auc": True, "gini": True, "ks": True, "pr_auc": True, "brier": False, "log_loss": False,
}


def pd_metrics(y_true, pd_scores) -> dict[str, float]:
    """All PD metrics on one sample (1 = bad)."""
    return {name: float(metric(y_true, pd_scores)) for name, metric in METRICS.items()}


def cross_validate_pd(
    estimator: BaseEstimator, X: pd.DataFrame, y: pd.Series, folds: pd.Series
) -> dict[str, float]:
    """Mean and std of every PD metric over the persisted folds (``fold_id`` per row).

    Returns ``cv_<metric>_mean`` / ``cv_<metric>_std`` and the mean fit time per fold.
    """
    scoring = {
        name: make_scorer(metric, response_method="predict_proba")
        for name, metric in METRICS.items()
    }
    scores = cross_validate(
        clone(estimator), X, y, cv=PredefinedSplit(folds.to_numpy()), scoring=scoring,
        error_score="raise",
    )
    summary = {}
    for name in METRICS:
        summary[f"cv_{name}_mean"] = float(np.mean(scores[f"test_{name}"]))
        summary[f"cv_{name}_std"] = float(np.std(scores[f"test_{name}"]))
    summary["cv_fit_time_s_mean"] = float(np.mean(scores["fit_time"]))
    return summary


def fit_and_evaluate(
    estimator: BaseEstimator,
    train: pd.DataFrame,
    test: pd.DataFrame,
    feature_schema: dict[str, Any],
) -> tuple[BaseEstimator, dict[str, float]]:
    """Cross-validate on train's persisted folds, refit once on all of train, score test.

    The test set only ever receives the refitted model's predictions: nothing is selected
    on it.
    """
    X_train, y_train = features(train, feature_schema), target(train, feature_schema)
    metrics = cross_validate_pd(estimator, X_train, y_train, train[feature_schema["fold_column"]])
    model = clone(estimator)
    started = time.perf_counter()
    model.fit(X_train, y_train)
    metrics["fit_time_s"] = time.perf_counter() - started
    test_pd = model.predict_proba(features(test, feature_schema))[:, 1]
    metrics.update(
        {f"test_{k}": v for k, v in pd_metrics(target(test, feature_schema), test_pd).items()}
    )
    return model, metrics


def rank_candidates(metrics: pd.DataFrame, selection_metric: str) -> pd.DataFrame:
    """Order candidates best first by the mean CV value of ``selection_metric``."""
    if selection_metric not in METRICS:
        raise ValueError(
            f"Unknown selection metric '{selection_metric}'; choose one of {list(METRICS)}."
        )
    column = f"cv_{selection_metric}_mean"
    ranked = metrics.sort_values(column, ascending=not HIGHER_IS_BETTER[selection_metric])
    return ranked.assign(rank=range(1, len(ranked) + 1))


def as_table(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Candidate -> metrics mapping as one row per candidate."""
    return pd.DataFrame({name: r["metrics"] for name, r in results.items()}).T.rename_axis(
        "candidate"
    ).reset_index()


def evaluate_candidates(
    model_input_train: pd.DataFrame,
    model_input_test: pd.DataFrame,
    feature_schema: dict[str, Any],
    params: dict[str, Any],
) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
    """Cross-validate, refit and test-score every candidate configured in ``params``.

    Returns:
        Candidate name -> fitted model, its params, metrics and an input example (the
        shape ``MlflowCandidateRunsDataset`` logs as one MLflow run per candidate), and
        the metrics as one row per candidate, best first by the CV selection metric.
    """
    results = {}
    for name, spec in params["candidates"].items():
        estimator = build_estimator(spec, feature_schema, params["random_state"])
        model, metrics = fit_and_evaluate(
            estimator, model_input_train, model_input_test, feature_schema
        )
        logger.info(
            "%s: CV ROC AUC %.3f ± %.3f, test ROC AUC %.3f",
            name, metrics["cv_roc_auc_mean"], metrics["cv_roc_auc_std"], metrics["test_roc_auc"],
        )
        results[name] = {
            "model": model,
            "params": {
                "estimator": spec["estimator"],
                "preprocessing": spec["preprocessing"],
                "model": estimator.named_steps["model"].get_params(),
            },
            "metrics": metrics,
            "input_example": features(model_input_train, feature_schema).head(5),
        }
    return results, rank_candidates(as_table(results), params["selection_metric"])
