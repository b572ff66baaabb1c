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
        if self._fs.exists(path):
            if self._fs.size(path) == 0:
                raise DatasetError(f"{path} is empty (0 bytes): put the applicant table there, "
                                   "or point the catalog entry at the right file.")
            self._check_separator(path, fix)
        try:
            return super().load()
        except DatasetError as error:
            cause = error.__cause__
            if isinstance(cause, UnicodeDecodeError):
                raise DatasetError(
                    f"{path} is not {cause.encoding}-encoded (it holds byte "
                    f"{cause.object[cause.start]:#x}): give the file's encoding, e.g. "
                    f"encoding: latin-1 — {fix}."
                ) from None
            if isinstance(cause, pd.errors.EmptyDataError):
                raise DatasetError(f"{path} has no header row and no data: put the applicant "
                                   "table there, or point the catalog entry at the right file."
                                   ) from None
            raise

    def _check_separator(self, path: str, fix: str) -> None:
        """A header split by ';', tab or '|' instead of the expected separator."""
        with self._fs.open(path, "rb") as stream:
            header = stream.readline().decode("utf-8", errors="replace").strip()
        expected = self._load_args.get("sep", self._load_args.get("delimiter", ","))
        try:
            found = csv.Sniffer().sniff(header, delimiters=f",{SEPARATORS}").delimiter
        except csv.Error:
            return
        if found != expected and expected not in header:
            raise DatasetError(
                f"{path} looks {found!r}-separated, not {expected!r}-separated (header: "
                f"{header[:60]!r}...); sep: {found!r} — {fix}."
            )
