"""Candidates land in a real MLflow store as one run each, with loadable models."""

import mlflow
import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from credit_scoring.tracking import MlflowCandidateRunsDataset, flatten_params


@pytest.fixture
def tracking_store(tmp_path, monkeypatch):
    """A throw-away SQLite tracking store whose artifacts stay under tmp_path."""
    monkeypatch.chdir(tmp_path)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.create_experiment("tracking_test", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment("tracking_test")
    yield
    mlflow.set_tracking_uri(previous)


def _candidate(seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    y = (X["a"] > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    return {
        "model": model,
        "params": {"estimator": "logistic", "model": {"C": 1.0}},
        "metrics": {"cv_roc_auc_mean": 0.9},
        "input_example": X.head(3),
    }, X


def test_nested_params_are_flattened_with_dots():
    assert flatten_params({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {"a.b": 1, "a.c.d": 2, "e": 3}


def test_each_candidate_is_a_run_nested_under_the_active_run(tracking_store):
    first, X = _candidate(0)
    dataset = MlflowCandidateRunsDataset(stage="baselines")
    with mlflow.start_run(run_name="pipeline") as parent:
        dataset.save({"first": first, "second": _candidate(1)[0]})
    runs = mlflow.search_runs()
    children = runs[runs["tags.mlflow.parentRunId"] == parent.info.run_id]
    assert sorted(children["tags.mlflow.runName"]) == ["first", "second"]
    assert (children["params.model.C"] == "1.0").all()
    assert (children["metrics.cv_roc_auc_mean"] == 0.9).all()

    uris = dataset.load()
    reloaded = mlflow.pyfunc.load_model(uris["first"])
    np.testing.assert_allclose(reloaded.predict(X), first["model"].predict_proba(X))
    signature_columns = reloaded.metadata.get_input_schema().input_names()
    assert signature_columns == ["a", "b"]


def test_load_without_runs_says_which_pipeline_to_run(tracking_store):
    with pytest.raises(DatasetError, match="kedro run --pipelines model_comparison"):
        MlflowCandidateRunsDataset(stage="model_comparison").load()
