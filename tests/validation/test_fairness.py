"""The fairness screen on a hand-built case: every figure recomputed by hand."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta

from credit_scoring.validation.fairness import fairness_screen, group_labels, screen_bands

RULES = {"min_applicants": 30, "min_bads": 5, "adverse_impact_below": 0.8}


def hand_built() -> pd.DataFrame:
    """Group a: 40 applicants, 10 bads, PDs that rank perfectly (bads 0.6, goods 0.1), 30
    approved (the goods at 0.1 ... and none of the bads). Group b: 40 applicants, 8 bads, one
    PD for all (0.3): AUC 0.5; 18 approved. Group c: 10 applicants: too small to test."""
    a = pd.DataFrame({"group": "a", "bad": [1] * 10 + [0] * 30, "pd": [0.6] * 10 + [0.1] * 30,
                      "declined": [True] * 10 + [False] * 30})
    b = pd.DataFrame({"group": "b", "bad": [1] * 8 + [0] * 32, "pd": 0.3,
                      "declined": [True] * 22 + [False] * 18})
    c = pd.DataFrame({"group": "c", "bad": [1] * 2 + [0] * 8, "pd": 0.2,
                      "declined": [False] * 10})
    table = pd.concat([a, b, c], ignore_index=True)
    table["reason"] = np.where(table["declined"], np.where(table.index % 2 == 0, "CHK", "TERM"),
                               None)
    return table


def test_approval_rates_adverse_impact_and_statistics_match_a_hand_computation():
    rows = hand_built()
    screen = fairness_screen(rows["group"], rows["bad"], rows["pd"], rows["declined"],
                             rows["reason"], RULES).set_index("group")
    a, b, c = screen.loc["a"], screen.loc["b"], screen.loc["c"]
    assert (a["approval_rate"], b["approval_rate"]) == pytest.approx((30 / 40, 18 / 40))
    # b against the most-approved group a: 0.45 / 0.75 = 0.6 < 0.8
    assert a["adverse_impact_ratio"] == 1.0 and b["adverse_impact_ratio"] == pytest.approx(0.6)
    assert (a["status"], b["status"]) == ("within the four-fifths rule", "adverse impact")
    assert (a["bad_rate"], b["bad_rate"]) == pytest.approx((10 / 40, 8 / 40))
    assert (a["auc"], b["auc"]) == (1.0, 0.5)
    assert a["mean_pd"] == pytest.approx((10 * 0.6 + 30 * 0.1) / 40)  # 0.225
    # Jeffreys: P(default rate <= mean PD) under Beta(bads + 1/2, goods + 1/2)
    assert a["jeffreys_p_value"] == pytest.approx(beta(10.5, 30.5).cdf(0.225))
    assert b["dr_low"] == pytest.approx(beta(8.5, 32.5).ppf(0.025))
    # a's declines are rows 0..9: even rows CHK, odd TERM -> 50 % each
    assert a["principal_reasons"] == "CHK 50%, TERM 50%"
    assert c["status"] == "too small to test" and (c["applicants"], c["bads"]) == (10, 2)
    assert np.isnan(c["approval_rate"]) and np.isnan(c["auc"])  # counts only


def test_numeric_attributes_are_screened_in_bands_and_missing_is_a_group():
    ages = pd.Series([80, 19, 25, 34.9, 35, 64, 65, np.nan])
    groups = group_labels(ages, [25, 35, 50, 65])
    assert groups.tolist() == [">= 65", "< 25", "25 to < 35", "25 to < 35", "35 to < 50",
                               "50 to < 65", ">= 65", "missing"]
    screen = fairness_screen(groups, ages.notna(), ages.fillna(0) / 100, ages > 60, None, RULES)
    # bands in their order, youngest first, not sorted as text
    assert screen["group"].tolist() == ["< 25", "25 to < 35", "35 to < 50", "50 to < 65",
                                        ">= 65", "missing"]
    assert group_labels(pd.Series(["yes", None, "no"]), None).tolist() == ["yes", "missing", "no"]


def test_a_numeric_protected_attribute_without_bands_is_screened_in_quintiles():
    ages = pd.Series(np.arange(20, 70, dtype=float))  # 50 distinct ages
    assert screen_bands(ages, None) == pytest.approx([29.8, 39.6, 49.4, 59.2])
    assert screen_bands(ages, [30]) == [30]  # configured bands win
    assert screen_bands(pd.Series(["yes", "no"]), None) is None  # categories as they come
