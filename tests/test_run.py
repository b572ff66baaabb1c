"""Session-level tests: real `kedro run`s of a project copy against a temporary MLflow database."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from .conftest import LOAN_BOOK_PARAMS, make_loan_book, write_yaml

pytestmark = pytest.mark.integration


def kedro_run(project: Path, *pipelines: str, check: bool = True) -> subprocess.CompletedProcess:
    """`kedro run [--pipelines ...]` in the project copy, exactly as a user types it."""
    command = [sys.executable, "-m", "kedro", "run"]
    if pipelines:
        command += ["--pipelines", ",".join(pipelines)]
    result = subprocess.run(command, check=False, cwd=project, capture_output=True, text=True)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result


def tracked_runs(project: Path) -> pd.DataFrame:
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlruns' / 'mlflow.db'}")
    return mlflow.search_runs(experiment_names=["credit_scoring"])


def candidate_runs(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["tags.credit_scoring.stage"].notna()].set_index("tags.mlflow.runName")


def test_default_run_tracks_params_metrics_and_loadable_models(project_copy):
    kedro_run(project_copy)

    runs = tracked_runs(project_copy)
    parent = runs[runs["tags.mlflow.runName"] == "__default__"].iloc[0]
    # conf/local/mlflow.yml moved the store; conf/base's flattened params still apply
    assert parent["artifact_uri"].startswith((project_copy / "team_store").as_uri())
    assert parent["params.data_processing.split.random_state"] == "42"
    assert parent["params.baselines.candidates.logistic_regression.params.C"] == "0.1"
    candidates = candidate_runs(runs)
    assert sorted(candidates.index) == ["logistic_regression", "prior_only"]
    assert (candidates["tags.mlflow.parentRunId"] == parent["run_id"]).all()

    logistic = candidates.loc["logistic_regression"]
    assert 0.75 <= logistic["metrics.cv_roc_auc_mean"] <= 0.82
    assert logistic["metrics.cv_gini_mean"] == pytest.approx(
        2 * logistic["metrics.cv_roc_auc_mean"] - 1
    )
    for metric in ("ks", "pr_auc", "brier", "log_loss"):
        assert logistic[f"metrics.test_{metric}"] > 0
    assert candidates.loc["prior_only", "metrics.cv_roc_auc_mean"] == pytest.approx(0.5)

    test_rows = pd.read_parquet(project_copy / "data/05_model_input/model_input_test.parquet")
    model = mlflow.pyfunc.load_model(f"runs:/{logistic['run_id']}/model")
    pd_ = model.predict(test_rows.drop(columns="creditability"))[:, 1]
    assert pd_.shape == (250,) and ((pd_ > 0) & (pd_ < 1)).all()

    report = pd.read_csv(project_copy / "data/08_reporting/baseline_metrics.csv")
    assert report["candidate"].tolist() == ["logistic_regression", "prior_only"]
    artifacts = mlflow.MlflowClient().list_artifacts(parent["run_id"])
    assert "baseline_metrics.csv" in [a.path for a in artifacts]


def test_pipelines_run_alone_and_rerun_gives_identical_metrics(project_copy):
    kedro_run(project_copy, "data_processing")
    assert (project_copy / "data/05_model_input/model_input_train.parquet").exists()
    kedro_run(project_copy, "baselines")
    kedro_run(project_copy, "baselines")

    runs = tracked_runs(project_copy)
    assert sorted(runs["tags.mlflow.runName"].unique()) == [
        "baselines", "data_processing", "logistic_regression", "prior_only"
    ]
    logistic = candidate_runs(runs).loc["logistic_regression"]
    metric_columns = [c for c in logistic.columns if c.startswith("metrics.cv_roc") or
                      c.startswith("metrics.test_")]
    first, second = logistic.iloc[0], logistic.iloc[1]
    for column in metric_columns:
        assert first[column] == second[column], column


def test_another_applicant_table_runs_by_config_alone(project_copy):
    make_loan_book(n_rows=600).to_csv(project_copy / "data/01_raw/loan_book.csv", index=False)
    local = project_copy / "conf" / "local"
    write_yaml(local / "catalog.yml", {
        "applicants_raw": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/loan_book.csv"}
    })
    write_yaml(local / "parameters_data_processing.yml", {"data_processing": LOAN_BOOK_PARAMS})

    kedro_run(project_copy)

    logistic = candidate_runs(tracked_runs(project_copy)).loc["logistic_regression"]
    assert logistic["metrics.cv_roc_auc_mean"] > 0.6  # the synthetic risk signal is learnt
    train = pd.read_parquet(project_copy / "data/05_model_input/model_input_train.parquet")
    assert {"loan_to_income", "cv_fold", "defaulted"} <= set(train.columns)
    assert set(train["cv_fold"]) == {0, 1, 2}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_bad_input_fails_before_training_and_keeps_earlier_results(project_copy):
    kedro_run(project_copy)
    model_input = project_copy / "data/05_model_input/model_input_train.parquet"
    before = _digest(model_input)
    runs_before = tracked_runs(project_copy)

    raw = pd.read_csv(project_copy / "data/01_raw/germancredit.csv")
    raw["creditability"] = np.where(raw.index % 3 == 0, "bad", "unknown")
    raw.to_csv(project_copy / "data/01_raw/germancredit.csv", index=False)
    failed = kedro_run(project_copy, check=False)
    assert failed.returncode != 0
    assert "ApplicantDataError" in failed.stderr + failed.stdout
    assert "creditability" in failed.stderr + failed.stdout

    assert _digest(model_input) == before
    runs_after = tracked_runs(project_copy)
    kept = runs_after.set_index("run_id").loc[runs_before["run_id"]]
    assert (kept["status"] == "FINISHED").all()
    new = runs_after[~runs_after["run_id"].isin(runs_before["run_id"])]
    assert new["status"].tolist() == ["FAILED"]
