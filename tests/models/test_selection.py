"""The two rules that choose a model, on hand-made cases: the run's winner and the promotion."""

import math

import pandas as pd
import pytest

from credit_scoring.models.selection import (
    ChampionRule,
    RegisteredChampion,
    promotion,
    rank_candidates,
)

FOLDS = "folds-a"
AUC = ChampionRule("roc_auc")
BRIER = ChampionRule("brier")


def champion(cv_value: float | None = 0.80, folds: str = FOLDS) -> RegisteredChampion:
    return RegisteredChampion(version="3", folds_fingerprint=folds, cv_value=lambda: cv_value)


def test_the_best_mean_cv_value_wins_and_a_tie_goes_to_the_candidate_listed_first():
    table = pd.DataFrame({"candidate": ["simple", "complex", "worse"],
                          "cv_roc_auc_mean": [0.80, 0.80, 0.70],
                          "cv_brier_mean": [0.17, 0.16, 0.20]})
    assert rank_candidates(table, "roc_auc")["candidate"].tolist() == ["simple", "complex", "worse"]
    assert rank_candidates(table, "brier")["candidate"].tolist() == ["complex", "simple", "worse"]
    assert rank_candidates(table, "roc_auc")["rank"].tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="Unknown selection metric 'auc'"):
        rank_candidates(table, "auc")


def test_the_first_model_ever_registered_is_promoted():
    decision = promotion(AUC, 0.7965, FOLDS, None)
    assert decision.promoted
    assert decision.verdict == "promoted to champion: cv_roc_auc_mean 0.7965; no previous champion"


@pytest.mark.parametrize(("rule", "score", "held", "promoted"), [
    (AUC, 0.81, 0.80, True),     # higher AUC is better
    (AUC, 0.80, 0.80, True),     # a tie is not worse
    (AUC, 0.79, 0.80, False),
    (BRIER, 0.15, 0.16, True),   # lower Brier score is better
    (BRIER, 0.17, 0.16, False),
])
def test_a_candidate_takes_the_alias_when_it_is_not_worse_on_the_same_folds(rule, score, held,
                                                                          promoted):
    assert promotion(rule, score, FOLDS, champion(held)).promoted is promoted


def test_a_worse_candidate_is_refused_with_both_values_and_the_version():
    decision = promotion(AUC, 0.79, FOLDS, champion(0.80))
    assert decision.verdict == ("not promoted, champion unchanged: cv_roc_auc_mean 0.7900 is "
                                "worse than version 3's 0.8000")


def test_a_required_margin_must_be_met_and_is_named_when_it_is_not():
    rule = ChampionRule("roc_auc", min_improvement=0.01)
    assert promotion(rule, 0.811, FOLDS, champion(0.80)).promoted
    refused = promotion(rule, 0.805, FOLDS, champion(0.80))
    assert not refused.promoted
    assert "does not improve on version 3's 0.8000 by thresholding.champion.min_improvement = " \
           "0.01 (needs 0.8100)" in refused.verdict
    # lower is better: the margin is taken off the champion's value
    assert "(needs 0.1500)" in promotion(ChampionRule("brier", min_improvement=0.01), 0.155,
                                         FOLDS, champion(0.16)).verdict


def test_a_candidate_that_cannot_be_measured_is_never_promoted():
    decision = promotion(AUC, math.nan, FOLDS, None)
    assert not decision.promoted and "undefined (NaN)" in decision.verdict


def test_other_folds_keep_the_champion_unless_the_user_says_promote():
    kept = promotion(AUC, 0.99, FOLDS, champion(0.80, folds="folds-b"))
    assert not kept.promoted
    assert "validated on other training rows or CV folds" in kept.verdict
    switched = promotion(ChampionRule("roc_auc", on_other_folds="promote"), 0.70, FOLDS,
                         champion(0.80, folds="folds-b"))
    assert switched.promoted  # not compared: the values are on other folds
    assert "replaces version 3, validated on other folds" in switched.verdict


def test_the_champions_value_is_read_only_when_the_two_are_compared():
    def unreadable():
        raise AssertionError("read although not compared")

    gone = RegisteredChampion(version="3", folds_fingerprint="folds-b", cv_value=unreadable)
    promote_anyway = ChampionRule("roc_auc", on_other_folds="promote")
    assert promotion(promote_anyway, 0.7, FOLDS, gone).promoted
    assert not promotion(AUC, math.nan, FOLDS, gone).promoted


def test_a_champion_without_a_value_to_compare_is_kept():
    decision = promotion(AUC, 0.99, FOLDS, champion(cv_value=None))
    assert not decision.promoted and "compare them by hand" in decision.verdict


def test_the_alias_is_named_in_the_verdict():
    decision = promotion(ChampionRule("roc_auc", alias="production"), 0.8, FOLDS, None)
    assert decision.verdict.startswith("promoted to production:")
