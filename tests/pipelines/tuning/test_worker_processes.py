"""Tuning as real `kedro run --pipelines tuning` processes: parallel workers and kill -9."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import mlflow
import optuna
import pandas as pd
import pytest
import yaml

from tests.conftest import (
    candidate_runs,
    kedro_command,
    kedro_run,
    make_project_copy,
    tracked_runs,
    tracking_uri,
    use_small_trees,
    use_small_tuning,
    write_yaml,
)

pytestmark = pytest.mark.integration

N_TRIALS = 6


@pytest.fixture(scope="module")
def model_input_ready(tmp_path_factory) -> Path:
    """feature_engineering and data_processing run once, and the family model_comparison would select (a small
    random forest) written where it persists it: what tuning reads."""
    project = make_project_copy(tmp_path_factory.mktemp("before_tuning") / "project")
    use_small_trees(project)
    kedro_run(project, "feature_engineering", "data_processing")
    config = yaml.safe_load((project / "conf/local/parameters_model_comparison.yml").read_text())
    forest = config["model_comparison"]["candidates"]["random_forest"]
    (project / "data/06_models/selected_family.json").write_text(
        json.dumps({"candidate": "random_forest", "spec": forest})
    )
    return project


@pytest.fixture
def tuning_project(tmp_path, model_input_ready) -> Path:
    """A fresh project copy (own MLflow database, no study yet) holding tuning's inputs."""
    project = make_project_copy(tmp_path / "project")
    shutil.copytree(model_input_ready / "data", project / "data", dirs_exist_ok=True)
    shutil.copytree(model_input_ready / "conf" / "local", project / "conf" / "local",
                    dirs_exist_ok=True, ignore=shutil.ignore_patterns("mlflow.yml"))
    use_small_tuning(project, n_trials=N_TRIALS)
    use_small_search_spaces(project)
    # the experiment exists before two workers start, as after any earlier run: two
    # processes creating one MLflow database at once race on its schema migration
    mlflow.set_tracking_uri(tracking_uri(project))
    mlflow.create_experiment("credit_scoring", artifact_location=str(project / "team_store"))
    return project


def use_small_search_spaces(project: Path, low: int = 20, high: int = 40) -> None:
    """At most 40 trees per trial (by default), so a trial takes a fraction of a second."""
    path = project / "conf/local/parameters_tuning.yml"
    config = yaml.safe_load(path.read_text())
    spaces = config["tuning"]["search_spaces"]
    for family, trees in (("random_forest", "n_estimators"), ("xgboost", "n_estimators"),
                          ("catboost", "iterations")):
        spaces[family][trees] = {"type": "int", "low": low, "high": high, "step": 10}
    write_yaml(path, config)


def load_study(project: Path) -> optuna.Study:
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
        str(project / "data/06_models/optuna/journal.log")
    ))
    summaries = optuna.get_all_study_summaries(storage)
    selected = pd.read_json(project / "data/06_models/selected_family.json", typ="series")
    assert [s.study_name for s in summaries] == [f"credit_scoring.{selected['candidate']}"]
    return optuna.load_study(study_name=summaries[0].study_name, storage=storage)


def finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(states=(optuna.trial.TrialState.COMPLETE,
                                    optuna.trial.TrialState.PRUNED))


def test_two_tuning_processes_share_one_study_and_finish_exactly_n_trials(tuning_project):
    # trials long enough (~1 s each) that the second worker's start-up, which varies by
    # seconds on a busy 2-core machine, never finds the whole budget already done
    use_small_search_spaces(tuning_project, low=200, high=300)
    workers = [subprocess.Popen(kedro_command("tuning"), cwd=tuning_project,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    errors = [worker.communicate()[1] for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], errors[0][-2000:] + errors[1][-2000:]

    study = load_study(tuning_project)
    assert len(finished(study)) == N_TRIALS
    surplus = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert all("not_run" in t.user_attrs for t in surplus)

    runs = tracked_runs(tuning_project)
    workers_runs = runs[runs["tags.mlflow.runName"] == "tuning"]
    assert len(workers_runs) == 2
    tuned = candidate_runs(runs, "tuning")
    assert len(tuned) == 2
    assert set(tuned["tags.mlflow.parentRunId"]) == set(workers_runs["run_id"])
    trials = runs[runs["tags.credit_scoring.stage"] == "tuning.trial"]
    assert len(trials) == N_TRIALS  # every finished trial, no surplus one
    # each under the tuned candidate of the worker that ran it; both worked
    assert set(trials["tags.mlflow.parentRunId"]) == set(tuned["run_id"])
    assert trials["metrics.cv_roc_auc_mean"].notna().any()
    assert (tuned["metrics.test_roc_auc"] > 0.6).all()
    assert (tuned["metrics.cv_roc_auc_mean"] >= tuned["metrics.untuned_cv_roc_auc_mean"] - 1e-9).all()
    spec = pd.read_json(tuning_project / "data/06_models/tuned_model_spec.json", typ="series")
    selected = pd.read_json(tuning_project / "data/06_models/selected_family.json", typ="series")
    assert spec["family"] == selected["candidate"]
    for plot in ("optimization_history", "param_importances", "slice"):
        assert (tuning_project / f"data/08_reporting/tuning/{spec['candidate']}/{plot}.png"
                ).stat().st_size > 0


def kill_mid_trial(project: Path, timeout_s: float = 120) -> None:
    """Start tuning and ``kill -9`` it once a trial has completed and the next one runs."""
    worker = subprocess.Popen(kedro_command("tuning"), cwd=project, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and worker.poll() is None:
            trials = trials_so_far(project)
            if (any(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
                    and trials[-1].state == optuna.trial.TrialState.RUNNING
                    and "worker" in trials[-1].user_attrs):
                return
            time.sleep(0.05)
        pytest.fail("tuning ended or stalled before a trial completed")
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()  # reaped: its pid no longer exists


def trials_so_far(project: Path) -> list[optuna.trial.FrozenTrial]:
    if not (project / "data/06_models/optuna/journal.log").exists():
        return []
    try:
        return load_study(project).trials
    except AssertionError:  # the study is not created yet
        return []


def test_a_rerun_after_kill_9_fails_the_interrupted_trial_and_completes_the_budget(
    tuning_project,
):
    kill_mid_trial(tuning_project)
    before = load_study(tuning_project).trials
    interrupted = [t.number for t in before if t.state == optuna.trial.TrialState.RUNNING]
    done = [t.number for t in before if t.state == optuna.trial.TrialState.COMPLETE]
    assert interrupted and done
    runs = tracked_runs(tuning_project)
    killed_run = runs[runs["status"] == "RUNNING"]["run_id"].tolist()
    assert len(killed_run) == 1  # the killed process's tuning run

    kedro_run(tuning_project, "tuning")

    study = load_study(tuning_project)
    states = {t.number: t.state for t in study.trials}
    assert all(states[n] == optuna.trial.TrialState.FAIL for n in interrupted)
    assert all(states[n] == optuna.trial.TrialState.COMPLETE for n in done)
    assert len(finished(study)) == N_TRIALS
    runs = tracked_runs(tuning_project).set_index("run_id")
    # the project's before_pipeline_run hook fails MLflow runs whose process is gone
    assert runs.loc[killed_run[0], "status"] == "FAILED"
