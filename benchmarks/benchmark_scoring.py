"""Rows per second of batch scoring with the registered champion, at 100,000 applicants.

A plain script, not a test: run it from the project root after `kedro run` (it needs the
champion in mlruns/ and data/05_model_input/), on an otherwise idle machine:

    python benchmarks/benchmark_scoring.py [--rows 100000]

It builds a table of new applicants by resampling the held-out raw rows, then times the
steps of the scoring pipeline one by one, with the project's own node functions: schema
check + cleaning, the champion's PD/score/decision, reason codes for the declined, and
the PSI drift report.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import mlflow
import pandas as pd
from kedro.config import OmegaConfigLoader

from credit_scoring.pipelines.scoring.nodes import (
    population_stability,
    prepare_applicants,
    score_applicants,
)
from credit_scoring.schema import features

ROOT = Path(__file__).resolve().parents[1]


def timed(label: str, rows: int, function, *args):
    started = time.perf_counter()
    result = function(*args)
    seconds = time.perf_counter() - started
    print(f"{label:<42} {seconds:7.2f}s  {rows / seconds:>12,.0f} rows/s")
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    n_rows = parser.add_argument("--rows", type=int, default=100_000) and parser.parse_args().rows

    params = OmegaConfigLoader(str(ROOT / "conf"), base_env="base", default_run_env="base")[
        "parameters"]
    mlflow.set_tracking_uri(f"sqlite:///{ROOT / 'mlruns' / 'mlflow.db'}")
    champion = mlflow.pyfunc.load_model("models:/credit_scoring_pd@champion")
    schema = pd.read_json(ROOT / "data/05_model_input/feature_schema.json", typ="series").to_dict()
    holdout = pd.read_csv(ROOT / "data/05_model_input/holdout_applicants.csv")
    applicants = holdout.sample(n_rows, replace=True, random_state=0).reset_index(drop=True)
    train = pd.read_parquet(ROOT / "data/05_model_input/model_input_train.parquet")

    print(f"{n_rows:,} applicants, champion {champion.metadata.run_id[:8]}")
    prepared, t1 = timed("validate + clean + features", n_rows, prepare_applicants,
                         applicants, schema, params["data_processing"])
    _, t2 = timed("PD, score, decision", n_rows, champion.predict, features(prepared, schema))
    (scored, _), t3 = timed("... with 3 reason codes for the declined", n_rows,
                            score_applicants, champion, prepared, schema, params["scoring"])
    _, t4 = timed("PSI of the score and every feature", n_rows, population_stability,
                  champion, train, prepared, scored, schema, params["scoring"])
    total = t1 + t3 + t4
    declined = (scored["decision"] == "decline").mean()
    print(f"{'whole scoring pipeline (without I/O)':<42} {total:7.2f}s  "
          f"{n_rows / total:>12,.0f} rows/s  ({declined:.0%} declined, so explained)")


if __name__ == "__main__":
    main()
