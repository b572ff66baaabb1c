"""Kedro dataset that logs each model candidate as its own MLflow run.

kedro-mlflow logs one run per ``kedro run``; a model-risk reviewer wants one row per
candidate in the MLflow runs table, with its hyper-parameters, CV and test metrics and a
loadable model. Saving a ``{candidate: result}`` mapping through this dataset opens one
run per candidate, nested under the active pipeline run, so nodes stay pure functions
and never call ``mlflow`` themselves.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
import skops.io
from kedro.io import AbstractDataset, DatasetError
from mlflow.models import infer_signature

STAGE_TAG = "credit_scoring.stage"
CANDIDATE_TAG = "credit_scoring.candidate"


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
    scikit-learn compatible estimator exposing ``predict_proba``), ``params`` (a dict,
    flattened into run params), ``metrics`` (name -> float) and ``input_example`` (a few
    raw input rows, used for the model signature).
    """

    def __init__(
        self,
        stage: str,
        serialization_format: str = "skops",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """
        Args:
            stage: tag value that groups the runs of one pipeline (e.g. ``baselines``).
            serialization_format: how ``mlflow.sklearn`` stores the model; the default,
                ``skops``, loads without unpickling arbitrary code.
            metadata: free-form information for Kedro plugins (e.g. kedro-viz layer).
        """
        self._stage = stage
        self._serialization_format = serialization_format
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"stage": self._stage, "serialization_format": self._serialization_format}

    def _save(self, data: dict[str, dict[str, Any]]) -> None:
        for name, result in data.items():
            tags = {STAGE_TAG: self._stage, CANDIDATE_TAG: name}
            with mlflow.start_run(run_name=name, nested=mlflow.active_run() is not None, tags=tags):
                mlflow.log_params(flatten_params(result["params"]))
                mlflow.log_metrics(result["metrics"])
                self._log_model(result["model"], result["input_example"])

    def _log_model(self, model: Any, input_example: pd.DataFrame) -> None:
        pd_output = model.predict_proba(input_example)
        mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(input_example, pd_output),
            input_example=input_example,
            serialization_format=self._serialization_format,
            skops_trusted_types=self._trusted_types(model),
            pyfunc_predict_fn="predict_proba",
        )

    @staticmethod
    def _trusted_types(model: Any) -> list[str]:
        """The classes skops may rebuild: exactly those this project put into the model."""
        return skops.io.get_untrusted_types(data=skops.io.dumps(model))

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
