"""Decision rules: the cost-optimal cut-off, constraints, parameter checks, scorecard points."""

import numpy as np
import pandas as pd
import pytest

from credit_scoring.decisions import (
    Constraints,
    Costs,
    ScoreScaling,
    analytic_cutoff,
    band_edges,
    choose_cutoff,
    cost_curve,
    decision_outcomes,
    score_band,
    score_bands,
)

COSTS = Costs(accept_bad=5, decline_good=1)
NO_CONSTRAINTS = Constraints()
SCALING = ScoreScaling(base_score=600, base_odds=50, pdo=20)


@pytest.fixture
def calibrated_sample():
    """PDs that are exactly calibrated: each applicant defaults with probability PD."""
    rng = np.random.default_rng(3)
    pd_scores = pd.Series(rng.uniform(0, 1, 40_000))
    defaults = pd.Series((rng.uniform(0, 1, 40_000) < pd_scores).astype(int))
    return defaults, pd_scores


@pytest.mark.parametrize("costs", [COSTS, Costs(accept_bad=1, decline_good=1),
                                   Costs(accept_bad=10, decline_good=2)])
def test_chosen_cutoff_is_the_analytic_optimum_for_calibrated_pds(calibrated_sample, costs):
    y, pd_scores = calibrated_sample
    chosen = choose_cutoff(cost_curve(y, pd_scores, costs), NO_CONSTRAINTS)
    assert chosen["cutoff"] == pytest.approx(analytic_cutoff(costs), abs=0.02)
    # and it beats the analytic cut-off's cost on this sample (it is the sample minimum)
    at_analytic = decision_outcomes(y, pd_scores >= analytic_cutoff(costs), costs)
    assert chosen["expected_cost"] <= at_analytic["expected_cost"] + 1e-12


def test_cost_curve_agrees_with_the_confusion_matrix_at_every_cutoff(calibrated_sample):
    y, pd_scores = calibrated_sample
    curve = cost_curve(y[:500], pd_scores[:500], COSTS)
    for _, row in curve.iloc[1::37].iterrows():
        outcome = decision_outcomes(y[:500], pd_scores[:500] >= row["cutoff"], COSTS)
        assert row["expected_cost"] == pytest.approx(outcome["expected_cost"])
        assert row["approval_rate"] == pytest.approx(outcome["approval_rate"])
        assert row["bad_rate_approved"] == pytest.approx(outcome["bad_rate_approved"])


def test_constraints_move_the_cutoff_and_are_met(calibrated_sample):
    y, pd_scores = calibrated_sample
    curve = cost_curve(y, pd_scores, COSTS)
    volume = choose_cutoff(curve, Constraints(min_approval_rate=0.4))
    assert volume["approval_rate"] >= 0.4 and volume["cutoff"] > analytic_cutoff(COSTS) + 0.1
    quality = choose_cutoff(curve, Constraints(max_bad_rate=0.02))
    assert quality["bad_rate_approved"] <= 0.02 and quality["cutoff"] < analytic_cutoff(COSTS)


def test_impossible_constraints_say_so_with_the_achievable_range(calibrated_sample):
    y, pd_scores = calibrated_sample
    curve = cost_curve(y, pd_scores, COSTS)
    with pytest.raises(ValueError, match=r"No cut-off meets .*min_approval_rate=0.9.*Relax"):
        choose_cutoff(curve, Constraints(min_approval_rate=0.9, max_bad_rate=0.05))


def test_score_points_follow_points_to_double_the_odds():
    pd_at = lambda odds: 1 / (1 + odds)  # noqa: E731  good:bad odds -> PD
    points = SCALING.points([pd_at(50), pd_at(100), pd_at(25), 0.0, 1.0])
    assert list(points[:3]) == [600, 620, 580]
    assert points[3] > 850 and points[4] < 150  # certain PDs still get finite scores


def test_score_bands_are_fixed_ranges_with_band_1_the_riskiest():
    edges = band_edges(np.arange(100), 4)  # quartiles of 0..99
    assert edges == [24.75, 49.5, 74.25]
    assert list(score_band(np.array([0, 24, 25, 49.5, 74, 99, 500]), edges)) == [1, 1, 2, 3, 3, 4, 4]
    assert band_edges(np.full(50, 600), 10) == [600.0]  # equal scores: no empty bands


def test_score_bands_cover_everyone_and_rank_risk(calibrated_sample):
    y, pd_scores = calibrated_sample
    points = SCALING.points(pd_scores)
    bands = score_bands(y, points, declined=pd_scores >= 1 / 6, edges=band_edges(points, 10))
    assert list(bands["band"]) == list(range(1, len(bands) + 1))
    assert bands["applicants"].sum() == len(y) and bands["share"].sum() == pytest.approx(1)
    assert bands["bad_rate"].is_monotonic_decreasing  # higher score band, fewer bads
    assert bands["score_min"].is_monotonic_increasing
    # bands are labelled by what happened to their applicants: at most one band is split
    assert bands["decision"].iloc[0] == "decline" and bands["decision"].iloc[-1] == "accept"
    assert (bands["decision"] == "split").sum() <= 1
