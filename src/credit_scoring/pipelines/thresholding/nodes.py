"""Nodes of the thresholding pipeline: calibrate, cut, report on test, hand over the champion."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import FixedThresholdClassifier, PredefinedSplit, cross_val_predict

from credit_scoring import decisions, reporting
from credit_scoring.estimators import build_estimator, split_calibration
from credit_scoring.evaluation import (
    balanced_sample_weight,
    folds_fingerprint,
    out_of_fold_metrics,
    pd_metrics,
)
from credit_scoring.monitoring import baseline
from credit_scoring.schema import features, target

logger = logging.getLogger(__name__)

NAIVE_CUTOFF = 0.5


def calibrate_pd_model(
    model_input_train: pd.DataFrame,
    feature_schema: dict[str, Any],
    tuned_model_spec: dict[str, Any],
    tuned_oof_predictions: pd.DataFrame,
    policy: dict[str, Any],
) -> tuple[BaseEstimator, pd.DataFrame]:
    """Refit the tuned configuration on all of train, calibrated on the persisted folds.

    ``CalibratedClassifierCV(ensemble=False)`` fits the calibrator on out-of-fold
    predictions of the folds tuning used (the PD, or a logistic model's
    ``decision_function``), then refits the estimator once on all rows, with the seed and
    class weighting recorded in ``tuned_model_spec``. Tuning's persisted out-of-fold PDs
    (same folds, same seed) go through that calibrator, so the cut-off is chosen on
    PDs each from a model that never saw that applicant.

    Returns:
        The fitted PD model (calibrated unless ``calibration.method`` is null) and the
        out-of-fold PDs before and after calibration and the score, with target and fold.
    """
    name = tuned_model_spec["candidate"]
    target_column, fold_column = feature_schema["target"], feature_schema["fold_column"]
    same_rows = tuned_oof_predictions.index.equals(model_input_train.index) and all(
        tuned_oof_predictions[c].equals(model_input_train[c]) for c in (target_column, fold_column)
    )
    if not same_rows:
        raise ValueError(
            "tuned_oof_predictions do not match model_input_train (rows, target or folds "
            "changed since tuning ran); rerun `kedro run --pipelines tuning` first."
        )
    X, y = features(model_input_train, feature_schema), target(model_input_train, feature_schema)
    folds = model_input_train[fold_column]
    estimator = build_estimator(
        tuned_model_spec["spec"], feature_schema, tuned_model_spec["random_state"]
    )
    weights = balanced_sample_weight(y, tuned_model_spec["class_weighting"])
    # weights reach the estimator only: the calibrator must learn the true bad rate
    fit_params = {} if weights is None else {"model__sample_weight": weights}
    uncalibrated = tuned_oof_predictions[name]
    method = policy["calibration"]["method"]
    if method is None:
        model = estimator.fit(X, y, **fit_params)
        calibrated = uncalibrated
    else:
        split = PredefinedSplit(folds.to_numpy())
        model = CalibratedClassifierCV(estimator, method=method, cv=split, ensemble=False).fit(
            X, y, **fit_params
        )
        fitted, calibrator = split_calibration(model)
        # the calibrator maps what CalibratedClassifierCV calibrated: a decision_function
        # (logistic regression) needs its own out-of-fold values; a PD is tuning's
        raw = (
            cross_val_predict(estimator, X, y, cv=split, method="decision_function",
                              params=fit_params)
            if hasattr(fitted, "decision_function") else uncalibrated
        )
        calibrated = calibrator.predict(raw)
    logger.info("%s calibrated with %s on %d out-of-fold PDs.", name, method, len(y))
    oof = model_input_train[[target_column, fold_column]].assign(
        pd_uncalibrated=uncalibrated, pd=calibrated,
        score=decisions.scorecard_points(calibrated, policy["scorecard"]),
    )
    return model, oof


def select_cutoff(
    calibration_oof: pd.DataFrame, feature_schema: dict[str, Any], policy: dict[str, Any]
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The cost-minimising cut-off on out-of-fold PDs, within the configured constraints.

    Returns:
        The cut-off (PD and scorecard points) with its out-of-fold expected cost,
        approval rate and bad rate, next to the naive 0.5 cut-off and the analytic
        optimum for perfectly calibrated PDs; and the whole cost curve.
    """
    y = calibration_oof[feature_schema["target"]]
    curve = decisions.cost_curve(y, calibration_oof["pd"], policy["costs"])
    chosen = decisions.choose_cutoff(curve, policy["constraints"])
    naive = decisions.decision_outcomes(y, calibration_oof["pd"] >= NAIVE_CUTOFF, policy["costs"])
    cutoff = {
        "cutoff": float(chosen["cutoff"]),
        "cutoff_score": int(decisions.scorecard_points([chosen["cutoff"]], policy["scorecard"])[0]),
        "analytic_cutoff": decisions.analytic_cutoff(policy["costs"]),
        "costs": policy["costs"],
        "constraints": policy["constraints"],
        "oof_expected_cost": float(chosen["expected_cost"]),
        "oof_approval_rate": float(chosen["approval_rate"]),
        "oof_bad_rate_approved": float(chosen["bad_rate_approved"]),
        "oof_expected_cost_at_0.5": naive["expected_cost"],
    }
    logger.info(
        "Cut-off PD %.3f (score %d): out-of-fold cost per applicant %.3f vs %.3f at 0.5, "
        "approval rate %.1f%%, bad rate among approved %.1f%%.",
        cutoff["cutoff"], cutoff["cutoff_score"], cutoff["oof_expected_cost"],
        naive["expected_cost"], 100 * cutoff["oof_approval_rate"],
        100 * cutoff["oof_bad_rate_approved"],
    )
    return cutoff, curve


def champion_classifier(model: BaseEstimator, cutoff: dict[str, Any]) -> FixedThresholdClassifier:
    """The fitted PD model frozen behind the chosen cut-off: ``predict`` 1 = decline."""
    return FixedThresholdClassifier(
        FrozenEstimator(model), threshold=cutoff["cutoff"], response_method="predict_proba"
    )


def evaluate_decisions(
    model: BaseEstimator,
    model_input_test: pd.DataFrame,
    feature_schema: dict[str, Any],
    cutoff: dict[str, Any],
    policy: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score the test set once and compare the naive 0.5 cut-off with the chosen one.

    Returns:
        Per test applicant: target, PD before / after calibration, score and decision;
        and one row per cut-off with the confusion matrix in lending words, approval
        rate, bad rate among approved, expected cost per applicant and the saving in
        percent of the naive cost.
    """
    X, y = features(model_input_test, feature_schema), target(model_input_test, feature_schema)
    champion = champion_classifier(model, cutoff)
    pd_scores = champion.predict_proba(X)[:, 1]
    scores = decisions.decision_table(
        pd_scores, {"cutoff": cutoff["cutoff"], "scorecard": policy["scorecard"]}, index=X.index
    )
    scores.insert(0, "pd_uncalibrated", split_calibration(model)[0].predict_proba(X)[:, 1])
    scores.insert(0, feature_schema["target"], y)
    rows = {}
    for name, threshold in (("naive 0.5", NAIVE_CUTOFF), ("cost-optimal", cutoff["cutoff"])):
        declined = clone(champion).set_params(threshold=threshold).predict(X)
        rows[name] = {"cutoff": threshold, **decisions.decision_outcomes(y, declined, policy["costs"])}
    report = pd.DataFrame.from_dict(rows, orient="index").rename_axis("cut-off rule").reset_index()
    naive_cost = report["expected_cost"].iloc[0]
    report["cost_saving_pct"] = 100 * (naive_cost - report["expected_cost"]) / naive_cost
    logger.info(
        "Test set: expected cost per applicant %.3f at 0.5 vs %.3f at the cut-off (%.1f%% saved).",
        naive_cost, report["expected_cost"].iloc[1], report["cost_saving_pct"].iloc[1],
    )
    return scores, report


def score_band_report(
    test_scores: pd.DataFrame, feature_schema: dict[str, Any], policy: dict[str, Any]
) -> pd.DataFrame:
    """Equal-population score bands on the test set: count, bads, bad rate, decision."""
    return decisions.score_bands(
        test_scores[feature_schema["target"]], test_scores["score"].to_numpy(),
        (test_scores["decision"] == "decline").to_numpy(), policy["score_bands"],
    )


def decision_markdown(
    decision_report: pd.DataFrame, score_bands: pd.DataFrame, cutoff: dict[str, Any]
) -> str:
    """One Markdown page for a credit committee: the cut-off, its effect, the score bands."""
    costs = cutoff["costs"]
    return "\n".join([
        "# Cut-off decision",
        "",
        f"Decline when PD >= **{cutoff['cutoff']:.4f}** (about score **{cutoff['cutoff_score']}**), "
        f"chosen on out-of-fold PDs of the training set for costs accept-bad = "
        f"{costs['accept_bad']}, decline-good = {costs['decline_good']} (analytic optimum for "
        f"calibrated PDs: {cutoff['analytic_cutoff']:.4f}).",
        "",
        "## Test set: naive 0.5 versus the cost-optimal cut-off",
        "",
        reporting.markdown_table(decision_report),
        "",
        "## Score bands (test set)",
        "",
        reporting.markdown_table(score_bands),
        "",
    ])


def threshold_plots(
    calibration_oof: pd.DataFrame,
    test_scores: pd.DataFrame,
    cost_curve: pd.DataFrame,
    feature_schema: dict[str, Any],
    cutoff: dict[str, Any],
) -> tuple[Figure, Figure, Figure, Figure]:
    """Cost curve, reliability curves (out-of-fold and test) and the score distribution."""
    target_column = feature_schema["target"]
    return (
        reporting.cost_curve_plot(cost_curve, cutoff["cutoff"], NAIVE_CUTOFF),
        reporting.reliability_plot(
            calibration_oof[target_column], calibration_oof["pd_uncalibrated"],
            calibration_oof["pd"], "Reliability, out-of-fold PDs on train",
        ),
        reporting.reliability_plot(
            test_scores[target_column], test_scores["pd_uncalibrated"], test_scores["pd"],
            "Reliability, test set",
        ),
        reporting.score_distribution_plot(
            test_scores[target_column], test_scores["score"], cutoff["cutoff_score"]
        ),
    )


def champion_candidate(
    model: BaseEstimator,
    cutoff: dict[str, Any],
    calibration_oof: pd.DataFrame,
    test_scores: pd.DataFrame,
    decision_report: pd.DataFrame,
    decision_summary: str,
    tuned_model_spec: dict[str, Any],
    model_input_train: pd.DataFrame,
    feature_schema: dict[str, Any],
    policy: dict[str, Any],
) -> dict[str, Any]:
    """Everything the champion's MLflow run and model version carry.

    The Markdown decision summary becomes the model version's description, so the
    registry shows a reviewer the cut-off, its effect on test and the score bands.

    Metrics: CV (per persisted fold, calibrated out-of-fold PDs) and test PD metrics,
    Brier before / after calibration, and the cut-off's cost, approval and bad rates at
    0.5 and at the cut-off. The selection metric, compared on the same folds (their
    fingerprint and the out-of-fold PDs travel with the candidate), decides whether the
    registry alias moves.
    """
    target_column = feature_schema["target"]
    y_oof, y_test = calibration_oof[target_column], test_scores[target_column]
    folds = calibration_oof[feature_schema["fold_column"]]
    calibrated_pd = calibration_oof["pd"]
    metrics = out_of_fold_metrics(y_oof, calibrated_pd, folds)
    metrics.update({f"test_{k}": v for k, v in pd_metrics(y_test, test_scores["pd"]).items()})
    metrics.update({
        "cv_brier_uncalibrated": out_of_fold_metrics(
            y_oof, calibration_oof["pd_uncalibrated"], folds
        )["cv_brier_mean"],
        "test_brier_uncalibrated": pd_metrics(y_test, test_scores["pd_uncalibrated"])["brier"],
        "cutoff": cutoff["cutoff"],
        "cutoff_score": cutoff["cutoff_score"],
        "cv_expected_cost": cutoff["oof_expected_cost"],
        "cv_expected_cost_at_0.5": cutoff["oof_expected_cost_at_0.5"],
    })
    for rule, prefix in (("naive 0.5", "test_at_0.5_"), ("cost-optimal", "test_")):
        row = decision_report.set_index("cut-off rule").loc[rule]
        for key in ("expected_cost", "approval_rate", "bad_rate_approved"):
            metrics[f"{prefix}{key}"] = float(row[key])
    metrics["test_cost_saving_pct"] = float(
        decision_report.set_index("cut-off rule").loc["cost-optimal", "cost_saving_pct"]
    )
    return {
        "model": champion_classifier(model, cutoff),
        "scorecard": policy["scorecard"],
        "params": {
            "candidate": tuned_model_spec["candidate"],
            "estimator": tuned_model_spec["spec"]["estimator"],
            "calibration": policy["calibration"]["method"],
            "costs": policy["costs"],
            "constraints": policy["constraints"],
            "scorecard": policy["scorecard"],
        },
        "metrics": metrics,
        "tags": {
            "cutoff": cutoff["cutoff"],
            "cutoff_score": cutoff["cutoff_score"],
            "cost_accept_bad": policy["costs"]["accept_bad"],
            "cost_decline_good": policy["costs"]["decline_good"],
            "calibration": policy["calibration"]["method"],
            "candidate": tuned_model_spec["candidate"],
        },
        "description": decision_summary,
        # scoring measures score drift against the champion's own held-out score bands
        "monitoring": {"score_baseline": baseline(test_scores["score"], policy["score_bands"])},
        "input_example": features(model_input_train, feature_schema).head(5),
        "selection_metric": policy["champion"]["selection_metric"],
        "on_other_folds": policy["champion"]["on_other_folds"],
        # what a later candidate is compared on: same folds, any metric
        "oof_predictions": pd.DataFrame({"bad": y_oof, "fold": folds, "pd": calibrated_pd}),
        "folds_fingerprint": folds_fingerprint(y_oof, folds),
    }
