"""The whole workflow at Home Credit scale, against a hand-written LightGBM anchor (issue 15).

A plain script, not a test: run it from the project root on an otherwise idle machine,

    python benchmarks/benchmark_home_credit.py [--applicants 307511] [--data DIR]

In a fresh project copy (conf/base + conf/home_credit, its own MLflow database and Optuna
journal) it

1. generates Home-Credit-shaped data with the project's generator (or reuses ``--data``),
2. runs ``kedro run --env home_credit`` end to end: feature build -> data_processing ->
   baselines -> model_comparison -> tuning -> thresholding -> champion registered,
   and reads the time and peak memory of every stage from the run's stage timings
   (``data/08_reporting/stage_timings.csv``, written by ``hooks.StageTimings``),
3. fits the anchor: hand-written DuckDB aggregates of the four tables and
   ``lightgbm.LGBMClassifier(n_estimators=400, learning_rate=0.05)`` on the project's own
   train / test split (the same applicants, the same test rows).

It prints one table per stage, then both test AUCs and expected costs per applicant: the
champion at its cut-off, the anchor at 0.5. Targets: wall <= 20 min and peak <= 8 GB on
2 cores; champion test AUC >= anchor + 0.003; champion cost < anchor cost.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import lightgbm
import pandas as pd
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
RAW = Path("data/01_raw/home_credit")
TARGETS = {"wall_min": 20.0, "peak_gb": 8.0, "auc_margin": 0.003}

ANCHOR_SQL = """
WITH bureau_agg AS (
    SELECT SK_ID_CURR, COUNT(*) AS b_count, AVG(DAYS_CREDIT) AS b_days_credit_mean,
           MAX(DAYS_CREDIT) AS b_days_credit_max, AVG(AMT_CREDIT_SUM) AS b_credit_sum_mean,
           SUM(AMT_CREDIT_SUM_DEBT) AS b_debt_sum, MAX(CREDIT_DAY_OVERDUE) AS b_overdue_max,
           AVG(CASE WHEN CREDIT_ACTIVE = 'Active' THEN 1 ELSE 0 END) AS b_active_share
    FROM read_csv_auto('{raw}/bureau.csv') GROUP BY SK_ID_CURR),
previous_agg AS (
    SELECT SK_ID_CURR, COUNT(*) AS p_count, AVG(AMT_APPLICATION) AS p_application_mean,
           AVG(AMT_CREDIT) AS p_credit_mean, MAX(DAYS_DECISION) AS p_days_decision_max,
           AVG(CASE WHEN NAME_CONTRACT_STATUS = 'Refused' THEN 1 ELSE 0 END) AS p_refused_share
    FROM read_csv_auto('{raw}/previous_application.csv') GROUP BY SK_ID_CURR),
instalment_agg AS (
    SELECT SK_ID_CURR, COUNT(*) AS i_count,
           AVG(GREATEST(DAYS_ENTRY_PAYMENT - DAYS_INSTALMENT, 0)) AS i_dpd_mean,
           MAX(GREATEST(DAYS_ENTRY_PAYMENT - DAYS_INSTALMENT, 0)) AS i_dpd_max,
           AVG(AMT_PAYMENT / NULLIF(AMT_INSTALMENT, 0)) AS i_paid_ratio_mean
    FROM read_csv_auto('{raw}/installments_payments.csv') GROUP BY SK_ID_CURR)
SELECT a.*, b.* EXCLUDE (SK_ID_CURR), p.* EXCLUDE (SK_ID_CURR), i.* EXCLUDE (SK_ID_CURR)
FROM read_csv_auto('{raw}/application_train.csv') a
LEFT JOIN bureau_agg b USING (SK_ID_CURR)
LEFT JOIN previous_agg p USING (SK_ID_CURR)
LEFT JOIN instalment_agg i USING (SK_ID_CURR)
"""


def fresh_project(where: Path) -> Path:
    project = where / "project"
    project.mkdir()
    shutil.copy(ROOT / "pyproject.toml", project)
    (project / "src").mkdir()
    for env in ("base", "home_credit"):
        shutil.copytree(ROOT / "conf" / env, project / "conf" / env)
    (project / "conf" / "local").mkdir()
    return project


def measured(command: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``command`` in its own wrapper process: (seconds, its peak RSS in GB)."""
    wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", wrapper, *command], cwd=cwd, check=True,
                            capture_output=True, text=True,
                            env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"})
    return time.perf_counter() - started, int(result.stdout.split()[-1]) / 1024**2


def anchor(project: Path, costs: dict[str, float]) -> dict[str, float]:
    """DuckDB aggregates + LGBMClassifier(400, 0.05) on the project's train / test split."""
    started = time.perf_counter()
    raw = (project / RAW).as_posix()
    table = duckdb.sql(ANCHOR_SQL.format(raw=raw)).df().set_index("SK_ID_CURR")
    for column in table.select_dtypes(["object", "string"]).columns:
        table[column] = table[column].astype("category")
    schema = json.loads((project / "data/05_model_input/feature_schema.json").read_text())
    ids = {part: pd.read_parquet(project / f"data/05_model_input/model_input_{part}.parquet",
                                 columns=[schema["id_column"]])[schema["id_column"]]
           for part in ("train", "test")}
    X = table.drop(columns=["TARGET"])
    y = table["TARGET"]
    model = lightgbm.LGBMClassifier(n_estimators=400, learning_rate=0.05, verbose=-1,
                                    random_state=0)
    model.fit(X.loc[ids["train"]], y.loc[ids["train"]])
    pd_test = model.predict_proba(X.loc[ids["test"]])[:, 1]
    y_test = y.loc[ids["test"]].to_numpy()
    declined = pd_test >= 0.5
    cost = (costs["accept_bad"] * ((~declined) & (y_test == 1)).sum()
            + costs["decline_good"] * (declined & (y_test == 0)).sum()) / len(y_test)
    return {"seconds": time.perf_counter() - started, "test_roc_auc": roc_auc_score(y_test, pd_test),
            "expected_cost": cost}


def champion_result(project: Path) -> dict[str, float]:
    decision = pd.read_csv(project / "data/08_reporting/thresholding/decision.csv").set_index(
        "cut-off rule")
    scores = pd.read_parquet(project / "data/07_model_output/thresholding/test_scores.parquet")
    target = json.loads((project / "data/05_model_input/feature_schema.json").read_text())["target"]
    return {"test_roc_auc": roc_auc_score(scores[target], scores["pd"]),
            "expected_cost": float(decision.loc["cost-optimal", "expected_cost"]),
            "expected_cost_at_0.5": float(decision.loc["naive 0.5", "expected_cost"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applicants", type=int, default=307_511)
    parser.add_argument("--data", type=Path, help="generated files to reuse (default: generate)")
    parser.add_argument("--params", default="", help="extra `kedro run --params` overrides")
    parser.add_argument("--keep", type=Path, help="an empty folder for the project copy, kept "
                                                  "after the run (default: a temporary one)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        project = fresh_project(args.keep or Path(tmp))
        if args.data:
            shutil.copytree(args.data, project / RAW)
            generate_s = float("nan")
        else:
            generate_s, _ = measured([sys.executable, "-m", "credit_scoring", "synth", "home-credit",
                                      "--applicants", str(args.applicants), "--out",
                                      str(project / RAW)], project)
        command = [sys.executable, "-m", "kedro", "run", "--env", "home_credit"]
        wall_s, peak_gb = measured(command + (["--params", args.params] if args.params else []),
                                   project)
        stages = pd.read_csv(project / "data/08_reporting/stage_timings.csv")
        costs = {"accept_bad": 5.0, "decline_good": 1.0}
        cutoff = json.loads((project / "data/06_models/thresholding/cutoff.json").read_text())
        costs.update(cutoff["costs"])
        base = anchor(project, costs)
        champion = champion_result(project)
        summary = json.loads((project / "data/06_models/thresholding/champion_spec.json")
                             .read_text())

    print(f"{args.applicants:,} applicants; data generated in {generate_s:.0f} s\n")
    print(f"{'stage':<20} {'seconds':>8} {'peak GB':>8}")
    for row in stages.itertuples():
        print(f"{row.stage:<20} {row.seconds:>8.1f} {row.peak_rss_gb:>8.2f}")
    print(f"{'kedro run (wall)':<20} {wall_s:>8.1f} {peak_gb:>8.2f}   "
          f"targets: <= {TARGETS['wall_min'] * 60:.0f} s, <= {TARGETS['peak_gb']} GB")
    print(f"\nchampion: {summary['candidate']}")
    print(f"{'':<34} {'test AUC':>9} {'cost/applicant':>15}")
    print(f"{'champion (at its cut-off)':<34} {champion['test_roc_auc']:>9.4f} "
          f"{champion['expected_cost']:>15.4f}")
    print(f"{'anchor LightGBM (at 0.5), ' + format(base['seconds'], '.0f') + ' s':<34} "
          f"{base['test_roc_auc']:>9.4f} {base['expected_cost']:>15.4f}")
    margin = champion["test_roc_auc"] - base["test_roc_auc"]
    checks = {
        "wall": wall_s <= TARGETS["wall_min"] * 60,
        "memory": peak_gb <= TARGETS["peak_gb"],
        "AUC margin": margin >= TARGETS["auc_margin"],
        "cost": champion["expected_cost"] < base["expected_cost"],
    }
    print(f"\nAUC margin {margin:+.4f} (>= +{TARGETS['auc_margin']}); "
          + ", ".join(f"{name} {'ok' if ok else 'MISSED'}" for name, ok in checks.items()))
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
