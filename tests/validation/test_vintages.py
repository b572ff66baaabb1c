"""Per-vintage statistics on a case small enough to compute by hand."""

import numpy as np
import pandas as pd
import pytest

from credit_scoring.validation.vintages import VINTAGE_COLUMNS, vintage_table

PARAMS = {"confidence_level": 0.95, "jeffreys": {"amber_below": 0.05, "red_below": 0.01},
          "psi": {"watch": 0.1, "alarm": 0.25}, "vintage_min_applicants": 3}
BASELINE = {"edges": [500], "shares": [0.5, 0.5, 0.0]}   # half below 500, half above, none missing


def scored() -> pd.DataFrame:
    later = pd.DataFrame({"bad": [1, 1, 0, 0, 0], "pd": [0.8, 0.3, 0.4, 0.2, 0.1],
                          "score": [450, 520, 480, 560, 600]}).assign(sample="test",
                                                                    vintage="2024-01")
    earlier = pd.DataFrame({"bad": [0, 0, 0], "pd": [0.1, 0.2, 0.15], "score": [510, 520, 530]}
                           ).assign(sample="train (out-of-fold)", vintage="2023-12")
    return pd.concat([later, earlier], ignore_index=True)


def test_each_vintage_has_its_auc_calibration_approval_and_psi_by_hand():
    table = vintage_table(scored(), cutoff=0.35, score_baseline=BASELINE, params=PARAMS)
    assert table.columns.tolist() == VINTAGE_COLUMNS
    assert table["sample"].tolist() == ["test", "train (out-of-fold)"]  # in the samples' order
    row = table.iloc[0]
    assert (row["vintage"], row["start"]) == ("2024-01", pd.Timestamp("2024-01-01"))
    assert (row["applicants"], row["bads"]) == (5, 2)
    # bad 0.8 outranks all 3 goods, bad 0.3 two of them: 5 of 6 pairs
    assert row["auc"] == pytest.approx(5 / 6)
    assert row["auc_low"] < 5 / 6 < row["auc_high"]
    assert row["default_rate"] == pytest.approx(0.4)
    assert row["mean_pd"] == pytest.approx(0.36)
    # Jeffreys: Beta(2 + 1/2, 3 + 1/2); p = its CDF at the mean PD
    assert row["jeffreys_p_value"] == pytest.approx(0.409957, abs=1e-6)
    assert (row["dr_low"], row["dr_high"]) == pytest.approx((0.094390, 0.790583), abs=1e-6)
    assert row["light"] == "green"
    assert row["approval_rate"] == pytest.approx(0.6)   # PD below 0.35: 0.3, 0.2, 0.1
    # 2 of 5 scores below 500 against half: 0.1 ln(0.5/0.4) + 0.1 ln(0.6/0.5)
    assert row["psi"] == pytest.approx(0.1 * np.log(0.5 / 0.4) + 0.1 * np.log(0.6 / 0.5))
    assert row["psi_status"] == "stable"


def test_a_vintage_without_bads_has_no_auc_and_a_one_sided_interval():
    row = vintage_table(scored(), 0.35, BASELINE, PARAMS).iloc[1]
    assert np.isnan(row["auc"]) and row["bads"] == 0 and row["default_rate"] == 0
    assert row["dr_low"] == 0 and row["dr_high"] == pytest.approx(0.535583, abs=1e-6)
    assert row["approval_rate"] == 1.0
    assert row["psi"] > 0.25 and row["psi_status"] == "shift"   # every score above 500


def test_a_pd_far_below_the_default_rate_is_red():
    many = pd.DataFrame({"bad": [1] * 30 + [0] * 70, "pd": [0.1] * 100, "score": [550] * 100}
                        ).assign(sample="test", vintage="2024-02")
    row = vintage_table(many, 0.5, BASELINE, PARAMS).iloc[0]
    assert row["light"] == "red" and row["jeffreys_p_value"] < 0.01


def test_a_vintage_too_small_has_no_auc_nor_psi_but_keeps_its_jeffreys_interval():
    row = vintage_table(scored(), 0.35, BASELINE, {**PARAMS, "vintage_min_applicants": 6}).iloc[0]
    assert np.isnan(row["auc"]) and np.isnan(row["psi"]) and row["psi_status"] == "too few"
    assert row["jeffreys_p_value"] == pytest.approx(0.409957, abs=1e-6)
