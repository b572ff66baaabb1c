"""Model distribution through the Hugging Face Hub: download, load safely, publish the champion.

- ``download`` fetches one file (``hf_hub_download``) or a whole repository snapshot
  (``snapshot_download``) at a **pinned commit**, and checks the file's SHA-256 when given.
  Files land in the Hugging Face cache, so ``HF_HUB_OFFLINE=1`` reuses them without network.
- ``load_model`` reads our own published format (an MLflow model folder: native estimator,
  skops preprocessing, no pickle), single native model files (XGBoost ``.ubj``/``.json``,
  CatBoost ``.cbm``), and pickles **only** when the caller sets ``trust_pickle``: unpickling
  runs whatever code the file's author put in it.
- ``build_release`` writes the folder a release uploads: the champion as an MLflow model,
  its decision policy (cut-off, costs, scorecard), its input schema and a model card;
  ``publish`` uploads that folder with ``HfApi.upload_folder``.

``credit-scoring-hub download`` / ``credit-scoring-hub publish`` (see ``main``) run these
with the project's configuration (``conf/base/parameters_hub.yml``) and credentials.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import yaml
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from kedro.config import MissingConfigException
from kedro.io import AbstractDataset, DatasetError

logger = logging.getLogger(__name__)

COMMIT_HASH = re.compile(r"[0-9a-f]{40}")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


class UnsafeModelError(RuntimeError):
    """Raised instead of unpickling a file the configuration has not explicitly trusted."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(
    repo_id: str,
    revision: str,
    filename: str | None = None,
    sha256: str | None = None,
    cache_dir: str | None = None,
    token: str | None = None,
) -> Path:
    """Fetch ``filename`` (or the whole repository) of ``repo_id`` at commit ``revision``.

    Raises:
        ValueError: for a revision that is not a commit hash (a branch or tag can move
            under you), or a file whose SHA-256 differs from ``sha256``.
    """
    if not COMMIT_HASH.fullmatch(str(revision)):
        raise ValueError(
            f"Pin hub revision to a 40-character commit hash, not {revision!r}: a branch or "
            f"tag can change under you. Find it under 'Files and versions' on the Hub or with "
            f"huggingface_hub.model_info('{repo_id}').sha."
        )
    if filename is None:
        if sha256:
            raise ValueError("hub sha256 checks one file: set filename too, or drop sha256.")
        return Path(snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, token=token))
    path = Path(hf_hub_download(repo_id, filename, revision=revision, cache_dir=cache_dir,
                                token=token))
    if sha256:
        actual = file_sha256(path)
        if actual != sha256.lower():
            raise ValueError(
                f"SHA-256 of {repo_id}/{filename}@{revision[:8]} is {actual}, not the configured "
                f"{sha256}: the file is not the one you vetted. Not loading it."
            )
    return path


def load_model(path: Path, trust_pickle: bool = False) -> Any:
    """Load a downloaded model: MLflow folder, native XGBoost / CatBoost file, or opted-in pickle.

    An MLflow model folder (ours) loads as a pyfunc returning PD, score and decision;
    the other formats load as the framework's own estimator.
    """
    path = Path(path)
    if path.is_dir():
        folder = path / "model" if (path / "model" / "MLmodel").exists() else path
        if not (folder / "MLmodel").exists():
            raise ValueError(f"{path} holds no MLflow model (no MLmodel file, nor model/MLmodel).")
        # the Hub cache links each file to a shared blob, which MLflow refuses to follow
        # out of the model folder: load from a resolved copy (read completely on load)
        with tempfile.TemporaryDirectory(prefix="credit_scoring_hub_") as tmp:
            shutil.copytree(folder, Path(tmp) / "model", symlinks=False)
            return mlflow.pyfunc.load_model(str(Path(tmp) / "model"))
    if path.suffix in PICKLE_SUFFIXES:
        if not trust_pickle:
            raise UnsafeModelError(
                f"{path.name} is a pickle: loading it executes whatever code its author put "
                "in it. Set trust_pickle: true (conf/base/parameters_hub.yml, or the "
                "HubModelDataset entry) only for a file from a source you trust, pinned by "
                "revision and sha256."
            )
        import joblib  # noqa: PLC0415  (only for the explicitly trusted pickle)

        logger.warning("Unpickling %s because trust_pickle is set.", path.name)
        return joblib.load(path)
    if path.suffix in {".ubj", ".json"}:
        import xgboost  # noqa: PLC0415  (only models of this family need it installed)

        model = xgboost.XGBClassifier()
        model.load_model(path)
        return model
    if path.suffix == ".cbm":
        import catboost  # noqa: PLC0415  (only models of this family need it installed)

        return catboost.CatBoostClassifier().load_model(str(path))
    raise ValueError(
        f"Unknown model format '{path.suffix}' ({path.name}); expected an MLflow model folder, "
        f".ubj/.json (XGBoost), .cbm (CatBoost) or, with trust_pickle, {PICKLE_SUFFIXES}."
    )


class HubModelDataset(AbstractDataset[None, Any]):
    """Kedro dataset: a model from the Hugging Face Hub, pinned, checked and loaded safely.

    Use it as ``scoring_model`` to score with a published model instead of the registry's
    champion. Read-only.
    """

    def __init__(
        self,
        repo_id: str,
        revision: str,
        filename: str | None = None,
        sha256: str | None = None,
        trust_pickle: bool = False,
        cache_dir: str | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._source = {"repo_id": repo_id, "revision": revision, "filename": filename,
                        "sha256": sha256, "cache_dir": cache_dir}
        self._trust_pickle = trust_pickle
        self._token = (credentials or {}).get("token")
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {**self._source, "trust_pickle": self._trust_pickle}

    def _load(self) -> Any:
        return load_model(download(**self._source, token=self._token), self._trust_pickle)

    def _save(self, data: None) -> None:
        raise NotImplementedError("HubModelDataset is read-only; publish with credit-scoring-hub.")


def model_card(
    repo_id: str, policy: dict[str, Any], metrics: dict[str, float], card: dict[str, Any]
) -> str:
    """README.md of a release: Hub metadata, intended use, data, metrics at the cut-off, limits."""
    metadata = {
        "library_name": "mlflow",
        "license": card["license"],
        "pipeline_tag": "tabular-classification",
        "tags": ["credit-scoring", "probability-of-default", "scorecard", "kedro", "mlflow"],
    }
    costs = policy["costs"]
    rows = [
        ("ROC AUC (test)", metrics.get("test_roc_auc")),
        ("Gini (test)", metrics.get("test_gini")),
        ("KS (test)", metrics.get("test_ks")),
        ("Brier score (test)", metrics.get("test_brier")),
        ("ROC AUC (cross-validation)", metrics.get("cv_roc_auc_mean")),
        ("Approval rate at the cut-off (test)", metrics.get("test_approval_rate")),
        ("Bad rate among approved (test)", metrics.get("test_bad_rate_approved")),
        ("Expected cost per applicant at the cut-off (test)", metrics.get("test_expected_cost")),
        ("Expected cost per applicant at PD 0.5 (test)", metrics.get("test_at_0.5_expected_cost")),
    ]
    table = "\n".join(f"| {name} | {value:.4f} |" for name, value in rows if value is not None)
    return f"""---
{yaml.safe_dump(metadata, sort_keys=False).strip()}
---

# {repo_id}

A probability-of-default (PD) model with its lending decision, built by the
[credit_scoring]({card["project_url"]}) Kedro project and stored as an MLflow model: the
estimator in its framework's native format, the preprocessing in skops, no pickle.

## Intended use
{card["intended_use"].strip()}

## Decision policy
Decline when PD >= **{policy["cutoff"]:.4f}** (about score **{policy["cutoff_score"]}**). The
cut-off minimises expected misclassification cost on out-of-fold predictions of the training
set for the costs accept-a-bad = {costs["accept_bad"]}, decline-a-good = {costs["decline_good"]}.
Scores: {policy["scorecard"]["base_score"]} points at good:bad odds of
{policy["scorecard"]["base_odds"]}:1, {policy["scorecard"]["pdo"]} points to double the odds.

## Training data
{card["training_data"].strip()}

## Metrics
| metric | value |
|---|---|
{table}

## How to use
```python
# needs the credit_scoring package (its preprocessing classes):
# pip install "credit_scoring @ git+{card["project_url"]}"
from credit_scoring.hub import download, load_model
model = load_model(download("{repo_id}", revision="<commit hash>"))
model.predict(applicants, params={{"reason_codes": 3}})   # pd, score, decision, reasons
```
`input_schema.json` lists the columns and types the model expects (raw applicant attributes,
categories as text); `decision_policy.json` holds the cut-off, costs and scorecard scaling.

## Limitations
{card["limitations"].strip()}

**This is not a fairness audit.** The model has not been assessed for disparate impact on
protected groups; the training data may contain attributes (such as age, sex or nationality)
that lending law restricts. Review it under your jurisdiction's rules before any use.
"""


def build_release(
    model_uri: str, folder: Path, repo_id: str, tags: dict[str, str],
    metrics: dict[str, float], card: dict[str, Any],
) -> Path:
    """Write exactly what a release uploads into ``folder`` (must be empty or absent).

    Args:
        model_uri: the champion, e.g. ``models:/credit_scoring_pd/3``.
        tags: its model-version tags (cut-off score, costs).
        metrics: its run's metrics (test metrics at the cut-off).
        card: model-card texts from ``hub.publish.card``.
    """
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise ValueError(f"Release folder {folder} is not empty; choose a new one.")
    with tempfile.TemporaryDirectory() as tmp:
        downloaded = Path(mlflow.artifacts.download_artifacts(model_uri, dst_path=tmp))
        folder.mkdir(parents=True, exist_ok=True)
        downloaded.rename(folder / "model")
    model = mlflow.models.Model.load(str(folder / "model"))
    decision = model.flavors["python_function"]["config"]["decision"]
    policy = {
        "cutoff": decision["cutoff"],
        "cutoff_score": int(tags["cutoff_score"]),
        "decline_when": "pd >= cutoff",
        "costs": {"accept_bad": float(tags["cost_accept_bad"]),
                  "decline_good": float(tags["cost_decline_good"])},
        "scorecard": decision["scorecard"],
    }
    (folder / "input_schema.json").write_text(json.dumps(model.signature.inputs.to_dict(), indent=2))
    (folder / "decision_policy.json").write_text(json.dumps(policy, indent=2))
    (folder / "README.md").write_text(model_card(repo_id, policy, metrics, card))
    return folder


def publish(folder: Path, repo_id: str, token: str | None, private: bool) -> str:
    """Upload a release folder to ``repo_id`` (created if needed); returns the commit URL."""
    if not token:
        raise ValueError(
            "No Hugging Face token: set huggingface.token in conf/local/credentials.yml or "
            "the HF_TOKEN environment variable (never in code or conf/base)."
        )
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    commit = api.upload_folder(repo_id=repo_id, folder_path=str(folder),
                               commit_message="Publish credit_scoring champion")
    return commit.commit_url


def _project_context(env: str | None):
    from kedro.framework.session import KedroSession  # noqa: PLC0415  (CLI only)
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415  (CLI only)

    bootstrap_project(Path.cwd())
    return KedroSession.create(env=env).load_context()


def _token(config_loader) -> str | None:
    """``huggingface.token`` from Kedro credentials (conf/local), else ``HF_TOKEN``."""
    try:
        credentials = config_loader["credentials"]
    except MissingConfigException:  # no credentials file at all: fine for public repos
        credentials = {}
    return (credentials.get("huggingface") or {}).get("token") or os.environ.get("HF_TOKEN")


def main(argv: list[str] | None = None) -> None:
    """``credit-scoring-hub download|publish``: Hub transfers with the project's configuration."""
    parser = argparse.ArgumentParser(prog="credit-scoring-hub", description=main.__doc__)
    parser.add_argument("--env", default=None, help="Kedro configuration environment")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("download", help="download and load hub.download's model")
    publish_cmd = commands.add_parser("publish", help="build the champion release and upload it")
    publish_cmd.add_argument("--repo-id", help="overrides hub.publish.repo_id")
    publish_cmd.add_argument("--folder", type=Path, help="where to build the release folder")
    publish_cmd.add_argument("--dry-run", action="store_true", help="build the folder, do not upload")
    args = parser.parse_args(argv)

    context = _project_context(args.env)
    try:
        message = (_download(context) if args.command == "download"
                   else _publish(context, args, parser))
    except (ValueError, UnsafeModelError, DatasetError) as error:
        parser.exit(2, f"credit-scoring-hub {args.command}: {error}\n")
    print(message)


def _download(context) -> str:
    settings = context.params["hub"]["download"]
    path = download(settings["repo_id"], settings["revision"], settings.get("filename"),
                    settings.get("sha256"), token=_token(context.config_loader))
    model = load_model(path, settings.get("trust_pickle", False))
    return (f"Downloaded {settings['repo_id']}@{settings['revision'][:8]} to {path}: "
            f"{type(model).__name__}")


def _publish(context, args: argparse.Namespace, parser: argparse.ArgumentParser) -> str:
    settings = context.params["hub"]["publish"]
    repo_id = args.repo_id or settings["repo_id"]
    if not repo_id:
        parser.error("name the Hub repository: --repo-id your-name/credit-scoring-pd")
    version = context.catalog.get("champion").model_version()
    metrics = mlflow.get_run(version.run_id).data.metrics
    folder = args.folder or Path(tempfile.mkdtemp(prefix="credit_scoring_release_"))
    build_release(f"models:/{version.name}/{version.version}", folder, repo_id, version.tags,
                  metrics, settings["card"])
    if args.dry_run:
        return f"Release folder (not uploaded): {folder}"
    return f"Release folder: {folder}\nPublished: {publish(folder, repo_id, _token(context.config_loader), settings['private'])}"
