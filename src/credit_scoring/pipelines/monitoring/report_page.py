"""The monitoring report: one HTML page and its JSON, in the validation report's style."""

from __future__ import annotations

from typing import Any

import pandas as pd

from credit_scoring.validation.alerts import fitness
from credit_scoring.validation.backtesting import POPULATION
from credit_scoring.validation.report import Items, Table, monitoring_figure, render, svg


def _dated(table: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO days (2024-09-01), for the page and the JSON."""
    return table.assign(**{column: table[column].dt.strftime("%Y-%m-%d")
                           for column in table.columns
                           if pd.api.types.is_datetime64_any_dtype(table[column])})


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON rows: dates as ISO days, missing values as null."""
    frame = _dated(table)
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _latest_quality(history: dict[str, pd.DataFrame], batch_id: str) -> pd.DataFrame:
    """The latest batch's data quality per feature: missing share against development,
    unseen and out-of-range shares; features with something to show, worst first."""
    measures = history["measures"]
    mine = measures[measures["batch_id"] == batch_id]
    wide = mine.pivot_table(index="variable", columns="measure", values="value", aggfunc="first")
    reference = mine[mine["measure"] == "missing_share"].set_index("variable")["reference"]
    table = pd.DataFrame({
        "feature": wide.index,
        "csi": wide.get("psi"),
        "missing_share": wide.get("missing_share"),
        "missing_development": reference.reindex(wide.index),
        "unseen_share": wide.get("unseen_share"),
        "out_of_range_share": wide.get("out_of_range_share"),
    }).drop(index="score", errors="ignore")
    table = table[table["feature"].isin(mine.loc[mine["measure"] == "missing_share",
                                                 "variable"])]
    return table.sort_values("csi", ascending=False).reset_index(drop=True)


def _reasons(history: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Share of declines by principal reason code, one column per batch start."""
    measures = history["measures"]
    reasons = measures[measures["measure"] == "reason_share"].merge(
        history["batches"][["batch_id", "batch_start"]], on="batch_id")
    if reasons.empty:
        return pd.DataFrame(columns=["reason"])
    wide = reasons.pivot_table(index="variable", columns="batch_start", values="value",
                               aggfunc="sum").fillna(0.0)
    wide.columns = [pd.Timestamp(c).strftime("%Y-%m-%d") for c in wide.columns]
    return wide.rename_axis("reason").reset_index()


def monitoring_report(
    monitoring_history: dict[str, pd.DataFrame],
    batches: pd.DataFrame,
    alerts: pd.DataFrame,
    backtest: dict[str, Any],
    params: dict[str, Any],
) -> tuple[str, dict[str, Any]]:
    """The page and its JSON: summary (verdict, the one-line answer), batches over time,
    alerts with their drivers, the latest batch's data quality, reason codes, backtest."""
    recommendation = backtest.get("recommendation")
    verdict, sentence = fitness(monitoring_history["batches"], alerts, recommendation)
    latest = batches.iloc[-1]
    summary = pd.DataFrame([
        ("verdict", verdict), ("summary", sentence), ("batches", str(len(batches))),
        ("period", f"{batches['batch_start'].min():%Y-%m-%d} to "
                   f"{batches['batch_end'].max():%Y-%m-%d}"),
        ("latest model", latest["model"]), ("alerts", str(len(alerts))),
        ("backtest", backtest["message"]),
    ], columns=["item", "value"])
    quality = _latest_quality(monitoring_history, latest["batch_id"])
    reasons = _reasons(monitoring_history)
    shown = _dated(batches.drop(columns=["batch_id"]))
    sections = [
        {"id": "batches", "title": "Batches over time",
         "text": "Each scored batch in time order (its applications' period), against the "
                 "model's development sample; red: a high-severity alert.",
         "blocks": [svg(monitoring_figure(batches, params["alerts"])), shown]},
        {"id": "alerts", "title": "Alerts",
         "text": "Every rule of monitoring.alerts that fired, with the features (or reason "
                 "codes) that drove it, largest first.",
         "blocks": [_dated(alerts.drop(columns=["batch_id"])) if len(alerts)
                    else Items("No alert", ["No rule fired on any batch."])]},
        {"id": "data-quality", "title": "Data quality of the latest batch",
         "text": "Per feature: CSI, missing share against development, share of categories "
                 "never seen in training and of values outside the development range.",
         "blocks": [quality]},
        {"id": "reasons", "title": "Reason codes",
         "text": "Share of declined applicants by principal reason code, per batch.",
         "blocks": [reasons]},
        {"id": "backtesting", "title": "Backtesting",
         "text": f"On {POPULATION}: realised AUC (DeLong interval), calibration in the large "
                 "(observed against expected defaults) and the recommendation per batch; "
                 "default rate against mean PD per score band (Jeffreys).",
         "blocks": _backtest_blocks(backtest)},
    ]
    document = {
        "verdict": verdict, "summary": sentence,
        "tables": {"batches": _records(batches), "alerts": _records(alerts),
                   "data_quality": _records(quality), "reasons": _records(reasons)},
        "backtesting": {"status": backtest["status"], "message": backtest["message"],
                        "population": backtest["population"], "matching": backtest["matching"],
                        "recommendation": recommendation,
                        "batches": _records(backtest["batches"]),
                        "bands": _records(backtest["bands"])},
        "rules": params,
    }
    return render("Model monitoring report", summary, sections), document


def _backtest_blocks(backtest: dict[str, Any]) -> list[Any]:
    if backtest["status"] != "done":
        return [Items("Backtesting not done", [backtest["message"]])]
    matching = backtest["matching"]
    recommendation = backtest["recommendation"]
    last = backtest["batches"].iloc[-1]
    start = pd.Timestamp(last["batch_start"])
    latest = backtest["bands"][backtest["bands"]["batch_id"] == last["batch_id"]]
    return [
        Items("Recommendation", [f"{recommendation['action']} ({recommendation['batch_start']}): "
                                 f"{recommendation['why']}"]),
        Items("Outcomes", [
            f"{matching['outcomes']} outcomes: {matching['matched']} of approved applicants "
            "in the backtest",
            f"{matching['never_scored']} for applicants never scored (not in the backtest)"
            + (f", e.g. {', '.join(matching['never_scored_examples'])}"
               if matching["never_scored"] else ""),
            f"{matching['declined_with_outcome']} for declined applicants (not in the backtest)",
            f"{matching['approved_waiting']} approved applicants without an outcome yet"]),
        Table(_dated(backtest["batches"].drop(columns=["batch_id"])),
              f"Per batch, on {POPULATION}"),
        Table(latest.drop(columns=["batch_id"]).sort_values(
            "band", key=lambda band: pd.to_numeric(band, errors="coerce")),
              f"Per score band, the latest batch ({start:%Y-%m-%d}), on {POPULATION}; every "
              "batch's in the JSON"),
    ]
