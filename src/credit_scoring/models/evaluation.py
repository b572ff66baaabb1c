"""PD-model evaluation shared by every pipeline: the metrics a credit-risk reviewer reads.

One place computes ROC AUC, Gini, KS, PR AUC, Brier score and log loss, for a single
sample (``pd_metrics``) and across the persisted cross-validation folds
(``cross_validate_pd``), so no metric is computed two ways in this project.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
    roc_curve,
)
from sklearn.utils.class_weight import compute_sample_weight

from credit_scoring.data.periods import TRAINING_ONLY
from credit_scoring.data.schema import features, target
from credit_scoring.models.progress import Progress


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


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's columns, dtypes, index and values: equal tables, equal prints."""
    digest = hashlib.sha256(str([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def folds_fingerprint(y: pd.Series, folds: pd.Series) -> str:
    """Fingerprint of the training rows' ids, targets and CV folds: equal fingerprints mean
    that two models' CV metrics were measured on exactly the same folds."""
    return frame_fingerprint(pd.DataFrame({"bad": y, "fold": folds}))


def stratified_sample(
    table: pd.DataFrame, strata: list[str], rows: int | None, random_state: int
) -> pd.DataFrame:
    """At most ``rows`` rows of ``table`` keeping the share of every stratum, in table order.

    All rows when ``rows`` is None or the table is no longer.
    """
    if rows is None or len(table) <= rows:
        return table
    return table.groupby(strata, observed=True, group_keys=False).sample(
        frac=rows / len(table), random_state=random_state).sort_index()


def balanced_sample_weight(y: pd.Series, class_weighting: str | None) -> np.ndarray | None:
    """Per-row weights for the configured class-imbalance treatment (None = unweighted).

    ``balanced`` weighs each class inversely to its frequency, which every scikit-learn
    compatible estimator (logistic, random forest, XGBoost, LightGBM, CatBoost) accepts as
    ``sample_weight``; it shifts PDs upwards, so calibrate before reading them as
    probabilities.
    """
    if class_weighting is None:
        return None
    if class_weighting != "balanced":
        raise ValueError(f"class_weighting must be null or 'balanced', not {class_weighting!r}.")
    return compute_sample_weight("balanced", y)


def scored_folds(folds: pd.Series) -> np.ndarray:
    """The fold ids that are scored (time-ordered folds' first block only trains)."""
    return np.unique(folds[folds != TRAINING_ONLY])


def scored_rows(model_input_train: pd.DataFrame, fold_column: str) -> pd.DataFrame:
    """The training rows that have out-of-fold PDs: all of them, but for the first block of
    time-ordered folds (it only trains). Calibration, the cut-off and every out-of-fold
    statistic are read on these rows."""
    return model_input_train[model_input_train[fold_column] != TRAINING_ONLY]


def cv_splits(folds: pd.Series) -> list[tuple[np.ndarray, np.ndarray]]:
    """(training positions, held-out positions) of each persisted fold.

    Stratified folds: a fold is scored by a model of all the other folds. Time-ordered
    folds (``data.periods``: their first block has fold id ``TRAINING_ONLY``): a fold is
    scored by a model of the blocks before it only, so no fold trains on a later month
    than it scores.
    """
    ids = folds.to_numpy()
    time_ordered = (ids == TRAINING_ONLY).any()
    return [(np.flatnonzero(ids < fold if time_ordered else ids != fold),
             np.flatnonzero(ids == fold)) for fold in scored_folds(folds)]


def out_of_fold_metrics(y: pd.Series, oof_pd: pd.Series, folds: pd.Series) -> dict[str, float]:
    """``cv_<metric>_mean`` / ``cv_<metric>_std`` over scored folds, from out-of-fold PDs."""
    per_fold = [
        pd_metrics(y[folds == fold], oof_pd[folds == fold]) for fold in scored_folds(folds)
    ]
    summary = {}
    for name in METRICS:
        values = [m[name] for m in per_fold]
        summary[f"cv_{name}_mean"] = float(np.mean(values))
        summary[f"cv_{name}_std"] = float(np.std(values))
    return summary


def _fit_params(sample_weight: np.ndarray | None, rows=slice(None)) -> dict[str, Any]:
    return {} if sample_weight is None else {"model__sample_weight": sample_weight[rows]}


def fold_models(
    estimator: BaseEstimator,
    X: pd.DataFrame,
    y: pd.Series,
    folds: pd.Series,
    sample_weight: np.ndarray | None = None,
    what: str = "CV",
) -> Iterator[tuple[BaseEstimator, np.ndarray, float]]:
    """Fit a clone of ``estimator`` per persisted fold on its training rows (``cv_splits``:
    the other folds, or the earlier blocks of time-ordered folds), fold by fold.

    Lazy on purpose: hyper-parameter search scores each fold as it comes, so a hopeless
    configuration is pruned before its remaining folds are fitted. Long loops log their
    progress (``progress.Progress``).

    Yields:
        The fitted model, the positions of the rows it did not see, and its fit time.
    """
    splits = cv_splits(folds)
    progress = Progress(f"{what} folds", len(splits))
    for train_rows, held_out in splits:
        started = time.perf_counter()
        model = clone(estimator).fit(X.iloc[train_rows], y.iloc[train_rows],
                                     **_fit_params(sample_weight, train_rows))
        fit_time = time.perf_counter() - started
        yield model, held_out, fit_time
        progress.step()


def cross_validate_pd(
    estimator: BaseEstimator,
    X: pd.DataFrame,
    y: pd.Series,
    folds: pd.Series,
    sample_weight: np.ndarray | None = None,
    what: str = "CV",
) -> tuple[dict[str, float], pd.Series]:
    """Every PD metric over the persisted folds (fold id per row), plus out-of-fold PDs.

    Returns:
        ``cv_<metric>_mean`` / ``cv_<metric>_std`` and the mean fit time per fold; and
        each training row's PD from the model that did not see it (for curves and
        cut-off selection without touching the test set); missing for the first block of
        time-ordered folds, which only trains.
    """
    oof_pd = pd.Series(np.nan, index=X.index, name="pd")
    fit_times = []
    for model, held_out, fit_time in fold_models(estimator, X, y, folds, sample_weight, what):
        oof_pd.iloc[held_out] = model.predict_proba(X.iloc[held_out])[:, 1]
        fit_times.append(fit_time)
    summary = out_of_fold_metrics(y, oof_pd, folds)
    summary["cv_fit_time_s_mean"] = float(np.mean(fit_times))
    return summary, oof_pd


def fit_and_evaluate(
    estimator: BaseEstimator,
    train: pd.DataFrame,
    test: pd.DataFrame,
    feature_schema: dict[str, Any],
    class_weighting: str | None = None,
    what: str = "CV",
    oof_pd: pd.Series | None = None,
) -> tuple[BaseEstimator, dict[str, float], pd.Series]:
    """Cross-validate on train's persisted folds, refit once on all of train, score test.

    The test set only ever receives the refitted model's predictions: nothing is selected
    on it. ``what`` names the model in progress lines. ``oof_pd``: out-of-fold PDs this
    very configuration already produced on these folds (a tuning trial), so the folds are
    not fitted twice.

    Returns:
        The refitted model, its CV and test metrics, and the out-of-fold training PDs.
    """
    X_train, y_train = features(train, feature_schema), target(train, feature_schema)
    weights = balanced_sample_weight(y_train, class_weighting)
    folds = train[feature_schema["fold_column"]]
    if oof_pd is None:
        metrics, oof_pd = cross_validate_pd(estimator, X_train, y_train, folds, weights, what)
    else:
        metrics = out_of_fold_metrics(y_train, oof_pd, folds)
    model = clone(estimator)
    started = time.perf_counter()
    model.fit(X_train, y_train, **_fit_params(weights))
    metrics["fit_time_s"] = time.perf_counter() - started
    test_pd = model.predict_proba(features(test, feature_schema))[:, 1]
    metrics.update(
        {f"test_{k}": v for k, v in pd_metrics(target(test, feature_schema), test_pd).items()}
    )
    return model, metrics, oof_pd


def as_table(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Candidate -> metrics mapping as one row per candidate."""
    return pd.DataFrame({name: r["metrics"] for name, r in results.items()}).T.rename_axis(
        "candidate"
    ).reset_index()
