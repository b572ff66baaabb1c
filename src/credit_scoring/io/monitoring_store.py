"""The monitoring store: every scoring batch's record, as Parquet files a team can move.

``folder`` holds three sub-folders, one Parquet file per batch in each, named by its batch
id: ``batches/`` (one row: period, model, rows, approval rate, mean PD, score PSI),
``measures/`` (per variable: CSI, missing, unseen and out-of-range shares, reason shares)
and ``scores/`` (per applicant: id, PD, decision; what backtesting joins outcomes to).
DuckDB and Spark read the folders as tables (``read_parquet('.../batches/*.parquet')``).

A batch id names its content and its model, so recording the same batch again changes
nothing; the ``batches/`` file is written last, and renamed into place, so a batch whose
recording failed half-way is not in the history. ``folder`` may be any fsspec URL
(``s3://bucket/monitoring``) with its ``credentials``.
"""

from __future__ import annotations

import logging
from typing import Any

import fsspec
import pandas as pd
from kedro.io import AbstractDataset

from credit_scoring.validation.monitoring import MEASURE_COLUMNS, SCORE_COLUMNS

logger = logging.getLogger(__name__)

PARTS = ("measures", "scores", "batches")
"""Written in this order: ``batches`` last, the batch's commit."""


class MonitoringStoreDataset(AbstractDataset[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]):
    """Saves one batch record (``validation.monitoring.batch_record``); loads the history:
    ``batches``, ``measures`` and ``scores`` of every recorded batch, oldest first."""

    def __init__(self, folder: str, credentials: dict[str, Any] | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        self._fs, self._folder = fsspec.core.url_to_fs(folder, **(credentials or {}))
        self._url = folder
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"folder": self._url}

    def _file(self, part: str, batch_id: str) -> str:
        return f"{self._folder}/{part}/{batch_id}.parquet"

    def _exists(self) -> bool:
        return bool(self._batch_files())

    def _batch_files(self) -> list[str]:
        return sorted(self._fs.glob(f"{self._folder}/batches/*.parquet"))

    def save(self, data: dict[str, pd.DataFrame]) -> None:
        batch_id = str(data["batch"]["batch_id"].iloc[0])
        if self._fs.exists(self._file("batches", batch_id)):
            logger.info("Batch %s (the same rows, scored by the same model) is already in the "
                        "monitoring history %s: not recorded twice.", batch_id, self._url)
            return
        for part in PARTS:
            self._fs.makedirs(f"{self._folder}/{part}", exist_ok=True)
            target = self._file(part, batch_id)
            with self._fs.open(f"{target}.partial", "wb") as file:
                data["batch" if part == "batches" else part].to_parquet(file, index=False)
            self._fs.mv(f"{target}.partial", target)
        logger.info("Batch %s recorded in the monitoring history %s.", batch_id, self._url)

    def load(self) -> dict[str, pd.DataFrame]:
        files = self._batch_files()
        if not files:
            return {"batches": pd.DataFrame(columns=["batch_id", "batch_start"]),
                    "measures": pd.DataFrame(columns=MEASURE_COLUMNS),
                    "scores": pd.DataFrame(columns=SCORE_COLUMNS)}
        batches = pd.concat([self._read(file) for file in files], ignore_index=True)
        ids = batches["batch_id"].astype(str).tolist()
        history = {"batches": batches.sort_values(["batch_start", "recorded_at"],
                                                  kind="stable").reset_index(drop=True)}
        for part in ("measures", "scores"):
            history[part] = pd.concat([self._read(self._file(part, i)) for i in ids],
                                      ignore_index=True)
        return history

    def _read(self, path: str) -> pd.DataFrame:
        with self._fs.open(path, "rb") as file:
            return pd.read_parquet(file)
