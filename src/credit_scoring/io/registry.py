"""Kedro datasets of the model registry: the champion, a registered version, its report.

``MlflowChampionDataset`` registers every champion candidate as a model version and moves
the alias as ``models.selection.promotion`` decides; ``MlflowModelVersionDataset`` reads a
version back with what its validation needs; ``ValidationReportDataset`` files the report
with the version's run.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PyFuncModel
from mlflow.tracking import MlflowClient

from credit_scoring.io.model_store import log_pd_model
from credit_scoring.io.printing import HOW_TO, print_pdf
from credit_scoring.io.provenance import code_version
from credit_scoring.io.tracking import CANDIDATE_TAG, STAGE_TAG, flatten_params, log_figures
from credit_scoring.models.evaluation import out_of_fold_metrics
from credit_scoring.models.selection import (
    ChampionRule,
    RegisteredChampion,
    promotion,
    standard_error,
)

REGISTRATION_TAG = "credit_scoring.registration"
"""A model version's registration: ``in progress`` from its creation, ``complete`` once every
tag, the description and the alias are written, ``incomplete`` if its process died first."""
FAULT_ENV = "CREDIT_SCORING_FAULT_INJECTION"
"""Set to ``after_registration`` to kill the process (SIGKILL) right after a version is
created: how a test stands in for the timing of a real ``kill -9``. Read nowhere else."""
OOF_ARTIFACT = "oof_predictions.parquet"
"""Artifact of a champion candidate's run: bad, fold and calibrated PD of every training row."""
FOLDS_TAG = "folds_fingerprint"
PROMOTION_TAG = "credit_scoring.promotion"
"""``awaiting validation`` or ``refused``: what thresholding's comparison with the champion
said of a version registered with ``await_validation``; the gate reads it."""
AWAITING = "awaiting validation"
COMPARED_TAG = "credit_scoring.compared_with"
"""The champion version a version awaiting validation was compared with (``none``)."""
CANDIDATE_ALIAS = "candidate"
"""The alias of the newest version awaiting validation (removed by its gate)."""
RECORD = "champion.json"
CODE_TAG = "code_version"
"""The git commit (``+dirty`` when the working copy differed) a version was trained with."""
VERDICT_TAG = "validation_verdict"
GATE_TAG = "validation_gate"
"""What the registry gate did with a validated version, in a sentence."""
"""A model version's verdict, written when its validation report is."""

logger = logging.getLogger(__name__)


class MlflowChampionDataset(AbstractDataset[dict[str, Any], PyFuncModel]):
    """Save: log and register a candidate, moving the alias only to a model proven not worse.

    Load: the model version that holds the alias, as an MLflow pyfunc that returns PD,
    score and decision for raw applicant rows.

    A saved value holds ``model`` (a ``scorer.PDScorer`` with its contract, decision
    policy and drift baselines), ``params``, ``metrics``, ``tags`` (written to the model
    version with the policy's cut-off and costs), ``description`` (of the model version,
    plain text: the registry lists it as written), ``decision_report`` (Markdown: the
    cut-off decision and score bands, an artifact of the run), ``input_example`` (raw applicant rows), ``selection_metric`` (a metric name
    of ``evaluation.METRICS``), ``min_improvement`` (how much better than the champion it
    must be), ``oof_predictions`` (``bad``, ``fold`` and calibrated ``pd`` per training
    row), ``folds_fingerprint`` (``evaluation.folds_fingerprint`` of those rows),
    ``on_other_folds`` (``keep`` or ``promote`` a candidate measured on other folds),
    ``selection`` (``thresholding.selection``: under ``one_standard_error`` a simpler
    candidate may replace the champion within one standard error; the tag ``complexity``
    says how simple it is) and
    optionally ``figures`` (name -> matplotlib figure: the cut-off's plots).

    Every candidate becomes a model version with its own run, named
    ``thresholding/<candidate> v<version>`` (its metrics, out-of-fold PDs, plots and
    decision report; the plots also go to ``plots_dir``); only a promotion moves the alias
    and rewrites the champion's local record in ``local_dir`` (``champion.json``,
    ``decision_report.md``, both also artifacts of the run).

    With ``await_validation`` (the catalog's setting) a promotion does not move the alias:
    the version is tagged ``credit_scoring.promotion`` = ``awaiting validation`` (or
    ``refused``) and takes the alias ``candidate``; the validation pipeline validates that
    version and its gate (``ValidationReportDataset``) moves the aliases.
    """

    def __init__(
        self,
        registered_model_name: str,
        alias: str = "champion",
        local_dir: str | None = None,
        plots_dir: str | None = None,
        description: str | None = None,
        await_validation: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """
        Args:
            registered_model_name: name in the MLflow Model Registry.
            alias: the alias that marks the model version in use.
            await_validation: a promoted version waits for its validation (alias
                ``candidate``) instead of taking ``alias`` at once.
            description: the registered model's description (Markdown: what it scores,
                its input and output, how to load it), set when a version is registered.
            local_dir: folder for the champion's local record, rewritten on promotion only.
            plots_dir: folder that also receives every candidate's plots (the latest run's).
            metadata: free-form information for Kedro plugins (e.g. kedro-viz layer).
        """
        self._name = registered_model_name
        self._alias = alias
        self._local_dir = Path(local_dir) if local_dir else None
        self._plots_dir = Path(plots_dir) if plots_dir else None
        self._description = description
        self._await_validation = await_validation
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"registered_model_name": self._name, "alias": self._alias}

    def _exists(self) -> bool:
        try:
            MlflowClient().get_model_version_by_alias(self._name, self._alias)
        except MlflowException:
            return False
        return True

    def _save(self, data: dict[str, Any]) -> None:
        policy = data["model"].policy
        candidate = data["params"]["candidate"]
        tags = {STAGE_TAG: "thresholding", CANDIDATE_TAG: candidate}
        run_name = f"thresholding/{candidate}"
        with mlflow.start_run(run_name=run_name, nested=mlflow.active_run() is not None,
                              tags=tags) as run:
            mlflow.log_params(flatten_params(data["params"]))
            mlflow.log_metrics(data["metrics"])
            mlflow.log_text(data["decision_report"], "decision_report.md")
            log_figures(data.get("figures", {}), self._plots_dir)
            with tempfile.TemporaryDirectory() as tmp:
                oof_file = Path(tmp) / OOF_ARTIFACT
                data["oof_predictions"].to_parquet(oof_file)
                mlflow.log_artifact(str(oof_file))
            info = log_pd_model(data["model"], data["input_example"])
            # created with its tag in one call: a version without it predates the tag
            version = str(mlflow.register_model(
                info.model_uri, self._name, tags={REGISTRATION_TAG: "in progress"}).version)
            if os.environ.get(FAULT_ENV) == "after_registration":
                os.kill(os.getpid(), signal.SIGKILL)
            mlflow.set_tag("mlflow.runName", f"{run_name} v{version}")
            client = MlflowClient()
            client.update_model_version(self._name, version, description=data["description"])
            if self._description and (
                    client.get_registered_model(self._name).description != self._description):
                client.update_registered_model(self._name, description=self._description)
            metric = f"cv_{data['selection_metric']}_mean"
            version_tags = {**data["tags"], metric: data["metrics"][metric],
                            FOLDS_TAG: data["folds_fingerprint"], **policy.registry_tags(),
                            CODE_TAG: code_version()}
            for key, value in version_tags.items():
                client.set_model_version_tag(self._name, version, key, str(value))
            rule = ChampionRule(data["selection_metric"], data["min_improvement"],
                                data["on_other_folds"], self._alias, data["selection"],
                                tuple(data["eligible"]) if data.get("eligible") else None)
            folds = data["oof_predictions"]["fold"].nunique()
            champion = self._registered_champion(client, rule.selection_metric)
            decision = promotion(
                rule, float(data["metrics"][metric]), data["folds_fingerprint"], champion,
                int(data["tags"]["complexity"]),
                standard_error(data["metrics"][f"cv_{data['selection_metric']}_std"], folds))
            record = self._record(version, run.info.run_id, data)
            mlflow.log_text(json.dumps(record, indent=2, default=str), RECORD)
            if self._await_validation:
                client.set_model_version_tag(self._name, version, PROMOTION_TAG,
                                             AWAITING if decision.promoted else "refused")
                client.set_model_version_tag(self._name, version, COMPARED_TAG,
                                             champion.version if champion else "none")
                client.set_registered_model_alias(self._name, CANDIDATE_ALIAS, version)
            elif decision.promoted:
                client.set_registered_model_alias(self._name, self._alias, version)
            client.set_model_version_tag(self._name, version, "champion_decision",
                                         decision.verdict)
            mlflow.set_tag("champion_decision", decision.verdict)
            log = logger.info if decision.promoted else logger.warning
            log("%s version %s (run %s): %s%s", self._name, version, run.info.run_id,
                decision.verdict, "; awaiting validation (alias candidate)"
                if self._await_validation else "")
        if decision.promoted and not self._await_validation and self._local_dir is not None:
            write_local_record(self._local_dir, record, data["decision_report"])
        client.set_model_version_tag(self._name, version, REGISTRATION_TAG, "complete")

    def mark_incomplete_versions(self, client: MlflowClient) -> list[str]:
        """Tag ``incomplete`` the versions whose registering process died before it finished
        (its run is no longer RUNNING: ``hooks.fail_stale_runs`` has failed it), and say so
        in their description; returns their numbers. The alias never moved to one that died
        before its tags were written; one that holds it is named in a warning."""
        marked = []
        for version in client.search_model_versions(f"name = '{self._name}'"):
            if version.tags.get(REGISTRATION_TAG) != "in progress" or (
                    version.run_id and client.get_run(version.run_id).info.status == "RUNNING"):
                continue
            client.set_model_version_tag(self._name, version.version, REGISTRATION_TAG,
                                         "incomplete")
            client.update_model_version(
                self._name, version.version,
                description="**Incomplete**: the process registering this version was killed "
                            "before it wrote the version's tags and decision; do not use it. "
                            + (version.description or ""))
            marked.append(version.version)
            holds_alias = self._alias in (version.aliases or [])
            logger.warning(
                "%s version %s: its registration was interrupted (process killed); tagged "
                "%s=incomplete.%s", self._name, version.version, REGISTRATION_TAG,
                f" It holds the alias '{self._alias}': re-run thresholding." if holds_alias
                else "")
        return marked

    def _registered_champion(self, client: MlflowClient,
                             selection_metric: str) -> RegisteredChampion | None:
        """The version holding the alias, with its CV value of ``selection_metric``."""
        try:
            current = client.get_model_version_by_alias(self._name, self._alias)
        except MlflowException:
            return None
        complexity = current.tags.get("complexity")
        return RegisteredChampion(
            current.version, current.tags.get(FOLDS_TAG),
            functools.cache(lambda: self._champion_metric(client, current, selection_metric)),
            int(complexity) if complexity is not None else None, current.tags.get("candidate"))

    @staticmethod
    def _champion_metric(client: MlflowClient, current: ModelVersion, name: str) -> float | None:
        """The current champion's CV ``name``: logged, else from its stored out-of-fold PDs."""
        held = client.get_run(current.run_id).data.metrics.get(f"cv_{name}_mean")
        if held is not None and not math.isnan(held):
            return held
        try:
            oof = pd.read_parquet(mlflow.artifacts.download_artifacts(
                run_id=current.run_id, artifact_path=OOF_ARTIFACT))
        except (MlflowException, OSError):
            return None
        return out_of_fold_metrics(oof["bad"], oof["pd"], oof["fold"])[f"cv_{name}_mean"]

    def _record(self, version: str, run_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """The champion's record: version, run, policy, metrics (champion.json)."""
        return {
            "registered_model_name": self._name,
            "alias": self._alias,
            "version": int(version),
            "run_id": run_id,
            "model_uri": f"models:/{self._name}/{version}",
            **data["params"],
            "policy": data["model"].policy.as_config(),
            "selection_metric": data["selection_metric"],
            "metrics": data["metrics"],
            "folds_fingerprint": data["folds_fingerprint"],
        }

    def model_version(self) -> ModelVersion:
        """The registry entry holding the alias (tags, run id), e.g. to publish it."""
        try:
            return MlflowClient().get_model_version_by_alias(self._name, self._alias)
        except MlflowException as error:
            raise DatasetError(
                f"No version of '{self._name}' has the alias '{self._alias}'; run "
                "`kedro run --pipelines thresholding,validation` to register and validate a champion."
            ) from error

    def _load(self) -> PyFuncModel:
        """The version holding the alias, noting its name and version in the model's
        metadata (``registered_model``): monitoring files each batch under them."""
        uri = f"models:/{self._name}@{self._alias}"
        try:
            version = MlflowClient().get_model_version_by_alias(self._name, self._alias).version
            model = mlflow.pyfunc.load_model(f"models:/{self._name}/{version}")
        except MlflowException as error:
            raise DatasetError(
                f"Cannot load {uri} ({error}); run `kedro run --pipelines thresholding` "
                "and `kedro run --pipelines validation` to register and validate a champion."
            ) from error
        model.metadata.metadata = {**(model.metadata.metadata or {}), "registered_model": {
            "name": self._name, "version": str(version), "alias": self._alias}}
        return model



def write_local_record(folder: Path, record: dict[str, Any], decision_report: str) -> None:
    """The champion's cut-off, policy and decision report on disk, for humans and git."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECORD).write_text(json.dumps(record, indent=2, default=str))
    (folder / "decision_report.md").write_text(decision_report)


class MlflowModelVersionDataset(AbstractDataset[None, dict[str, Any]]):
    """Load: one registered PD model version, with what its validation needs.

    The version is a number or an alias; the catalog sets it from the runtime parameter
    ``validation.model_version`` (``kedro run --pipelines validation --params
    validation.model_version=3``). By default, ``candidate``: the version thresholding
    registered awaiting validation, or the champion when none awaits. Loaded: ``model`` (the
    ``PDScorer``), ``name``, ``version``, ``run_id``, ``tags``, ``oof_predictions`` (bad,
    fold and PD of every training row, stored with the version's run), and for the gate
    ``awaiting`` (True/False: thresholding's comparison, for the version holding
    ``candidate``; None for any other), ``champion_changed`` (the champion is no longer the
    one it was compared with), ``holds_champion`` and ``champion_exists``.
    """

    def __init__(self, registered_model_name: str, model_version: str | int = CANDIDATE_ALIAS,
                 metadata: dict[str, Any] | None = None) -> None:
        self._name = registered_model_name
        self._version = str(model_version)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        # an alias is described as MlflowChampionDataset describes it: the same registry entry
        key = "version" if self._version.isdigit() else "alias"
        return {"registered_model_name": self._name, key: self._version}

    def _exists(self) -> bool:
        try:
            self._model_version()
        except DatasetError:
            return False
        return True

    def _save(self, data: None) -> None:
        raise DatasetError("MlflowModelVersionDataset is read-only: thresholding registers models.")

    def _model_version(self) -> ModelVersion:
        client = MlflowClient()
        try:
            if self._version.isdigit():
                return client.get_model_version(self._name, self._version)
            if self._version == CANDIDATE_ALIAS:  # none awaiting validation: the champion
                try:
                    return client.get_model_version_by_alias(self._name, CANDIDATE_ALIAS)
                except MlflowException:
                    return client.get_model_version_by_alias(self._name, "champion")
            return client.get_model_version_by_alias(self._name, self._version)
        except MlflowException as error:
            raise DatasetError(
                f"No version '{self._version}' of registered model '{self._name}' ({error}). "
                "Run `kedro run --pipelines thresholding` to register one, or pass an existing "
                "version number or alias: --params validation.model_version=<n>."
            ) from error

    def _load(self) -> dict[str, Any]:
        version = self._model_version()
        model = mlflow.pyfunc.load_model(f"models:/{self._name}/{version.version}")
        try:
            oof = pd.read_parquet(mlflow.artifacts.download_artifacts(
                run_id=version.run_id, artifact_path=OOF_ARTIFACT))
        except (MlflowException, OSError) as error:
            raise DatasetError(
                f"Version {version.version} of '{self._name}' has no stored out-of-fold PDs "
                f"({OOF_ARTIFACT} in run {version.run_id}): it was registered by an older "
                "credit_scoring; rerun thresholding to validate a new version."
            ) from error
        client = MlflowClient()
        champion = _version_with_alias(client, self._name, "champion")
        # only the version holding `candidate` awaits its gate; once gated it never again
        awaiting = (version.tags.get(PROMOTION_TAG) == AWAITING
                    if _version_with_alias(client, self._name, CANDIDATE_ALIAS)
                    == str(version.version) else None)
        return {"model": model.unwrap_python_model().scorer, "name": self._name,
                "version": version.version, "run_id": version.run_id, "tags": version.tags,
                "oof_predictions": oof, "awaiting": awaiting,
                "champion_changed": bool(awaiting) and version.tags.get(COMPARED_TAG)
                != (champion or "none"),
                "holds_champion": champion == str(version.version),
                "champion_exists": champion is not None}


def _version_with_alias(client: MlflowClient, name: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


class ValidationReportDataset(AbstractDataset[dict[str, Any], None]):
    """Save: the validation report's files in ``folder`` and as artifacts of the model
    version's MLflow run (``validation/``), so the registry shows each version's report;
    the HTML also printed to an A4 PDF (``io.printing``: headless Chromium, when present);
    the verdict as the version's ``validation_verdict`` tag.

    Saved: ``run_id``, ``name`` and ``version`` (of the model version), ``verdict``,
    ``files`` (file name -> text content) and ``attachments`` (file name -> a file copied
    beside them, e.g. the data card).
    """

    def __init__(self, folder: str, champion_dir: str | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        self._folder = Path(folder)
        self._champion_dir = Path(champion_dir) if champion_dir else None
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"folder": str(self._folder)}

    def _load(self) -> None:
        raise DatasetError("ValidationReportDataset is write-only: open the HTML file.")

    def _save(self, data: dict[str, Any]) -> None:
        attachments = data.get("attachments", {})
        for source in attachments.values():  # before anything is written
            if not Path(source).is_file():
                raise DatasetError(f"{source} (validation.model_card.data_card) does not exist: "
                                   "point it at the data card, or set it to null.")
        self._folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, content in data["files"].items():
            (self._folder / name).write_text(content, encoding="utf-8")
            written.append(name)
        for name, source in attachments.items():
            shutil.copyfile(source, self._folder / name)
            written.append(name)
        for page in [name for name in written if name.endswith(".html")]:
            pdf = Path(page).with_suffix(".pdf").name
            (self._folder / pdf).unlink(missing_ok=True)  # never a PDF of an older report
            failure = print_pdf(self._folder / page, self._folder / pdf)
            if failure:
                logger.warning("No PDF of %s (%s): %s.", page, failure, HOW_TO)
            else:
                written.append(pdf)
        client = MlflowClient()
        for name in written:
            client.log_artifact(data["run_id"], str(self._folder / name), "validation")
        client.set_model_version_tag(data["name"], data["version"], VERDICT_TAG, data["verdict"])
        if data.get("gate"):
            self._apply_gate(client, data["name"], data["version"], data["run_id"], data["gate"])

    def _apply_gate(self, client: MlflowClient, name: str, version: str, run_id: str,
                    gate: dict[str, Any]) -> None:
        """Move the aliases as the gate decided, only now that the report is filed; the
        champion's local record follows the alias."""
        if gate["alias"]:
            client.set_registered_model_alias(name, gate["alias"], version)
        if _version_with_alias(client, name, CANDIDATE_ALIAS) == str(version):
            client.delete_registered_model_alias(name, CANDIDATE_ALIAS)
            client.set_model_version_tag(name, version, PROMOTION_TAG, "validated")
        client.set_model_version_tag(name, version, GATE_TAG, gate["message"])
        if gate["alias"] == "champion" and self._champion_dir is not None:
            with tempfile.TemporaryDirectory() as tmp:
                record = json.loads(Path(mlflow.artifacts.download_artifacts(
                    run_id=run_id, artifact_path=RECORD, dst_path=tmp)).read_text())
                report = Path(mlflow.artifacts.download_artifacts(
                    run_id=run_id, artifact_path="decision_report.md", dst_path=tmp)).read_text()
            write_local_record(self._champion_dir, record, report)
        (logger.error if gate["alarm"] else logger.info)(
            "%s version %s: %s.", name, version, gate["message"])


RANK_METRICS = ("roc_auc", "gini", "ks", "pr_auc")
"""CV metrics a recalibration keeps from its parent: a monotone calibration leaves the
ranking, and so these, unchanged; thresholding compares later candidates with them."""


class RecalibratedVersionDataset(AbstractDataset[dict[str, Any], None]):
    """Save: a recalibrated champion as a new version of ``registered_model_name``, with its
    lineage (parent version and run, outcome windows) as tags and params of its MLflow run,
    its recalibration report (``ValidationReportDataset`` in ``folder``) and the registry
    gate's decision. Nothing is saved when the pipeline failed before; the alias moves
    only once the report is filed."""

    def __init__(self, registered_model_name: str, folder: str, champion_dir: str | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        self._name = registered_model_name
        self._report = ValidationReportDataset(folder, champion_dir)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"registered_model_name": self._name}

    def _load(self) -> None:
        raise DatasetError("RecalibratedVersionDataset is write-only: load the version from "
                           "the registry.")

    def _save(self, data: dict[str, Any]) -> None:
        client = MlflowClient()
        parent = client.get_model_version(self._name, data["parent"]["version"])
        candidate = parent.tags.get("candidate", "?")
        policy = data["scorer"].policy
        with tempfile.TemporaryDirectory() as tmp:
            folder = mlflow.artifacts.download_artifacts(
                f"models:/{self._name}/{parent.version}", dst_path=tmp)
            example = mlflow.models.Model.load(folder).load_input_example(folder)
        run_name = f"recalibration/{candidate} from v{parent.version}"
        with mlflow.start_run(run_name=run_name, nested=mlflow.active_run() is not None,
                              tags={STAGE_TAG: "recalibration", CANDIDATE_TAG: candidate}) as run:
            mlflow.log_params(flatten_params({"recalibrate": data["params"],
                                              "lineage": data["lineage"]}))
            inherited = client.get_run(parent.run_id).data.metrics
            mlflow.log_metrics({**data["metrics"], **{
                key: value for key, value in inherited.items()
                if key.startswith("cv_") and key.split("_", 1)[1].rsplit("_", 1)[0]
                in RANK_METRICS}})
            mlflow.log_text(data["decision_report"], "decision_report.md")
            info = log_pd_model(data["scorer"], example)
            version = str(mlflow.register_model(
                info.model_uri, self._name, tags={REGISTRATION_TAG: "in progress"}).version)
            mlflow.set_tag("mlflow.runName", f"{run_name} v{version}")
            client.update_model_version(self._name, version, description=(
                f"Recalibration of version {parent.version} ({candidate}) on outcomes of "
                f"{' to '.join(data['lineage']['fit_window'])}: the same estimator, a new "
                f"calibrator, cut-off {policy.cutoff:.4f} and bands.\n\n"
                + data["decision_report"]))
            tags = {**{key: parent.tags[key] for key in ("candidate", "complexity", FOLDS_TAG,
                                                         "data_fingerprints")
                       if key in parent.tags},
                    **policy.registry_tags(), "calibration": data["lineage"]["method"],
                    CODE_TAG: code_version(), "recalibrated_from": parent.version,
                    "outcome_window": " to ".join(data["lineage"]["fit_window"]),
                    "holdout_window": " to ".join(data["lineage"]["holdout_window"]),
                    PROMOTION_TAG: AWAITING if data["promote"] else "refused",
                    COMPARED_TAG: parent.version, "champion_decision": data["gate"]["message"]}
            for key, value in tags.items():
                client.set_model_version_tag(self._name, version, key, str(value))
            record = {"registered_model_name": self._name, "version": int(version),
                      "run_id": run.info.run_id,
                      "model_uri": f"models:/{self._name}/{version}",
                      "candidate": candidate, "recalibrated_from": int(parent.version),
                      "lineage": data["lineage"], "policy": policy.as_config(),
                      "metrics": data["metrics"]}
            mlflow.log_text(json.dumps(record, indent=2, default=str), RECORD)
        self._report.save({"run_id": run.info.run_id, "name": self._name, "version": version,
                           "verdict": data["verdict"], "files": data["files"],
                           "gate": data["gate"]})
        client.set_model_version_tag(self._name, version, REGISTRATION_TAG, "complete")
