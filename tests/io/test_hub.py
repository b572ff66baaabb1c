"""Hugging Face Hub: offline download through the real cache, pinning, checksums, the
trust_remote_code opt-in (nothing downloaded runs without it), and the release folder that
`credit-scoring-hub publish` uploads."""

import copy
import os
import subprocess
import sys
from pathlib import Path

import huggingface_hub.constants
import joblib
import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from huggingface_hub import ModelCard
from kedro.io import DatasetError
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from credit_scoring.io.hub import (
    MANIFEST,
    HubModelDataset,
    UnsafeModelError,
    build_release,
    download,
    file_sha256,
    load_model,
    publish,
    write_manifest,
)
from credit_scoring.io.registry import MlflowChampionDataset
from tests.conftest import (
    CARD,
    LOAN_BOOK_PARAMS,
    cache_folder,
    fill_hf_cache,
    load_in_fresh_process,
    make_loan_book,
    run_thresholding,
    thresholding_params,
    write_yaml,
)
from tests.conftest import HUB_COMMIT as COMMIT

ORIGINAL = "dworsleytonks/credit-scoring-xgb"


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
    with pytest.raises(DatasetError, match="trust_remote_code: true") as refusal:
        refused.load()
    assert isinstance(refusal.value.__cause__, UnsafeModelError)
    trusted = HubModelDataset(ORIGINAL, COMMIT, "credit_scoring_xgb.pkl", sha256,
                              trust_remote_code=True, cache_dir=str(cache))
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
    dataset.save(catalog.load("champion@registry"))
    version = dataset.model_version()
    metrics = mlflow.get_run(version.run_id).data.metrics
    folder = build_release(f"models:/test_pd/{version.version}", tmp_path / "release",
                           "someone/credit-pd", metrics, CARD)
    raw = catalog.load("holdout_applicants")  # raw rows, as the model receives them
    return folder, raw, catalog.load("thresholding.test_scores")


def test_release_is_the_registered_model_folder_with_its_card(release, thresholding_outputs):
    folder, raw, _ = release
    catalog, _, _ = thresholding_outputs
    assert {p.name for p in folder.iterdir()} == {"model", "README.md", MANIFEST}
    assert not list(folder.rglob("*.pkl"))  # no pickle at all
    assert (folder / "model" / "code" / "credit_scoring" / "decisions" / "scorer.py").exists()
    listed = [line.split("  ")[1] for line in (folder / MANIFEST).read_text().splitlines()]
    assert set(listed) == {str(p.relative_to(folder)) for p in folder.rglob("*")
                           if p.is_file() and p.name != MANIFEST}
    card = ModelCard.load(folder / "README.md")
    assert card.data.library_name == "mlflow" and card.data.license == "cc-by-4.0"
    cutoff = catalog.load("thresholding.cutoff")["cutoff"]
    for section in ("## Intended use", "## Training data", "## Metrics", "## Limitations",
                    "ROC AUC (test)", "not a fairness audit", f"Decline when PD >= **{cutoff:.4f}**",
                    "`loan_amount`"):
        assert section in card.text


def test_a_lightgbm_champion_with_early_stopping_goes_from_thresholding_to_the_hub(
    project_params, tracking_store, tmp_path
):
    # LightGBM as configured (native categories, early stopping), fewer trees: calibrated,
    # cut, registered in its native text file, explained and released code-free
    spec = copy.deepcopy(project_params["model_comparison"]["candidates"]["lightgbm"])
    spec["params"].update(n_estimators=200, n_jobs=1)
    catalog, _, _ = run_thresholding(make_loan_book(), copy.deepcopy(LOAN_BOOK_PARAMS),
                                     thresholding_params(project_params), spec=spec)
    champion = catalog.load("champion@registry")
    assert champion["params"]["estimator"] == "lightgbm.LGBMClassifier"
    scorer = champion["model"]
    assert scorer.estimator.booster_.num_trees() < 200  # it stopped early
    dataset = MlflowChampionDataset(registered_model_name="test_pd_lightgbm")
    dataset.save(champion)
    version = dataset.model_version()
    folder = build_release(f"models:/test_pd_lightgbm/{version.version}", tmp_path / "release",
                           "someone/credit-pd-lgbm", mlflow.get_run(version.run_id).data.metrics,
                           CARD)
    assert list(folder.rglob("estimator.txt"))  # LightGBM's own text format, no pickle
    cache = tmp_path / "hf_cache"
    cache_folder(cache, "someone/credit-pd-lgbm", folder)
    catalog.load("holdout_applicants").to_parquet(tmp_path / "rows.parquet")
    code, output = load_in_fresh_process(
        cache, "someone/credit-pd-lgbm", file_sha256(folder / MANIFEST), cwd=tmp_path,
        then=("import pandas as pd; model.predict(pd.read_parquet('rows.parquet'))"
              ".to_parquet('scored.parquet')"))
    assert code == 0, output
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    in_memory = catalog.load("thresholding.test_scores")
    np.testing.assert_allclose(scored["pd"], in_memory["pd"], rtol=1e-9)
    declined = scored["decision"] == "decline"
    codes = {s.code for s in scorer.policy.statements.attributes.values()}
    assert declined.any() and scored.loc[declined, "reason_1_code"].isin(codes | {"NSF"}).all()


def test_release_downloads_offline_and_scores_raw_rows_like_the_champion(release, tmp_path):
    folder, rows, in_memory = release
    cache = tmp_path / "hf_cache"
    cache_folder(cache, "someone/credit-pd", folder)
    rows.to_parquet(tmp_path / "rows.parquet")
    code, output = load_in_fresh_process(
        cache, "someone/credit-pd", file_sha256(folder / MANIFEST), cwd=tmp_path,
        then=("import pandas as pd; model.predict(pd.read_parquet('rows.parquet'))"
              ".to_parquet('scored.parquet')"),
    )
    assert code == 0, output
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    np.testing.assert_allclose(scored["pd"], in_memory["pd"], rtol=1e-9)
    assert (scored["decision"].to_numpy() == in_memory["decision"].to_numpy()).all()
    declined = scored["decision"] == "decline"
    assert scored.loc[declined, "reason_1_code"].notna().all()


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
    assert code == 2 and "trust_remote_code: true" in output

    # the opt-in's old name is not silently ignored
    write_yaml(project_copy / "conf/local/parameters_hub.yml",
               {"hub": {"download": {"trust_pickle": True}}})
    code, output = download_command()
    assert code == 2 and "hub.download.trust_pickle: unknown key" in output

    config["hub"]["download"]["trust_remote_code"] = True
    write_yaml(project_copy / "conf/local/parameters_hub.yml", config)
    code, output = download_command()
    assert code == 0 and "Downloaded dworsleytonks/credit-scoring-xgb@01234567" in output
    assert "LogisticRegression" in output


@pytest.fixture
def offline(monkeypatch):
    """The Hub unreachable in this process: snapshot_download reads the cache only."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def small_release(tmp_path) -> Path:
    folder = tmp_path / "small_release"
    folder.mkdir()
    (folder / "README.md").write_text("# a release\n")
    (folder / "model_card_notes.json").write_text('{"cutoff": 0.2}')
    write_manifest(folder)
    return folder


def test_a_release_needs_the_sha256_of_its_manifest(tmp_path):
    with pytest.raises(ValueError, match="SHA-256 of .*SHA256SUMS.*publish` prints it"):
        download("someone/credit-pd", COMMIT, cache_dir=str(tmp_path))


def test_a_release_whose_manifest_differs_is_not_loaded(tmp_path, offline):
    folder = small_release(tmp_path)
    cache_folder(tmp_path / "hf_cache", "someone/credit-pd", folder)
    with pytest.raises(ValueError, match="SHA-256 of someone/credit-pd@01234567/SHA256SUMS"):
        download("someone/credit-pd", COMMIT, sha256="0" * 64, cache_dir=str(tmp_path / "hf_cache"))


def test_a_release_file_changed_after_publishing_is_not_loaded(tmp_path, offline):
    folder = small_release(tmp_path)
    sha256 = file_sha256(folder / MANIFEST)
    (folder / "model_card_notes.json").write_text('{"cutoff": 0.9}')
    cache_folder(tmp_path / "hf_cache", "someone/credit-pd", folder)
    with pytest.raises(ValueError, match="SHA-256 of model_card_notes.json"):
        download("someone/credit-pd", COMMIT, sha256=sha256, cache_dir=str(tmp_path / "hf_cache"))


def test_a_release_file_missing_from_the_manifest_is_not_loaded(tmp_path, offline):
    folder = small_release(tmp_path)
    (folder / "extra.json").write_text("{}")
    cache_folder(tmp_path / "hf_cache", "someone/credit-pd", folder)
    with pytest.raises(ValueError, match=r"\['extra.json'\] .* not listed in SHA256SUMS"):
        download("someone/credit-pd", COMMIT, sha256=file_sha256(folder / MANIFEST),
                 cache_dir=str(tmp_path / "hf_cache"))


class PickledPayload(mlflow.pyfunc.PythonModel):
    """A cloudpickled pyfunc whose unpickling (and load_context) writes ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return Path.write_text, (Path(self.marker), "unpickled")

    def load_context(self, context) -> None:
        Path(self.marker).write_text("load_context ran")

    def predict(self, context, model_input):
        return model_input


class Tripwire(BaseEstimator):
    """An estimator whose rebuilding by skops writes its ``marker``."""

    def __init__(self, marker: str = "") -> None:
        self.marker = marker

    def __setstate__(self, state) -> None:
        Path(state["marker"]).write_text("rebuilt")
        self.__dict__.update(state)

    def predict(self, X):
        return X


def cloudpickled_pyfunc(folder: Path, marker: Path) -> None:
    mlflow.pyfunc.save_model(folder, python_model=PickledPayload(str(marker)),
                             pip_requirements=["mlflow"])


def model_from_code(folder: Path, marker: Path) -> None:
    code = marker.parent / "payload_model.py"
    code.write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('imported')\n"
        "import mlflow\n\n\nclass Model(mlflow.pyfunc.PythonModel):\n"
        "    def predict(self, context, model_input):\n        return model_input\n\n\n"
        "mlflow.models.set_model(Model())\n"
    )
    mlflow.pyfunc.save_model(folder, python_model=str(code), pip_requirements=["mlflow"])


def skops_with_unknown_type(folder: Path, marker: Path) -> None:
    mlflow.sklearn.save_model(Tripwire(str(marker)), folder, serialization_format="skops",
                              skops_trusted_types=[f"{__name__}.Tripwire"], pip_requirements=[])


def with_code_paths(folder: Path, marker: Path) -> None:
    helper = marker.parent / "helper.py"
    helper.write_text(f"from pathlib import Path\nPath({str(marker)!r}).write_text('imported')\n")
    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    mlflow.sklearn.save_model(model, folder, serialization_format="skops",
                              code_paths=[str(helper)], pip_requirements=[])


CRAFTED = {
    cloudpickled_pyfunc: "python_model.pkl is a pickle",
    model_from_code: "payload_model.py is Python code",
    skops_with_unknown_type: "model.skops is a skops file with types off the allow-list",
    with_code_paths: "code/helper.py is Python code",
}


def crafted_release(build, tmp_path) -> tuple[Path, Path]:
    """A release folder whose model carries a payload that writes a marker: (folder, marker)."""
    folder, marker = tmp_path / "crafted", tmp_path / "payload_ran"
    build(folder / "model", marker)
    marker.unlink(missing_ok=True)  # saving may have run it; only loading counts
    write_manifest(folder)
    return folder, marker


@pytest.mark.parametrize("build", CRAFTED, ids=lambda build: build.__name__)
def test_a_downloaded_model_that_could_run_code_is_refused_unopened(build, tmp_path):
    folder, marker = crafted_release(build, tmp_path)
    cache = tmp_path / "hf_cache"
    cache_folder(cache, "attacker/credit-pd", folder)
    code, output = load_in_fresh_process(cache, "attacker/credit-pd",
                                         file_sha256(folder / MANIFEST), cwd=tmp_path)
    assert code != 0 and "UnsafeModelError" in output
    assert CRAFTED[build] in output and "trust_remote_code: true" in output
    assert not marker.exists()


@pytest.mark.parametrize("build", [cloudpickled_pyfunc, model_from_code],
                         ids=lambda build: build.__name__)
def test_the_crafted_payloads_do_run_when_trusted(build, tmp_path):
    folder, marker = crafted_release(build, tmp_path)
    try:
        load_model(folder, trust_remote_code=True)
    except Exception:  # noqa: BLE001  (a payload need not leave a working model behind)
        pass
    assert marker.exists()


# ---- a local model folder (issue 31) ----------------------------------------------------
def test_a_link_out_of_a_local_model_folder_is_refused_even_when_trusted(release, tmp_path):
    folder, raw, _ = release
    estimator = next((folder / "model" / "artifacts").glob("estimator.*"))
    secret = tmp_path / "elsewhere" / "id_rsa"
    secret.parent.mkdir()
    secret.write_bytes(estimator.read_bytes())  # even a valid model file: it is not the folder's
    estimator.unlink()
    estimator.symlink_to(secret)
    for trusted in (False, True):
        with pytest.raises(UnsafeModelError, match=rf"links point outside the model folder "
                                                   rf"\(model/artifacts/{estimator.name} -> "
                                                   rf"{secret}\)"):
            load_model(folder, trust_remote_code=trusted)
    estimator.unlink()  # a link that stays inside the folder is the folder's own file
    moved = folder / "model" / "artifacts" / "kept" / estimator.name
    moved.parent.mkdir()
    moved.write_bytes(secret.read_bytes())
    estimator.symlink_to(moved)
    assert len(load_model(folder).predict(raw.head(3))) == 3


def test_a_pickle_renamed_skops_is_named_as_a_pickle(release, tmp_path):
    folder, _, _ = release
    joblib.dump(LogisticRegression(), folder / "model" / "artifacts" / "preprocessing.skops")
    with pytest.raises(UnsafeModelError, match=r"model/artifacts/preprocessing.skops is a pickle "
                                               r"renamed .skops \(a skops file is a zip archive; "
                                               r"unpickling runs its author's code\)"):
        load_model(folder)
