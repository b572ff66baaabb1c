"""Time the default `kedro run --pipelines model_comparison` and each candidate's fit.

A plain script, not a test: run it from the project root on an otherwise idle machine,

    python benchmarks/benchmark_model_comparison.py [--repeats 3]

It runs data_processing once if its outputs are missing, then the model_comparison
pipeline `--repeats` times (as a user would, through the CLI, logging to the project's
MLflow store), and prints the wall time and the per-candidate fit times that the run
itself measured (data/08_reporting/model_comparison/metrics.csv).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
METRICS = ROOT / "data/08_reporting/model_comparison/metrics.csv"


def kedro_run(pipeline: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines", pipeline],
        cwd=ROOT, check=True, capture_output=True,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"},
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats

    if not (ROOT / "data/05_model_input/model_input_train.parquet").exists():
        kedro_run("data_processing")
    walls = [kedro_run("model_comparison") for _ in range(repeats)]
    print(f"kedro run --pipelines model_comparison: median {statistics.median(walls):.1f}s "
          f"(runs: {', '.join(f'{w:.1f}s' for w in walls)}; includes ~5s of Kedro/MLflow start-up)")

    metrics = pd.read_csv(METRICS)
    table = metrics[["candidate", "cv_fit_time_s_mean", "fit_time_s", "cv_roc_auc_mean"]].rename(
        columns={"cv_fit_time_s_mean": "fit per CV fold (s)", "fit_time_s": "final fit (s)",
                 "cv_roc_auc_mean": "CV ROC AUC"}
    )
    print(table.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
