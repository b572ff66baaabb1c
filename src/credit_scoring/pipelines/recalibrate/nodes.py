"""Nodes of the recalibrate pipeline: the outcome windows, the refitted calibration with its
cut-off and bands, the comparison on held-out outcomes and the gate's decision."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from mlflow.pyfunc import PyFuncModel

from credit_scoring.decisions import (
    DecisionPolicy,
    PDScorer,
    analytic_cutoff,
    band_edges,
    choose_cutoff,
    cost_curve,
    scorer_of,
)
from credit_scoring.models.calibration import PDCalibrator
from credit_scoring.models.selection import gate
from credit_scoring.validation.backtesting import (
    OutcomeColumns,
    Recommendation,
    band_table,
    match_outcomes,
    recommend,
)
from credit_scoring.validation.monitoring import development_reference
from credit_scoring.validation.recalibration import (
    Recalibration,
    compare_calibrations,
    outcome_windows,
    promotion_decision,
)
from credit_scoring.validation.stability import baseline

logger = logging.getLogger(__name__)


def parent_identity(scoring_model: PyFuncModel) -> dict[str, str]:
    """Registered name, version and run of the champion being recalibrated."""
    registered = (scoring_model.metadata.metadata or {}).get("registered_model")
    if not registered:
        raise ValueError("recalibrate needs the champion from the model registry (the catalog's "
                         "scoring_model entry): a model from elsewhere has no version to "
                         "register a recalibration of.")
    return {"name": registered["name"], "version": str(registered["version"]),
            "run_id": scoring_model.metadata.run_id}


def recalibration_sample(
    scoring_model: PyFuncModel,
    monitoring_history: dict[str, pd.DataFrame],
    outcomes: pd.DataFrame | None,
    params: dict[str, Any],
    monitoring: dict[str, Any],
) -> dict[str, Any]:
    """The champion's scored batches with outcomes, cut into the fit window and the held-out
    later window (``validation.recalibration.outcome_windows``).

    Returns:
        ``fit`` and ``holdout``: approved applicants with an outcome (``bad``), their PD and
        uncalibrated PD; ``fit_scored``: every applicant scored in the fit window (what bands
        and the score's baseline are fixed on: no outcome needed); ``window``: the periods.
    """
    config = Recalibration.model_validate(params)
    parent = parent_identity(scoring_model)
    batches = monitoring_history["batches"]
    mine = batches[batches["model_run_id"] == parent["run_id"]]
    scores = monitoring_history["scores"]
    scores = scores[scores["batch_id"].isin(mine["batch_id"])]
    id_column = mine["id_column"].dropna()
    if outcomes is None or id_column.empty:
        raise ValueError(
            f"No {'outcomes' if outcomes is None else 'applicant id'} to recalibrate "
            f"{parent['name']} version {parent['version']} on: it needs the catalog's outcomes "
            "file and a model with data_processing.id_column (`kedro run --pipelines "
            "monitoring` says what backtesting found).")
    rows, _ = match_outcomes(scores, outcomes, id_column.iloc[-1],
                             OutcomeColumns.model_validate(
                                 monitoring["backtesting"]["outcome_columns"]))
    fit, holdout = outcome_windows(mine, rows, config)
    starts = mine.set_index("batch_id")
    window = {name: [str(starts.loc[ids, "batch_start"].min().date()),
                     str(starts.loc[ids, "batch_end"].max().date())]
              for name, ids in (("fit", fit), ("holdout", holdout))}
    logger.info("Recalibrating %s version %s on outcomes of %s to %s (%d approved applicants); "
                "held out: %s to %s (%d).", parent["name"], parent["version"], *window["fit"],
                rows["batch_id"].isin(fit).sum(), *window["holdout"],
                rows["batch_id"].isin(holdout).sum())
    return {"fit": rows[rows["batch_id"].isin(fit)], "holdout": rows[rows["batch_id"].isin(holdout)],
            "fit_scored": scores[scores["batch_id"].isin(fit)], "window": window}


def _cutoff(policy: DecisionPolicy, y: pd.Series, pd_scores: np.ndarray) -> tuple[float, str]:
    """The parent's cost rule on approved applicants' recalibrated PDs, and how it was set."""
    chosen = choose_cutoff(cost_curve(y, pd_scores, policy.costs), policy.constraints)
    if chosen["cutoff"] <= pd_scores.max():
        return float(chosen["cutoff"]), (
            f"the parent's costs and constraints on {len(y)} approved applicants' outcomes: "
            "biased, as the applicants the parent declined have none")
    cutoff = analytic_cutoff(policy.costs)
    return cutoff, (f"accepting all {len(y)} approved applicants was cheapest, so the cut-off is "
                    f"the analytic optimum for calibrated PDs, {cutoff:.4f}")


def refit_calibration(scoring_model: PyFuncModel, sample: dict[str, Any],
                      params: dict[str, Any], thresholding: dict[str, Any]
                      ) -> tuple[PDScorer, str]:
    """The champion with a new calibrator fitted on the fit window's outcomes: the estimator,
    encoding, contract, reasons and feature baselines unchanged; the cut-off by the parent's
    costs and constraints, bands and the score's baseline over everyone the window scored.

    Returns:
        The recalibrated scorer and how its cut-off was set.
    """
    config = Recalibration.model_validate(params)
    parent = scorer_of(scoring_model)
    fit = sample["fit"]
    calibrator = PDCalibrator(config.method).fit(fit["pd_uncalibrated"], fit["bad"])
    approved_pd = calibrator.predict(fit["pd_uncalibrated"])
    cutoff, how = _cutoff(parent.policy, fit["bad"], approved_pd)
    everyone = calibrator.predict(sample["fit_scored"]["pd_uncalibrated"])
    points = parent.policy.points(everyone)
    policy = DecisionPolicy.model_validate({
        **parent.policy.as_config(), "cutoff": cutoff,
        "cutoff_score": int(parent.policy.points([cutoff])[0]),
        "band_edges": band_edges(points, thresholding["score_bands"]),
        **({"statements": parent.policy.statements} if parent.policy.statements else {})})
    reference = development_reference(fit["bad"], approved_pd, cutoff)
    reference.update(applicants=len(everyone), approval_rate=float((everyone < cutoff).mean()),
                     mean_pd=float(everyone.mean()), auc=None)
    baselines = {**parent.baselines, "score": baseline(points, thresholding["psi_bins"]),
                 "development": reference}
    logger.info("Recalibrated (%s): cut-off %.4f (was %.4f), set by %s.", config.method, cutoff,
                parent.policy.cutoff, how)
    return PDScorer(parent.family, parent.preprocess, parent.estimator, calibrator,
                    parent.feature_schema, policy, baselines), how


def holdout_comparison(scoring_model: PyFuncModel, recalibrated: PDScorer,
                       sample: dict[str, Any], params: dict[str, Any],
                       monitoring: dict[str, Any], validation: dict[str, Any]) -> dict[str, Any]:
    """Parent against recalibrated PDs on the held-out later outcomes, the promotion rule's
    decision (with the backtest's recommendation for the new PDs there, by the rule of
    ``monitoring.backtesting.recommendation``) and the registry gate's
    (``models.selection.gate`` under ``validation.gate``).
    """
    config = Recalibration.model_validate(params)
    holdout = sample["holdout"]
    new_pd = recalibrated.calibrator.predict(holdout["pd_uncalibrated"])
    table = compare_calibrations(holdout["bad"], holdout["pd"], new_pd,
                                 validation["confidence_level"])
    development = ((scorer_of(scoring_model).baselines or {}).get("development") or {}).get(
        "auc_approved")
    decision = promotion_decision(table, config, recommend(
        table.iloc[1].to_dict(), development,
        Recommendation.model_validate(monitoring["backtesting"]["recommendation"])))
    bands = band_table(holdout.assign(
        pd=new_pd, band=recalibrated.policy.bands(recalibrated.policy.points(new_pd)),
        batch_id="holdout"), validation["confidence_level"], validation["jeffreys"])
    parent = parent_identity(scoring_model)
    verdict = decision["verdict"]
    ruling = gate(verdict, decision["promote"], holds_champion=False, champion_exists=True,
                  mode=validation["gate"], comparison="; ".join(decision["reasons"]))
    (logger.info if decision["promote"] else logger.warning)(
        "Recalibration of %s version %s: %s.", parent["name"], parent["version"],
        "; ".join(decision["reasons"]))
    return {"table": table, "bands": bands.drop(columns=["batch_id"]), **decision,
            "gate": {"alias": ruling.alias, "message": ruling.message, "alarm": ruling.alarm}}
