"""The WoE-logistic scorecard: features screened by IV, monotonic classes, a points table on the
model's scale, scored from its own table (what is stored), reasons as points below the maximum."""

import copy
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from credit_scoring.data.schema import features, target
from credit_scoring.decisions import ScoreScaling
from credit_scoring.models.calibration import PDCalibrator
from credit_scoring.models.scorecard import (
    TABLE_COLUMNS,
    WoEScorecard,
    fine_classing,
    load,
    points_table,
    save,
)
from tests.conftest import LOAN_BOOK_PARAMS, loan_book_model_input, make_loan_book

SCALE = ScoreScaling(base_score=600, base_odds=50, pdo=20)
PARAMS = {"fine_classes": 10, "min_iv": 0.02, "max_variables": 30, "max_n_prebins": 10,
          "min_bin_size": 0.05, "sample_rows": None, "random_state": 0}


@pytest.fixture(scope="module")
def loan_book_input():
    """A 1,200-applicant loan book after data_processing: (train with folds, test, schema)."""
    return loan_book_model_input(make_loan_book(1_200, seed=3), copy.deepcopy(LOAN_BOOK_PARAMS))


@pytest.fixture(scope="module")
def card(loan_book_input):
    train, _, schema = loan_book_input
    return WoEScorecard(**PARAMS).fit(features(train, schema), target(train, schema))


def test_fine_classing_ranks_the_feature_that_drives_risk_first(loan_book_input):
    train, _, schema = loan_book_input
    strength = fine_classing(features(train, schema), target(train, schema), 10)
    assert strength.index[0] == "loan_to_income"  # the loan book's risk is loan / income
    assert strength.is_monotonic_decreasing


def test_the_table_scores_exactly_as_optbinning_classed_and_weighted(card, loan_book_input):
    """The stored table is what scores: its WoE per row is optbinning's own transform."""
    from optbinning import OptimalBinning  # noqa: PLC0415

    train, test, schema = loan_book_input
    X, y = features(train, schema), target(train, schema).to_numpy()
    rows = features(test, schema)
    for k, entry in enumerate(card.attributes_):
        name = entry["name"]
        numeric = pd.api.types.is_numeric_dtype(X[name])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            binning = OptimalBinning(
                name=name, max_n_prebins=10, min_bin_size=0.05,
                **({"dtype": "numerical", "monotonic_trend": "auto_asc_desc"} if numeric
                   else {"dtype": "categorical"})).fit(X[name].to_numpy(), y)
            expected = binning.transform(rows[name].to_numpy(), metric="woe",
                                         metric_missing="empirical", metric_special="empirical")
        np.testing.assert_allclose(card.woe(rows)[:, k], expected, atol=1e-12, err_msg=name)


def test_the_points_table_has_monotonic_classes_and_adds_up_to_the_score(card, loan_book_input):
    _, test, schema = loan_book_input
    table = points_table(card, SCALE)
    assert list(table.columns) == TABLE_COLUMNS
    for variable in set(table["Variable"]) - set(schema["categorical"]):
        woe = table.loc[(table["Variable"] == variable) & (table["Bin"] != "Missing"), "WoE"]
        assert woe.is_monotonic_increasing or woe.is_monotonic_decreasing, variable
    assert "Missing" in set(table["Bin"])  # the loan book's missing incomes are a class
    assert set(table.loc[table["Variable"] == "region", "Bin"]) >= {"north", "Missing"}
    # an applicant's points, looked up class by class in the table, add up to the score
    X = features(test, schema)
    woe = card.woe(X)
    table = table[table["Count"] > 0]  # the classes the test applicants fall in
    summed = sum(table[table["Variable"] == entry["name"]].set_index("WoE")["Points"]
                 .loc[woe[:, j]].to_numpy() for j, entry in enumerate(card.attributes_))
    assert np.abs(summed - SCALE.points(card.predict_proba(X)[:, 1])).max() <= 1
    # with Platt calibration folded in, they add up to the calibrated score
    platt = PDCalibrator("platt").fit(card.predict_proba(X)[:, 1], target(test, schema))
    calibrated = points_table(card, SCALE, platt)
    calibrated = calibrated[calibrated["Count"] > 0]
    summed = sum(calibrated[calibrated["Variable"] == entry["name"]].set_index("WoE")["Points"]
                 .loc[woe[:, j]].to_numpy() for j, entry in enumerate(card.attributes_))
    assert np.abs(summed - SCALE.points(platt.predict(card.predict_proba(X)[:, 1]))).max() <= 1


def test_a_saved_table_scores_identically_without_optbinning(card, loan_book_input, tmp_path):
    _, test, schema = loan_book_input
    save(card, tmp_path / "estimator.json")
    again = load(tmp_path / "estimator.json")
    X = features(test, schema)
    np.testing.assert_array_equal(again.predict_proba(X), card.predict_proba(X))
    np.testing.assert_array_equal(again.contributions(X), card.contributions(X))
    assert again.get_params() == card.get_params()
    (tmp_path / "other.json").write_text('{"format": "xgboost"}')
    with pytest.raises(ValueError, match="Not a WoE scorecard table"):
        load(tmp_path / "other.json")


def test_unseen_categories_and_missing_values_score_as_documented(card, loan_book_input):
    _, test, schema = loan_book_input
    X = features(test, schema).head(3).copy()
    region = [k for k, e in enumerate(card.attributes_) if e["name"] == "region"][0]
    entry = card.attributes_[region]
    X["region"] = ["atlantis", None, "north"]
    woe = card.woe(X)[:, region]
    north = next(k for k, level in enumerate(entry["categories"]) if "north" in level)
    assert woe[0] == 0.0                             # never seen: the average applicant
    assert woe[1] == entry["woe"][-1]                # missing: the Missing class's WoE
    assert woe[2] == entry["woe"][north]


def test_reasons_are_points_below_each_attributes_maximum(card, loan_book_input):
    """Contribution = coefficient x WoE above the attribute's best class: 0 at the class with
    the most points, and the points lost are factor x contribution."""
    _, test, schema = loan_book_input
    X = features(test, schema)
    contribution = pd.DataFrame(card.contributions(X), columns=card.feature_names_in_)
    table = points_table(card, SCALE)
    best = table.groupby("Variable")["Points"].max()
    table = table[table["Count"] > 0]
    for j, entry in enumerate(card.attributes_):
        lost = best[entry["name"]] - table[table["Variable"] == entry["name"]].set_index(
            "WoE")["Points"].loc[card.woe(X)[:, j]].to_numpy()
        np.testing.assert_allclose(SCALE.factor * contribution[entry["name"]], lost, atol=1e-9)
        assert contribution[entry["name"]].min() >= -1e-12
    unused = set(card.feature_names_in_) - {e["name"] for e in card.attributes_}
    assert all((contribution[c] == 0).all() for c in unused)


def test_too_strict_a_screen_is_refused_with_the_parameter_to_change(loan_book_input):
    train, _, schema = loan_book_input
    with pytest.raises(ValueError, match=r"min_iv = 50.*loan_to_income.*parameters_baselines"):
        WoEScorecard(**{**PARAMS, "min_iv": 50}).fit(features(train, schema),
                                                      target(train, schema))


def test_each_fit_sees_a_seeded_stratified_sample_and_clones_like_any_estimator(loan_book_input):
    train, test, schema = loan_book_input
    X, y, rows = features(train, schema), target(train, schema), features(test, schema)
    sampled = WoEScorecard(**{**PARAMS, "sample_rows": 500})
    first = clone(sampled).fit(X, y).predict_proba(rows)
    np.testing.assert_array_equal(first, clone(sampled).fit(X, y).predict_proba(rows))
    assert not np.array_equal(first, WoEScorecard(**PARAMS).fit(X, y).predict_proba(rows))
    weighted = WoEScorecard(**PARAMS).fit(X, y, sample_weight=np.where(y == 1, 3.0, 1.0))
    assert weighted.predict_proba(rows)[:, 1].mean() > first[:, 1].mean()  # bads weigh more


def test_a_rare_category_shares_a_class_and_scores_with_it():
    """min_bin_size: a level held by 2 % of applicants is merged into a class of several."""
    rng = np.random.default_rng(0)
    level = rng.choice(list("abcz"), 3_000, p=[.33, .33, .32, .02])
    risk = pd.Series(level).map({"a": .1, "b": .3, "c": .5, "z": .5})
    X = pd.DataFrame({"grade": level, "noise": rng.normal(size=3_000)})
    y = (rng.random(3_000) < risk).astype(int)
    card = WoEScorecard(**PARAMS).fit(X, y)
    grade = next(e for e in card.attributes_ if e["name"] == "grade")
    merged = next(group for group in grade["categories"] if "z" in group)
    assert len(merged) > 1
    assert ", ".join(merged) in set(points_table(card, SCALE)["Bin"])
    rows = pd.DataFrame({"grade": list("abcz"), "noise": 0.0})
    pd_of = pd.Series(card.predict_proba(rows)[:, 1], index=list("abcz"))
    assert pd_of["a"] < pd_of["b"] < pd_of["c"]
    assert pd_of["z"] == pd_of[[c for c in merged if c != "z"][0]]


def test_a_feature_with_one_class_or_the_wrong_sign_leaves_the_card():
    """A suppressor (noise shared with the strongest feature, a little risk of its own) is
    predictive alone but gets a positive coefficient beside it (more points the more bads):
    scorecard practice drops it and refits. A feature optimal binning leaves with one class
    tells no one apart and is dropped too."""
    rng = np.random.default_rng(1)
    risk, noise = rng.normal(size=4_000), rng.normal(size=4_000)
    X = pd.DataFrame({"strong": risk + noise, "suppressor": noise + 0.3 * risk,
                      "flat": np.where(rng.random(4_000) < 0.999, 1.0, 2.0)})
    y = (rng.random(4_000) < 1 / (1 + np.exp(-2 * risk))).astype(int)
    assert fine_classing(X, y, 10)["suppressor"] > 0.02  # it passes the screen
    card = WoEScorecard(**{**PARAMS, "min_iv": 0.0}).fit(X, y)
    assert [(e["name"], e["coefficient"] < 0) for e in card.attributes_] == [("strong", True)]


def test_integer_coded_categories_with_gaps_score_as_they_were_classed():
    """Levels 1, 2, 3 of a pandas category with missing values: classed and scored under
    the same labels ('1', not '1.0'), so none is taken for a category never seen."""
    rng = np.random.default_rng(2)
    level = pd.Series(rng.choice([1, 2, 3], 3_000)).astype("category")
    level[rng.random(3_000) < 0.1] = np.nan
    y = (rng.random(3_000) < level.map({1: .1, 2: .3, 3: .5}).astype(float).fillna(.2)).astype(int)
    X = pd.DataFrame({"grade": level})
    card = WoEScorecard(**PARAMS).fit(X, y)
    woe = card.woe(pd.DataFrame({"grade": pd.Series([1, 2, 3, None]).astype("category")}))[:, 0]
    assert (woe[:3] != 0).all() and len(set(woe[:3])) == 3
    assert woe[3] == card.attributes_[0]["woe"][-1]  # missing: its own class


def test_the_points_table_has_a_row_for_every_class_an_applicant_can_fall_in(card):
    """Missing values and categories never seen score WoE 0: the table says so."""
    table = points_table(card, SCALE)
    region = table[table["Variable"] == "region"].set_index("Bin")
    unseen = region.loc["Other (not seen in development)"]
    assert unseen["Count"] == 0 and unseen["WoE"] == 0
    income = table[table["Variable"] == "income"]
    assert "Missing" in set(income["Bin"])
    for variable in set(table["Variable"]):  # every variable has a Missing row
        assert "Missing" in set(table.loc[table["Variable"] == variable, "Bin"])


def test_a_damaged_or_tampered_table_is_refused_naming_what_is_wrong(card, tmp_path):
    good = card.to_table()
    damaged = [
        ({"attributes": [{**good["attributes"][0], "woe": good["attributes"][0]["woe"] + [9]}]},
         "woe must hold"),
        ({"attributes": [{**good["attributes"][0], "dtype": "pickle"}]}, "dtype"),
        ({"attributes": [{**good["attributes"][0], "name": "not_a_feature"}]}, "not one of"),
        ({"intercept": float("nan")}, "intercept"),
    ]
    numeric = next(e for e in good["attributes"] if e["dtype"] == "numerical")
    damaged.append(({"attributes": [{**numeric, "splits": numeric["splits"][::-1]}]},
                    "strictly increasing"))
    for change, message in damaged:
        path = tmp_path / "estimator.json"
        path.write_text(json.dumps({**good, **change}))
        with pytest.raises(ValueError, match=message):
            load(path)


def test_no_feature_left_after_classing_is_refused_clearly():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"flat": np.where(rng.random(2_000) < 0.999, 1.0, 2.0)})
    y = (rng.random(2_000) < 0.3).astype(int)
    with pytest.raises(ValueError, match="No feature is left in the scorecard.*min_bin_size"):
        WoEScorecard(**{**PARAMS, "min_iv": 0.0}).fit(X, y)
