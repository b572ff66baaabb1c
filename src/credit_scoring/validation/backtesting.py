"""Backtesting: the PDs a model gave, against the defaults that followed.

Outcomes (applicant id, default flag, observation date) are joined to the scored batches of
the monitoring history by the model's id column. Only approved applicants have an outcome
(a declined applicant never got the loan), so every figure is on approved applicants and
says so; correcting for that (reject inference) is out of scope. Per batch: the realised
AUC with DeLong's interval, the default rate against the mean PD per score band (Jeffreys)
and a calibration-in-the-large test; then keep, recalibrate or redevelop by the rule in
``monitoring.backtesting.recommendation``, with the reason. An outcome for an applicant
never scored is counted and shown, never silently dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy.stats import norm

from credit_scoring.validation.statistics import auc_confidence, jeffreys, traffic_light

POPULATION = "approved applicants with an outcome (declined applicants have none)"
ACTIONS = ("keep", "recalibrate", "redevelop")
"""In rising severity."""
BATCH_COLUMNS = ["batch_id", "batch_start", "approved", "with_outcome", "bads", "default_rate",
                 "mean_pd", "citl_ratio", "citl_z", "citl_p_value", "auc", "auc_low",
                 "auc_high", "recommendation", "why"]


class Recommendation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    calibration_p_value_below: float = Field(gt=0, lt=1)
    auc_drop: float = Field(ge=0, lt=1)
    min_bads: int = Field(ge=1)
    recent_batches: int = Field(ge=1)


class OutcomeColumns(BaseModel):
    model_config = ConfigDict(extra="forbid")
    default_flag: str
    observation_date: str


class Backtesting(BaseModel):
    """``monitoring.backtesting``."""

    model_config = ConfigDict(extra="forbid")
    outcome_columns: OutcomeColumns
    min_applicants: int = Field(ge=1)
    recommendation: Recommendation


def calibration_in_the_large(y, pd_scores) -> dict[str, float]:
    """Observed defaults against the sum of the PDs: ratio O/E, z = (O - E) / sqrt(sum p(1-p))
    and its two-sided p-value (normal approximation to the Poisson-binomial)."""
    y, pd_scores = np.asarray(y, dtype=float), np.asarray(pd_scores, dtype=float)
    observed, expected = y.sum(), pd_scores.sum()
    spread = np.sqrt(np.sum(pd_scores * (1 - pd_scores)))
    z = (observed - expected) / spread if spread > 0 else 0.0
    return {"citl_ratio": float(observed / expected) if expected > 0 else np.nan,
            "citl_z": float(z), "citl_p_value": float(2 * norm.sf(abs(z)))}


def recommend(row: dict[str, Any], development_auc: float | None, rule: Recommendation
              ) -> tuple[str, str]:
    """Keep, recalibrate or redevelop one batch, and why.

    Redevelop when the realised AUC's upper bound is below the development AUC among
    approved applicants (``auc_approved``: outcomes exist for them only, and a truncated
    sample ranks worse than the whole) less ``auc_drop``: ranking is lost, and a new
    calibration cannot fix it; recalibrate when the
    calibration-in-the-large test rejects at ``calibration_p_value_below``; keep otherwise,
    or when fewer than ``min_bads`` defaults leave nothing to test.
    """
    if row["bads"] < rule.min_bads:
        return "keep", f"{row['bads']} defaults, fewer than {rule.min_bads}: too few to test"
    floor = None if development_auc is None else development_auc - rule.auc_drop
    if floor is not None and not np.isnan(row["auc_high"]) and row["auc_high"] < floor:
        return "redevelop", (f"realised AUC {row['auc']:.3f} (upper bound {row['auc_high']:.3f}) "
                             f"below development's {development_auc:.3f} (approved applicants) less "
                             f"{rule.auc_drop:g}")
    if row["citl_p_value"] < rule.calibration_p_value_below:
        return "recalibrate", (f"default rate {row['default_rate']:.2%} against mean PD "
                               f"{row['mean_pd']:.2%} (O/E {row['citl_ratio']:.2f}, "
                               f"p = {row['citl_p_value']:.2g})")
    return "keep", (f"default rate {row['default_rate']:.2%} against mean PD "
                    f"{row['mean_pd']:.2%} (p = {row['citl_p_value']:.2g})")


def match_outcomes(scores: pd.DataFrame, outcomes: pd.DataFrame, id_column: str,
                   columns: OutcomeColumns) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Scored approved applicants with their outcome, and what did not match: outcomes of
    applicants never scored, of declined ones, and approved applicants still waiting."""
    flag = outcomes[columns.default_flag]
    if not flag.dropna().isin([0, 1, True, False]).all() or flag.isna().any():
        bad = flag[~flag.isin([0, 1, True, False]) | flag.isna()]
        raise ValueError(
            f"Outcome column '{columns.default_flag}' must be 0/1 (1 = defaulted); found "
            f"{bad.astype(str).unique()[:5].tolist()}. Fix the outcomes file or "
            "monitoring.backtesting.outcome_columns.default_flag.")
    known = outcomes.assign(applicant=outcomes[id_column].astype("string"),
                            bad=flag.astype(int)).drop_duplicates("applicant", keep="last")
    latest = scores.drop_duplicates("applicant", keep="last")
    joined = latest.merge(known[["applicant", "bad"]], on="applicant", how="left")
    never = known.loc[~known["applicant"].isin(latest["applicant"]), "applicant"]
    approved = joined["decision"] == "accept"
    matching = {
        "outcomes": len(known), "never_scored": len(never),
        "never_scored_examples": never.head(5).tolist(),
        "declined_with_outcome": int((~approved & joined["bad"].notna()).sum()),
        "approved_waiting": int((approved & joined["bad"].isna()).sum()),
        "matched": int((approved & joined["bad"].notna()).sum()),
    }
    return joined[approved & joined["bad"].notna()], matching


def band_table(rows: pd.DataFrame, level: float, lights: dict[str, float]) -> pd.DataFrame:
    """Per batch and score band: applicants, defaults, mean PD and the Jeffreys test."""
    table = (rows.groupby(["batch_id", "band"], sort=False)
             .agg(applicants=("bad", "size"), bads=("bad", "sum"), mean_pd=("pd", "mean"))
             .reset_index().astype({"bads": int}))
    test = jeffreys(table["bads"], table["applicants"], table["mean_pd"], level)
    return table.assign(default_rate=table["bads"] / table["applicants"], dr_low=test["low"],
                        dr_high=test["high"], jeffreys_p_value=test["p_value"],
                        light=traffic_light(test["p_value"], lights["amber_below"],
                                            lights["red_below"]))


def backtest(history: dict[str, pd.DataFrame], outcomes: pd.DataFrame | None,
             id_column: str | None, params: dict[str, Any], level: float,
             lights: dict[str, float]) -> dict[str, Any]:
    """Backtest every batch with outcomes.

    Returns:
        ``status`` (``done`` or ``unavailable``) and ``message``; ``population``;
        ``matching`` (counts of ``match_outcomes``); ``batches`` (``BATCH_COLUMNS``) and
        ``bands`` (per batch and band: Jeffreys); ``recommendation``: the most severe action
        among the latest ``recent_batches`` batches, with its batch and reason.
    """
    config = Backtesting.model_validate(params)
    empty = {"population": POPULATION, "matching": {}, "batches": pd.DataFrame(
        columns=BATCH_COLUMNS), "bands": pd.DataFrame(), "recommendation": None}
    if not id_column:
        return {**empty, "status": "unavailable", "message": (
            "Backtesting needs an applicant id to join outcomes to scored applicants: set "
            "data_processing.id_column and retrain; monitoring works without it.")}
    if outcomes is None:
        return {**empty, "status": "unavailable", "message": (
            "No outcomes yet: put the observed defaults (columns "
            f"{id_column}, {config.outcome_columns.default_flag}, "
            f"{config.outcome_columns.observation_date}) where the catalog's `outcomes` "
            "entry points.")}
    missing = [c for c in (id_column, *config.outcome_columns.model_dump().values())
               if c not in outcomes.columns]
    if missing:
        raise ValueError(f"The outcomes table has no column {missing}: it needs {id_column} "
                         "and monitoring.backtesting.outcome_columns; it has "
                         f"{list(outcomes.columns)[:10]}.")
    rows, matching = match_outcomes(history["scores"], outcomes, id_column,
                                    config.outcome_columns)
    batches = history["batches"].set_index("batch_id")
    table = []
    for batch_id, group in rows.groupby("batch_id", sort=False):
        y, pd_scores = group["bad"].to_numpy(), group["pd"].to_numpy()
        sized = len(y) >= config.min_applicants and 0 < y.sum() < len(y)
        auc = (auc_confidence(y, pd_scores, level) if sized
               else dict.fromkeys(("auc", "auc_low", "auc_high"), np.nan))
        row = {"batch_id": batch_id, "batch_start": batches.loc[batch_id, "batch_start"],
               "approved": int((history["scores"].query("batch_id == @batch_id")["decision"]
                                == "accept").sum()),
               "with_outcome": len(y), "bads": int(y.sum()), "default_rate": float(y.mean()),
               "mean_pd": float(pd_scores.mean()),
               **calibration_in_the_large(y, pd_scores), **auc}
        development_auc = batches.loc[batch_id].get("auc_approved_development", np.nan)
        row["recommendation"], row["why"] = recommend(
            row, None if pd.isna(development_auc) else float(development_auc),
            config.recommendation)
        table.append(row)
    table = (pd.DataFrame(table, columns=BATCH_COLUMNS).sort_values("batch_start")
             .reset_index(drop=True))
    recent = table.tail(config.recommendation.recent_batches)
    worst = (recent.loc[recent["recommendation"].map(ACTIONS.index).idxmax()]
             if len(recent) else None)
    return {**empty, "status": "done", "matching": matching, "batches": table,
            "bands": band_table(rows, level, lights),
            "message": f"{matching['matched']} approved applicants with an outcome in "
                       f"{len(table)} batch(es)",
            "recommendation": None if worst is None else {
                "action": worst["recommendation"], "batch_id": worst["batch_id"],
                "batch_start": str(pd.Timestamp(worst["batch_start"]).date()),
                "why": worst["why"]}}
