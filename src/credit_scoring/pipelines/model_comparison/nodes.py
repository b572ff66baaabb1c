"""Nodes of the model_comparison pipeline: choose the algorithm family and report why."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from credit_scoring.models.evaluation import stratified_sample
from credit_scoring.models.plots import (
    importance_plot,
    markdown_table,
    precision_recall_curves,
    roc_curves,
)

logger = logging.getLogger(__name__)

REPORT_COLUMNS = [
    "rank", "candidate", "cv_roc_auc_mean", "cv_roc_auc_std", "cv_gini_mean", "cv_ks_mean",
    "cv_pr_auc_mean", "cv_brier_mean", "cv_log_loss_mean", "test_roc_auc", "test_gini",
    "fit_time_s",
]


def ranking_sample(
    model_input_train: pd.DataFrame,
    feature_schema: dict[str, Any],
    sample_rows: int | None,
    random_state: int,
) -> pd.DataFrame:
    """The training rows families are ranked on: all, or a stratified sample of them.

    The sample keeps each row's persisted fold and the share of bads in every fold, so the
    families are compared on the same folds as everything else, only on fewer rows.
    """
    sample = stratified_sample(model_input_train,
                               [feature_schema["fold_column"], feature_schema["target"]],
                               sample_rows, random_state)
    if len(sample) < len(model_input_train):
        logger.info("Ranking families on a stratified sample of %d of %d training rows "
                    "(model_comparison.sample_rows).", len(sample), len(model_input_train))
    return sample


def select_family(
    metrics: pd.DataFrame, candidates: dict[str, dict[str, Any]], selection_metric: str
) -> dict[str, Any]:
    """Pick the candidate ranked first on the mean CV selection metric (never on test).

    Returns:
        The family tuning starts from: its name, its spec (estimator, params,
        preprocessing) and its CV score.
    """
    best = metrics.iloc[0]
    name = best["candidate"]
    logger.info(
        "Selected %s: CV %s %.4f ± %.4f.", name, selection_metric,
        best[f"cv_{selection_metric}_mean"], best[f"cv_{selection_metric}_std"],
    )
    return {
        "candidate": name,
        "spec": candidates[name],
        "selection_metric": selection_metric,
        "cv_score_mean": float(best[f"cv_{selection_metric}_mean"]),
        "cv_score_std": float(best[f"cv_{selection_metric}_std"]),
    }


def comparison_table(metrics: pd.DataFrame) -> str:
    """The ranked comparison as Markdown, for the report and the MLflow run."""
    return markdown_table(metrics[[c for c in REPORT_COLUMNS if c in metrics]])


def comparison_curves(
    oof_predictions: pd.DataFrame, metrics: pd.DataFrame, feature_schema: dict[str, Any]
) -> tuple[Figure, Figure]:
    """ROC and precision-recall curves of all candidates, from out-of-fold PDs."""
    ranked = metrics["candidate"].tolist()
    target = feature_schema["target"]
    return (
        roc_curves(oof_predictions, target, ranked),
        precision_recall_curves(oof_predictions, target, ranked),
    )


def best_feature_importance(feature_importance: pd.DataFrame, metrics: pd.DataFrame) -> Figure:
    """Native feature importance of the selected candidate."""
    best = metrics.iloc[0]["candidate"]
    importance = feature_importance.set_index("feature")[best].dropna().sort_values(ascending=False)
    return importance_plot(importance, f"Feature importance: {best}")
