"""The monitoring store: one record per batch, recorded once, readable as a history."""

import pandas as pd
import pytest

from credit_scoring.io.monitoring_store import MonitoringStoreDataset
from credit_scoring.validation.monitoring import MEASURE_COLUMNS, SCORE_COLUMNS


def record(batch_id: str, month: int) -> dict[str, pd.DataFrame]:
    return {
        "batch": pd.DataFrame({"batch_id": [batch_id],
                               "batch_start": [pd.Timestamp(2024, month, 1)],
                               "recorded_at": [pd.Timestamp.now()], "rows": [3]}),
        "measures": pd.DataFrame([(batch_id, "psi", "score", 0.01, None, None)],
                                 columns=MEASURE_COLUMNS),
        "scores": pd.DataFrame([(batch_id, "1", None, 0.1, 0.1, 600, "A", "accept", None)],
                               columns=SCORE_COLUMNS),
    }


@pytest.fixture(params=["local", "memory"])
def store(request, tmp_path) -> MonitoringStoreDataset:
    # a team points the store elsewhere by URL: fsspec's in-memory file system stands in
    folder = str(tmp_path / "monitoring") if request.param == "local" else (
        f"memory://{tmp_path.name}/monitoring")
    return MonitoringStoreDataset(folder)


def test_an_empty_store_loads_as_an_empty_history(store):
    assert not store.exists()
    history = store.load()
    assert history["batches"].empty and history["measures"].columns.tolist() == MEASURE_COLUMNS


def test_batches_load_oldest_first_with_their_measures_and_scores(store):
    store.save(record("march", 3))
    store.save(record("january", 1))
    history = store.load()
    assert history["batches"]["batch_id"].tolist() == ["january", "march"]
    assert sorted(history["measures"]["batch_id"]) == ["january", "march"]
    assert len(history["scores"]) == 2


def test_the_same_batch_recorded_again_is_kept_once(store, caplog):
    store.save(record("march", 3))
    first = store.load()["batches"]["recorded_at"].iloc[0]
    store.save(record("march", 3))
    history = store.load()
    assert len(history["batches"]) == 1 and len(history["scores"]) == 1
    assert history["batches"]["recorded_at"].iloc[0] == first
    assert "already in the monitoring history" in caplog.text


def test_a_batch_whose_recording_stopped_half_way_is_not_in_the_history(tmp_path):
    store = MonitoringStoreDataset(str(tmp_path))
    store.save(record("january", 1))
    # a process killed after the measures and scores, before the batch file (its commit)
    (tmp_path / "scores" / "march.parquet").write_bytes(b"")
    (tmp_path / "batches" / "march.parquet.partial").write_bytes(b"")
    assert store.load()["batches"]["batch_id"].tolist() == ["january"]
