"""Catalog dataset for applicant tables: a CSV that fails in one line naming the file and the fix.

pandas reports an empty file as "No columns to parse from file", a latin-1 file as a
``UnicodeDecodeError`` at some byte, and silently reads a semicolon-separated file as one
column, so the run stops later with a message about a "missing" target column.
"""

from __future__ import annotations

import csv

import pandas as pd
from kedro.io import DatasetError
from kedro_datasets.pandas import CSVDataset

SEPARATORS = ";\t|"


class ApplicantCSVDataset(CSVDataset):
    """``pandas.CSVDataset`` for applicant tables, with clear errors for unreadable files."""

    def load(self) -> pd.DataFrame:
        path = str(self._get_load_path())
        fix = f"set it under load_args of the catalog entry whose filepath is {path}"
        if self._fs.exists(path) and self._fs.size(path) == 0:
            raise DatasetError(f"{path} is empty (0 bytes): put the applicant table there, or "
                               "point the catalog entry at the right file.")
        try:
            table = super().load()
        except UnicodeDecodeError as error:
            raise DatasetError(
                f"{path} is not {error.encoding}-encoded (byte {error.object[error.start]:#x} at "
                f"position {error.start}): give the file's encoding, e.g. "
                f"encoding: latin-1 — {fix}."
            ) from None
        except pd.errors.EmptyDataError:
            raise DatasetError(f"{path} has no header row and no data: put the applicant "
                               "table there, or point the catalog entry at the right file."
                               ) from None
        if table.shape[1] == 1 and "sep" not in self._load_args:
            header = str(table.columns[0])
            try:
                separator = csv.Sniffer().sniff(header, delimiters=SEPARATORS).delimiter
            except csv.Error:
                separator = None
            if separator:
                raise DatasetError(
                    f"{path} has one column named {header[:60]!r}...: it looks "
                    f"{separator!r}-separated, not comma-separated; sep: {separator!r} — {fix}."
                )
        return table
