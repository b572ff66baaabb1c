"""The embedded tracking store is checked before MLflow opens it: a real SQLite store made by
MLflow, a champion record as the registry dataset writes it, and the damage users meet."""

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from credit_scoring.io.tracking_store import (
    TrackingStoreError,
    champion_record,
    check_tracking_store,
    sqlite_path,
)

SETTING = "conf/base/mlflow.yml"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A store holding version 1 of 'credit_scoring_pd'."""
    db = tmp_path_factory.mktemp("store") / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    client.create_registered_model("credit_scoring_pd")
    client.create_model_version("credit_scoring_pd", source=str(db.parent))
    return db


def record(folder: Path, version: int = 1) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "champion.json").write_text(json.dumps(
        {"registered_model_name": "credit_scoring_pd", "version": str(version)}))
    return champion_record(folder)


def test_sqlite_uris_become_files_and_servers_are_left_alone():
    assert sqlite_path("sqlite:////work/p/mlruns/mlflow.db") == Path("/work/p/mlruns/mlflow.db")
    assert sqlite_path("sqlite:///mlruns/mlflow.db") == Path("mlruns/mlflow.db")
    assert sqlite_path("http://mlflow.bank.internal:5000") is None
    assert sqlite_path(None) is None


def test_the_store_that_holds_the_champion_passes(store, tmp_path):
    check_tracking_store(store, [record(tmp_path)], SETTING)


def test_a_new_project_may_have_no_store_or_an_empty_one(tmp_path):
    check_tracking_store(tmp_path / "mlflow.db", [], SETTING)
    (tmp_path / "mlflow.db").write_bytes(b"")
    check_tracking_store(tmp_path / "mlflow.db", [], SETTING)


@pytest.mark.parametrize(("damage", "state"), [
    (lambda db: db.write_bytes(b""), "is empty (0 bytes)"),
    (lambda db: db.unlink(), "does not exist"),
])
def test_an_empty_or_missing_store_with_a_champion_on_record_is_refused(damage, state, store,
                                                                        tmp_path):
    db = tmp_path / "mlflow.db"
    db.write_bytes(store.read_bytes())
    damage(db)
    with pytest.raises(TrackingStoreError) as refused:
        check_tracking_store(db, [record(tmp_path / "champion")], SETTING)
    message = str(refused.value)
    assert f"{db} {state}" in message
    assert f"{tmp_path}/champion/champion.json says version 1 of 'credit_scoring_pd'" in message
    assert f"Restore {db} from a backup, or point server.mlflow_tracking_uri" in message


def test_a_truncated_store_names_its_file_and_how_to_recover(store, tmp_path):
    db = tmp_path / "mlflow.db"
    db.write_bytes(store.read_bytes()[: store.stat().st_size // 2])
    with pytest.raises(TrackingStoreError, match=rf"{db} cannot be read \(database disk image is "
                                                 r"malformed\).*\.recover"):
        check_tracking_store(db, [], SETTING)
    db.write_bytes(b"not a database at all, but 40 bytes long")
    with pytest.raises(TrackingStoreError, match="file is not a database"):
        check_tracking_store(db, [], SETTING)


def test_a_store_without_the_recorded_version_is_the_wrong_store(store, tmp_path):
    with pytest.raises(TrackingStoreError, match="holds no version 2 of 'credit_scoring_pd'.*"
                                                 "not the store the champion was registered in"):
        check_tracking_store(store, [record(tmp_path, version=2)], SETTING)
