"""The fairness screen: outcomes by protected group, the standard screen (not an audit).

Per group of each protected attribute: applicants, approval rate and the adverse impact
ratio against the most-approved group (the four-fifths rule flags a ratio below 0.8), bad
rate, AUC with DeLong's interval, mean PD against the default rate with the Jeffreys test,
and how often each reason is the principal one. A group with too few applicants or bads
(or goods) shows its counts and "too small to test" instead of statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from credit_scoring.validation.statistics import auc_confidence, jeffreys

MISSING_GROUP = "missing"
TOO_SMALL = "too small to test"


def screen_bands(development: pd.Series, edges: list[float] | None) -> list[float] | None:
    """The configured bands of a protected attribute; for a numeric one without them, its
    development sample's quintiles (one group per value would leave every group too small)."""
    if edges or not pd.api.types.is_numeric_dtype(development) or development.nunique() <= 10:
        return edges
    return sorted({float(q) for q in development.quantile([0.2, 0.4, 0.6, 0.8]).round(2)})


def group_labels(values: pd.Series, edges: list[float] | None) -> pd.Series:
    """Each row's group: its band for a numeric attribute with ``edges`` (``< 25``,
    ``25 to < 35``, ..., ``>= 65``, in that order), else its value; ``missing`` for a
    missing value."""
    if edges:
        bounds = [f"{edge:g}" for edge in edges]
        labels = [f"< {bounds[0]}",
                  *[f"{low} to < {high}" for low, high in zip(bounds[:-1], bounds[1:],
                                                              strict=True)],
                  f">= {bounds[-1]}"]
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        band = np.searchsorted(np.asarray(edges, dtype=float), numbers, side="right")
        named = np.asarray(labels, dtype=object)[band]
        return pd.Series(pd.Categorical(np.where(np.isnan(numbers), MISSING_GROUP, named),
                                        categories=[*labels, MISSING_GROUP]), index=values.index)
    return values.astype(object).where(values.notna(), MISSING_GROUP).astype(str)


def _principal_reasons(codes: pd.Series, top: int = 3) -> str:
    """The most frequent principal reasons of a group's declines: ``CHK 40%, TERM 25%``."""
    shares = codes.dropna().value_counts(normalize=True).head(top)
    return ", ".join(f"{code} {share:.0%}" for code, share in shares.items())


def fairness_screen(groups: pd.Series, bad: pd.Series, pd_scores: pd.Series,
                    declined: pd.Series, principal_reason: pd.Series | None,
                    rules: dict[str, Any], level: float = 0.95) -> pd.DataFrame:
    """One row per group of one attribute, on one sample (rows aligned by position).

    Args:
        groups: each applicant's group (``group_labels``).
        bad: observed default flag (1 = bad); pd_scores: the model's PD; declined: the
            policy's decision.
        principal_reason: each declined applicant's first reason code (None: not scored
            with reasons, e.g. out-of-fold PDs).
        rules: ``min_applicants``, ``min_bads`` (and goods) for a group to be tested, and
            ``adverse_impact_below``, the ratio flagged (0.8: the four-fifths rule).
    """
    order = groups.cat.categories if isinstance(groups.dtype, pd.CategoricalDtype) else \
        sorted(set(groups))
    frame = pd.DataFrame({"group": pd.Categorical(groups.to_numpy(), categories=order),
                          "bad": np.asarray(bad, dtype=int),
                          "pd": np.asarray(pd_scores, dtype=float),
                          "declined": np.asarray(declined, dtype=bool)})
    if principal_reason is not None:
        frame["reason"] = np.asarray(principal_reason, dtype=object)
    rows = []
    for group, rows_of in frame.groupby("group", sort=True, observed=True):
        n, bads = len(rows_of), int(rows_of["bad"].sum())
        row = {"group": group, "applicants": n, "bads": bads}
        if n < rules["min_applicants"] or min(bads, n - bads) < rules["min_bads"]:
            rows.append({**row, "status": TOO_SMALL})
            continue
        auc = auc_confidence(rows_of["bad"], rows_of["pd"], level)
        test = jeffreys([bads], [n], [rows_of["pd"].mean()], level)
        rows.append({**row, "status": "tested",
                     "approval_rate": 1 - rows_of["declined"].mean(),
                     "bad_rate": bads / n, "auc": auc["auc"], "auc_low": auc["auc_low"],
                     "auc_high": auc["auc_high"], "mean_pd": rows_of["pd"].mean(),
                     "dr_low": float(test["low"][0]), "dr_high": float(test["high"][0]),
                     "jeffreys_p_value": float(test["p_value"][0]),
                     "principal_reasons": _principal_reasons(rows_of.loc[rows_of["declined"],
                                                                         "reason"])
                     if "reason" in rows_of else None})
    table = pd.DataFrame(rows)
    tested = table["status"] == "tested"
    if tested.any():
        best = table.loc[tested, "approval_rate"].max()
        table["adverse_impact_ratio"] = table["approval_rate"] / best if best > 0 else np.nan
        table.loc[tested, "status"] = np.where(
            table.loc[tested, "adverse_impact_ratio"] < rules["adverse_impact_below"],
            "adverse impact", "within the four-fifths rule")
    columns = ["group", "status", "applicants", "bads", "approval_rate", "adverse_impact_ratio",
               "bad_rate", "auc", "auc_low", "auc_high", "mean_pd", "dr_low", "dr_high",
               "jeffreys_p_value", "principal_reasons"]
    return table.reindex(columns=columns)
