"""Batch scoring speed of the deployable PD model: raw rows in, PD / score / band / decision out.

A plain script, not a test. Run it from the project root after `kedro run` (it reads
data/01_raw, data/05_model_input and the default parameters), on an otherwise idle machine:

    python benchmarks/benchmark_scoring.py [--rows 1000000] [--reason-rows 20000]

For every model family of the default configuration (the logistic baseline and each
model_comparison candidate) it builds the champion exactly as thresholding does
(calibration on the persisted folds, cost-optimal cut-off, bands, baselines) and, each in
its own process so that peak memory is the family's own, times on ``--rows`` raw applicant
rows resampled from the default data:

- floor: the bare estimator's ``predict_proba`` on rows already cleaned and encoded;
- ours: ``PDScorer.score`` from raw rows (validation, cleaning, recipes, encoding, PD,
  calibration, score, band, decision), without reasons;
- with reasons: the same with the top-4 reasons of every decline, on ``--reason-rows`` rows;
- peak memory: the process's peak RSS after those two (data, model and scoring included).

Targets (issue 13): ours >= 70 % of the floor; >= 100,000 rows/s for a boosted-tree
champion; >= 20,000 rows/s with top-4 reasons; peak memory <= 2 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from kedro.config import OmegaConfigLoader

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"ratio": 0.70, "boosted_rows_s": 100_000, "reasons_rows_s": 20_000, "peak_gb": 2.0}


def build_scorer(spec: dict, params: dict):
    """The champion thresholding would assemble from ``spec``, on the persisted model input."""
    from credit_scoring.models.estimators import build_estimator  # noqa: PLC0415
    from credit_scoring.models.evaluation import fit_and_evaluate  # noqa: PLC0415
    from credit_scoring.pipelines.thresholding.nodes import (  # noqa: PLC0415
        assemble_champion,
        calibrate_pd_model,
        select_cutoff,
    )

    model_input = ROOT / "data/05_model_input"
    train = pd.read_parquet(model_input / "model_input_train.parquet")
    test = pd.read_parquet(model_input / "model_input_test.parquet")
    schema = json.loads((model_input / "feature_schema.json").read_text())
    _, _, oof = fit_and_evaluate(build_estimator(spec, schema, 42), train, test, schema)
    candidate_oof = train[[schema["target"], schema["fold_column"]]].assign(pd_uncalibrated=oof)
    champion_spec = {"candidate": "benchmark", "spec": spec, "random_state": 42,
                     "class_weighting": None}
    policy = params["thresholding"]
    pd_model, calibration_oof = calibrate_pd_model(train, schema, champion_spec, candidate_oof,
                                                   policy)
    cutoff, _ = select_cutoff(calibration_oof, schema, policy)
    return assemble_champion(pd_model, cutoff, calibration_oof, train, schema, policy)


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def measure(name: str, n_rows: int, reason_rows: int) -> dict:
    """One family, in this process: rows/s of floor, ours and ours with reasons, peak RSS."""
    params = OmegaConfigLoader(str(ROOT / "conf"), base_env="base", default_run_env="base")[
        "parameters"]
    candidates = {**params["baselines"]["candidates"], **params["model_comparison"]["candidates"]}
    scorer = build_scorer(candidates[name], params)
    target = params["data_processing"]["target"]["column"]
    raw = pd.read_csv(ROOT / "data/01_raw/germancredit.csv").drop(columns=target)
    applicants = raw.sample(n_rows, replace=True, random_state=0).reset_index(drop=True)
    ours = timed(scorer.score, applicants, 0)
    with_reasons = timed(scorer.score, applicants.head(reason_rows), 4)
    # ours only: encoding a million rows at once for the floor below takes more memory
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    encoded = scorer.preprocess.transform(scorer.prepare(applicants))
    floor = timed(scorer.estimator.predict_proba, encoded)
    return {
        "family": name, "estimator": candidates[name]["estimator"],
        "floor_rows_s": n_rows / floor, "ours_rows_s": n_rows / ours,
        "reasons_rows_s": reason_rows / with_reasons,
        "peak_gb": peak_gb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reason-rows", type=int, default=20_000)
    parser.add_argument("--family", help="measure one family in this process (internal)")
    args = parser.parse_args()
    if args.family:
        print(json.dumps(measure(args.family, args.rows, args.reason_rows)))
        return

    params = OmegaConfigLoader(str(ROOT / "conf"), base_env="base", default_run_env="base")[
        "parameters"]
    families = [name for name in [*params["baselines"]["candidates"],
                                  *params["model_comparison"]["candidates"]]
                if name != "prior_only"]
    print(f"{args.rows:,} raw rows (top-4 reasons on {args.reason_rows:,}); targets: ours >= "
          f"{TARGETS['ratio']:.0%} of floor, boosted >= {TARGETS['boosted_rows_s']:,} rows/s, "
          f"reasons >= {TARGETS['reasons_rows_s']:,} rows/s, peak <= {TARGETS['peak_gb']} GB\n")
    header = (f"{'family':<20} {'floor rows/s':>13} {'ours rows/s':>12} {'ratio':>6} "
              f"{'+reasons rows/s':>16} {'peak GB':>8}")
    print(header)
    print("-" * len(header))
    for name in families:
        result = subprocess.run(
            [sys.executable, __file__, "--family", name, "--rows", str(args.rows),
             "--reason-rows", str(args.reason_rows)],
            capture_output=True, text=True, check=True, cwd=ROOT)
        row = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"{name:<20} {row['floor_rows_s']:>13,.0f} {row['ours_rows_s']:>12,.0f} "
              f"{row['ours_rows_s'] / row['floor_rows_s']:>6.0%} {row['reasons_rows_s']:>16,.0f} "
              f"{row['peak_gb']:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
