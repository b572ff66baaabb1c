"""Candidates land in a real MLflow store as one run each, with loadable models."""

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError

from credit_scoring.io.tracking import TRIAL_STAGE, MlflowCandidateRunsDataset, flatten_params
from credit_scoring.models.estimators import build_estimator
from credit_scoring.models.plots import importance_plot


def _candidate(seed, spec=None):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.choice(["x", "y", None], 60)})
    y = ((X["a"] > 0) | (X["b"] == "x")).astype(int)
    spec = spec or {"estimator": "sklearn.linear_model.LogisticRegression",
                    "preprocessing": "one_hot_scaled"}
    model = build_estimator(spec, {"numeric": ["a"], "categorical": ["b"]}, seed).fit(X, y)
    return {
        "model": model,
        "params": {"estimator": "logistic", "model": {"C": 1.0}},
        "metrics": {"cv_roc_auc_mean": 0.9},
        "input_example": X.head(3),
    }, X


def test_nested_params_are_flattened_with_dots():
    assert flatten_params({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {"a.b": 1, "a.c.d": 2, "e": 3}


def test_each_candidate_is_a_run_named_by_stage_nested_under_the_active_run_with_its_plots(
        tracking_store, tmp_path):
    first, X = _candidate(0)
    first["figures"] = {"feature_importance": importance_plot(pd.Series({"a": 2.0, "b": 1.0}),
                                                              "first")}
    dataset = MlflowCandidateRunsDataset(stage="baselines", plots_dir=str(tmp_path / "plots"))
    with mlflow.start_run(run_name="pipeline") as parent:
        dataset.save({"first": first, "second": _candidate(1)[0]})
    runs = mlflow.search_runs()
    children = runs[runs["tags.mlflow.parentRunId"] == parent.info.run_id]
    assert sorted(children["tags.mlflow.runName"]) == ["baselines/first", "baselines/second"]
    assert (children["params.model.C"] == "1.0").all()
    assert (children["metrics.cv_roc_auc_mean"] == 0.9).all()
    first_run = children.loc[children["tags.mlflow.runName"] == "baselines/first", "run_id"].item()
    logged = [a.path for a in mlflow.MlflowClient().list_artifacts(first_run, "plots")]
    assert logged == ["plots/feature_importance.png"]
    assert (tmp_path / "plots" / "first" / "feature_importance.png").stat().st_size > 1000

    uris = dataset.load()
    reloaded = mlflow.pyfunc.load_model(uris["first"])
    np.testing.assert_allclose(reloaded.predict(X), first["model"].predict_proba(X)[:, 1])
    signature_columns = reloaded.metadata.get_input_schema().input_names()
    assert signature_columns == ["a", "b"]


NATIVE_CASES = {
    "random_forest": ({"estimator": "sklearn.ensemble.RandomForestClassifier",
                       "params": {"n_estimators": 20}, "preprocessing": "one_hot"}, ".skops"),
    "xgboost": ({"estimator": "xgboost.XGBClassifier",
                 "params": {"n_estimators": 5, "enable_categorical": True},
                 "preprocessing": "native_categorical"}, ".ubj"),
    "lightgbm": ({"estimator": "lightgbm.LGBMClassifier",
                  "params": {"n_estimators": 5, "min_child_samples": 5, "verbose": -1},
                  "preprocessing": "native_categorical"}, ".txt"),
    "catboost": ({"estimator": "catboost.CatBoostClassifier",
                  "params": {"iterations": 5, "verbose": 0, "allow_writing_files": False},
                  "preprocessing": "native_categorical", "categorical_features_param": "cat_features"},
                 ".cbm"),
}


@pytest.mark.parametrize("family", NATIVE_CASES)
def test_model_is_stored_natively_and_scores_raw_rows_like_in_memory(tracking_store, tmp_path,
                                                                     family):
    spec, suffix = NATIVE_CASES[family]
    candidate, X = _candidate(3, spec)
    MlflowCandidateRunsDataset(stage="model_comparison").save({"candidate": candidate})
    uri = MlflowCandidateRunsDataset(stage="model_comparison").load()["candidate"]

    raw = X.assign(b=X["b"].where(X.index % 5 != 0, "never seen"))
    np.testing.assert_allclose(
        mlflow.pyfunc.load_model(uri).predict(raw),
        candidate["model"].predict_proba(raw)[:, 1],
        rtol=1e-6,
    )
    local = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / "dl")))
    assert (local / "artifacts" / f"estimator{suffix}").exists()
    assert not list(local.rglob("*.pkl"))  # nothing in the model is a pickle
    assert (local / "code" / "credit_scoring" / "decisions" / "scorer.py").exists()  # loads without this repo
    requirements = (local / "requirements.txt").read_text()
    assert f"{spec['estimator'].split('.')[0].replace('sklearn', 'scikit-learn')}==" in requirements


def test_load_without_runs_says_which_pipeline_to_run(tracking_store):
    with pytest.raises(DatasetError, match="kedro run --pipelines model_comparison"):
        MlflowCandidateRunsDataset(stage="model_comparison").load()


def test_trials_are_runs_nested_under_the_tuned_candidate_and_a_resumed_study_logs_new_ones(
        tracking_store):
    trials = pd.DataFrame({"study_name": "s.xgboost", "trial": [0, 1],
                           "state": ["PRUNED", "COMPLETE"], "cv_roc_auc_mean": [None, 0.8],
                           "partial_cv_roc_auc_mean": [0.6, None], "folds_scored": [2, 5],
                           "started": pd.to_datetime(["2026-01-02 10:00:00", "2026-01-02 10:00:01"],
                                                     utc=True),
                           "completed": pd.to_datetime(["2026-01-02 10:00:01",
                                                        "2026-01-02 10:00:03"], utc=True),
                           "duration_s": [1.0, 2.0], "param.max_depth": [3, 5]})
    dataset = MlflowCandidateRunsDataset(stage="tuning")
    with mlflow.start_run(run_name="tuning"):
        dataset.save({"xgboost_tuned": {**_candidate(0)[0], "trials": trials}})
    resumed = pd.concat([trials, trials.tail(1).assign(trial=2, **{"param.max_depth": 4})])
    # a second run of the same study: trials 0 and 1 are logged already
    dataset.save({"xgboost_tuned": {**_candidate(1)[0], "trials": resumed}})
    runs = mlflow.search_runs()
    tuned = runs[runs["tags.mlflow.runName"] == "tuning/xgboost_tuned"].sort_values("start_time")
    logged = (runs[runs["tags.credit_scoring.stage"] == TRIAL_STAGE]
              .set_index("tags.credit_scoring.trial").sort_index())
    assert list(logged.index) == ["s.xgboost#0", "s.xgboost#1", "s.xgboost#2"]
    assert list(logged["params.max_depth"]) == ["3", "5", "4"]
    assert logged.loc["s.xgboost#1", "metrics.cv_roc_auc_mean"] == 0.8
    # a pruned trial's mean over the folds it scored is not a finished trial's CV mean
    assert pd.isna(logged.loc["s.xgboost#0", "metrics.cv_roc_auc_mean"])
    assert logged.loc["s.xgboost#0", "metrics.partial_cv_roc_auc_mean"] == 0.6
    assert list(logged["metrics.folds_scored"]) == [2, 5, 5]
    assert list(logged["status"]) == ["KILLED", "FINISHED", "FINISHED"]
    assert list(logged["tags.state"]) == ["PRUNED", "COMPLETE", "COMPLETE"]
    assert list(logged["tags.mlflow.parentRunId"]) == [*[tuned["run_id"].iloc[0]] * 2,
                                                       tuned["run_id"].iloc[1]]
    assert list(logged["tags.mlflow.runName"]) == ["trial 0 (pruned after fold 2)", "trial 1",
                                                   "trial 2"]
    # each trial's run spans the trial itself, not the moment the study was logged
    assert list(logged["start_time"].dt.strftime("%H:%M:%S")) == ["10:00:00", "10:00:01",
                                                                  "10:00:01"]
    assert list((logged["end_time"] - logged["start_time"]).dt.total_seconds()) == [1, 2, 2]
