"""Population stability: has the applicant population moved away from the training sample?

The population stability index (PSI) compares the share of a population in each bin of a
variable: PSI = sum((new% - train%) * ln(new% / train%)). Industry reading: below 0.1
stable, 0.1 to 0.25 a moderate shift worth a look, above 0.25 a significant shift.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd

SHARE_FLOOR = 1e-4
"""Smallest share a bin counts with, so an empty bin gives a large but finite PSI."""
MISSING, OTHER = "__missing__", "__other__"
"""Categorical bins of missing values and of levels never seen in training."""


def _numeric_shares(values: pd.Series, inner_edges: list[float]) -> np.ndarray:
    """Shares of ``values`` in the bins cut at ``inner_edges``, plus a bin for missing values."""
    counts = np.histogram(values.dropna(), bins=[-np.inf, *inner_edges, np.inf])[0]
    counts = np.append(counts, values.isna().sum())
    return counts / max(len(values), 1)


def _categorical_shares(values: pd.Series, levels: list[str]) -> np.ndarray:
    """Shares of ``levels`` (ending with the missing and the unseen-level bins) in ``values``."""
    text = values.astype("string").fillna(MISSING)
    counts = text.where(text.isin(levels), OTHER).value_counts().reindex(levels, fill_value=0)
    return counts.to_numpy() / max(len(values), 1)


def baseline(values: pd.Series, n_bins: int) -> dict[str, list[float]]:
    """The reference distribution of a numeric variable: ``n_bins`` quantile bins and shares.

    Small enough to travel inside the model (the champion stores the baseline of its score
    and of every feature), so drift is always measured against the model that scores,
    wherever it was loaded from. ``range``: the smallest and largest value seen, for the
    out-of-range counts of monitoring (models stored before it have none).
    """
    values = pd.Series(values, dtype=float)
    inner = np.unique(np.nanquantile(values, np.linspace(0, 1, n_bins + 1))[1:-1])
    return {"edges": inner.tolist(), "shares": _numeric_shares(values, inner.tolist()).tolist(),
            "range": None if values.isna().all() else [float(values.min()), float(values.max())]}


def categorical_baseline(values: pd.Series) -> dict[str, list]:
    """The reference distribution of a categorical variable: its levels, missing and unseen."""
    seen = values.astype("string").dropna().unique().tolist()
    levels = list(dict.fromkeys([*sorted(seen), MISSING, OTHER]))
    return {"levels": levels, "shares": _categorical_shares(values, levels).tolist()}


def feature_baselines(
    train: pd.DataFrame, feature_schema: dict[str, Any], n_bins: int
) -> dict[str, dict[str, list]]:
    """Baseline of every model input column of the development sample."""
    return {column: categorical_baseline(train[column]) if column in feature_schema["categorical"]
            else baseline(train[column], n_bins) for column in train.columns}


def _index(expected: np.ndarray, actual: np.ndarray) -> float:
    expected, actual = np.maximum(expected, SHARE_FLOOR), np.maximum(actual, SHARE_FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def psi_from_baseline(reference: dict[str, list], actual: pd.Series) -> float:
    """PSI of ``actual`` against a stored ``baseline`` or ``categorical_baseline``."""
    if "levels" in reference:
        shares = _categorical_shares(pd.Series(actual), reference["levels"])
    else:
        shares = _numeric_shares(pd.Series(actual, dtype=float), reference["edges"])
    return _index(np.asarray(reference["shares"]), shares)


QUOTES = {"duckdb": ('"', "VARCHAR"), "spark": ("`", "STRING")}
"""Per SQL dialect: how a column name is quoted and the text type a category is cast to."""


def bin_count_sql(baselines: dict[str, dict[str, Any]], table: str, dialect: str
                  ) -> tuple[str, list[tuple[str, int]]]:
    """One ``SELECT`` of ``table`` that counts every column of ``baselines`` into its PSI bins
    (``bin_counts``), and how many of its values belong to each column, in order."""
    quote, text = QUOTES[dialect]

    def name(column: str) -> str:
        return quote + column.replace(quote, quote * 2) + quote

    def literal(value: Any) -> str:
        escaped = str(value).replace("'", "''")
        return "'" + (escaped.replace("\\", "\\\\") if dialect == "spark" else escaped) + "'"

    def number(value: float) -> str:
        return repr(float(value)) if np.isfinite(value) else "NULL"

    def count(condition: str) -> str:
        return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    selected, parts = ["COUNT(*)"], []
    for column, reference in baselines.items():
        values = name(column)
        if "levels" in reference:
            found = [count(f"CAST({values} AS {text}) = {literal(level)}")
                     for level in reference["levels"][:-2]] + [count(f"{values} IS NULL")]
        else:
            found = [f"COUNT({values})"] + [count(f"{values} >= {number(edge)}")
                                            for edge in reference["edges"]]
            if reference.get("range"):
                low, high = map(number, reference["range"])
                found.append(count(f"{values} < {low} OR {values} > {high}"))
        parts.append((column, len(found)))
        selected += found
    return f"SELECT {', '.join(selected)} FROM {table}", parts


def bin_counts(batch: Any, baselines: dict[str, dict[str, Any]]
               ) -> tuple[int, dict[str, dict[str, Any]]]:
    """The rows of ``batch`` and, per column of ``baselines``, its counts in the baseline's PSI
    bins, in one aggregation: in DuckDB for a pandas frame, in Spark for a Spark DataFrame (a
    batch scored and held there).

    The bins are ``psi_from_baseline``'s: a numeric column cut at the stored edges (a value on
    an edge counts above it) then its missing values, with the values outside the stored
    development ``range`` (``outside``; None without one); a categorical column's levels, its
    missing values and the levels never seen (``unseen``).
    """
    if isinstance(batch, pd.DataFrame):
        sql, parts = bin_count_sql(baselines, "batch", "duckdb")
        with duckdb.connect() as con:
            con.register("batch", batch)
            row = con.execute(sql).fetchone()
    else:
        view = "credit_scoring_batch"
        batch.createOrReplaceTempView(view)
        sql, parts = bin_count_sql(baselines, view, "spark")
        row = batch.sparkSession.sql(sql).first()
    values = np.asarray([0 if v is None else v for v in row], dtype=float)
    rows, start, counts = int(values[0]), 1, {}
    for column, size in parts:
        found, start = values[start:start + size], start + size
        reference = baselines[column]
        if "levels" in reference:
            counts[column] = {"counts": np.append(found, rows - found.sum()),
                              "unseen": rows - found.sum()}
            continue
        edges = len(reference["edges"])
        known = found[0]
        bins = -np.diff(np.concatenate([[known], found[1:edges + 1], [0]]))
        counts[column] = {"counts": np.append(bins, rows - known),
                          "outside": found[edges + 1] if len(found) > edges + 1 else None}
    return rows, counts


def psi_from_counts(reference: dict[str, list], counts: np.ndarray) -> float:
    """PSI of a sample's ``bin_counts`` against a stored baseline."""
    return _index(np.asarray(reference["shares"]), counts / max(counts.sum(), 1))


def psi(expected: pd.Series, actual: pd.Series, n_bins: int = 10, numeric: bool | None = None) -> float:
    """PSI of ``actual`` (new data) against ``expected`` (training data).

    Numeric variables are cut at the training deciles (``n_bins`` quantiles, open-ended
    outer bins) plus a bin for missing values; categorical ones use the training levels,
    a missing bin and one bin for levels never seen in training.
    """
    if numeric is None:
        numeric = pd.api.types.is_numeric_dtype(expected)
    reference = baseline(expected, n_bins) if numeric else categorical_baseline(expected)
    return psi_from_baseline(reference, actual)


def stability_report(baselines: dict[str, dict[str, list]], model_input: pd.DataFrame) -> pd.DataFrame:
    """PSI of every column of ``model_input`` against its stored baseline."""
    return pd.DataFrame(
        [{"variable": column, "psi": psi_from_baseline(baselines[column], model_input[column])}
         for column in model_input.columns],
        columns=["variable", "psi"],
    )


def stability_status(values: pd.Series, watch: float, alarm: float) -> np.ndarray:
    """stable / watch / shift by the PSI thresholds."""
    return np.select([values > alarm, values > watch], ["shift", "watch"], default="stable")


def population_checks(train: pd.DataFrame, test: pd.DataFrame,
                      categories: dict[str, list[str]]) -> pd.DataFrame:
    """Per feature, what a new sample holds that the development sample did not.

    Returns:
        ``feature``, the missing share in train and test and its increase; for numeric
        features the share of test values outside the training range; for categorical
        features (``categories``: the training levels) the share of test values at a level
        never seen in training.
    """
    rows = []
    for column in test.columns:
        values, reference = test[column], train[column]
        row = {"feature": column, "missing_train": reference.isna().mean(),
               "missing_test": values.isna().mean(), "out_of_range_share": 0.0,
               "unseen_share": 0.0}
        known = values.dropna()
        if column in categories:
            row["unseen_share"] = (~known.astype(str).isin(categories[column])).sum() / max(
                len(values), 1)
        elif pd.api.types.is_numeric_dtype(values) and len(known):
            outside = (known < reference.min()) | (known > reference.max())
            row["out_of_range_share"] = outside.sum() / max(len(values), 1)
        rows.append(row)
    table = pd.DataFrame(rows, columns=["feature", "missing_train", "missing_test",
                                        "out_of_range_share", "unseen_share"])
    table.insert(3, "missing_increase", table["missing_test"] - table["missing_train"])
    return table
