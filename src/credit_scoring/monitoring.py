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


def _shares(values: pd.Series, bins: pd.Index | np.ndarray, numeric: bool) -> np.ndarray:
    if numeric:
        counts = np.histogram(values.dropna(), bins=bins)[0]
        counts = np.append(counts, values.isna().sum())  # missing values are a bin of their own
    else:
        text = values.astype("string").fillna("__missing__")
        counts = text.where(text.isin(bins), "__other__").value_counts().reindex(bins, fill_value=0)
        counts = counts.to_numpy()
    return np.maximum(counts / max(len(values), 1), SHARE_FLOOR)


def psi(expected: pd.Series, actual: pd.Series, n_bins: int = 10, numeric: bool | None = None) -> float:
    """PSI of ``actual`` (new data) against ``expected`` (training data).

    Numeric variables are cut at the training deciles (``n_bins`` quantiles, open-ended
    outer bins) plus a bin for missing values; categorical ones use the training levels,
    a missing bin and one bin for levels never seen in training.
    """
    if numeric is None:
        numeric = pd.api.types.is_numeric_dtype(expected)
    if numeric:
        inner = np.unique(np.nanquantile(expected.astype(float), np.linspace(0, 1, n_bins + 1))[1:-1])
        bins = np.concatenate([[-np.inf], inner, [np.inf]])
    else:
        levels = expected.astype("string").fillna("__missing__").unique().tolist()
        bins = pd.Index([*levels, "__missing__", "__other__"]).unique()
    train, new = _shares(expected, bins, numeric), _shares(actual, bins, numeric)
    return float(np.sum((new - train) * np.log(new / train)))


def stability_report(
    train: pd.DataFrame, new: pd.DataFrame, feature_schema: dict[str, Any], n_bins: int,
    watch: float, alarm: float,
) -> pd.DataFrame:
    """PSI of every column of ``new`` against ``train``, with status stable / watch / shift."""
    rows = []
    for column in new.columns:
        value = psi(train[column], new[column], n_bins,
                    numeric=column not in feature_schema["categorical"])
        rows.append({"variable": column, "psi": value})
    report = pd.DataFrame(rows)
    report["status"] = np.select(
        [report["psi"] > alarm, report["psi"] > watch], ["shift", "watch"], default="stable"
    )
    return report
