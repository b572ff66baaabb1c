"""WoE / IV: the evidence notebook 01 shows for the feature choices."""

import numpy as np
import pandas as pd
import pytest

from credit_scoring.data.woe import information_value, iv, woe_table


@pytest.fixture
def applicants():
    rng = np.random.default_rng(1)
    n = 5_000
    risk = rng.normal(0, 1, n)
    return pd.DataFrame({
        "risk": risk,
        "noise": rng.normal(0, 1, n),
        "region": rng.choice(["a", "b"], n),
        "bad": (rng.random(n) < 1 / (1 + np.exp(-(2 * risk - 1)))).astype(int),
    })


def test_a_predictive_feature_has_a_high_iv_and_noise_none(applicants):
    report = information_value(applicants, "bad", ["noise", "risk", "region"]).set_index("feature")
    assert report.index[0] == "risk" and report.loc["risk", "iv"] > 0.5
    assert report.loc["noise", "iv"] < 0.02 and report.loc["noise", "strength"] == "not predictive"
    assert report.loc["region", "strength"] == "not predictive"


def test_woe_falls_as_the_bad_rate_rises(applicants):
    table = woe_table(applicants["risk"], applicants["bad"])
    assert table["applicants"].sum() == len(applicants)
    assert table["bad_rate"].is_monotonic_increasing and table["woe"].is_monotonic_decreasing


def test_missing_values_and_pure_bins_get_finite_woe():
    values = pd.Series([1.0, 1.0, np.nan, np.nan, 2.0, 2.0] * 10)
    bad = pd.Series([0, 0, 1, 1, 0, 1] * 10)
    table = woe_table(values, bad, n_bins=2)
    assert "missing" in set(table["bin"]) and np.isfinite(table["woe"]).all()


def test_information_value_of_two_deciles_by_hand():
    # median split: below 1.5 one bad and three goods, above three bads and one good; with
    # half an applicant added to every cell: goods 3.5 and 1.5, bads 1.5 and 3.5, shares of
    # goods 0.7, 0.3 and of bads 0.3, 0.7: IV = 2 * 0.4 ln(0.7 / 0.3)
    values = pd.Series([1.0, 1, 1, 1, 2, 2, 2, 2])
    bad = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    assert iv(values, bad, n_bins=2) == pytest.approx(2 * 0.4 * np.log(0.7 / 0.3))


def test_the_fast_iv_is_the_sum_of_the_woe_table(applicants):
    with_gaps = applicants.assign(risk=applicants["risk"].mask(applicants.index % 7 == 0),
                                  lumpy=applicants["risk"].round(0))
    for column in ("risk", "noise", "region", "lumpy"):
        assert iv(with_gaps[column], with_gaps["bad"]) == pytest.approx(
            woe_table(with_gaps[column], with_gaps["bad"])["iv"].sum(), rel=1e-12), column
