"""Catalog datasets for applicant tables.

``ApplicantCSVDataset``: a CSV that fails in one line naming the file and the fix.

pandas reports an empty file as "No columns to parse from file", a latin-1 file as a
``UnicodeDecodeError`` at some byte, and silently reads a semicolon-separated file as one
column, so the run stops later with a message about a "missing" target column.

``RelatedTablesDataset``: the applicant's history tables, read by an Ibis backend.

``OptionalDataset``: another dataset that may not have been written yet (None until then).

``SpreadsheetSafeCSVDataset``: a CSV output a spreadsheet can open without running a formula
hidden in a text cell.
"""

from __future__ import annotations

import csv
import glob
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets.pandas import CSVDataset

from credit_scoring.data.schema import check_unique_columns, number_problems
from credit_scoring.io.provenance import fingerprint

SEPARATORS = ";\t|"
BACKENDS = ("duckdb", "pyspark")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP, CSV injection)."""


def _text_columns(frame: pd.DataFrame) -> list:
    return [c for c in frame.columns if frame[c].dtype == object
            or isinstance(frame[c].dtype, (pd.StringDtype, pd.CategoricalDtype))]


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells starting like a formula (``=HYPERLINK(...)``, ``+``, ``-``, ``@``, tab,
    carriage return) prefixed with ``'``, so a spreadsheet shows them as text; numbers and
    other cells unchanged. A category value reaches the reasons of scored applicants as it
    came in the applicant's file: this is what keeps it inert in Excel."""
    changed = {}
    for column in _text_columns(frame):
        values = frame[column].astype(object)
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
        if risky.any():
            changed[column] = values.where(~risky, "'" + values[risky].astype(str))
    return frame.assign(**changed) if changed else frame


def spreadsheet_restored(frame: pd.DataFrame) -> pd.DataFrame:
    """The inverse of ``spreadsheet_safe``: the values as they were before writing."""
    changed = {}
    for column in _text_columns(frame):
        values = frame[column]
        guarded = values.map(lambda v: isinstance(v, str) and v[:1] == "'"
                             and v[1:].startswith(FORMULA_STARTS))
        if guarded.any():
            changed[column] = values.where(~guarded, values[guarded].str[1:])
    return frame.assign(**changed) if changed else frame


class SpreadsheetSafeCSVDataset(CSVDataset):
    """``pandas.CSVDataset`` whose text cells cannot run as spreadsheet formulas.

    Every CSV the project writes goes through it (scored applicants, reports, the held-out
    applicants): a cell that starts like a formula is written with a leading ``'``
    (``spreadsheet_safe``), and read back by this dataset as it was. Text cells are quoted
    (pandas leaves a carriage return inside a cell unquoted, which splits the row).
    """

    DEFAULT_SAVE_ARGS = {**CSVDataset.DEFAULT_SAVE_ARGS, "quoting": csv.QUOTE_NONNUMERIC}

    def save(self, data: pd.DataFrame) -> None:
        super().save(spreadsheet_safe(data))

    def load(self) -> pd.DataFrame:
        return spreadsheet_restored(super().load())


class ApplicantCSVDataset(SpreadsheetSafeCSVDataset):
    """``pandas.CSVDataset`` for applicant tables, with clear errors for unreadable files."""

    def load(self) -> pd.DataFrame:
        path = str(self._get_load_path())
        fix = f"set it under load_args of the catalog entry whose filepath is {path}"
        if self._fs.exists(path):
            if self._fs.size(path) == 0:
                raise DatasetError(f"{path} is empty (0 bytes): put the applicant table there, "
                                   "or point the catalog entry at the right file.")
            with self._fs.open(path, "rb") as stream:
                header = stream.readline()
            self._check_separator(header.decode("utf-8", errors="replace").strip(), path, fix)
            self._check_unique_header(header, path)
        try:
            table = super().load()
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
        self._check_integer_sizes(table, path)
        table.attrs["source"] = fingerprint(path)
        return table

    @staticmethod
    def _check_integer_sizes(table: pd.DataFrame, path: str) -> None:
        """A whole number beyond 64 bits (a 400-digit value) leaves pandas a column of
        Python ints that nothing downstream can store or compute with."""
        oversized = [c for c in table.columns if table[c].dtype == object
                     and pd.api.types.infer_dtype(table[c], skipna=True) == "integer"]
        problems = number_problems(table, oversized, "fix them or the file")
        if problems:
            raise DatasetError(f"{path}: numbers no model can compute with:\n"
                               + "\n".join(problems))

    def _check_unique_header(self, header: bytes, path: str) -> None:
        """A column named twice: pandas would read the second as ``<name>.1``, a feature of
        its own in training and an ignored column in scoring, and use the first silently."""
        sep = self._load_args.get("sep", self._load_args.get("delimiter", ","))
        text = header.decode(self._load_args.get("encoding", "utf-8"), errors="replace")
        check_unique_columns(next(csv.reader([text], delimiter=sep), []), path)

    def _check_separator(self, header: str, path: str, fix: str) -> None:
        """A header split by ';', tab or '|' instead of the expected separator."""
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


class SourceTables(dict):
    """Table name -> Ibis table, with ``sources``: each table's file and SHA-256."""

    def __init__(self, tables: dict[str, Any], sources: dict[str, dict[str, Any]]) -> None:
        super().__init__(tables)
        self.sources = sources


class RelatedTablesDataset(AbstractDataset[None, dict]):
    """Related tables (credit bureau, previous applications, ...) as Ibis tables of one backend.

    Embedded DuckDB by default: no server, the files are scanned where they lie, and only
    the queries' per-applicant results reach memory. ``backend: pyspark`` runs the same
    recipe on Spark, for data beyond one machine. Read-only: the feature build consumes it.

    Args:
        tables: table name (as used in the recipe) -> path of a CSV or Parquet file (or a
            glob of Parquet parts). Empty: no related tables, the feature build passes
            the application table through.
        backend: ``duckdb`` or ``pyspark``.
        backend_args: DuckDB ``connect`` arguments (e.g. ``threads``, ``memory_limit``) or
            Spark conf keys (e.g. ``spark.master``, ``spark.sql.shuffle.partitions``).
        load_args: CSV reading options passed to the backend's reader.
    """

    def __init__(self, tables: dict[str, str] | None = None, backend: str = "duckdb",
                 backend_args: dict[str, Any] | None = None,
                 load_args: dict[str, Any] | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        if backend not in BACKENDS:
            raise DatasetError(f"related_tables: backend '{backend}' is not one of {BACKENDS}.")
        self._tables = dict(tables or {})
        self._backend = backend
        self._backend_args = dict(backend_args or {})
        self._load_args = dict(load_args or {})
        self.metadata = metadata

    def load(self) -> dict:
        if not self._tables:
            return {}
        for name, path in self._tables.items():
            if "://" in path:  # s3://, hdfs://...: the backend reads and reports it
                continue
            found = glob.glob(path)
            if not found:
                raise DatasetError(f"related_tables.tables.{name}: no file at {path}; put the "
                                   "table there or point the catalog entry at it.")
            if all(Path(f).stat().st_size == 0 for f in found):
                raise DatasetError(f"related_tables.tables.{name}: {path} is empty (0 bytes).")
        con = self._connect()
        return SourceTables({name: self._read(con, name, path)
                             for name, path in self._tables.items()},
                            {name: fingerprint(path) for name, path in self._tables.items()})

    def _connect(self):
        if self._backend == "duckdb":
            return ibis.duckdb.connect(**self._backend_args)
        from pyspark.sql import SparkSession  # noqa: PLC0415  (an optional extra: spark)

        builder = SparkSession.builder.appName("credit_scoring feature build")
        for key, value in {"spark.master": "local[*]", **self._backend_args}.items():
            builder = builder.config(key, value)
        return ibis.pyspark.connect(builder.getOrCreate())

    def _read(self, con, name: str, path: str):
        if path.endswith(".parquet") or Path(path).is_dir():
            return con.read_parquet(path, table_name=name)
        options = self._load_args
        if self._backend == "pyspark":
            options = {"header": True, "inferSchema": True, **options}
        return con.read_csv(path, table_name=name, **options)

    def save(self, data: dict) -> None:
        raise DatasetError("related_tables is read-only: it is the source the features are built from.")

    def _describe(self) -> dict[str, Any]:
        return {"tables": self._tables, "backend": self._backend}


class OptionalDataset(AbstractDataset[Any, Any]):
    """A dataset another pipeline writes, read as None until it has been written.

    For evidence that exists only after an optional step, e.g. the population stability of
    the latest scoring batch, which the validation report shows when there is one.

    Args:
        dataset: the wrapped dataset's definition, as a catalog entry writes it.
    """

    def __init__(self, dataset: dict[str, Any], metadata: dict[str, Any] | None = None) -> None:
        self._dataset = AbstractDataset.from_config("optional", dataset)
        self.metadata = metadata

    def load(self) -> Any:
        return self._dataset.load() if self._dataset.exists() else None

    def save(self, data: Any) -> None:
        self._dataset.save(data)

    def _exists(self) -> bool:
        return True  # it always loads: None until the wrapped dataset has been written

    def _describe(self) -> dict[str, Any]:
        return {"dataset": self._dataset._describe()}  # noqa: SLF001
