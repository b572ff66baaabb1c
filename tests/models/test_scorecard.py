"""The WoE-logistic challenger: features screened by IV, the scorecard on the model's points
scale, monotonic classes, and development inside each fold (no leakage)."""

import copy

import numpy as np
import pytest

from credit_scoring.data.schema import features, target
from credit_scoring.decisions import ScoreScaling
from credit_scoring.models.scorecard import (
    TABLE_COLUMNS,
    cross_fitted_challenger,
    fine_classing,
    fit_scorecard,
    scorecard_pd,
    scorecard_table,
)
from tests.conftest import LOAN_BOOK_PARAMS, loan_book_model_input, make_loan_book

SCALE = ScoreScaling(base_score=600, base_odds=50, pdo=20)
PARAMS = {"fine_classes": 10, "min_iv": 0.02, "max_variables": 30, "max_n_prebins": 10,
          "min_bin_size": 0.05, "sample_rows": None, "seed": 0}


@pytest.fixture(scope="module")
def loan_book_input():
    """A 1,200-applicant loan book after data_processing: (train with folds, test, schema)."""
    return loan_book_model_input(make_loan_book(1_200, seed=3), copy.deepcopy(LOAN_BOOK_PARAMS))


def test_fine_classing_ranks_the_feature_that_drives_risk_first(loan_book_input):
    train, _, schema = loan_book_input
    strength = fine_classing(features(train, schema), target(train, schema), 10)
    assert strength.index[0] == "loan_to_income"  # the loan book's risk is loan / income
    assert strength.is_monotonic_decreasing


def test_the_scorecard_has_monotonic_classes_and_points_on_the_models_scale(loan_book_input):
    train, test, schema = loan_book_input
    card = fit_scorecard(features(train, schema), target(train, schema), schema["categorical"],
                         SCALE, PARAMS)
    table = scorecard_table(card)
    assert list(table.columns) == TABLE_COLUMNS
    for variable in set(table["Variable"]) - set(schema["categorical"]):
        woe = table.loc[(table["Variable"] == variable)
                        & ~table["Bin"].isin(["Missing", "Special"]), "WoE"]
        assert woe.is_monotonic_increasing or woe.is_monotonic_decreasing, variable
    # an applicant's points, looked up class by class in the table (by the class's WoE),
    # add up to the champion's score of the challenger's PD
    X = features(test, schema)
    woe = card.woe(X)
    summed = sum(
        table[table["Variable"] == name].set_index(table["WoE"].round(9)[table["Variable"] == name])
        ["Points"].loc[woe[:, j].round(9)].to_numpy()
        for j, name in enumerate(card.binnings))
    assert np.abs(summed - SCALE.points(scorecard_pd(card, X))).max() <= 1
    assert "Missing" in set(table["Bin"])  # the loan book's missing incomes are a class
    assert set(table.loc[table["Variable"] == "region", "Bin"]) >= {"north", "Missing"}


def test_too_strict_a_screen_is_refused_with_the_parameter_to_change(loan_book_input):
    train, _, schema = loan_book_input
    with pytest.raises(ValueError, match=r"validation.challenger.min_iv = 50.*loan_to_income"):
        fit_scorecard(features(train, schema), target(train, schema), schema["categorical"],
                      SCALE, {**PARAMS, "min_iv": 50})


def test_each_fold_is_scored_by_a_scorecard_developed_without_it(loan_book_input):
    train, test, schema = loan_book_input
    oof, test_pd, _ = cross_fitted_challenger(train, test, schema, SCALE, PARAMS)
    assert oof.notna().all() and len(test_pd) == len(test)
    # flipping fold 0's labels changes every scorecard except the one that scores fold 0
    fold_0 = train[schema["fold_column"]] == 0
    flipped = train.copy()
    flipped.loc[fold_0, schema["target"]] = 1 - flipped.loc[fold_0, schema["target"]]
    oof_flipped, test_flipped, _ = cross_fitted_challenger(flipped, test, schema, SCALE, PARAMS)
    np.testing.assert_array_equal(oof[fold_0], oof_flipped[fold_0])
    assert not np.allclose(oof[~fold_0], oof_flipped[~fold_0])
    assert not np.allclose(test_pd, test_flipped)


def test_each_fit_sees_a_seeded_stratified_sample(loan_book_input):
    train, test, schema = loan_book_input
    sampled = {**PARAMS, "sample_rows": 500}
    first = cross_fitted_challenger(train, test, schema, SCALE, sampled)
    again = cross_fitted_challenger(train, test, schema, SCALE, sampled)
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[1], cross_fitted_challenger(train, test, schema, SCALE,
                                                                PARAMS)[1])
