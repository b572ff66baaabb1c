"""Recalibration's windows, comparison and promotion rule, on cases small enough to check."""

import math

import numpy as np
import pandas as pd
import pytest

from credit_scoring.validation.recalibration import (
    Recalibration,
    compare_calibrations,
    outcome_windows,
    promotion_decision,
)

CONFIG = Recalibration.model_validate({"method": "platt", "holdout_batches": 1, "fit_batches": 2,
                                       "min_bads": 1, "promotion": {"max_auc_drop": 0.005}})


def batches() -> pd.DataFrame:
    return pd.DataFrame({"batch_id": ["mar", "jan", "apr", "feb"],
                         "batch_start": pd.to_datetime(["2024-03-01", "2024-01-01",
                                                        "2024-04-01", "2024-02-01"])})


def rows(bads: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame([{"batch_id": batch, "bad": int(i < count)}
                         for batch, count in bads.items() for i in range(3)])


def test_the_latest_batches_with_outcomes_are_held_out_and_the_ones_before_fitted():
    # april has no outcomes yet: march is held out, january and february fitted
    fit, holdout = outcome_windows(batches(), rows({"jan": 1, "feb": 1, "mar": 1}), CONFIG)
    assert (fit, holdout) == (["jan", "feb"], ["mar"])


def test_too_few_batches_or_defaults_stop_the_recalibration_with_the_fix():
    with pytest.raises(ValueError, match="needs 3 scored batches with outcomes"):
        outcome_windows(batches(), rows({"jan": 1, "feb": 1}), CONFIG)
    with pytest.raises(ValueError, match="holdout window .* has 0 defaults"):
        outcome_windows(batches(), rows({"jan": 1, "feb": 1, "mar": 0}), CONFIG)


def test_parent_and_recalibrated_pds_are_compared_on_the_same_outcomes():
    y = [1, 0, 1, 0]
    parent = [0.1, 0.05, 0.2, 0.15]        # expected 0.5 defaults, 2 observed
    new = [0.4, 0.2, 0.6, 0.5]             # the same order: the same AUC
    table = compare_calibrations(y, parent, new, 0.95).set_index("model")
    assert table.loc["parent", "citl_ratio"] == pytest.approx(4.0)
    variance = 0.1 * 0.9 + 0.05 * 0.95 + 0.2 * 0.8 + 0.15 * 0.85
    assert table.loc["parent", "citl_z"] == pytest.approx(1.5 / math.sqrt(variance))
    assert table.loc["recalibrated", "citl_ratio"] == pytest.approx(2 / 1.7)
    assert table.loc["parent", "auc"] == table.loc["recalibrated", "auc"] == 0.75
    assert table.loc["difference", "auc"] == 0
    assert table.loc["recalibrated", "brier"] == pytest.approx(
        np.mean((np.array(new) - np.array(y)) ** 2))


def comparison(parent_z: float, new_z: float, parent_auc: float = 0.7,
               new_auc: float = 0.7) -> pd.DataFrame:
    return pd.DataFrame({"model": ["parent", "recalibrated"], "citl_z": [parent_z, new_z],
                         "citl_ratio": [1.8, 1.1], "auc": [parent_auc, new_auc]})


def test_promotion_needs_better_calibration_and_the_ranking_kept():
    keep = ("keep", "default rate 6% against mean PD 6%")
    decision = promotion_decision(comparison(4.8, -1.0), CONFIG, keep)
    assert (decision["promote"], decision["verdict"]) == (True, "fit for use")
    assert decision["reasons"][0] == ("calibration in the large improves: O/E 1.80 -> 1.10 "
                                      "(z +4.80 -> -1.00)")
    assert promotion_decision(comparison(1.0, -2.0), CONFIG, keep)["verdict"] == "not fit"
    dropped = promotion_decision(comparison(4.8, 1.0, new_auc=0.69), CONFIG, keep)
    assert not dropped["promote"] and "beyond the 0.005 allowed drop" in dropped["reasons"][1]


def test_a_promoted_version_whose_ranking_is_lost_is_fit_with_findings_and_says_redevelop():
    decision = promotion_decision(comparison(4.8, -1.0), CONFIG,
                                  ("redevelop", "realised AUC 0.56 (upper bound 0.63)"))
    assert (decision["promote"], decision["verdict"]) == (True, "fit with findings")
    assert decision["reasons"][-1] == ("the backtest of the recalibrated PDs on the holdout "
                                       "says redevelop: realised AUC 0.56 (upper bound 0.63)")
