"""Monitoring speed: recording one big scoring batch, and the report over many batches.

A plain script, not a test (the suite runs it at ``--smoke`` size). Run it on an otherwise
idle machine, on a project where the dated Home Credit champion is trained (the test
suite's ``home_credit_run``, or by hand: ``credit-scoring synth home-credit --applicants
5000 --dates`` and ``kedro run --env home_credit --params
data_processing.split.date_column=APPLICATION_DATE``):

    python benchmarks/benchmark_monitoring.py --project DIR [--rows 100000] [--batches 24]

Applicants are resampled from the project's ``applicant_features`` (raw columns and built
features, the rows scoring takes), each batch dated in its own month.

- record: one ``--rows`` batch scored by the champion (``PDScorer.score``: the anchor, not
  counted), then timed: everything else ``kedro run --pipelines scoring`` does with it, from
  the scored rows to the Parquet files (the rows prepared as the model sees them, PSI of the
  score and every feature, unseen categories, data quality, reason shares, the uncalibrated
  PDs, the batch's files). Target: <= 10 s at 100,000 rows.
- report: ``--batches`` batches recorded in a fresh store (5,000 rows each, not timed), with
  outcomes for their approved applicants; then timed: the history loaded, every alert
  rule, the backtest and the HTML and JSON written. Target: <= 15 s over 24 batches.

Peak memory is the process's peak RSS after each step (ru_maxrss: it only rises).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from kedro.config import OmegaConfigLoader

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"record": 10.0, "report": 15.0}
REPORT_BATCH_ROWS = 5_000


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def batch_of(features: pd.DataFrame, rows: int, month: pd.Period, date_column: str,
             id_column: str, seed: int) -> pd.DataFrame:
    """``rows`` applicants resampled from the project's, dated in ``month``, with new ids."""
    rng = np.random.default_rng(seed)
    batch = features.iloc[rng.integers(0, len(features), rows)].reset_index(drop=True)
    days = rng.integers(0, month.days_in_month, rows)
    batch[date_column] = (month.start_time + pd.to_timedelta(days, "D")).strftime("%Y-%m-%d")
    batch[id_column] = 10_000_000 * (seed + 1) + np.arange(rows)
    return batch


def record(model, batch: pd.DataFrame, params: dict, store) -> dict:
    """The scoring pipeline's monitoring steps on a scored batch, as its nodes run them."""
    from credit_scoring.pipelines.scoring.nodes import (  # noqa: PLC0415
        count_bins,
        population_stability,
        record_batch,
        unseen_categories,
    )
    from credit_scoring.pipelines.scoring.nodes import prepare_applicants as prepare  # noqa: PLC0415

    scored = model.unwrap_python_model().scorer.score(batch)
    start = time.perf_counter()
    prepared = prepare(model, batch)
    unseen_categories(model, prepared)
    bins = count_bins(model, prepared)
    stability, _ = population_stability(model, bins, scored, params["scoring"])
    entry, _, _ = record_batch(model, batch, prepared, bins, scored, stability,
                               params["scoring"])
    store.save(entry)
    return {"seconds": time.perf_counter() - start, "scored": scored}


def report(store, outcomes: pd.DataFrame, params: dict, folder: Path) -> float:
    """The monitoring pipeline's nodes from the stored history to the written report."""
    from credit_scoring.pipelines.monitoring.nodes import (  # noqa: PLC0415
        backtest_batches,
        batch_table,
        monitoring_alerts,
    )
    from credit_scoring.pipelines.monitoring.report_page import monitoring_report  # noqa: PLC0415

    start = time.perf_counter()
    history = store.load()
    alerts = monitoring_alerts(history, params["monitoring"])
    backtest = backtest_batches(history, outcomes, params["monitoring"], params["validation"])
    page, document = monitoring_report(history, batch_table(history, alerts), alerts, backtest,
                                       params["monitoring"])
    (folder / "monitoring_report.html").write_text(page)
    (folder / "monitoring_report.json").write_text(json.dumps(document, default=str))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--env", default="home_credit")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=24)
    parser.add_argument("--smoke", action="store_true",
                        help="1,000 rows and 2 batches: that the script runs (the test suite)")
    args = parser.parse_args()
    rows, batches = (1_000, 2) if args.smoke else (args.rows, args.batches)
    from credit_scoring.io.monitoring_store import MonitoringStoreDataset  # noqa: PLC0415

    params = OmegaConfigLoader(str(args.project / "conf"), base_env="base",
                               default_run_env=args.env,
                               merge_strategy={"parameters": "soft"})["parameters"]
    mlflow.set_tracking_uri(f"sqlite:///{args.project / 'mlruns' / 'mlflow.db'}")
    name = "credit_scoring_pd_home_credit" if args.env == "home_credit" else "credit_scoring_pd"
    from credit_scoring.io.registry import MlflowChampionDataset  # noqa: PLC0415

    model = MlflowChampionDataset(registered_model_name=name).load()
    schema = model.unwrap_python_model().scorer.feature_schema
    features = pd.read_parquet(args.project / "data/03_primary/applicant_features.parquet")
    features = features.drop(columns=[schema["target"]], errors="ignore")
    date_column, id_column = schema["date_column"], schema["id_column"]
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        store = MonitoringStoreDataset(str(Path(tmp) / "big"))
        big = batch_of(features, rows, pd.Period("2025-01", "M"), date_column, id_column, 0)
        start = time.perf_counter()
        scored = model.unwrap_python_model().scorer.score(big)
        scoring = time.perf_counter() - start
        del scored
        timed = record(model, big, params, store)
        lines.append(("record", f"1 batch of {rows:,}", timed["seconds"], scoring, peak_gb(),
                      TARGETS["record"]))
        del big, timed
        store = MonitoringStoreDataset(str(Path(tmp) / "history"))
        approved = []
        for i, month in enumerate(pd.period_range("2023-01", periods=batches, freq="M")):
            batch = batch_of(features, min(rows, REPORT_BATCH_ROWS), month, date_column,
                             id_column, i + 1)
            scored = record(model, batch, params, store)["scored"]
            approved.append(scored.loc[scored["decision"] == "accept", id_column])
        ids = pd.concat(approved)
        columns = params["monitoring"]["backtesting"]["outcome_columns"]
        outcomes = pd.DataFrame({id_column: ids.to_numpy(), columns["default_flag"]:
                                 np.random.default_rng(0).random(len(ids)) < 0.08,
                                 columns["observation_date"]: "2026-01-31"}).astype(
            {columns["default_flag"]: int})
        seconds = report(store, outcomes, params, Path(tmp))
        lines.append(("report", f"{batches} batches", seconds, None, peak_gb(),
                      TARGETS["report"]))
    print(f"\n{'step':<8} {'size':>20} {'time s':>8} {'scoring s':>10} {'ratio':>7} "
          f"{'peak GB':>8} {'target s':>9} {'met':>4}")
    failed = False
    for step, size, seconds, anchor, peak, target in lines:
        met = seconds <= target
        failed |= not met and not args.smoke
        ratio = f"{seconds / anchor:7.2f}" if anchor else " " * 7
        scoring = f"{anchor:10.2f}" if anchor else " " * 10
        print(f"{step:<8} {size:>20} {seconds:8.2f} {scoring} {ratio} {peak:8.2f} "
              f"{target:9.1f} {'yes' if met else 'NO':>4}")
    print("\nratio: recording time over the time to score the same batch (PDScorer.score).")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
