"""WoE / IV: the evidence notebook 01 shows for the feature choices."""

import numpy as np
import pandas as pd
import pytest

from credit_scoring.profiling import information_value, woe_table


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
