"""Kedro datasets that log each model candidate as its own MLflow run.

kedro-mlflow logs one run per ``kedro run``; a model-risk reviewer wants one row per
candidate in the MLflow runs table, with its hyper-parameters, CV and test metrics, its
plots and a loadable model. Saving a ``{candidate: result}`` mapping through
``MlflowCandidateRunsDataset`` opens one run per candidate (``<stage>/<candidate>``),
nested under the active pipeline run, and a tuned candidate's trials nested under it; so
nodes stay pure functions and never call ``mlflow`` themselves.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import mlflow
import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from matplotlib.figure import Figure
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from credit_scoring.decisions.scorer import PDScorer
from credit_scoring.io.model_store import log_pd_model
from credit_scoring.models.families import family_name

STAGE_TAG = "credit_scoring.stage"
CANDIDATE_TAG = "credit_scoring.candidate"
TRIAL_STAGE = "tuning.trial"
TRIAL_TAG = "credit_scoring.trial"

logger = logging.getLogger(__name__)


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


def log_figures(figures: dict[str, Figure], local_dir: Path | None = None) -> None:
    """Each figure as ``plots/<name>.png`` of the active run (and ``<local_dir>/<name>.png``)."""
    for name, figure in figures.items():
        mlflow.log_figure(figure, f"plots/{name}.png")
        if local_dir is not None:
            local_dir.mkdir(parents=True, exist_ok=True)
            figure.savefig(local_dir / f"{name}.png", dpi=120)
        plt.close(figure)


def log_trial_runs(trials: pd.DataFrame) -> None:
    """One run per finished hyper-parameter trial, nested under the active run.

    ``trials`` has a row per trial (``study_name``, ``trial``, ``state``, ``started`` and
    ``completed`` timestamps, the objective, ``folds_scored``, ``duration_s`` and
    ``param.<name>`` columns; see ``tuning.nodes.trials_table``). Each run keeps its trial's
    own start and end, so the runs table shows when and how long each trial ran. A pruned
    trial's run is named ``trial <n> (pruned after fold <k>)`` and ends KILLED, so it does
    not pass for a finished one. A trial already logged by an earlier run of the same study
    (tag ``credit_scoring.trial``) is not logged again, so a resumed study adds only its new
    trials.
    """
    if trials.empty:  # e.g. a rerun of a study whose budget was already spent
        return
    logged = set(mlflow.search_runs(filter_string=f"tags.`{STAGE_TAG}` = '{TRIAL_STAGE}'")
                 .get(f"tags.{TRIAL_TAG}", pd.Series(dtype=str)))
    parent = mlflow.active_run().info
    client = MlflowClient()
    metrics = [c for c in trials.columns
               if c.startswith(("cv_", "partial_cv_")) or c in ("folds_scored", "duration_s")]
    for row in trials.to_dict(orient="records"):
        key = f"{row['study_name']}#{row['trial']}"
        if key in logged:
            continue
        pruned = row["state"] == "PRUNED"
        name = (f"trial {row['trial']} (pruned after fold {row['folds_scored']})" if pruned
                else f"trial {row['trial']}")
        started, completed = (int(row[c].timestamp() * 1000) for c in ("started", "completed"))
        run = client.create_run(
            parent.experiment_id, start_time=started, run_name=name,
            tags={STAGE_TAG: TRIAL_STAGE, TRIAL_TAG: key, "state": row["state"],
                  "mlflow.parentRunId": parent.run_id})
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, float(row[k]), completed, 0) for k in metrics if not pd.isna(row[k])],
            params=[Param(k.removeprefix("param."), str(v)) for k, v in row.items()
                    if k.startswith("param.") and not pd.isna(v)])
        client.set_terminated(run.info.run_id, "KILLED" if pruned else "FINISHED",
                              end_time=completed)


class MlflowCandidateRunsDataset(AbstractDataset[dict[str, dict[str, Any]], dict[str, str]]):
    """Save: one MLflow run per candidate. Load: the latest model URI of each candidate.

    Each saved value maps a candidate name to a dict with ``model`` (a fitted
    scikit-learn ``Pipeline`` of preprocessing steps and a final estimator exposing
    ``predict_proba``; logged as a PD-only ``scorer.PDModel``; absent for thresholding's
    blend, which is fitted only if it wins), ``params`` (a dict,
    flattened into run params), ``metrics`` (name -> float), ``input_example`` (a few
    raw input rows, used for the model signature) and optionally ``figures`` (name ->
    matplotlib figure, logged as ``plots/<name>.png``) and ``trials`` (a tuning study's
    trials, see ``log_trial_runs``, logged as runs nested under the candidate's run).
    The run is named ``<stage>/<candidate>``.
    """

    def __init__(self, stage: str, plots_dir: str | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        """
        Args:
            stage: tag value that groups the runs of one pipeline (e.g. ``baselines``).
            plots_dir: folder that also receives each candidate's figures, in
                ``<plots_dir>/<candidate>/``.
            metadata: free-form information for Kedro plugins (e.g. kedro-viz layer).
        """
        self._stage = stage
        self._plots_dir = Path(plots_dir) if plots_dir else None
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"stage": self._stage}

    def _save(self, data: dict[str, dict[str, Any]]) -> None:
        for name, result in data.items():
            tags = {STAGE_TAG: self._stage, CANDIDATE_TAG: name}
            with mlflow.start_run(run_name=f"{self._stage}/{name}", tags=tags,
                                  nested=mlflow.active_run() is not None):
                mlflow.log_params(flatten_params(result["params"]))
                mlflow.log_metrics(result["metrics"])
                model = result.get("model")
                if model is not None:  # a blend competes before any member is refitted
                    log_pd_model(PDScorer(family_name(model[-1]), model[:-1], model[-1]),
                                 result["input_example"])
                log_figures(result.get("figures", {}),
                            self._plots_dir / name if self._plots_dir else None)
                if result.get("trials") is not None:
                    log_trial_runs(result["trials"])

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
