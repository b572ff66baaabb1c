"""Candidate evaluation shared by baselines and model_comparison (and any later stage).

A stage is one instance of the same template pipeline under its own namespace, as in
kedro-viz's demo project, so a baseline and a challenger are built, cross-validated on
the same persisted folds and reported in exactly the same way.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from kedro.pipeline import Node
from kedro.pipeline import Pipeline as KedroPipeline
from sklearn.pipeline import Pipeline

from credit_scoring.data.schema import features
from credit_scoring.models.estimators import build_estimator
from credit_scoring.models.evaluation import as_table, fit_and_evaluate
from credit_scoring.models.plots import candidate_plots, feature_importance
from credit_scoring.models.selection import rank_candidates

logger = logging.getLogger(__name__)


def evaluate_candidates(
    model_input_train: pd.DataFrame,
    model_input_test: pd.DataFrame,
    feature_schema: dict[str, Any],
    candidates: dict[str, dict[str, Any]],
    random_state: int,
    selection_metric: str,
    class_weighting: str | None,
) -> tuple[dict[str, dict[str, Any]], pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Cross-validate, refit and test-score every configured candidate.

    Returns:
        - candidate name -> fitted model, its params, metrics, an input example and its
          plots (the shape ``MlflowCandidateRunsDataset`` logs as one MLflow run per
          candidate);
        - the metrics as one row per candidate, best first by the CV selection metric;
        - the out-of-fold PD of every training row per candidate, with target and fold;
        - each candidate's native feature importance per applicant attribute.
    """
    results = {}
    predictions = model_input_train[[feature_schema["target"], feature_schema["fold_column"]]]
    importances = {}
    for name, spec in candidates.items():
        estimator = build_estimator(spec, feature_schema, random_state)
        model, metrics, oof_pd = fit_and_evaluate(
            estimator, model_input_train, model_input_test, feature_schema, class_weighting, name
        )
        logger.info(
            "%s: CV ROC AUC %.3f ± %.3f, test ROC AUC %.3f, final fit %.2fs",
            name, metrics["cv_roc_auc_mean"], metrics["cv_roc_auc_std"],
            metrics["test_roc_auc"], metrics["fit_time_s"],
        )
        predictions = predictions.assign(**{name: oof_pd})
        importances[name] = feature_importance(model)
        results[name] = {
            **candidate_record(spec, model, metrics,
                               features(model_input_train, feature_schema).head(5),
                               class_weighting=class_weighting),
            "figures": candidate_plots(name, predictions, feature_schema["target"],
                                       importances[name]),
        }
    ranking = rank_candidates(as_table(results), selection_metric)
    importance_table = pd.DataFrame(importances).rename_axis("feature").reset_index()
    return results, ranking, predictions, importance_table


def candidate_record(
    spec: dict[str, Any],
    model: Pipeline,
    metrics: dict[str, float],
    input_example: pd.DataFrame,
    **run_params: Any,
) -> dict[str, Any]:
    """One candidate in the shape ``MlflowCandidateRunsDataset`` logs as an MLflow run.

    Run params are the spec's estimator and preprocessing, ``run_params`` (e.g. the class
    weighting) and every hyper-parameter of the fitted estimator under ``model.``; the
    categorical column list is left out (it is data, not a choice).
    """
    estimator_params = model.named_steps["model"].get_params()
    estimator_params.pop(spec.get("categorical_features_param"), None)
    return {
        "model": model,
        "params": {
            "estimator": spec["estimator"],
            "preprocessing": spec["preprocessing"],
            **run_params,
            "model": estimator_params,
        },
        "metrics": metrics,
        "input_example": input_example,
    }


def candidate_evaluation(stage: str, train: str = "model_input_train") -> KedroPipeline:
    """The evaluate-candidates template, namespaced as ``stage``.

    Reads ``params:<stage>.candidates`` / ``random_state`` / ``selection_metric`` /
    ``class_weighting`` and the training rows ``train`` (default: all of them), and writes
    ``<stage>.candidates`` (MLflow runs), ``.metrics``, ``.oof_predictions`` and
    ``.feature_importance``.
    """
    return KedroPipeline(
        [
            Node(
                evaluate_candidates,
                inputs=dict(
                    model_input_train="model_input_train",
                    model_input_test="model_input_test",
                    feature_schema="feature_schema",
                    candidates="params:candidates",
                    random_state="params:random_state",
                    selection_metric="params:selection_metric",
                    class_weighting="params:class_weighting",
                ),
                outputs=["candidates", "metrics", "oof_predictions", "feature_importance"],
                name="evaluate_candidates",
            )
        ],
        namespace=stage,
        inputs={"model_input_train": train, "model_input_test": "model_input_test",
                "feature_schema": "feature_schema"},
        tags=["training"],
    )
