"""Validation by period: the statistics of each vintage (cohort by application month or
quarter), in-time and out of time.

Per sample and vintage: AUC with DeLong's interval, the default rate against the mean PD
with the Jeffreys interval, p-value and light, the approval rate at the model's cut-off,
and the PSI of the score against the development distribution the model stores. A vintage
with fewer than ``vintage_min_applicants`` has no AUC and no PSI (ten score bins over 20
applicants measure noise); its default rate keeps its Jeffreys interval, which is exact at
any size. A pure function of scored rows; the validation pipeline gathers them and the
report draws them with the date on the x-axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from credit_scoring.validation.stability import psi_from_baseline, stability_status
from credit_scoring.validation.statistics import auc_confidence, jeffreys, traffic_light

VINTAGE_COLUMNS = ["sample", "vintage", "start", "applicants", "bads", "auc", "auc_low",
                   "auc_high", "default_rate", "mean_pd", "dr_low", "dr_high",
                   "jeffreys_p_value", "light", "approval_rate", "psi", "psi_status"]


def vintage_table(scored: pd.DataFrame, cutoff: float, score_baseline: dict[str, list],
                  params: dict[str, Any]) -> pd.DataFrame:
    """One row per sample and vintage.

    Args:
        scored: per applicant ``sample``, ``vintage`` (a pandas period label, e.g.
            ``2024-07`` or ``2024Q3``), ``bad``, ``pd`` and ``score``.
        cutoff: the model's cut-off (decline at or above this PD).
        score_baseline: the score's development distribution (``PDScorer.baselines``).
        params: ``validation``: ``confidence_level``, ``jeffreys`` lights, ``psi`` bands,
            ``vintage_min_applicants``.

    Returns:
        ``VINTAGE_COLUMNS``, in sample then date order; ``start`` is the vintage's first
        day. AUC is missing for a vintage without both bads and goods, AUC and PSI for one
        smaller than ``vintage_min_applicants`` (PSI status "too few").
    """
    level, enough = params["confidence_level"], params["vintage_min_applicants"]
    rows = []
    for (sample, vintage), group in scored.groupby(["sample", "vintage"], sort=False):
        y, pd_scores = group["bad"].to_numpy(), group["pd"].to_numpy()
        bads, sized = int(y.sum()), len(y) >= enough
        auc = (auc_confidence(y, pd_scores, level) if sized and 0 < bads < len(y)
               else dict.fromkeys(("auc", "auc_low", "auc_high"), np.nan))
        rows.append({"sample": sample, "vintage": vintage,
                     "start": pd.Period(vintage).start_time, "applicants": len(y),
                     "bads": bads, "auc": auc["auc"], "auc_low": auc["auc_low"],
                     "auc_high": auc["auc_high"], "default_rate": bads / len(y),
                     "mean_pd": float(pd_scores.mean()),
                     "approval_rate": float((pd_scores < cutoff).mean()),
                     "psi": psi_from_baseline(score_baseline, group["score"]) if sized
                     else np.nan})
    if not rows:
        return pd.DataFrame(columns=VINTAGE_COLUMNS)
    table = pd.DataFrame(rows)
    test = jeffreys(table["bads"], table["applicants"], table["mean_pd"], level)
    lights = params["jeffreys"]
    table = table.assign(dr_low=test["low"], dr_high=test["high"],
                         jeffreys_p_value=test["p_value"],
                         light=traffic_light(test["p_value"], lights["amber_below"],
                                             lights["red_below"]),
                         psi_status=np.where(table["psi"].isna(), "too few",
                                             stability_status(table["psi"],
                                                              params["psi"]["watch"],
                                                              params["psi"]["alarm"])))
    order = table["sample"].map({name: i for i, name in
                                 enumerate(dict.fromkeys(table["sample"]))})
    return (table.assign(order=order).sort_values(["order", "start"], kind="stable")
            [VINTAGE_COLUMNS].reset_index(drop=True))
