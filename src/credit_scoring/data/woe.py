"""Univariate evidence for feature choices: weight of evidence (WoE) and information value (IV).

WoE of a bin = ln(share of goods in it / share of bads in it); IV = sum over bins of
(share of goods - share of bads) x WoE. The usual reading of IV: < 0.02 not predictive,
0.02-0.1 weak, 0.1-0.3 medium, 0.3-0.5 strong, > 0.5 suspiciously strong (check leakage).
One definition for notebook 01's evidence and for the WoE scorecard's fine classing
(``credit_scoring.models.scorecard``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

IV_STRENGTH = [(0.02, "not predictive"), (0.1, "weak"), (0.3, "medium"), (0.5, "strong"),
               (np.inf, "suspicious")]
SHARE_FLOOR = 0.5
"""Pseudo-count added to each bin's goods and bads, so an all-good bin has a finite WoE."""


def _bins(values: pd.Series, n_bins: int) -> pd.Series:
    """Deciles (in order) for numbers, levels for categories; missing values a bin of their own."""
    if pd.api.types.is_numeric_dtype(values):
        binned = pd.qcut(values, q=n_bins, duplicates="drop")
    else:
        binned = values.astype("string").astype("category")
    return binned.cat.add_categories("missing").fillna("missing")


def woe_table(values: pd.Series, bad: pd.Series, n_bins: int = 10) -> pd.DataFrame:
    """Goods, bads, bad rate, WoE and IV contribution per bin (deciles, or categories)."""
    counts = pd.crosstab(_bins(values, n_bins), bad, dropna=False).reindex(columns=[0, 1], fill_value=0)
    counts = counts[counts.sum(axis=1) > 0]
    goods, bads = counts[0] + SHARE_FLOOR, counts[1] + SHARE_FLOOR
    good_share, bad_share = goods / goods.sum(), bads / bads.sum()
    table = pd.DataFrame({
        "applicants": counts.sum(axis=1),
        "bads": counts[1],
        "bad_rate": counts[1] / counts.sum(axis=1),
        "woe": np.log(good_share / bad_share),
    })
    table["iv"] = (good_share - bad_share) * table["woe"]
    table.index = table.index.astype(str)
    return table.rename_axis("bin").reset_index()


def _classes(values: pd.Series, n_bins: int) -> np.ndarray:
    """Each value's bin as ``_bins`` cuts it (deciles right-closed, repeated edges dropped;
    levels; missing values a bin of their own), as integer codes: fast on many columns."""
    if not pd.api.types.is_numeric_dtype(values):
        return pd.factorize(values.astype("string"), use_na_sentinel=False)[0]
    numbers = values.to_numpy(dtype=float)
    known = numbers[~np.isnan(numbers)]
    inner = (np.unique(np.quantile(known, np.linspace(0, 1, n_bins + 1)))[1:-1]
             if len(known) else np.array([]))
    return np.where(np.isnan(numbers), len(inner) + 1, np.searchsorted(inner, numbers))


def iv(values: pd.Series, bad, n_bins: int = 10) -> float:
    """Information value of one feature: the sum of ``woe_table``'s ``iv`` column, computed
    without building the table (a second for 273 features of 50,000 applicants)."""
    classes = _classes(values, n_bins)
    counts = np.bincount(classes)
    bads = np.bincount(classes, weights=np.asarray(bad, dtype=float))[counts > 0]
    goods = counts[counts > 0] - bads + SHARE_FLOOR
    bads = bads + SHARE_FLOOR
    good_share, bad_share = goods / goods.sum(), bads / bads.sum()
    return float(np.sum((good_share - bad_share) * np.log(good_share / bad_share)))


def information_value(
    table: pd.DataFrame, target: str, columns: list[str], n_bins: int = 10
) -> pd.DataFrame:
    """IV of each column for the 0/1 ``target``, strongest first, with its usual reading."""
    rows = [{"feature": c, "iv": iv(table[c], table[target], n_bins)} for c in columns]
    report = pd.DataFrame(rows).sort_values("iv", ascending=False, ignore_index=True)
    limits, labels = zip(*IV_STRENGTH, strict=True)
    report["strength"] = [labels[np.searchsorted(limits, value, side="right")]
                          for value in report["iv"]]
    return report
