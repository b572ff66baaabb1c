"""Validation statistics pinned on cases small enough to work out by hand."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from credit_scoring.models.evaluation import ks_statistic
from credit_scoring.validation.statistics import (
    auc_confidence,
    auc_difference,
    gains_table,
    hosmer_lemeshow,
    jeffreys,
    ks_confidence,
    traffic_light,
)


def test_delong_interval_of_a_four_applicant_sample():
    # bads 0.35 and 0.8 against goods 0.1 and 0.4: 3 of 4 pairs ordered, AUC 0.75; per bad
    # the share of goods below it is (0.5, 1), per good the share of bads above it (1, 0.5):
    # variance 0.125 / 2 + 0.125 / 2 = 0.125
    result = auc_confidence([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert result["auc"] == 0.75
    assert result["auc_se"] == pytest.approx(math.sqrt(0.125))
    assert result["auc_low"] == pytest.approx(0.75 - 1.959964 * math.sqrt(0.125), abs=1e-6)
    assert result["auc_high"] == 1.0  # clipped


def test_delong_interval_narrows_with_data_and_covers_the_auc():
    rng = np.random.default_rng(0)
    y = rng.random(20_000) < 0.2
    scores = rng.normal(y * 1.0, 1.0)
    small, large = auc_confidence(y[:2_000], scores[:2_000]), auc_confidence(y, scores)
    assert large["auc_low"] < large["auc"] < large["auc_high"]
    assert large["auc_se"] == pytest.approx(small["auc_se"] / math.sqrt(10), rel=0.2)
    assert large["auc"] == pytest.approx(0.76, abs=0.01)  # Phi(1 / sqrt 2)


def test_ks_is_the_largest_gap_between_bad_and_good_cumulative_shares():
    # thresholds 0.4, 0.3, 0.2: shares of bads above (0.5, 0.5, 1), of goods (0, 0.5, 0.5)
    assert ks_statistic([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4]) == 0.5
    assert ks_statistic([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0


def test_ks_bootstrap_interval_is_seeded_and_covers_the_ks():
    rng = np.random.default_rng(1)
    y = rng.random(3_000) < 0.3
    scores = rng.normal(y * 0.8, 1.0)
    first = ks_confidence(y, scores, n_resamples=100, seed=7)
    assert first == ks_confidence(y, scores, n_resamples=100, seed=7)
    assert first["ks_low"] < first["ks"] < first["ks_high"]


def test_jeffreys_p_value_and_interval():
    # 5 bads of 10 at PD 0.5: the Beta(5.5, 5.5) posterior is symmetric around 0.5
    result = jeffreys([5], [10], [0.5])
    assert result["p_value"][0] == pytest.approx(0.5)
    assert result["low"][0] + result["high"][0] == pytest.approx(1.0)
    # no bads: the interval starts at 0; all bads: it ends at 1
    edges = jeffreys([0, 10], [10, 10], [0.1, 0.1])
    assert edges["low"][0] == 0.0 and edges["high"][1] == 1.0
    # 30 bads of 100 on a PD of 10 %: the PD is far too low
    assert jeffreys([30], [100], [0.1])["p_value"][0] < 1e-6


def test_traffic_light_by_p_value():
    assert traffic_light([0.5, 0.03, 0.001], amber_below=0.05, red_below=0.01).tolist() == [
        "green", "amber", "red"]


def test_hosmer_lemeshow_on_three_groups_of_two():
    # groups (0.1, 0.2) O=1 E=0.3; (0.4, 0.5) O=1 E=0.9; (0.7, 0.9) O=2 E=1.6
    statistic = 0.49 / (0.3 * 0.85) + 0.01 / (0.9 * 0.55) + 0.16 / (1.6 * 0.2)
    result = hosmer_lemeshow([0, 1, 0, 1, 1, 1], [0.1, 0.2, 0.4, 0.5, 0.7, 0.9], n_groups=3)
    assert result["statistic"] == pytest.approx(statistic)
    assert result["dof"] == 1
    assert result["p_value"] == pytest.approx(math.erfc(math.sqrt(statistic / 2)))  # chi2(1)


def test_gains_table_starts_with_the_riskiest_decile():
    gains = gains_table([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4], n_groups=2)
    assert gains["decile"].tolist() == [1, 2]
    assert gains["bads"].tolist() == [2, 0]
    assert gains["cumulative_bads_captured"].tolist() == [1.0, 1.0]
    assert gains["lift"].tolist() == [2.0, 0.0]


def test_delong_paired_difference_of_two_models_on_four_applicants():
    # model a as above (AUC 0.75, components (0.5, 1) and (1, 0.5)); model b ranks perfectly
    # (AUC 1, components (1, 1) and (1, 1)): the differences (-0.5, 0) and (0, -0.5) have
    # variance 0.125 each, so se = sqrt(0.125 / 2 + 0.125 / 2) and z = 0.25 / se
    result = auc_difference([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], [0.1, 0.2, 0.3, 0.4])
    se = math.sqrt(0.125)
    assert result["difference"] == -0.25
    assert result["low"] == pytest.approx(-0.25 - 1.959964 * se, abs=1e-6)
    assert result["p_value"] == pytest.approx(2 * norm.sf(0.25 / se))


def test_a_model_compared_with_itself_differs_by_nothing():
    y, scores = [0, 1, 0, 1, 1], [0.2, 0.6, 0.3, 0.5, 0.1]
    assert auc_difference(y, scores, scores) == {"difference": 0.0, "low": 0.0, "high": 0.0,
                                                 "p_value": 1.0}


def test_a_paired_difference_is_tighter_than_two_separate_intervals():
    rng = np.random.default_rng(1)
    y = rng.random(5_000) < 0.2
    shared = rng.normal(y * 1.0, 1.0)
    a, b = shared + rng.normal(0, 0.3, y.size), shared + rng.normal(0, 0.3, y.size)
    paired = auc_difference(y, a, b)
    separate = math.hypot(auc_confidence(y, a)["auc_se"], auc_confidence(y, b)["auc_se"])
    assert (paired["high"] - paired["low"]) / (2 * 1.959964) < separate / 2


def test_hosmer_lemeshow_on_a_holdout_sample_keeps_every_degree_of_freedom():
    y, scores = [0, 1, 0, 1, 1, 1], [0.1, 0.2, 0.4, 0.5, 0.7, 0.9]
    fitted, holdout = hosmer_lemeshow(y, scores, 3), hosmer_lemeshow(y, scores, 3, holdout=True)
    assert (fitted["dof"], holdout["dof"]) == (1, 3)
    assert holdout["statistic"] == fitted["statistic"] and holdout["p_value"] > fitted["p_value"]


def test_gains_deciles_are_numbered_from_one_when_ties_merge_groups():
    # two distinct PDs cannot make four groups: the riskiest group is still decile 1
    gains = gains_table([1, 0, 0, 0], [0.9, 0.9, 0.1, 0.1], n_groups=4)
    assert gains["decile"].tolist() == [1, 2] and gains["bads"].tolist() == [1, 0]


def test_ks_bootstrap_interval_covers_the_true_ks_as_often_as_it_says():
    # scores N(1, 1) for bads and N(0, 1) for goods: the true KS is 2 Phi(1/2) - 1 = 0.3829.
    # At the German test set's size the basic interval covers it about as often as stated
    # (the percentile interval covered it in about 7 of 10 samples)
    rng = np.random.default_rng(3)
    true_ks, covered = 2 * norm.cdf(0.5) - 1, 0
    for repeat in range(60):
        y = np.r_[np.ones(75), np.zeros(175)]
        scores = rng.normal(y, 1.0)
        interval = ks_confidence(y, scores, 200, seed=repeat)
        covered += interval["ks_low"] <= true_ks <= interval["ks_high"]
    assert covered / 60 >= 0.85
