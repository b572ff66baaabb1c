"""The two rules that choose a model, on hand-made cases: the run's winner and the promotion."""

import math

import pandas as pd
import pytest

from credit_scoring.models.selection import (
    ChampionRule,
    RegisteredChampion,
    challenger_side,
    challengers,
    choose_candidate,
    gate,
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


# the case: a forest wins by 0.0035 with a fold SD of 0.009 over 5 folds
RANKED = rank_candidates(pd.DataFrame({
    "candidate": ["baselines.prior_only", "baselines.logistic_regression",
                  "model_comparison.random_forest", "thresholding.blend"],
    "cv_roc_auc_mean": [0.5, 0.7930, 0.7965, 0.7940],
    "cv_roc_auc_std": [0.0, 0.010, 0.009, 0.012]}), "roc_auc")
COMPLEXITY = {"baselines.prior_only": 0, "baselines.logistic_regression": 1,
              "model_comparison.random_forest": 3, "thresholding.blend": 4}


def test_one_standard_error_chooses_the_simplest_candidate_that_ties_the_best():
    table, reason = choose_candidate(RANKED, "roc_auc", "one_standard_error", COMPLEXITY, 5)
    # the best candidate's sample SD / sqrt(5); the CV metrics give the population SD
    # (np.std), so the sample SD is 0.009 * sqrt(5 / 4) and the SE 0.009 / sqrt(4) = 0.0045
    se = 0.009 / math.sqrt(4)
    assert table.set_index("candidate")["within_one_se"].to_dict() == {
        "model_comparison.random_forest": True, "thresholding.blend": True,
        "baselines.logistic_regression": True,   # 0.7965 - 0.7930 = 0.0035 < 0.0045
        "baselines.prior_only": False}
    assert table.loc[table["chosen"], "candidate"].tolist() == ["baselines.logistic_regression"]
    assert reason.startswith(
        "baselines.logistic_regression (cv_roc_auc_mean 0.7930): the simplest candidate "
        f"(logistic regression) within one standard error ({se:.4f}) of the best "
        "cv_roc_auc_mean 0.7965 (model_comparison.random_forest). Runners-up: "
        "model_comparison.random_forest 0.7965 (within it, but more complex); "
        "thresholding.blend 0.7940 (within it, but more complex); baselines.prior_only 0.5000 "
        f"(beyond one standard error: below {0.7965 - se:.4f}).")


def test_best_chooses_the_first_of_the_ranking_and_one_se_needs_a_real_tie():
    table, reason = choose_candidate(RANKED, "roc_auc", "best", COMPLEXITY, 5)
    assert table.loc[table["chosen"], "candidate"].tolist() == ["model_comparison.random_forest"]
    assert "thresholding.blend 0.7940 (ranked lower)" in reason
    # a logistic regression 0.0050 behind (more than one SE, 0.0045) loses to the forest
    behind = RANKED.assign(cv_roc_auc_mean=RANKED["candidate"].map({
        "baselines.prior_only": 0.5, "baselines.logistic_regression": 0.7915,
        "model_comparison.random_forest": 0.7965, "thresholding.blend": 0.7940}))
    table, _ = choose_candidate(rank_candidates(behind, "roc_auc"), "roc_auc",
                                "one_standard_error", COMPLEXITY, 5)
    assert table.loc[table["chosen"], "candidate"].tolist() == ["model_comparison.random_forest"]


@pytest.mark.parametrize(("selection", "complexity", "score", "promoted"), [
    ("one_standard_error", 1, 0.797, True),   # simpler, 0.003 below: within SE 0.004
    ("one_standard_error", 1, 0.795, False),  # simpler, but 0.005 below
    ("one_standard_error", 3, 0.797, False),  # as complex: must not be worse
    ("best", 1, 0.797, False),                # the rule is off
])
def test_a_simpler_candidate_may_replace_the_champion_within_one_standard_error(
        selection, complexity, score, promoted):
    rule = ChampionRule("roc_auc", selection=selection)
    held = RegisteredChampion("3", FOLDS, lambda: 0.80, complexity=3)
    decision = promotion(rule, score, FOLDS, held, complexity, standard_error=0.004)
    assert decision.promoted is promoted
    if promoted:
        assert decision.verdict == (
            "promoted to champion: cv_roc_auc_mean 0.7970; replaces version 3 (0.8000): "
            "simpler (logistic regression against a single forest or boosted model) and "
            "within one standard error (0.0040)")


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


@pytest.mark.parametrize(("verdict", "awaiting", "holds", "exists", "mode", "alias", "alarm"), [
    ("fit with findings", True, False, True, "enforce", "champion", False),
    ("not fit", True, False, True, "enforce", "challenger", True),   # the gate refuses
    ("not fit", True, False, True, "warn", "champion", True),        # ... or warns
    ("not fit", True, False, False, "enforce", "champion", True),    # a fresh registry
    ("fit for use", False, False, True, "enforce", None, False),     # CV refused it
    ("fit for use", None, False, True, "enforce", None, False),      # not awaiting
    ("not fit", None, True, True, "enforce", None, True),            # the champion, again
])
def test_the_registry_gate(verdict, awaiting, holds, exists, mode, alias, alarm):
    decision = gate(verdict, awaiting, holds, exists, mode)
    assert (decision.alias, decision.alarm) == (alias, alarm)
    assert decision.message


@pytest.mark.parametrize(("complexity", "score", "promoted"), [
    (4, 0.803, False),  # a blend over a forest must beat it by one SE (0.004): 0.003 is not
    (4, 0.805, True),
    (3, 0.800, True),   # as complex: not worse is enough
])
def test_a_more_complex_candidate_must_beat_the_champion_by_one_standard_error(
        complexity, score, promoted):
    rule = ChampionRule("roc_auc", selection="one_standard_error")
    held = RegisteredChampion("3", FOLDS, lambda: 0.80, complexity=3)
    decision = promotion(rule, score, FOLDS, held, complexity, standard_error=0.004)
    assert decision.promoted is promoted
    if complexity == 4 and not promoted:
        assert decision.verdict == (
            "not promoted, champion unchanged: cv_roc_auc_mean 0.8030 does not beat version "
            "3's 0.8000 by one standard error (0.0040), as a more complex model must (a blend "
            "against a single forest or boosted model)")


def test_the_gate_leaves_a_version_compared_with_a_champion_since_replaced():
    decision = gate("fit for use", True, False, True, "enforce", champion_changed=True)
    assert decision.alias is None and "rerun thresholding" in decision.message
    refused = gate("fit for use", False, False, True, "enforce",
                   comparison="not promoted, champion unchanged: cv_roc_auc_mean 0.7 is worse")
    assert refused.alias is None and "cv_roc_auc_mean 0.7 is worse" in refused.message


def test_the_validators_challenger_sits_across_the_complexity_divide():
    ranked = pd.DataFrame({"candidate": ["blend", "xgboost", "scorecard", "logistic", "prior"],
                           "complexity": [4, 3, 2, 1, 0]})
    assert challengers(ranked) == {"simpler": "scorecard", "complex": "blend"}
    # without a scorecard the logistic regression is the simpler one; the prior is nobody's
    assert challengers(ranked[ranked["candidate"] != "scorecard"])["simpler"] == "logistic"
    assert challengers(ranked[ranked["complexity"] == 0]) == {"simpler": None, "complex": None}
    # the best complex candidate, single or blend, whichever ranks first
    assert challengers(ranked.iloc[[1, 0, 2]])["complex"] == "xgboost"
    assert [challenger_side(c) for c in (4, 3, 2, 1, 0)] == ["simpler", "simpler", "complex",
                                                             "complex", "complex"]


def test_a_champion_policy_no_longer_allows_is_replaced_by_an_eligible_candidate():
    """thresholding.eligible is policy: a forest champion that policy now excludes is
    replaced by the eligible scorecard without a CV contest; an eligible champion is not."""
    rule = ChampionRule("roc_auc", selection="one_standard_error",
                        eligible=("baselines.scorecard",))
    forest = RegisteredChampion("3", FOLDS, lambda: 0.795, complexity=3,
                                candidate="model_comparison.random_forest")
    decision = promotion(rule, 0.775, FOLDS, forest, 2, standard_error=0.0087)
    assert decision.promoted
    assert decision.verdict == (
        "promoted to champion: cv_roc_auc_mean 0.7750; replaces version 3 "
        "(model_comparison.random_forest), which thresholding.eligible no longer allows")
    scorecard = RegisteredChampion("4", FOLDS, lambda: 0.78, complexity=2,
                                   candidate="baselines.scorecard")
    assert not promotion(rule, 0.775, FOLDS, scorecard, 2, standard_error=0.0087).promoted
    assert not promotion(rule, math.nan, FOLDS, forest, 2).promoted  # unmeasurable: never
