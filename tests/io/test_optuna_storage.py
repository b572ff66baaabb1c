"""The Optuna storage dataset: a journal file, or a database URL whose password comes from
credentials.yml and is never shown."""

import logging

import optuna
import pytest
from kedro.io import DataCatalog, DatasetError

from credit_scoring.io import optuna_storage
from credit_scoring.io.optuna_storage import OptunaStorageDataset, refuse_passwords_in

SECRET = "s3cret"


def test_a_journal_file_path_gives_a_journal_storage_in_a_new_folder(tmp_path):
    storage = OptunaStorageDataset(filepath=str(tmp_path / "optuna" / "journal.log")).load()
    assert isinstance(storage, optuna.storages.JournalStorage)
    optuna.create_study(study_name="s", storage=storage)
    assert (tmp_path / "optuna" / "journal.log").stat().st_size > 0


def test_database_password_comes_from_credentials_and_is_masked_everywhere_shown(
    monkeypatch, caplog
):
    opened = {}
    monkeypatch.setattr(optuna_storage, "RDBStorage",
                        lambda url, **kwargs: opened.setdefault("url", url))
    catalog = DataCatalog.from_config(
        {"tuning.optuna_storage": {
            "type": "credit_scoring.io.optuna_storage.OptunaStorageDataset",
            "url": "postgresql://db-host:5432/optuna",
            "credentials": "optuna_storage",
        }},
        credentials={"optuna_storage": {"username": "tuner", "password": SECRET}},
    )
    with caplog.at_level(logging.DEBUG):
        catalog.load("tuning.optuna_storage")
    assert opened["url"] == f"postgresql://tuner:{SECRET}@db-host:5432/optuna"

    dataset = catalog.get("tuning.optuna_storage")
    shown = [repr(dataset), str(dataset), str(dataset._describe()), repr(catalog), caplog.text]
    assert dataset._describe()["url"] == "postgresql://tuner:***@db-host:5432/optuna"
    assert not [text for text in shown if SECRET in text]


def test_a_password_written_into_the_url_is_refused_without_echoing_it():
    with pytest.raises(DatasetError, match="credentials.yml") as refused:
        OptunaStorageDataset(url=f"postgresql://tuner:{SECRET}@db-host/optuna")
    assert SECRET not in str(refused.value)


def test_a_password_in_any_parameter_is_refused_by_name():
    params = {"study_name": "s", "extra": {"urls": ["sqlite:///ok.db", f"mysql://u:{SECRET}@h/db"]}}
    with pytest.raises(ValueError, match=r"tuning\.extra\.urls\[1\]") as refused:
        refuse_passwords_in(params, "tuning")
    assert SECRET not in str(refused.value)
    refuse_passwords_in({"storage": "postgresql://tuner@db-host/optuna"}, "tuning")


def test_storage_is_read_only_and_takes_one_location():
    with pytest.raises(DatasetError, match="exactly one"):
        OptunaStorageDataset()
    with pytest.raises(DatasetError, match="read-only"):
        OptunaStorageDataset(filepath="journal.log").save("a study")
