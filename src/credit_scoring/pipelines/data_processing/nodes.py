"""Nodes of the data_processing pipeline: validate, clean, engineer features, split."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from credit_scoring.data import periods
from credit_scoring.data.preparation import (
    add_domain_features,
    clean_applicants,
    degenerate_features,
    float32_exact,
    rows_seen_in,
)
from credit_scoring.data.schema import (
    ApplicantDataError,
    build_feature_schema,
    examples,
    kept_out_of_model,
    validate_raw,
)

__all__ = [
    "add_domain_features",
    "clean_applicants",
    "data_quality_metrics",
    "holdout_applicants",
    "split_train_test",
    "validate_applicants",
]

logger = logging.getLogger(__name__)


def validate_applicants(applicants: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Stop the run before any work if the applicant table breaks the declared contract
    (application dates included, when the split is out of time)."""
    validate_raw(applicants, params)
    if params["split"].get("date_column"):
        periods.application_dates(applicants, params["split"]["date_column"])
    return applicants


def split_train_test(
    model_input: pd.DataFrame, params: dict[str, Any], feature_build_report: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """Train/test split and the CV fold of every training row: random, or out of time.

    Without ``split.date_column`` the split is stratified and seeded. With it, test is the
    out-of-time window (the latest vintages, or from ``out_of_time_start``); training is
    the development window before it, less an optional in-time holdout
    (``in_time_holdout``: a stratified share of it). The date is never a model feature.

    The fold id is stored with the training rows so that every later pipeline
    (baselines, model_comparison, tuning, thresholding) cross-validates on the very same
    folds, and the test rows are never seen by model or cut-off selection. Folds are
    stratified, or time-ordered (``cv: time_series``, ``data.periods``: no fold trains on
    a later vintage than it scores).

    Float columns whose values are all exact in 32 bits are stored as such
    (``preparation.float32_exact``), which halves their memory in every later stage; the
    schema lists them, so scoring does the same.

    Two data-quality checks run on the split, and their findings go to the report:

    - features empty or constant in training are dropped (no model can learn from them);
    - test applicants identical, feature for feature, to a training applicant (an applicant
      entered twice under a new id) make the test set flatter than new applicants: they are
      counted and warned about, or stop the run (``split.test_rows_seen_in_training``).

    Returns:
        The training rows (with the fold column), the test rows, the in-time holdout (empty
        unless configured), the feature schema (which carries the feature build's recipe:
        the champion rebuilds the same features; and the windows when dated) and the
        data-quality report.
    """
    split = params["split"]
    # protected attributes under policy exclude travel beside the features, for the
    # fairness screen: no check treats them as features; nor the application date
    reserved = {params["target"]["column"], params.get("id_column"), split.get("date_column"),
                *kept_out_of_model(params)}
    model_input = model_input.astype(dict.fromkeys(
        float32_exact(model_input, [c for c in model_input.columns if c not in reserved]),
        "float32"))
    target = model_input[params["target"]["column"]]
    time = None
    if split.get("date_column"):
        train, test, in_time, time = _out_of_time_split(model_input, split, target.name)
    else:
        train, test = train_test_split(model_input, test_size=split["test_size"],
                                       stratify=target, random_state=split["random_state"])
        in_time = model_input.iloc[:0]
    dropped = degenerate_features(train, [c for c in train.columns if c not in reserved])
    if dropped:
        logger.warning("Features dropped, nothing to learn from them: %s.",
                       "; ".join(f"'{c}' {why}" for c, why in dropped.items()))
        train, test, in_time = (t.drop(columns=list(dropped)) for t in (train, test, in_time))
    seen = _test_rows_seen_in_training(train, test, reserved, params)
    fold_ids = _fold_ids(train, split, target.name)
    train = train.assign(**{split["fold_column"]: fold_ids})
    _check_both_classes_per_fold(train[target.name], fold_ids, split["cv_folds"])
    logger.info(
        "Split %d applicants into %d train (bad rate %.1f%%) and %d %stest (bad rate %.1f%%).",
        len(model_input), len(train), 100 * train[target.name].mean(),
        len(test), "out-of-time " if time else "", 100 * test[target.name].mean(),
    )
    schema = build_feature_schema(train, params, dropped)
    quality = {"train_rows": len(train), "test_rows": len(test),
               "in_time_holdout_rows": len(in_time),
               "test_rows_seen_in_training": int(seen.sum()), "dropped_features": dropped}
    return train, test, in_time, schema | {"feature_build": feature_build_report["recipe"],
                                           "time": time}, quality


def _out_of_time_split(model_input: pd.DataFrame, split: dict[str, Any], target: str
                       ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Development window (training, and the in-time holdout) and the out-of-time test."""
    dates = periods.application_dates(model_input, split["date_column"])
    later = periods.out_of_time_window(dates, split)
    time = periods.describe(dates, split, later)
    development, test = model_input[~later], model_input[later]
    periods.check_window(development[target], "development", " to ".join(time["development"]))
    periods.check_window(test[target], "out-of-time", " to ".join(time["out_of_time"]))
    if not split.get("in_time_holdout"):
        return development, test, model_input.iloc[:0], time
    held = split["in_time_holdout"] * len(development)
    if held < 2 or min(development[target].sum(), (1 - development[target]).sum()) < 2:
        raise ApplicantDataError(
            f"data_processing.split.in_time_holdout = {split['in_time_holdout']} of the "
            f"{len(development)} development applicants ({int(development[target].sum())} "
            "bads) cannot hold a bad and a good out: raise it, or set it to 0 (no in-time "
            "holdout).")
    train, in_time = train_test_split(development, test_size=split["in_time_holdout"],
                                      stratify=development[target],
                                      random_state=split["random_state"])
    return train, test, in_time, time


def _fold_ids(train: pd.DataFrame, split: dict[str, Any], target: str) -> np.ndarray:
    """Stratified folds, or time-ordered ones (``cv: time_series``)."""
    n_folds, y = split["cv_folds"], train[target]
    if split.get("cv", "stratified") == "time_series":
        dates = periods.application_dates(train, split["date_column"])
        return periods.time_ordered_folds(periods.vintages(dates, split.get("vintage", "month")),
                                          n_folds)
    rarest = int(min(y.sum(), len(y) - y.sum()))
    if rarest < n_folds:
        raise ApplicantDataError(
            f"The training rows hold {int(y.sum())} bads and {int(len(y) - y.sum())} goods: "
            f"too few to put both in each of {n_folds} folds (data_processing.split.cv_folds). "
            "Use more data (a longer development window), or fewer folds.")
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=split["random_state"])
    fold_ids = np.empty(len(train), dtype="int8")
    for fold, (_, held_out) in enumerate(folds.split(train, y)):
        fold_ids[held_out] = fold
    return fold_ids


def _test_rows_seen_in_training(train: pd.DataFrame, test: pd.DataFrame, reserved: set[str],
                                params: dict[str, Any]) -> pd.Series:
    """Test rows identical to a training row in every feature; warned about, or refused."""
    features = [c for c in train.columns if c not in reserved]
    seen = rows_seen_in(train, test, features)
    if not seen.any():
        return seen
    ids = test.loc[seen.to_numpy(), params["id_column"]] if params.get("id_column") else \
        test.index[seen.to_numpy()]
    message = (
        f"{int(seen.sum())} of {len(test)} test applicants are identical, feature for feature, "
        f"to a training applicant ({'ids' if params.get('id_column') else 'rows'} e.g. "
        f"{examples(ids, 5)}): the test set overstates how the model does on new applicants. "
        "Look for applicants entered twice under new ids and deduplicate the table")
    if params["split"].get("test_rows_seen_in_training", "warn") == "refuse":
        raise ApplicantDataError(
            f"{message}; data_processing.split.test_rows_seen_in_training is 'refuse'.")
    logger.warning("%s, or set data_processing.split.test_rows_seen_in_training: refuse to "
                   "stop such runs.", message)
    return seen


def data_quality_metrics(data_quality: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The data-quality counts as MLflow metrics."""
    counts = {"test_rows_seen_in_training": data_quality["test_rows_seen_in_training"],
              "dropped_features": len(data_quality["dropped_features"]),
              "in_time_holdout_rows": data_quality.get("in_time_holdout_rows", 0)}
    return {name: {"value": float(value), "step": 0} for name, value in counts.items()}


def _check_both_classes_per_fold(y: pd.Series, fold_ids: np.ndarray, n_folds: int) -> None:
    """Every CV metric (ROC AUC, Gini, KS ...) is undefined on a fold without a bad or a good."""
    bads = pd.Series(y.to_numpy()).groupby(fold_ids).agg(["sum", "size"])
    one_class = bads[(bads["sum"] == 0) | (bads["sum"] == bads["size"])]
    if not one_class.empty:
        raise ApplicantDataError(
            f"CV folds {one_class.index.tolist()} of {n_folds} hold a single class (the "
            f"training rows have {int(y.sum())} bads and {int(len(y) - y.sum())} goods; "
            f"fold {periods.TRAINING_ONLY} is the first block of time-ordered folds): "
            "ROC AUC, Gini and KS would be undefined (NaN). Use more data, or fewer folds "
            "(data_processing.split.cv_folds)."
        )


def holdout_applicants(
    applicants: pd.DataFrame, model_input_test: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """The test applicants as raw rows without their target: a ready-made sample to score.

    They were never used for training, so ``kedro run --pipelines scoring`` has new
    applicants to score out of the box, in exactly the format the champion takes: the raw
    application row, plus the features built from the related tables if there are any.
    """
    return applicants.loc[model_input_test.index].drop(columns=params["target"]["column"])
