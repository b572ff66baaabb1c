"""The validation report's files: PDF beside the HTML when a browser can print it, a clear
word when none can, the data card copied, the verdict on the model version; provenance."""

import logging
import re
import subprocess

import mlflow
import pytest
from kedro.io import DatasetError
from mlflow.tracking import MlflowClient

from credit_scoring.io import provenance
from credit_scoring.io.printing import ENGINE_ENV
from credit_scoring.io.registry import ValidationReportDataset
from tests.conftest import PROJECT_ROOT

PAGE = "<!DOCTYPE html><html><body><h1>Verdict: fit for use</h1></body></html>"


@pytest.fixture
def version(tracking_store):
    """A registered model version with a run, as thresholding leaves one."""
    with mlflow.start_run() as run:
        pass
    client = MlflowClient()
    client.create_registered_model("pd")
    return client.create_model_version("pd", f"runs:/{run.info.run_id}/model", run.info.run_id)


def report(version, **extra):
    return {"run_id": version.run_id, "name": "pd", "version": version.version,
            "verdict": "fit for use", "files": {"validation_report.html": PAGE}, **extra}


def test_without_a_browser_the_run_succeeds_and_says_how_to_get_the_pdf(
        version, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(ENGINE_ENV, "none")
    with caplog.at_level(logging.WARNING):
        ValidationReportDataset(folder=str(tmp_path / "out")).save(report(version))
    assert (tmp_path / "out" / "validation_report.html").exists()
    assert not (tmp_path / "out" / "validation_report.pdf").exists()
    assert "No PDF of validation_report.html" in caplog.text and "apt-get install" in caplog.text
    tags = MlflowClient().get_model_version("pd", version.version).tags
    assert tags["validation_verdict"] == "fit for use"


def test_with_chromium_the_pdf_and_the_data_card_go_beside_the_report(version, tmp_path):
    card = PROJECT_ROOT / "data/01_raw/README.md"
    ValidationReportDataset(folder=str(tmp_path / "out")).save(
        report(version, attachments={"data_card.md": str(card)}))
    assert (tmp_path / "out" / "validation_report.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "out" / "data_card.md").read_text() == card.read_text()
    logged = {a.path for a in MlflowClient().list_artifacts(version.run_id, "validation")}
    assert "validation/validation_report.pdf" in logged and "validation/data_card.md" in logged


def test_a_missing_data_card_is_named_before_anything_is_written(version, tmp_path):
    with pytest.raises(DatasetError, match=r"nowhere\.md \(validation\.model_card\.data_card\)"):
        ValidationReportDataset(folder=str(tmp_path / "out")).save(
            report(version, attachments={"data_card.md": "nowhere.md"}))
    assert not (tmp_path / "out").exists()


def test_the_code_version_is_the_commit_and_says_when_the_checkout_differs(tmp_path):
    assert provenance.code_version(tmp_path) == "not a git checkout"
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    git("init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    git("add", "a.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    clean = provenance.code_version(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{40}", clean)
    (tmp_path / "a.py").write_text("x = 2\n")
    assert provenance.code_version(tmp_path) == f"{clean}+dirty"


def test_a_data_file_is_fingerprinted_by_its_bytes(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"x\n1\n")
    # by `printf 'x\n1\n' | sha256sum`
    assert provenance.fingerprint(str(tmp_path / "a.csv")) == {
        "path": str(tmp_path / "a.csv"), "bytes": 4,
        "sha256": "daff832f802000e645771a60983c76c963f6ee602a6230e45237bd360e91cc1a"}
