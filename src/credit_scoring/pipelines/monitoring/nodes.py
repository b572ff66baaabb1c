"""Nodes of the monitoring pipeline: the batches in time order, their alerts, the backtest."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from credit_scoring.validation.alerts import batch_status, raise_alerts
from credit_scoring.validation.backtesting import backtest

logger = logging.getLogger(__name__)


def _history_exists(history: dict[str, pd.DataFrame]) -> None:
    if history["batches"].empty:
        raise ValueError(
            "The monitoring history is empty: score a batch first (`kedro run --pipelines "
            "scoring`, which records it in the catalog's monitoring_history).")


def monitoring_alerts(monitoring_history: dict[str, pd.DataFrame], params: dict[str, Any]
                      ) -> pd.DataFrame:
    """Every alert rule (``monitoring.alerts``) on every batch, with its drivers."""
    _history_exists(monitoring_history)
    alerts = raise_alerts(monitoring_history["batches"], monitoring_history["measures"],
                          params["alerts"])
    latest = monitoring_history["batches"]["batch_start"].max()
    for alert in alerts[alerts["batch_start"] == latest].itertuples():
        logger.warning("Monitoring alert on the latest batch (%s): %s; %s.",
                       pd.Timestamp(alert.batch_start).date(), alert.message, alert.drivers)
    return alerts


def backtest_batches(monitoring_history: dict[str, pd.DataFrame], outcomes: pd.DataFrame | None,
                     params: dict[str, Any], validation: dict[str, Any]) -> dict[str, Any]:
    """The backtest of the scored batches against their outcomes (``validation.backtesting``),
    at the validation report's confidence level and Jeffreys lights."""
    _history_exists(monitoring_history)
    ids = monitoring_history["batches"].get("id_column", pd.Series(dtype=object)).dropna()
    result = backtest(monitoring_history, outcomes, ids.iloc[-1] if len(ids) else None,
                      params["backtesting"], validation["confidence_level"],
                      validation["jeffreys"])
    if result["status"] != "done":
        logger.warning("Backtesting: %s", result["message"])
    else:
        matching = result["matching"]
        if matching["never_scored"]:
            logger.warning("%d outcomes are for applicants never scored (e.g. %s): not in the "
                           "backtest.", matching["never_scored"],
                           ", ".join(matching["never_scored_examples"]))
        recommendation = result["recommendation"]
        logger.info("Backtesting recommends %s (batch of %s): %s.", recommendation["action"],
                    recommendation["batch_start"], recommendation["why"])
    return result


def batch_table(monitoring_history: dict[str, pd.DataFrame], alerts: pd.DataFrame
                ) -> pd.DataFrame:
    """One row per batch in time order: period, model, rows, approval rate, mean PD, score
    PSI, largest feature CSI and the batch's status (alert, watch, ok)."""
    batches = monitoring_history["batches"].sort_values("batch_start", kind="stable")
    measures = monitoring_history["measures"]
    csi = measures[(measures["measure"] == "psi") & (measures["variable"] != "score")]
    largest = csi.loc[csi.groupby("batch_id")["value"].idxmax()].set_index("batch_id")
    status = batch_status(batches, alerts)
    return pd.DataFrame({
        "batch_id": batches["batch_id"], "batch_start": batches["batch_start"],
        "batch_end": batches["batch_end"],
        "model": batches["model_name"] + " v" + batches["model_version"].astype(str),
        "rows": batches["rows"], "approval_rate": batches["approval_rate"],
        "approval_rate_development": batches["approval_rate_development"],
        "mean_pd": batches["mean_pd"], "mean_pd_development": batches["mean_pd_development"],
        "score_psi": batches["score_psi"],
        "largest_csi": batches["batch_id"].map(largest["value"]).astype(float),
        "largest_csi_feature": batches["batch_id"].map(largest["variable"]),
        "status": batches["batch_id"].map(status),
    }).reset_index(drop=True)
