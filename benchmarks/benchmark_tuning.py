"""Tuning throughput, best CV ROC AUC versus trial count, and the time pruning saves.

A plain script, not a test: run it from the project root after `kedro run` has
persisted the model input (data/05_model_input),

    python benchmarks/benchmark_tuning.py [--trials 40]

It runs the tuning node twice on the default data with the configured sampler seed and
search space, once with the configured pruner and once with pruning off (NopPruner),
each into a fresh temporary study and MLflow store, and prints trials per minute and the
best CV score reached after 5, 10, 20, ... trials.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

import mlflow
import optuna
import pandas as pd
from kedro.config import OmegaConfigLoader

from credit_scoring.pipelines.tuning.nodes import tune_hyperparameters

ROOT = Path(__file__).resolve().parents[1]


def run(params: dict, train: pd.DataFrame, schema: dict, selected: dict) -> dict:
    started = time.perf_counter()
    study, _ = tune_hyperparameters(train, schema, selected, params)
    minutes = (time.perf_counter() - started) / 60
    values = [t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best_so_far, best = {}, float("-inf")
    for number, trial in enumerate(study.trials, start=1):
        if trial.state == optuna.trial.TrialState.COMPLETE:
            best = max(best, trial.value)
        best_so_far[number] = best
    checkpoints = [n for n in (5, 10, 20, 40, 80, 160) if n <= len(study.trials)]
    return {
        "wall_s": minutes * 60,
        "trials_per_min": len(study.trials) / minutes,
        "complete": len(values),
        "pruned": len(study.trials) - len(values),
        "best_at": {n: best_so_far[n] for n in checkpoints},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    trials = parser.parse_args().trials

    config = OmegaConfigLoader(str(ROOT / "conf"), base_env="base", default_run_env="base")
    base = config["parameters"]["tuning"]
    train = pd.read_parquet(ROOT / "data/05_model_input/model_input_train.parquet")
    schema = json.loads((ROOT / "data/05_model_input/feature_schema.json").read_text())
    selected = json.loads((ROOT / "data/06_models/selected_family.json").read_text())
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    results = {}
    for label, pruner in (("pruning on", base["pruner"]),
                          ("pruning off", {"class": "NopPruner", "kwargs": {}})):
        with tempfile.TemporaryDirectory() as tmp:
            mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
            params = copy.deepcopy(base) | {
                "n_trials": trials, "timeout_s": None, "pruner": pruner,
                "storage": f"{tmp}/journal.log",
            }
            results[label] = run(params, train, schema, selected)

    print(f"family: {selected['candidate']}, {trials} trials, sampler "
          f"{base['sampler']['class']}{base['sampler']['kwargs']}, pruner {base['pruner']['class']}")
    rows = []
    for label, r in results.items():
        rows.append({"run": label, "wall (s)": r["wall_s"], "trials/min": r["trials_per_min"],
                     "complete": r["complete"], "pruned": r["pruned"],
                     **{f"best CV AUC @{n}": v for n, v in r["best_at"].items()}})
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".4f"))
    saved = 1 - results["pruning on"]["wall_s"] / results["pruning off"]["wall_s"]
    print(f"pruning saved {100 * saved:.0f}% of the wall time")


if __name__ == "__main__":
    main()
