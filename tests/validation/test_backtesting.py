"""Backtesting: outcomes joined to scored batches, on cases small enough to compute by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from credit_scoring.validation.backtesting import (
    POPULATION,
    Recommendation,
    backtest,
    calibration_in_the_large,
    recommend,
)

LIGHTS = {"amber_below": 0.05, "red_below": 0.01}
PARAMS = {"outcome_columns": {"default_flag": "defaulted", "observation_date": "observed_on"},
          "min_applicants": 4,
          "recommendation": {"calibration_p_value_below": 0.01, "auc_drop": 0.05,
                             "min_bads": 1, "recent_batches": 2}}
RULE = Recommendation.model_validate(PARAMS["recommendation"])


def test_calibration_in_the_large_by_hand():
    # 2 defaults against PDs summing to 1.0; variance 0.1*0.9 + 0.2*0.8 + 0.3*0.7 + 0.4*0.6 = 0.7
    result = calibration_in_the_large([1, 0, 1, 0], [0.1, 0.2, 0.3, 0.4])
    z = (2 - 1.0) / math.sqrt(0.7)
    assert result["citl_ratio"] == pytest.approx(2.0)
    assert result["citl_z"] == pytest.approx(z)
    assert result["citl_p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)))   # two-sided


def test_the_recommendation_says_keep_recalibrate_or_redevelop_and_why():
    row = {"bads": 30, "auc": 0.62, "auc_low": 0.55, "auc_high": 0.69, "default_rate": 0.12,
           "mean_pd": 0.06, "citl_ratio": 2.0, "citl_p_value": 1e-6}
    assert recommend(row, 0.70, RULE)[0] == "recalibrate"   # 0.69 is not below 0.70 - 0.05
    action, why = recommend(row, 0.75, RULE)
    assert action == "redevelop" and "upper bound 0.690" in why
    assert recommend({**row, "citl_p_value": 0.2}, 0.70, RULE)[0] == "keep"
    assert recommend({**row, "bads": 0}, 0.70, RULE) == (
        "keep", "0 defaults, fewer than 1: too few to test")


def history() -> dict[str, pd.DataFrame]:
    batches = pd.DataFrame({"batch_id": ["jan", "feb"],
                            "batch_start": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                            "auc_approved_development": [0.7, 0.7], "id_column": "loan_id"})
    scores = pd.DataFrame({
        "batch_id": ["jan"] * 5 + ["feb"] * 5,
        "applicant": [str(i) for i in range(1, 11)],
        "pd": [0.1, 0.2, 0.3, 0.4, 0.9, 0.1, 0.1, 0.1, 0.1, 0.8],
        "band": ["A", "A", "B", "B", "C", "A", "A", "A", "A", "C"],
        "decision": ["accept"] * 4 + ["decline"] + ["accept"] * 4 + ["decline"],
    })
    return {"batches": batches, "scores": scores}


def outcomes() -> pd.DataFrame:
    # applicants 1-4 (jan, approved), 6-9 (feb, approved), 5 declined, 77 never scored
    return pd.DataFrame({"loan_id": [1, 2, 3, 4, 5, 6, 7, 8, 77],
                         "defaulted": [0, 1, 0, 1, 1, 1, 1, 0, 0],
                         "observed_on": "2025-01-31"})


def test_a_backtest_is_on_approved_applicants_and_counts_what_did_not_match():
    result = backtest(history(), outcomes(), "loan_id", PARAMS, 0.95, LIGHTS)
    assert result["status"] == "done" and result["population"] == POPULATION
    assert result["matching"] == {"outcomes": 9, "never_scored": 1, "never_scored_examples": ["77"],
                                  "declined_with_outcome": 1, "approved_waiting": 1,
                                  "matched": 7}
    jan, feb = result["batches"].itertuples()
    assert (jan.approved, jan.with_outcome, jan.bads) == (4, 4, 2)
    assert jan.mean_pd == pytest.approx(0.25) and jan.default_rate == 0.5
    # bads 0.2 and 0.4 against goods 0.1 and 0.3: 3 of 4 pairs
    assert jan.auc == pytest.approx(0.75)
    assert (feb.with_outcome, feb.bads) == (3, 2)     # applicant 9 has no outcome yet
    assert np.isnan(feb.auc)                           # 3 < min_applicants
    bands = result["bands"].set_index(["batch_id", "band"])
    assert bands.loc[("jan", "B"), ["applicants", "bads"]].tolist() == [2, 1]


def test_the_recommendation_is_the_most_severe_of_the_recent_batches():
    result = backtest(history(), outcomes(), "loan_id", PARAMS, 0.95, LIGHTS)
    feb = result["batches"].iloc[1]
    # 2 of 3 defaulted against PDs of 0.1: z = (2 - 0.3) / sqrt(0.27) = 3.27, p = 0.001
    assert feb["citl_p_value"] == pytest.approx(math.erfc(1.7 / math.sqrt(0.27) / math.sqrt(2)))
    assert feb["recommendation"] == "recalibrate"
    assert result["recommendation"]["action"] == "recalibrate"
    assert result["recommendation"]["batch_start"] == "2024-02-01"


def test_without_an_id_column_backtesting_says_why_it_cannot():
    result = backtest(history(), outcomes(), None, PARAMS, 0.95, LIGHTS)
    assert result["status"] == "unavailable"
    assert "needs an applicant id" in result["message"]
    assert "data_processing.id_column" in result["message"]


def test_without_outcomes_backtesting_says_where_they_go():
    result = backtest(history(), None, "loan_id", PARAMS, 0.95, LIGHTS)
    assert result["status"] == "unavailable" and "outcomes" in result["message"]


def test_outcomes_with_a_bad_flag_or_missing_column_are_refused_by_name():
    with pytest.raises(ValueError, match="'defaulted' must be 0/1"):
        backtest(history(), outcomes().assign(defaulted="yes"), "loan_id", PARAMS, 0.95, LIGHTS)
    with pytest.raises(ValueError, match="observed_on"):
        backtest(history(), outcomes().drop(columns="observed_on"), "loan_id", PARAMS, 0.95,
                 LIGHTS)
