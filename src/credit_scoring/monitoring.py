"""Population stability: has the applicant population moved away from the training sample?

The population stability index (PSI) compares the share of a population in each bin of a
variable: PSI = sum((new% - train%) * ln(new% / train%)). Industry reading: below 0.1
stable, 0.1 to 0.25 a moderate shift worth a look, above 0.25 a significant shift.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SHARE_FLOOR = 1e-4
"""Smallest share a bin counts with, so an empty bin gives a large but finite PSI."""


def _numeric_shares(values: pd.Series, inner_edges: list[float]) -> np.ndarray:
    """Shares of ``values`` in the bins cut at ``inner_edges``, plus a bin for missing values."""
    counts = np.histogram(values.dropna(), bins=[-np.inf, *inner_edges, np.inf])[0]
    counts = np.append(counts, values.isna().sum())
    return counts / max(len(values), 1)


def _categorical_shares(values: pd.Series, levels: pd.Index) -> np.ndarray:
    text = values.astype("string").fillna("__missing__")
    counts = text.where(text.isin(levels), "__other__").value_counts().reindex(levels, fill_value=0)
    return counts.to_numpy() / max(len(values), 1)


def baseline(values: pd.Series, n_bins: int) -> dict[str, list[float]]:
    """The reference distribution of a numeric variable: ``n_bins`` quantile bins and shares.

    Small enough to travel inside the model (the champion stores its score baseline), so
    drift is always measured against the model that scores, wherever it was loaded from.
    """
    values = pd.Series(values, dtype=float)
    inner = np.unique(np.nanquantile(values, np.linspace(0, 1, n_bins + 1))[1:-1])
    return {"edges": inner.tolist(), "shares": _numeric_shares(values, inner.tolist()).tolist()}


def _index(expected: np.ndarray, actual: np.ndarray) -> float:
    expected, actual = np.maximum(expected, SHARE_FLOOR), np.maximum(actual, SHARE_FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def psi_from_baseline(reference: dict[str, list[float]], actual: pd.Series) -> float:
    """PSI of ``actual`` against a stored ``baseline``."""
    return _index(np.asarray(reference["shares"]),
                  _numeric_shares(pd.Series(actual, dtype=float), reference["edges"]))


def psi(expected: pd.Series, actual: pd.Series, n_bins: int = 10, numeric: bool | None = None) -> float:
    """PSI of ``actual`` (new data) against ``expected`` (training data).

    Numeric variables are cut at the training deciles (``n_bins`` quantiles, open-ended
    outer bins) plus a bin for missing values; categorical ones use the training levels,
    a missing bin and one bin for levels never seen in training.
    """
    if numeric is None:
        numeric = pd.api.types.is_numeric_dtype(expected)
    if numeric:
        return psi_from_baseline(baseline(expected, n_bins), actual)
    levels = expected.astype("string").fillna("__missing__").unique().tolist()
    bins = pd.Index([*levels, "__missing__", "__other__"]).unique()
    return _index(_categorical_shares(expected, bins), _categorical_shares(actual, bins))


def stability_report(
    train: pd.DataFrame, new: pd.DataFrame, feature_schema: dict[str, Any], n_bins: int
) -> pd.DataFrame:
    """PSI of every column of ``new`` against the same column of ``train``."""
    return pd.DataFrame(
        [
            {"variable": column,
             "psi": psi(train[column], new[column], n_bins,
                        numeric=column not in feature_schema["categorical"])}
            for column in new.columns
        ],
        columns=["variable", "psi"],
    )


def stability_status(values: pd.Series, watch: float, alarm: float) -> np.ndarray:
    """stable / watch / shift by the PSI thresholds."""
    return np.select([values > alarm, values > watch], ["shift", "watch"], default="stable")
