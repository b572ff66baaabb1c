"""Recalibration of a deployed model on backtested outcomes: which outcomes fit it, which
validate it, and whether the new calibration is better than its parent's.

The estimator is unchanged, so the CV comparison that picks new models does not apply: a
recalibrated version is judged on a later vintage of outcomes its fit never saw. It is
promoted when its calibration in the large is better there (a smaller |z|) and its
discrimination does not drop by more than ``max_auc_drop``. Outcomes exist for approved
applicants only, so every figure here is on them (no reject inference).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sklearn.metrics import brier_score_loss, log_loss

from credit_scoring.validation.backtesting import calibration_in_the_large
from credit_scoring.validation.statistics import auc_confidence, auc_difference


class Promotion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_auc_drop: float = Field(ge=0, lt=1)


class Recalibration(BaseModel):
    """``recalibrate``: the calibration method, the outcome windows and the promotion rule."""

    model_config = ConfigDict(extra="forbid")
    method: Literal["platt", "isotonic"]
    holdout_batches: int = Field(ge=1)
    fit_batches: int = Field(ge=1)
    min_bads: int = Field(ge=1)
    promotion: Promotion


def outcome_windows(batches: pd.DataFrame, rows: pd.DataFrame, config: Recalibration
                    ) -> tuple[list[str], list[str]]:
    """The batch ids to fit on and to hold out: the latest ``holdout_batches`` batches with
    outcomes are held out, the ``fit_batches`` before them fitted on.

    Raises:
        ValueError: too few batches with outcomes, or too few defaults in either window.
    """
    with_outcomes = (batches[batches["batch_id"].isin(rows["batch_id"])]
                     .sort_values("batch_start", kind="stable")["batch_id"].tolist())
    needed = config.holdout_batches + config.fit_batches
    if len(with_outcomes) < needed:
        raise ValueError(
            f"Recalibration needs {needed} scored batches with outcomes (recalibrate."
            f"fit_batches {config.fit_batches} + holdout_batches {config.holdout_batches}); "
            f"the monitoring history has {len(with_outcomes)} for this model. Wait for more "
            "outcomes, or lower them.")
    holdout = with_outcomes[-config.holdout_batches:]
    fit = with_outcomes[-needed:-config.holdout_batches]
    for name, ids in (("fit", fit), ("holdout", holdout)):
        bads = int(rows.loc[rows["batch_id"].isin(ids), "bad"].sum())
        if bads < config.min_bads:
            raise ValueError(
                f"The {name} window ({len(ids)} batch(es)) has {bads} defaults among approved "
                f"applicants, fewer than recalibrate.min_bads ({config.min_bads}): too few to "
                "fit or judge a calibration. Wait for more outcomes, or widen the window.")
    return fit, holdout


def compare_calibrations(y, parent_pd, new_pd, level: float) -> pd.DataFrame:
    """Parent and recalibrated PDs on the same outcomes: default rate, mean PD, calibration
    in the large (O/E, z, p), Brier score, log loss and AUC with DeLong's interval; the
    ``difference`` row holds the paired AUC difference (new - parent) and its interval."""
    y = np.asarray(y, dtype=int)
    rows = []
    for name, given in (("parent", parent_pd), ("recalibrated", new_pd)):
        pd_scores = np.asarray(given, dtype=float)
        rows.append({"model": name, "applicants": len(y), "bads": int(y.sum()),
                     "default_rate": float(y.mean()), "mean_pd": float(pd_scores.mean()),
                     **calibration_in_the_large(y, pd_scores),
                     "brier": float(brier_score_loss(y, pd_scores)),
                     "log_loss": float(log_loss(y, np.clip(pd_scores, 1e-9, 1 - 1e-9),
                                                labels=[0, 1])),
                     **auc_confidence(y, pd_scores, level)})
    difference = auc_difference(y, new_pd, parent_pd, level)
    rows.append({"model": "difference", "auc": difference["difference"],
                 "auc_low": difference["low"], "auc_high": difference["high"],
                 "auc_p_value": difference["p_value"]})
    return pd.DataFrame(rows)


def promotion_decision(table: pd.DataFrame, config: Recalibration,
                       backtest: tuple[str, str]) -> dict[str, Any]:
    """Promote when calibration in the large improves on the holdout (smaller |z|) and the AUC
    does not drop by more than ``max_auc_drop``.

    Args:
        backtest: the backtest's recommendation for the recalibrated PDs on the holdout
            (``backtesting.recommend``): anything but ``keep`` makes a promoted version's
            verdict "fit with findings", with the reason (still miscalibrated, or its ranking
            lost: a recalibration cannot fix that, only a redevelopment can).
    """
    parent, new = table.iloc[0], table.iloc[1]
    better = abs(new["citl_z"]) < abs(parent["citl_z"])
    drop = parent["auc"] - new["auc"]
    kept = drop <= config.promotion.max_auc_drop
    promote = bool(better and kept)
    reasons = [
        f"calibration in the large {'improves' if better else 'does not improve'}: O/E "
        f"{parent['citl_ratio']:.2f} -> {new['citl_ratio']:.2f} (z {parent['citl_z']:+.2f} -> "
        f"{new['citl_z']:+.2f})",
        f"AUC {parent['auc']:.3f} -> {new['auc']:.3f} "
        f"({'within' if kept else 'beyond'} the {config.promotion.max_auc_drop:g} allowed drop)",
    ]
    action, why = backtest
    if action != "keep":
        reasons.append(f"the backtest of the recalibrated PDs on the holdout says {action}: {why}")
    verdict = "not fit" if not promote else "fit for use" if action == "keep" else (
        "fit with findings")
    return {"promote": promote, "verdict": verdict, "reasons": reasons}
