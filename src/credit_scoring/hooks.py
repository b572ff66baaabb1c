"""Project hooks: checks before any node runs, and MLflow runs left behind by killed processes.

- ``SetupChecks`` runs at ``after_context_created``, before kedro-mlflow opens the tracking
  store: the ``--env`` folder must exist, and an embedded (SQLite) store must be readable and
  hold the champion the project's records name (``io.tracking_store``), else MLflow would
  silently start an empty one.
- ``ParameterChecks`` runs first at ``before_pipeline_run`` (before kedro-mlflow opens the
  run, so a refused run leaves nothing in the tracking store): the parameter blocks the
  run uses are validated (``credit_scoring.parameters``), and every input the run reads
  but does not produce must already exist, else the error names the dataset, its file
  and the pipeline that writes it.
- ``StaleRuns`` runs last, once kedro-mlflow has opened the run: MLflow runs still
  RUNNING whose process on this host is gone (``kill -9``, a power cut) are marked
  FAILED, model versions whose registration they left unfinished are tagged incomplete,
  and the new run is tagged with its host and process id for the next check.
- ``RunsTable`` runs last too: names the whole workflow's run ``kedro run`` (kedro-mlflow
  calls it ``__default__``), sets the experiment tags of conf/*/mlflow.yml on an experiment
  that already exists (the UI's kind and description; a shared view as the saved view the
  UI's "Views" menu lists) and logs the link to that view when the run ends.
- ``StageTimings`` measures the time and peak memory of every stage of a run.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import pkgutil
import resource
import time
import zlib
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset, CachedDataset
from kedro.pipeline import Pipeline
from mlflow.entities import RunStatus
from mlflow.tracking import MlflowClient

from credit_scoring import pipelines
from credit_scoring.io.optuna_storage import refuse_passwords_in
from credit_scoring.io.processes import process_alive, this_process
from credit_scoring.io.registry import MlflowChampionDataset
from credit_scoring.io.tracking_store import (
    champion_record,
    check_tracking_store,
    sqlite_path,
)
from credit_scoring.models.progress import duration
from credit_scoring.parameters import MODELS, validate_parameters

logger = logging.getLogger(__name__)

HOST_TAG = "credit_scoring.host"
PID_TAG = "credit_scoring.pid"


class MissingInputError(RuntimeError):
    """Raised when a pipeline run alone needs what an earlier pipeline has not written yet."""


class EnvironmentNotFoundError(RuntimeError):
    """``--env`` names a configuration folder that does not exist."""


def check_environment(conf_source: Path, env: str | None) -> None:
    """``kedro run --env prodd``: Kedro reads conf/base alone, and what fails later (MLflow's
    "filesystem tracking backend" error) says nothing about the typo."""
    if env and not (conf_source / env).is_dir():
        known = sorted(p.name for p in conf_source.iterdir() if p.is_dir())
        raise EnvironmentNotFoundError(
            f"--env {env}: there is no configuration folder {conf_source / env}. The "
            f"environments of this project are {known}; check the spelling, or create the "
            "folder with the files that differ from conf/base.")


def champion_records(catalog: dict[str, Any], project_path: Path) -> list[dict[str, Any]]:
    """The local records (champion.json) of every registered model the catalog promotes to."""
    records = []
    for entry in catalog.values():
        if isinstance(entry, dict) and str(entry.get("type", "")).endswith(
                "MlflowChampionDataset") and entry.get("local_dir"):
            record = champion_record(project_path / entry["local_dir"])
            records += [record] if record else []
    return records


class SetupChecks:
    @hook_impl(tryfirst=True)  # before kedro-mlflow's, which opens (and creates) the store
    def after_context_created(self, context) -> None:
        loader = context.config_loader
        check_environment(Path(loader.conf_source), context.env)
        if mlflow.active_run():  # kedro-mlflow then ignores mlflow.yml
            return
        loader.config_patterns.setdefault("mlflow", ["mlflow*", "mlflow*/**", "**/mlflow*"])
        try:
            server = loader["mlflow"].get("server") or {}
        except MissingConfigException:
            return
        tracking = server.get("mlflow_tracking_uri")
        registry = server.get("mlflow_registry_uri") or tracking
        records = champion_records(loader["catalog"], Path(context.project_path))
        setting = f"mlflow.yml in {Path(loader.conf_source).name}/"
        # the registry's store is the one that must hold the recorded champions
        stores = {sqlite_path(tracking): [], sqlite_path(registry): records}
        for store, expected in stores.items():
            if store is not None:
                check_tracking_store(store, expected, setting)


def _unwrapped(dataset: AbstractDataset) -> AbstractDataset:
    return dataset._dataset if isinstance(dataset, CachedDataset) else dataset


def _can_tell(dataset: AbstractDataset) -> bool:
    """Whether ``exists`` answers for this dataset type (it implements ``_exists``)."""
    return type(dataset)._exists is not AbstractDataset._exists


def _where(dataset: AbstractDataset) -> str:
    description = dataset._describe()
    location = str(description.get("filepath") or description.get("registered_model_name") or "")
    if Path(location).is_absolute() and Path(location).is_relative_to(Path.cwd()):
        location = str(Path(location).relative_to(Path.cwd()))  # as the catalog spells it
    location += "".join(f" {key} {description[key]}" for key in ("version", "alias")
                        if description.get(key))  # a registered model's version or alias
    return f" ({location})" if location else ""


def _writers(dataset: AbstractDataset, catalog) -> list[str]:
    """Pipelines that write ``dataset``, under its own name or another entry for the same data
    (``scoring_model`` reads the registry alias that thresholding's ``champion`` moves)."""
    described = dataset._describe()
    return sorted(
        name for name, pipeline in _all_pipelines().items()
        if any(output in catalog and _unwrapped(catalog.get(output))._describe() == described
               for output in pipeline.all_outputs())
    )


def _all_pipelines() -> dict[str, Pipeline]:
    """Every pipeline folder's ``create_pipeline()``: Kedro 1.7 registers only those a
    ``kedro run --pipelines`` names, but the hint must know who writes what."""
    return {
        module.name: importlib.import_module(f"{pipelines.__name__}.{module.name}")
        .create_pipeline()
        for module in pkgutil.iter_modules(pipelines.__path__)
    }


def missing_inputs(pipeline: Pipeline, catalog) -> list[str]:
    """One line per free input of ``pipeline`` that does not exist yet, with the fix."""
    problems = []
    for name in sorted(pipeline.inputs()):
        if name.startswith("params:") or name == "parameters" or name not in catalog:
            continue
        dataset = _unwrapped(catalog.get(name))
        if not _can_tell(dataset) or dataset.exists():
            continue
        writers = _writers(dataset, catalog)
        fix = (f"run `kedro run --pipelines {writers[0]}` (or the whole `kedro run`) first"
               if writers else "name a version or alias the registry holds (the MLflow UI "
               "lists them under Models)" if "registered_model_name" in dataset._describe()
               else "point its catalog entry at an existing file")
        problems.append(f"'{name}'{_where(dataset)} does not exist yet: {fix}.")
    return problems


class ParameterChecks:
    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline, catalog) -> None:
        used = {name.removeprefix("params:").split(".")[0]
                for name in pipeline.inputs() if name.startswith("params:")}
        parameters = catalog.load("parameters")
        refuse_passwords_in(parameters, "")  # before kedro-mlflow logs them as run params
        validate_parameters(parameters, sorted(used & set(MODELS)))
        problems = missing_inputs(pipeline, catalog)
        if problems:
            raise MissingInputError(
                "This run reads what an earlier pipeline writes:\n- " + "\n- ".join(problems)
            )


def fail_stale_runs(client: MlflowClient, experiment_id: str, host: str) -> list[str]:
    """Mark FAILED the RUNNING runs started on ``host`` by a process that is gone, and
    their RUNNING child runs; returns their ids."""
    running = client.search_runs([experiment_id], "attributes.status = 'RUNNING'",
                                 max_results=1000)
    stale = {run.info.run_id for run in running
             if run.data.tags.get(HOST_TAG) == host
             and run.data.tags.get(PID_TAG, "").isdigit()
             and not process_alive(int(run.data.tags[PID_TAG]))}
    children = {run.info.run_id for run in running
                if run.data.tags.get("mlflow.parentRunId") in stale}
    for run_id in sorted(stale | children):
        client.set_terminated(run_id, status=RunStatus.to_string(RunStatus.FAILED))
        client.set_tag(run_id, "credit_scoring.failure", "process gone (killed); marked FAILED "
                       "by the next run on this host")
    return sorted(stale | children)


def _champion_datasets(catalog) -> list[MlflowChampionDataset]:
    """The catalog's registered models that runs promote champions to."""
    found = []
    for name in catalog.keys():
        dataset = _unwrapped(catalog.get(name)) if name in catalog else None
        if isinstance(dataset, MlflowChampionDataset):
            found.append(dataset)
    return found


class StaleRuns:
    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline, catalog) -> None:
        active = mlflow.active_run()
        if active is None:  # tracking disabled for this pipeline
            return
        worker = this_process()
        client = MlflowClient()
        failed = fail_stale_runs(client, active.info.experiment_id, worker["host"])
        if failed:
            logger.warning("Marked %d MLflow run(s) FAILED whose process was killed: %s",
                           len(failed), ", ".join(failed))
        for registry in _champion_datasets(catalog):
            registry.mark_incomplete_versions(client)
        mlflow.set_tags({HOST_TAG: worker["host"], PID_TAG: str(worker["pid"])})


SHARED_VIEW_TAG = "mlflow.sharedViewState."
DEFAULT_PIPELINE_RUN = "__default__"


def runs_view_url(tracking_uri: str, ui_host: str, ui_port: str, experiment_id: str,
                  view: str | None) -> str:
    """Where the MLflow UI shows ``view`` (a shared view's key) of the experiment's runs: on
    the tracking server itself, or ``kedro mlflow ui`` / ``make ui`` for a local store. MLflow
    3's UI opens in its GenAI mode unless told ``workflowType=machine_learning``."""
    base = (tracking_uri.rstrip("/") if tracking_uri.startswith(("http://", "https://"))
            else f"http://{ui_host}:{ui_port}")
    return (f"{base}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"
            + (f"&viewStateShareKey={view}" if view else ""))


def saved_view(name: str, state: str, current: str | None = None) -> str:
    """The tag value the MLflow UI reads as the saved runs view ``name`` of ``state``.

    ``state`` is the view as JSON (filter, sort, grouping, columns). The UI lists the view
    under "Views" and opens it with ``?viewStateShareKey=<name>`` when the tag holds its
    envelope: name, creation and update times (ms) and the state, deflated and base64-encoded.
    ``current`` (the tag's value now) is returned as is when it already holds this state,
    so the view's dates change only when the view does.
    """
    state = json.dumps(json.loads(state), separators=(",", ":"))
    try:
        envelope = json.loads(current or "")
        stored = zlib.decompress(base64.b64decode(envelope["state"].removeprefix("deflate;")))
        if stored.decode() == state:
            return current
    except (ValueError, KeyError, TypeError, AttributeError, zlib.error):
        pass  # absent, the plain JSON kedro-mlflow wrote on creation, or another state
    now = int(time.time() * 1000)
    deflated = base64.b64encode(zlib.compress(state.encode())).decode()
    return json.dumps({"name": name, "createdAt": now, "updatedAt": now,
                       "state": f"deflate;{deflated}"})


class RunsTable:
    def __init__(self) -> None:
        self.context = None
        self.url: str | None = None

    @hook_impl
    def after_context_created(self, context) -> None:
        self.context = context

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline, catalog) -> None:
        active = mlflow.active_run()
        self.url = None
        if active is None or not hasattr(self.context, "mlflow"):  # tracking disabled
            return
        if active.info.run_name == DEFAULT_PIPELINE_RUN:
            mlflow.set_tag("mlflow.runName", "kedro run")
        runner = str(run_params.get("runner", ""))
        if " object at 0x" in runner:  # kedro-mlflow tags the runner's repr: keep its class
            mlflow.set_tag("runner", runner.partition(" object at")[0].rsplit(".", 1)[-1])
        config = self.context.mlflow
        tags = config.tracking.experiment.create_experiment_kwargs.tags or {}
        client = MlflowClient()
        experiment = client.get_experiment(active.info.experiment_id)
        for key, configured in tags.items():
            value = (saved_view(key.removeprefix(SHARED_VIEW_TAG), configured,
                                experiment.tags.get(key))
                     if key.startswith(SHARED_VIEW_TAG) else configured)
            if experiment.tags.get(key) != value:
                client.set_experiment_tag(experiment.experiment_id, key, value)
        view = next((key.removeprefix(SHARED_VIEW_TAG) for key in tags
                     if key.startswith(SHARED_VIEW_TAG)), None)
        tracking_uri = mlflow.get_tracking_uri()
        self.url = runs_view_url(tracking_uri, config.ui.host, config.ui.port,
                                 experiment.experiment_id, view)
        if not tracking_uri.startswith(("http://", "https://")):
            self.url += " (start the UI with `make ui`)"

    @hook_impl
    def after_pipeline_run(self) -> None:
        if self.url:
            logger.info("The runs in MLflow: %s", self.url)


STAGE_ORDER = ("feature_engineering", "data_processing", "baselines", "model_comparison",
               "tuning", "thresholding", "validation", "scoring", "train")
"""Pipeline folders a node is attributed to, first match wins (train reuses earlier ones)."""


class StageTimings:
    """Wall time and peak memory of every stage (pipeline folder) a run goes through.

    A node's time runs from loading its first input to saving its last output (logging a
    model to MLflow is part of the stage that produced it). At the end of a successful run
    the table (stage, nodes, seconds, peak RSS in GB) is logged to the console and written
    to ``data/08_reporting/stage_timings.csv``. Peak RSS is the process's high-water mark
    when the stage's last node ended (a JVM running Spark is a process of its own and not
    included).
    """

    def __init__(self) -> None:
        self.project_path = Path.cwd()
        self.stage_of: dict[str, str] = {}
        self.started: dict[str, float] = {}
        self.ended: dict[str, tuple[float, float]] = {}

    @hook_impl
    def after_context_created(self, context) -> None:
        self.project_path = Path(context.project_path)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline, catalog) -> None:
        folders = _all_pipelines()
        self.stage_of = {}
        for stage in STAGE_ORDER:
            for node in folders[stage].nodes if stage in folders else []:
                self.stage_of.setdefault(node.name, stage)
        self.started, self.ended = {}, {}

    def _start(self, node) -> None:
        self.started.setdefault(node.name, time.perf_counter())

    def _end(self, node) -> None:
        rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        self.ended[node.name] = (time.perf_counter(), rss_gb)

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node) -> None:
        self._start(node)

    @hook_impl
    def before_node_run(self, node) -> None:
        self._start(node)

    @hook_impl
    def after_node_run(self, node) -> None:
        self._end(node)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data, node) -> None:
        self._end(node)

    @hook_impl
    def after_pipeline_run(self) -> None:
        rows: dict[str, dict[str, float]] = {}
        for name, (ended, rss_gb) in self.ended.items():
            row = rows.setdefault(self.stage_of.get(name, "other"),
                                  {"nodes": 0, "seconds": 0.0, "peak_rss_gb": 0.0})
            row["nodes"] += 1
            row["seconds"] += ended - self.started[name]
            row["peak_rss_gb"] = max(row["peak_rss_gb"], rss_gb)
        if not rows:
            return
        table = pd.DataFrame([{"stage": stage, **row} for stage, row in rows.items()])
        path = self.project_path / "data" / "08_reporting" / "stage_timings.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, index=False, float_format="%.3f")
        logger.info("Time per stage: %s (peak memory %.2f GB); table in %s",
                    ", ".join(f"{r.stage} {duration(r.seconds)}" for r in table.itertuples()),
                    table["peak_rss_gb"].max(), path.relative_to(self.project_path))
