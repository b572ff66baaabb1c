"""Kedro dataset that logs each model candidate as its own MLflow run.

kedro-mlflow logs one run per ``kedro run``; a model-risk reviewer wants one row per
candidate in the MLflow runs table, with its hyper-parameters, CV and test metrics and a
loadable model. Saving a ``{candidate: result}`` mapping through this dataset opens one
run per candidate, nested under the active pipeline run, so nodes stay pure functions
and never call ``mlflow`` themselves.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import mlflow.catboost
import mlflow.sklearn
import mlflow.xgboost
import pandas as pd
import skops.io
from kedro.io import AbstractDataset, DatasetError
from mlflow.models import infer_signature
from sklearn.pipeline import Pipeline

PD_MODEL_CODE = str(Path(__file__).with_name("pd_model.py"))
STAGE_TAG = "credit_scoring.stage"
CANDIDATE_TAG = "credit_scoring.candidate"


def _trusted_types(obj: Any) -> list[str]:
    """The classes skops may rebuild on load: exactly those this project put into ``obj``."""
    return skops.io.get_untrusted_types(data=skops.io.dumps(obj))


def _save_sklearn(estimator: Any, path: Path) -> None:
    mlflow.sklearn.save_model(
        estimator, path, serialization_format="skops",
        skops_trusted_types=_trusted_types(estimator),
    )


NATIVE_FLAVOURS: dict[str, Callable[[Any, Path], None]] = {
    "sklearn": _save_sklearn,
    "xgboost": lambda estimator, path: mlflow.xgboost.save_model(estimator, path, model_format="ubj"),
    "catboost": mlflow.catboost.save_model,
}
"""Top-level package of a fitted estimator -> how its native MLflow flavour saves it."""


def _requirements(flavour: str) -> list[str]:
    """Pinned packages the logged PD model needs: MLflow, skops, pandas and its framework."""
    packages = ["mlflow", "skops", "pandas", "numpy", "scikit-learn"]
    if flavour != "sklearn":
        packages.append(flavour)
    return [f"{package}=={version(package)}" for package in packages]


def flatten_params(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested parameter dict -> dotted keys, the layout kedro-mlflow uses for run params."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_params(value, prefix=f"{name}."))
        else:
            flat[name] = value
    return flat


class MlflowCandidateRunsDataset(AbstractDataset[dict[str, dict[str, Any]], dict[str, str]]):
    """Save: one MLflow run per candidate. Load: the latest model URI of each candidate.

    Each saved value maps a candidate name to a dict with ``model`` (a fitted
    scikit-learn ``Pipeline`` of preprocessing steps and a final estimator exposing
    ``predict_proba``; logged as a ``pd_model.PDModel``), ``params`` (a dict,
    flattened into run params), ``metrics`` (name -> float) and ``input_example`` (a few
    raw input rows, used for the model signature).
    """

    def __init__(self, stage: str, metadata: dict[str, Any] | None = None) -> None:
        """
        Args:
            stage: tag value that groups the runs of one pipeline (e.g. ``baselines``).
            metadata: free-form information for Kedro plugins (e.g. kedro-viz layer).
        """
        self._stage = stage
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"stage": self._stage}

    def _save(self, data: dict[str, dict[str, Any]]) -> None:
        for name, result in data.items():
            tags = {STAGE_TAG: self._stage, CANDIDATE_TAG: name}
            with mlflow.start_run(run_name=name, nested=mlflow.active_run() is not None, tags=tags):
                mlflow.log_params(flatten_params(result["params"]))
                mlflow.log_metrics(result["metrics"])
                self._log_model(result["model"], result["input_example"])

    def _log_model(self, model: Pipeline, input_example: pd.DataFrame) -> None:
        """Log ``model`` as a PD pyfunc whose estimator is stored in its native flavour."""
        preprocess, estimator = model[:-1], model[-1]
        flavour = type(estimator).__module__.split(".")[0]
        if flavour not in NATIVE_FLAVOURS:
            raise ValueError(
                f"No MLflow flavour configured for {type(estimator).__name__} ('{flavour}'); "
                f"add it to credit_scoring.tracking.NATIVE_FLAVOURS."
            )
        with tempfile.TemporaryDirectory() as tmp:
            preprocessing_path = Path(tmp) / "preprocessing.skops"
            skops.io.dump(preprocess, preprocessing_path)
            estimator_path = Path(tmp) / "estimator"
            NATIVE_FLAVOURS[flavour](estimator, estimator_path)
            mlflow.pyfunc.log_model(
                name="model",
                python_model=PD_MODEL_CODE,
                artifacts={
                    "preprocessing": str(preprocessing_path),
                    "estimator": str(estimator_path),
                },
                model_config={
                    "estimator_flavour": flavour,
                    "preprocessing_trusted_types": _trusted_types(preprocess),
                },
                signature=infer_signature(input_example, model.predict_proba(input_example)[:, 1]),
                input_example=input_example,
                # declared, not inferred: inference reloads the model in a subprocess
                pip_requirements=_requirements(flavour),
            )

    def _load(self) -> dict[str, str]:
        runs = mlflow.search_runs(
            filter_string=f"tags.`{STAGE_TAG}` = '{self._stage}' and status = 'FINISHED'",
            order_by=["start_time DESC"],
        )
        if runs.empty:
            raise DatasetError(
                f"No finished MLflow runs of stage '{self._stage}' in the current experiment; "
                f"run `kedro run --pipelines {self._stage}` first."
            )
        latest = runs.drop_duplicates(subset=f"tags.{CANDIDATE_TAG}")
        return {
            row[f"tags.{CANDIDATE_TAG}"]: f"runs:/{row['run_id']}/model"
            for _, row in latest.iterrows()
        }
