"""Model distribution through the Hugging Face Hub: download, load safely, publish the champion.

- ``download`` fetches one file (``hf_hub_download``) or a whole release (``snapshot_download``)
  at a **pinned commit**, and checks SHA-256: of the file when given, and, for a release,
  of its ``SHA256SUMS`` manifest (mandatory), then of every file against the manifest.
  Files land in the Hugging Face cache, so ``HF_HUB_OFFLINE=1`` reuses them without network.
- ``load_model`` runs nothing that came with the download unless the caller sets
  ``trust_remote_code``. Without it, only code-free files are read (native XGBoost /
  CatBoost / LightGBM files, skops files whose every type is on the project's allow-list,
  plain JSON / YAML / text) and the installed ``credit_scoring`` code rebuilds the model.
  Our own PD model ships its code (``code_paths``) for environments without the package:
  that code is left unread; any other pickle, Python file or ``code_paths`` is refused
  before it is opened.
- ``build_release`` writes the folder a release uploads: the registered champion's MLflow
  model folder as it is, a model card (``huggingface_hub.ModelCard``) and ``SHA256SUMS``;
  ``publish`` uploads it with ``HfApi.upload_folder``.

``credit-scoring-hub download`` / ``credit-scoring-hub publish`` (see ``main``) run these
with the project's configuration (``conf/base/parameters_hub.yml``) and credentials.
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlflow
from huggingface_hub import (
    CommitInfo,
    HfApi,
    ModelCard,
    ModelCardData,
    get_token,
    hf_hub_download,
    snapshot_download,
)
from kedro.config import MissingConfigException
from kedro.io import AbstractDataset, DatasetError

from credit_scoring.data.schema import needed_columns
from credit_scoring.decisions import DecisionPolicy, load_code_free
from credit_scoring.io.provenance import file_sha256
from credit_scoring.models.families import file_kinds, format_of_file, load_flavour_folder
from credit_scoring.models.model_files import (
    PICKLE_SUFFIXES,
    UnsafeModelError,
    check_no_links_leaving,
    inside,
    mlmodel,
    unsafe_files,
)
from credit_scoring.parameters import validate_parameters

logger = logging.getLogger(__name__)

COMMIT_HASH = re.compile(r"[0-9a-f]{40}")
SHA256 = re.compile(r"[0-9a-f]{64}")
MANIFEST = "SHA256SUMS"
UNLISTED_ALLOWED = frozenset({MANIFEST, ".gitattributes"})  # the Hub adds .gitattributes itself
OPT_IN = (
    "Set trust_remote_code: true (hub.download in conf/base/parameters_hub.yml, or the "
    "HubModelDataset entry) only for a source you trust, pinned by revision and sha256: "
    "it lets the download run its author's code on this machine."
)


def _check_sha256(path: Path, expected: str, what: str) -> None:
    actual = file_sha256(path)
    if actual != expected.lower():
        raise ValueError(
            f"SHA-256 of {what} is {actual}, not the configured {expected}: the file is not "
            "the one you vetted. Not loading it."
        )


def write_manifest(folder: Path) -> Path:
    """``folder/SHA256SUMS``: ``<sha256>  <path>`` per file, as ``sha256sum -c`` reads it."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    manifest = folder / MANIFEST
    manifest.write_text("".join(f"{file_sha256(p)}  {p.relative_to(folder).as_posix()}\n"
                                for p in files))
    return manifest


def read_manifest(path: Path) -> dict[str, str]:
    """``SHA256SUMS`` -> {relative path: sha256}."""
    listed = {}
    for line in Path(path).read_text().splitlines():
        checksum, _, name = line.partition("  ")
        if not SHA256.fullmatch(checksum) or not name:
            raise ValueError(f"{MANIFEST} line {line!r} is not '<sha256>  <path>'.")
        listed[name] = checksum
    return listed


def verify_release(folder: Path, listed: dict[str, str]) -> None:
    """Every file of ``folder`` is listed in the manifest with its SHA-256; nothing else is there."""
    for name, checksum in listed.items():
        file = inside(folder, name)
        if not file.is_file():
            raise ValueError(f"{name}, listed in {MANIFEST}, is missing from {folder}.")
        _check_sha256(file, checksum, name)
    present = {p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file()}
    unlisted = sorted(present - set(listed) - UNLISTED_ALLOWED)
    if unlisted:
        raise ValueError(f"{unlisted} in {folder} are not listed in {MANIFEST}. Not loading them.")


def download(
    repo_id: str,
    revision: str,
    filename: str | None = None,
    sha256: str | None = None,
    cache_dir: str | None = None,
    token: str | None = None,
) -> Path:
    """Fetch ``filename`` (or the whole release) of ``repo_id`` at commit ``revision``.

    Args:
        sha256: of ``filename`` (optional); for a whole release (``filename`` None) the
            SHA-256 of its ``SHA256SUMS`` manifest (required), which checks every file.

    Raises:
        ValueError: for a revision that is not a commit hash (a branch or tag can move
            under you), a release without ``sha256``, or a file whose SHA-256 differs.
    """
    if not COMMIT_HASH.fullmatch(str(revision)):
        raise ValueError(
            f"Pin hub revision to a 40-character commit hash, not {revision!r}: a branch or "
            f"tag can change under you. Find it under 'Files and versions' on the Hub or with "
            f"huggingface_hub.model_info('{repo_id}').sha."
        )
    where = f"{repo_id}@{revision[:8]}"
    if filename is None:
        if not sha256:
            raise ValueError(
                f"Set hub sha256 to the SHA-256 of {where}'s {MANIFEST} file, which lists the "
                "checksum of every file of the release: `credit-scoring-hub publish` prints it; "
                "otherwise ask the publisher, or run `sha256sum SHA256SUMS` on a copy you "
                "vetted. (For a single file, set filename.)"
            )
        manifest = Path(hf_hub_download(repo_id, MANIFEST, revision=revision,
                                        cache_dir=cache_dir, token=token))
        _check_sha256(manifest, sha256, f"{where}/{MANIFEST}")
        listed = read_manifest(manifest)
        folder = Path(snapshot_download(repo_id, revision=revision, cache_dir=cache_dir,
                                        token=token, allow_patterns=[MANIFEST, *listed]))
        verify_release(folder, listed)
        return folder
    path = Path(hf_hub_download(repo_id, filename, revision=revision, cache_dir=cache_dir,
                                token=token))
    if sha256:
        _check_sha256(path, sha256, f"{where}/{filename}")
    return path


def load_model(path: Path, trust_remote_code: bool = False) -> Any:
    """Load a downloaded model: MLflow folder, native XGBoost / CatBoost file, or opted-in pickle.

    A folder of code-free files is rebuilt by the installed project code: our release
    as the PD pyfunc returning PD, score and decision, an MLflow ``sklearn`` (skops),
    ``xgboost`` or ``catboost`` folder as the framework's estimator. Anything that could run
    code (pickle, cloudpickle, Python files, ``code_paths``, skops types off the allow-list)
    is refused before it is opened, unless ``trust_remote_code`` lets MLflow or joblib load it.
    """
    path = Path(path)
    if path.is_dir():
        folder = path / "model" if (path / "model" / "MLmodel").exists() else path
        if not (folder / "MLmodel").exists():
            raise ValueError(f"{path} holds no MLflow model (no MLmodel file, nor model/MLmodel).")
        check_no_links_leaving(path)  # whatever trust_remote_code says
        own_pd_model = "family" in _pyfunc_config(folder)
        unsafe = unsafe_files(path)
        if own_pd_model:  # its shipped code is never run on the code-free path: not a risk there
            shipped = _shipped_code(folder, path)
            if any(shipped(name) for name in unsafe):
                logger.info("%s: reading its code-free files only; the model's own code is not "
                            "run (the installed credit_scoring rebuilds the model).", path)
            unsafe = {name: why for name, why in unsafe.items() if not shipped(name)}
        if not unsafe:
            if own_pd_model:
                return load_code_free(folder)
            return load_flavour_folder(folder)
        reasons = "; ".join(f"{name} is {why}" for name, why in unsafe.items())
        if not trust_remote_code:
            raise UnsafeModelError(f"Not loading {path}: {reasons}. {OPT_IN}")
        logger.warning("Loading %s with MLflow because trust_remote_code is set: %s", path, reasons)
        # the Hub cache links each file to a shared blob, which MLflow refuses to follow
        # out of the model folder: load from a resolved copy (read completely on load)
        with tempfile.TemporaryDirectory(prefix="credit_scoring_hub_") as tmp:
            shutil.copytree(folder, Path(tmp) / "model", symlinks=False)
            return mlflow.pyfunc.load_model(str(Path(tmp) / "model"))
    if path.suffix in PICKLE_SUFFIXES:
        if not trust_remote_code:
            raise UnsafeModelError(
                f"Not loading {path.name}: it is a pickle, and unpickling runs whatever code "
                f"its author put in it. {OPT_IN}"
            )
        import joblib  # noqa: PLC0415  (only for the explicitly trusted pickle)

        logger.warning("Unpickling %s because trust_remote_code is set.", path.name)
        return joblib.load(path)
    native = format_of_file(path)
    if native is not None:
        return native.load(path)
    raise ValueError(
        f"Unknown model format '{path.suffix}' ({path.name}); expected an MLflow model folder, "
        f"{file_kinds()} or, with trust_remote_code, {PICKLE_SUFFIXES}."
    )


def _shipped_code(folder: Path, root: Path):
    """Whether a file (relative to ``root``) is our PD model's own code: ``MLmodel``'s
    ``code_paths`` folder, the model-from-code file or ``MLmodel`` naming them. MLflow's
    loader runs them; the code-free load reads the artifacts with the installed package."""
    flavour = mlmodel(folder)["flavors"]["python_function"]
    prefix = "" if folder == root else f"{folder.relative_to(root).as_posix()}/"
    files = {f"{prefix}MLmodel", f"{prefix}{Path(flavour.get('model_code_path', '')).name}"}
    code = f"{prefix}{flavour['code']}/" if flavour.get("code") else None
    return lambda name: name in files or (code is not None and name.startswith(code))


def _pyfunc_config(folder: Path) -> dict[str, Any]:
    flavour = mlmodel(folder).get("flavors", {}).get("python_function") or {}
    return flavour.get("config") or {}


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
        trust_remote_code: bool = False,
        cache_dir: str | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._source = {"repo_id": repo_id, "revision": revision, "filename": filename,
                        "sha256": sha256, "cache_dir": cache_dir}
        self._trust_remote_code = trust_remote_code
        self._token = (credentials or {}).get("token")
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {**self._source, "trust_remote_code": self._trust_remote_code}

    def _load(self) -> Any:
        return load_model(download(**self._source, token=self._token), self._trust_remote_code)

    def _save(self, data: None) -> None:
        raise NotImplementedError("HubModelDataset is read-only; publish with credit-scoring-hub.")


def _protected_text(schema: dict[str, Any]) -> str:
    """What the card says about protected attributes, from the model's own contract."""
    protected = schema.get("protected_attributes")
    if protected is None:
        return ("**Protected attributes.** This model records none: it was built before they "
                "were configured, and its features may include attributes (such as age, sex "
                "or nationality) that lending law restricts.")
    named = ", ".join(f"`{c}`" for c in protected["columns"]) or "none"
    used = ("are not model features (policy exclude)" if protected["policy"] == "exclude" else
            "are model features (policy allow) but are never cited as a reason")
    return (f"**Protected attributes** ({named}) {used}. The validation report screens "
            "approval and default rates by protected group (adverse impact ratio, four-fifths "
            "rule); that screen is not a fairness audit. Review the model under your "
            "jurisdiction's rules before any use.")


def model_card(
    repo_id: str, model: mlflow.models.Model, metrics: dict[str, float], card: dict[str, Any]
) -> ModelCard:
    """The release's model card (README.md): Hub metadata, intended use, the decision policy
    and input columns read from the model itself, metrics at the cut-off, limitations."""
    config = model.flavors["python_function"]["config"]
    policy, schema = DecisionPolicy.from_config(config["policy"]), config["feature_schema"]
    costs, scaling = policy.costs, policy.scaling
    metadata = ModelCardData(
        library_name="mlflow", license=card["license"], pipeline_tag="tabular-classification",
        tags=["credit-scoring", "probability-of-default", "scorecard", "kedro", "mlflow"],
    )
    rows = [
        ("ROC AUC (test)", metrics.get("test_roc_auc")),
        ("Gini (test)", metrics.get("test_gini")),
        ("KS (test)", metrics.get("test_ks")),
        ("Brier score (test)", metrics.get("test_brier")),
        ("ROC AUC (cross-validation)", metrics.get("cv_roc_auc_mean")),
        ("Approval rate at the cut-off (test)", metrics.get("test_approval_rate")),
        ("Bad rate among approved (test)", metrics.get("test_bad_rate_approved")),
        ("Expected cost per applicant at the cut-off (test)", metrics.get("test_expected_cost")),
        ("Expected cost per applicant at PD 0.5 (test)", metrics.get("test_expected_cost_at_0.5")),
    ]
    table = "\n".join(f"| {name} | {value:.4f} |" for name, value in rows if value is not None)
    columns = ", ".join(f"`{c}`" for c in needed_columns(schema))
    return ModelCard(f"""---
{metadata.to_yaml()}
---

# {repo_id}

A probability-of-default (PD) model with its lending decision, built by the
[credit_scoring]({card["project_url"]}) Kedro project and stored as an MLflow model. It takes
**raw applicant rows** and returns, per applicant, the PD, a scorecard score, a score band,
accept / decline and, for a decline, the attributes that raised the PD most. Inside: the
estimator in its framework's native format, preprocessing and calibrator in skops, the
training contract and decision policy as configuration, the project's code in `model/code`
and pinned requirements. **No pickle**; `SHA256SUMS` lists the SHA-256 of every file.

## Intended use
{card["intended_use"].strip()}

## Decision policy
Decline when PD >= **{policy.cutoff:.4f}** (about score **{policy.cutoff_score}**). The
cut-off minimises expected misclassification cost on out-of-fold predictions of the training
set for the costs accept-a-bad = {costs.accept_bad}, decline-a-good = {costs.decline_good}.
Scores: {scaling.base_score} points at good:bad odds of
{scaling.base_odds}:1, {scaling.pdo} points to double the odds;
{len(policy.band_edges) + 1} score bands (band 1 is the riskiest).

## Training data
{card["training_data"].strip()}

## Metrics
| metric | value |
|---|---|
{table}

## How to use
Input columns the model needs: {columns}. Other columns are passed over (an id column is
returned with the scores).

```python
# with the credit_scoring package installed: only the code-free files are read
from credit_scoring.io.hub import download, load_model
model = load_model(download("{repo_id}", revision="<commit hash>",
                            sha256="<SHA-256 of SHA256SUMS, from the publisher>"))
model.predict(applicants)   # id, pd, score, band, decision, reason_1_code, reason_1_text, reason_1_value ...

# without it, in an environment made from model/requirements.txt: MLflow runs the
# model's own code (model/code), so vet it first
import mlflow
model = mlflow.pyfunc.load_model("<download folder>/model")
```

## Limitations
{card["limitations"].strip()}

{_protected_text(schema)}
""")


def build_release(
    model_uri: str, folder: Path, repo_id: str, metrics: dict[str, float], card: dict[str, Any]
) -> Path:
    """Write exactly what a release uploads into ``folder`` (must be empty or absent).

    The registered model folder as it is (``model/``), its model card (``README.md``) and,
    last, ``SHA256SUMS``.

    Args:
        model_uri: the champion, e.g. ``models:/credit_scoring_pd/3``.
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
    model_card(repo_id, model, metrics, card).save(folder / "README.md")
    write_manifest(folder)
    return folder


def publish(folder: Path, repo_id: str, token: str | None, private: bool) -> CommitInfo:
    """Upload a release folder to ``repo_id`` (created if needed); returns the commit."""
    if not token:
        raise ValueError(
            "No Hugging Face token: set huggingface.token in conf/local/credentials.yml or "
            "the HF_TOKEN environment variable (never in code or conf/base)."
        )
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    return api.upload_folder(repo_id=repo_id, folder_path=str(folder),
                             commit_message="Publish credit_scoring champion")


def _project_context(env: str | None):
    from kedro.framework.session import KedroSession  # noqa: PLC0415  (CLI only)
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415  (CLI only)

    bootstrap_project(Path.cwd())
    return KedroSession.create(env=env).load_context()


def _token(config_loader) -> str | None:
    """``huggingface.token`` from Kedro credentials (conf/local), else what huggingface_hub
    finds itself (``HF_TOKEN``, or the token ``hf auth login`` stored)."""
    try:
        credentials = config_loader["credentials"]
    except MissingConfigException:  # no credentials file at all: fine for public repos
        credentials = {}
    return (credentials.get("huggingface") or {}).get("token") or get_token()


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
        validate_parameters(context.params, ["hub"])  # e.g. a leftover trust_pickle key
        message = (_download(context) if args.command == "download"
                   else _publish(context, args, parser))
    except (ValueError, UnsafeModelError, DatasetError) as error:
        parser.exit(2, f"credit-scoring-hub {args.command}: {error}\n")
    print(message)


def _download(context) -> str:
    settings = context.params["hub"]["download"]
    path = download(settings["repo_id"], settings["revision"], settings.get("filename"),
                    settings.get("sha256"), token=_token(context.config_loader))
    model = load_model(path, settings.get("trust_remote_code", False))
    return (f"Downloaded {settings['repo_id']}@{settings['revision'][:8]} to {path}: "
            f"{type(model).__name__}")


def _publish(context, args: argparse.Namespace, parser: argparse.ArgumentParser) -> str:
    settings = context.params["hub"]["publish"]
    repo_id = args.repo_id or settings["repo_id"]
    if not repo_id:
        parser.error("name the Hub repository: --repo-id your-name/credit-scoring-pd")
    version = context.catalog.get("champion@registry").model_version()
    metrics = mlflow.get_run(version.run_id).data.metrics
    folder = args.folder or Path(tempfile.mkdtemp(prefix="credit_scoring_release_"))
    build_release(f"models:/{version.name}/{version.version}", folder, repo_id, metrics,
                  settings["card"])
    manifest = file_sha256(folder / MANIFEST)
    if args.dry_run:
        return f"Release folder (not uploaded): {folder}\n{MANIFEST} sha256: {manifest}"
    commit = publish(folder, repo_id, _token(context.config_loader), settings["private"])
    return (f"Published {commit.commit_url}\nUsers pin it in hub.download with\n"
            f"  repo_id: {repo_id}\n  filename: null\n  revision: {commit.oid}\n"
            f"  sha256: {manifest}   # of {MANIFEST}, which lists every file's")
