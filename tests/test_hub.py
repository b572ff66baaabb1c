"""Hugging Face Hub: offline download through the real cache, pinning, checksums, pickle
opt-in, and the release folder that `credit-scoring-hub publish` uploads."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import joblib
import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import DatasetError
from sklearn.linear_model import LogisticRegression

from credit_scoring.hub import (
    HubModelDataset,
    UnsafeModelError,
    build_release,
    download,
    file_sha256,
    publish,
)
from credit_scoring.schema import features
from credit_scoring.tracking import MlflowChampionDataset
from tests.conftest import write_yaml

COMMIT = "0123456789abcdef0123456789abcdef01234567"
ORIGINAL = "dworsleytonks/credit-scoring-xgb"
CARD = yaml.safe_load(
    (Path(__file__).parents[1] / "conf/base/parameters_hub.yml").read_text()
)["hub"]["publish"]["card"]


def fill_hf_cache(cache: Path, repo_id: str, files: dict[str, Path]) -> None:
    """Lay files out exactly as huggingface_hub caches a download of ``repo_id`` at COMMIT."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / COMMIT
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(COMMIT)
    for name, source in files.items():
        blob = repo / "blobs" / hashlib.sha256(source.read_bytes()).hexdigest()
        blob.write_bytes(source.read_bytes())
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))


@pytest.fixture
def original_pickle(tmp_path):
    """A stand-in for the original project's pickled model, cached as if downloaded."""
    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    joblib.dump(model, tmp_path / "credit_scoring_xgb.pkl")
    cache = tmp_path / "hf_cache"
    fill_hf_cache(cache, ORIGINAL, {"credit_scoring_xgb.pkl": tmp_path / "credit_scoring_xgb.pkl"})
    return cache, file_sha256(tmp_path / "credit_scoring_xgb.pkl")


def test_a_pickle_loads_only_when_trusted(original_pickle):
    cache, sha256 = original_pickle
    refused = HubModelDataset(ORIGINAL, COMMIT, "credit_scoring_xgb.pkl", sha256,
                              cache_dir=str(cache))
    with pytest.raises(DatasetError, match="trust_pickle: true") as refusal:
        refused.load()
    assert isinstance(refusal.value.__cause__, UnsafeModelError)
    trusted = HubModelDataset(ORIGINAL, COMMIT, "credit_scoring_xgb.pkl", sha256,
                              trust_pickle=True, cache_dir=str(cache))
    assert trusted.load().predict_proba([[3.0]])[0, 1] > 0.5


def test_a_file_whose_checksum_differs_is_not_loaded(original_pickle):
    cache, _ = original_pickle
    with pytest.raises(ValueError, match="SHA-256 .* not the configured"):
        download(ORIGINAL, COMMIT, "credit_scoring_xgb.pkl", sha256="0" * 64, cache_dir=str(cache))


@pytest.mark.parametrize("revision", ["main", "v1.0", None, COMMIT[:12]])
def test_an_unpinned_revision_is_refused(revision):
    with pytest.raises(ValueError, match="Pin hub revision to a 40-character commit hash"):
        download(ORIGINAL, revision, "credit_scoring_xgb.pkl")


def test_publishing_needs_a_token_from_credentials_or_the_environment(tmp_path):
    with pytest.raises(ValueError, match="No Hugging Face token"):
        publish(tmp_path, "someone/credit-pd", token=None, private=True)


@pytest.fixture
def release(thresholding_outputs, tracking_store, tmp_path):
    """The champion registered, then built into the exact folder a publish uploads."""
    catalog, test, schema = thresholding_outputs
    dataset = MlflowChampionDataset(registered_model_name="test_pd")
    dataset.save(catalog.load("champion"))
    version = dataset.model_version()
    metrics = mlflow.get_run(version.run_id).data.metrics
    folder = build_release(f"models:/test_pd/{version.version}", tmp_path / "release",
                           "someone/credit-pd", version.tags, metrics, CARD)
    return folder, features(test, schema), catalog.load("champion_test_scores")


def test_release_folder_holds_model_policy_schema_and_card(release, thresholding_outputs):
    folder, rows, _ = release
    catalog, _, _ = thresholding_outputs
    assert {p.name for p in folder.iterdir()} == {"model", "README.md", "decision_policy.json",
                                                  "input_schema.json"}
    assert not list(folder.rglob("*.pkl"))  # native formats and skops only
    policy = json.loads((folder / "decision_policy.json").read_text())
    assert policy["cutoff"] == pytest.approx(catalog.load("champion_cutoff")["cutoff"])
    assert policy["costs"] == {"accept_bad": 5.0, "decline_good": 1.0}
    schema = json.loads((folder / "input_schema.json").read_text())
    assert [c["name"] for c in schema] == list(rows.columns)
    card = (folder / "README.md").read_text()
    metadata = yaml.safe_load(card.split("---")[1])
    assert metadata["library_name"] == "mlflow" and metadata["license"] == "cc-by-4.0"
    for section in ("## Intended use", "## Training data", "## Metrics", "## Limitations",
                    "ROC AUC (test)", "not a fairness audit"):
        assert section in card


def test_release_downloads_offline_and_scores_like_the_champion(release, tmp_path):
    folder, rows, in_memory = release
    cache = tmp_path / "hf_cache"
    fill_hf_cache(cache, "someone/credit-pd",
                  {str(p.relative_to(folder)): p for p in folder.rglob("*") if p.is_file()})
    rows.to_parquet(tmp_path / "rows.parquet")
    script = (
        "import pandas as pd; from credit_scoring.hub import HubModelDataset;"
        f"model = HubModelDataset('someone/credit-pd', '{COMMIT}', cache_dir='{cache}').load();"
        "model.predict(pd.read_parquet('rows.parquet'), params={'reason_codes': 3})"
        ".to_parquet('scored.parquet')"
    )
    # a fresh process with the Hub unreachable: the real hf_hub code path reads the cache
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path,
                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    np.testing.assert_allclose(scored["pd"], in_memory["pd"], rtol=1e-9)
    assert (scored["decision"] == in_memory["decision"]).all()
    declined = scored["decision"] == "decline"
    assert scored.loc[declined, "reason_1"].notna().all()


@pytest.mark.integration
def test_download_command_refuses_unpinned_and_untrusted_then_loads_offline(project_copy,
                                                                           original_pickle):
    cache, sha256 = original_pickle
    hub = Path(sys.executable).with_name("credit-scoring-hub")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache)}

    def download_command():
        result = subprocess.run([str(hub), "download"], check=False, cwd=project_copy, env=env,
                                capture_output=True, text=True)
        return result.returncode, " ".join((result.stdout + result.stderr).split())

    code, output = download_command()  # the shipped configuration has no revision yet
    assert code == 2 and "Pin hub revision to a 40-character commit hash" in output

    config = yaml.safe_load((project_copy / "conf/base/parameters_hub.yml").read_text())
    config["hub"]["download"].update(revision=COMMIT, sha256=sha256)
    write_yaml(project_copy / "conf/local/parameters_hub.yml", config)
    code, output = download_command()
    assert code == 2 and "trust_pickle: true" in output

    config["hub"]["download"]["trust_pickle"] = True
    write_yaml(project_copy / "conf/local/parameters_hub.yml", config)
    code, output = download_command()
    assert code == 0 and "Downloaded dworsleytonks/credit-scoring-xgb@01234567" in output
    assert "LogisticRegression" in output
