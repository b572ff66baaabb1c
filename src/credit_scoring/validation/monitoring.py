"""Monitoring a deployed model batch by batch: what one scoring batch looked like.

A batch record holds the batch's identity (a hash of its rows and the model that scored it),
its period (the applications' dates), its rows, approval rate and mean PD, the score PSI and
each feature's CSI, the principal reason codes of its declines, and data-quality counts per
feature: missing share, categories never seen in training and values outside the training
range. The per-feature counts come from one aggregation in DuckDB, or in Spark where a batch
is held there (``stability.bin_counts``). Each is stored with its development value where the model carries one, so alerts
(``validation.alerts``) need nothing but the history. Pure functions; the scoring pipeline
gathers the inputs and ``io.monitoring_store`` keeps the records.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from credit_scoring.validation.stability import MISSING

MEASURE_COLUMNS = ["batch_id", "measure", "variable", "value", "count", "reference"]
"""The long table of a batch's per-variable statistics."""
MEASURES = ("psi", "missing_share", "unseen_share", "out_of_range_share", "reason_share")
"""``psi``: the score's PSI and each feature's CSI against development; ``reason_share``:
the share of declines whose principal reason is the code (``variable``)."""
SCORE_COLUMNS = ["batch_id", "applicant", "application_date", "pd", "pd_uncalibrated",
                 "score", "band", "decision", "reason"]
"""What backtesting and recalibration need of each scored applicant: ``applicant`` is the
model's id column (null without one), ``pd_uncalibrated`` the estimator's PD before the
calibrator (what a recalibration refits), ``reason`` the principal reason of a decline."""


def _auc(y: np.ndarray, pd_scores: np.ndarray) -> float | None:
    return float(roc_auc_score(y, pd_scores)) if 0 < y.sum() < len(y) else None


def development_reference(y: pd.Series, pd_scores: pd.Series, cutoff: float) -> dict[str, float]:
    """The development sample's applicants, approval rate at the cut-off, mean PD, default
    rate and AUC (out of fold): what monitoring and backtesting compare batches with.
    ``auc_approved``: the AUC among the applicants the cut-off approves, the reference of a
    backtest (only approved applicants have outcomes, and a truncated sample ranks worse)."""
    y, pd_scores = np.asarray(y, dtype=int), np.asarray(pd_scores, dtype=float)
    approved = pd_scores < cutoff
    return {"applicants": len(y), "approval_rate": float(approved.mean()),
            "mean_pd": float(pd_scores.mean()), "default_rate": float(y.mean()),
            "auc": _auc(y, pd_scores), "auc_approved": _auc(y[approved], pd_scores[approved])}


def content_hash(rows: pd.DataFrame) -> str:
    """SHA-256 of a table's columns and values, whatever its index: the same rows, read
    again, hash the same."""
    digest = hashlib.sha256("\x1f".join(map(str, rows.columns)).encode())
    digest.update(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def batch_period(dates: pd.Series | None, batch_date: date | None, today: date
                 ) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """A batch's first and last day and where they come from: the applications' dates,
    else the ``batch_date`` parameter, else the run's date."""
    if dates is not None and dates.notna().any():
        return dates.min().normalize(), dates.max().normalize(), "application dates"
    if batch_date is not None:
        return pd.Timestamp(batch_date), pd.Timestamp(batch_date), "scoring.batch_date"
    return pd.Timestamp(today), pd.Timestamp(today), "run date"


def _missing_reference(baseline: dict[str, list]) -> float:
    """The development share of missing values a feature's PSI baseline holds."""
    if "levels" in baseline:
        return float(baseline["shares"][baseline["levels"].index(MISSING)])
    return float(baseline["shares"][-1])


def data_quality(rows: int, counts: dict[str, dict[str, Any]],
                 baselines: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Per feature, from its ``stability.bin_counts``: missing share (development's as
    reference), share of categories never seen in training and share of values outside the
    development range (NaN for a categorical feature, or a model stored without ranges)."""
    parts = []
    for column, found in counts.items():
        reference = baselines[column]
        missing = int(found["counts"][reference["levels"].index(MISSING)]
                      if "levels" in reference else found["counts"][-1])
        unseen = int(found.get("unseen") or 0)
        outside = found.get("outside")
        parts += [
            ("missing_share", column, missing / max(rows, 1), missing,
             _missing_reference(reference)),
            ("unseen_share", column, unseen / max(rows, 1), unseen, 0.0),
            ("out_of_range_share", column,
             np.nan if outside is None else float(outside) / max(rows, 1),
             None if outside is None else int(outside), 0.0),
        ]
    return pd.DataFrame(parts, columns=MEASURE_COLUMNS[1:])


def reason_shares(scored: pd.DataFrame) -> pd.DataFrame:
    """Per principal reason code: the share and count of declines citing it first."""
    reasons = scored.loc[scored["decision"] == "decline"].get("reason_1_code")
    if reasons is None or reasons.dropna().empty:
        return pd.DataFrame(columns=MEASURE_COLUMNS[1:])
    counts = reasons.dropna().astype(str).value_counts()
    return pd.DataFrame({"measure": "reason_share", "variable": counts.index,
                         "value": counts.to_numpy() / counts.sum(), "count": counts.to_numpy(),
                         "reference": np.nan})


def batch_record(
    batch_id: str,
    model: dict[str, Any],
    period: tuple[pd.Timestamp, pd.Timestamp, str],
    scored: pd.DataFrame,
    stability: pd.DataFrame,
    quality: pd.DataFrame,
    development: dict[str, Any] | None,
    dates: pd.Series | None,
    id_column: str | None,
    uncalibrated: np.ndarray,
) -> dict[str, pd.DataFrame]:
    """One batch: ``batch`` (one row), ``measures`` (``MEASURE_COLUMNS``) and ``scores``
    (``SCORE_COLUMNS``: each applicant's PD and decision, for backtesting).

    Args:
        model: ``name``, ``version`` and ``run_id`` of the model that scored the batch.
        scored: the scoring table (``PDScorer.score``).
        stability: ``variable`` and ``psi`` (the score's and every feature's).
        quality: ``data_quality``'s table.
        development: ``development_reference`` of the model (None for a model stored before
            it), copied into the batch so alerts compare with what the model was built on.
        uncalibrated: each applicant's PD before the model's calibrator.
    """
    development = development or {}
    approved = scored["decision"] == "accept"
    score_psi = stability.loc[stability["variable"] == "score", "psi"]
    batch = pd.DataFrame([{
        "batch_id": batch_id, "batch_start": period[0], "batch_end": period[1],
        "period_from": period[2], "model_name": model["name"],
        "model_version": str(model["version"]), "model_run_id": model["run_id"],
        "recorded_at": pd.Timestamp.now(tz="UTC").tz_localize(None),
        "rows": len(scored), "approval_rate": float(approved.mean()),
        "mean_pd": float(scored["pd"].mean()), "id_column": id_column,
        "score_psi": float(score_psi.iloc[0]) if len(score_psi) else np.nan,
        **{f"{key}_development": development.get(key, np.nan)
           for key in ("approval_rate", "mean_pd", "auc", "auc_approved")},
    }])
    psi = stability.assign(measure="psi", value=stability["psi"], count=None, reference=np.nan)
    measures = pd.concat(
        [part for part in (psi[MEASURE_COLUMNS[1:]], quality, reason_shares(scored))
         if len(part)], ignore_index=True)
    measures.insert(0, "batch_id", batch_id)
    applicant = scored[id_column] if id_column and id_column in scored.columns else None
    scores = pd.DataFrame({
        "batch_id": batch_id,
        "applicant": (applicant.astype("string") if applicant is not None
                      else pd.Series(pd.NA, index=scored.index, dtype="string")),
        "application_date": dates if dates is not None else pd.NaT,
        "pd": scored["pd"], "pd_uncalibrated": uncalibrated, "score": scored["score"], "band": scored["band"].astype(str),
        "decision": scored["decision"].astype(str),
        "reason": scored.get("reason_1_code", pd.Series(None, index=scored.index)
                             ).astype("string"),
    }).reset_index(drop=True)
    return {"batch": batch, "measures": measures.astype({"count": "Float64"}),
            "scores": scores[SCORE_COLUMNS]}
