"""data_processing nodes: cleaning rules, feature recipes and the split every stage shares."""

import numpy as np
import pandas as pd
import pytest

from credit_scoring.data.preparation import float32_exact, prepare_for_model
from credit_scoring.data.schema import ApplicantDataError, features, not_cited
from credit_scoring.models.evaluation import cv_splits
from credit_scoring.pipelines.data_processing.nodes import (
    add_domain_features,
    clean_applicants,
    data_quality_metrics,
    split_train_test,
    validate_applicants,
)
from tests.conftest import DATED_SPLIT, NO_FEATURE_BUILD, make_dated_loan_book


def test_clean_encodes_bad_as_one_and_types_features(loan_book, loan_book_params):
    clean = clean_applicants(loan_book, loan_book_params)
    assert clean["defaulted"].tolist() == (loan_book["defaulted"] == "Y").astype(int).tolist()
    assert clean["income"].dtype == float and clean["term_months"].dtype == float
    # integer-coded product forced categorical, without a ".0"
    assert set(clean["product_code"].dropna()) == {"101", "202", "303"}
    # id kept as is, not turned into a feature type
    assert clean["loan_id"].equals(loan_book["loan_id"])


def test_clean_strips_text_and_turns_blanks_into_missing(loan_book, loan_book_params):
    clean = clean_applicants(loan_book, loan_book_params)
    assert "west" in set(clean["region"].dropna())
    assert clean["region"].isna().sum() == (loan_book["region"] == "").sum()


def test_clean_blanks_values_outside_valid_range(loan_book, loan_book_params):
    loan_book.loc[[1, 2], "income"] = [-5.0, 0.0]
    clean = clean_applicants(loan_book, loan_book_params)
    assert np.isnan(clean.loc[1, "income"])
    assert clean.loc[2, "income"] == 0.0  # the bound itself is valid


def test_clean_drops_configured_columns(loan_book, loan_book_params):
    loan_book_params["columns"]["drop"] = ["region"]
    assert "region" not in clean_applicants(loan_book, loan_book_params)


def test_ratio_recipe_is_added_and_zero_denominator_gives_missing():
    table = pd.DataFrame({"amount": [100.0, 50.0], "months": [10.0, 0.0]})
    recipes = {"ratios": {"monthly": {"numerator": "amount", "denominator": "months"}}}
    out = add_domain_features(table, recipes)
    assert out.loc[0, "monthly"] == 10.0
    assert np.isnan(out.loc[1, "monthly"])


def test_recipe_with_absent_columns_is_skipped(loan_book, loan_book_params, caplog):
    out = add_domain_features(loan_book, loan_book_params["feature_recipes"])
    assert "loan_to_income" in out
    assert "monthly_instalment" not in out
    assert "monthly_instalment" in caplog.text


@pytest.fixture
def split(loan_book, loan_book_params):
    clean = clean_applicants(loan_book, loan_book_params)
    return split_train_test(clean, loan_book_params, NO_FEATURE_BUILD)


def test_split_is_stratified_and_disjoint(split, loan_book):
    train, test, _, _, _ = split
    assert len(train) + len(test) == len(loan_book)
    assert not set(train["loan_id"]) & set(test["loan_id"])
    assert abs(train["defaulted"].mean() - test["defaulted"].mean()) < 0.02


def test_every_training_row_gets_a_stratified_fold(split, loan_book_params):
    train, *_ = split
    folds = train["cv_fold"]
    assert sorted(folds.unique()) == list(range(loan_book_params["split"]["cv_folds"]))
    bad_rates = train.groupby("cv_fold")["defaulted"].mean()
    assert bad_rates.max() - bad_rates.min() < 0.03


def test_split_is_reproducible_from_its_seed(loan_book, loan_book_params, split):
    again = split_train_test(clean_applicants(loan_book, loan_book_params), loan_book_params,
                             NO_FEATURE_BUILD)
    pd.testing.assert_frame_equal(split[0], again[0])
    loan_book_params["split"]["random_state"] = 8
    other = split_train_test(clean_applicants(loan_book, loan_book_params), loan_book_params,
                             NO_FEATURE_BUILD)
    assert not split[0].index.equals(other[0].index)


def test_feature_schema_lists_model_columns_only(split):
    _, _, _, schema, _ = split
    assert schema["target"] == "defaulted" and schema["id_column"] == "loan_id"
    assert set(schema["numeric"]) == {"income", "loan_amount", "term_months"}
    assert set(schema["categorical"]) == {"region", "product_code"}
    assert schema["categories"]["product_code"] == ["101", "202", "303"]


def test_only_columns_whose_every_value_survives_32_bits_are_narrowed():
    table = pd.DataFrame({"count": [0.0, 3.0, np.nan], "amount": [1e6 + 0.5, 2.25, 7.0],
                          "beyond_2_24": [2.0**24 + 1, 0.0, 0.0], "ratio": [0.1, 0.2, 0.3]})
    assert float32_exact(table, list(table.columns)) == ["count", "amount"]


def test_exact_float_columns_are_stored_in_32_bits_and_scoring_does_the_same(
    loan_book, loan_book_params
):
    model_input = add_domain_features(clean_applicants(loan_book, loan_book_params),
                                      loan_book_params["feature_recipes"])
    train, test, _, schema, _ = split_train_test(model_input, loan_book_params, NO_FEATURE_BUILD)
    # amounts rounded to tens, a term in months: exact; a ratio is not
    assert schema["float32"] == ["income", "loan_amount", "term_months"]
    assert (train[schema["float32"]].dtypes == "float32").all()
    assert train["loan_to_income"].dtype == "float64"
    np.testing.assert_array_equal(test[schema["float32"]].to_numpy(dtype=float),
                                  model_input.loc[test.index, schema["float32"]].to_numpy())
    # a raw row prepared for the model: the same values in the same types as training's
    raw = loan_book.loc[test.index].drop(columns=loan_book_params["target"]["column"])
    pd.testing.assert_frame_equal(prepare_for_model(raw, schema), features(test, schema))


# ---- data quality on the split (issue 31) -------------------------------------------------
def test_empty_and_constant_features_are_dropped_and_reported(loan_book, loan_book_params, caplog):
    loan_book = loan_book.assign(branch="north", notes=np.nan,
                                 flag=np.where(loan_book.index % 2, "Y", None))
    loan_book_params["expected_effects"] = {"increasing": ["notes", "loan_amount"]}
    clean = clean_applicants(loan_book, loan_book_params)
    train, test, _, schema, quality = split_train_test(clean, loan_book_params, NO_FEATURE_BUILD)
    assert quality["dropped_features"] == {
        "branch": "constant: 'north' on every training row",
        "notes": "empty: no value in any training row"}
    assert {"branch", "notes"}.isdisjoint({*train.columns, *test.columns, *schema["numeric"],
                                           *schema["categorical"]})
    assert "flag" in schema["categorical"]  # 'Y' or missing: the gap is information
    assert schema["expected_effects"] == {"loan_amount": 1}
    assert schema["dropped_features"] == quality["dropped_features"]
    assert "Features dropped, nothing to learn from them: 'branch' constant" in caplog.text


def test_test_rows_identical_to_training_rows_are_counted_or_refused(loan_book, loan_book_params,
                                                                      caplog):
    """300 applicants entered again under new ids: about a quarter land in test."""
    again = loan_book.head(300).assign(loan_id=loan_book["loan_id"].head(300) + 100_000)
    clean = clean_applicants(pd.concat([loan_book, again], ignore_index=True), loan_book_params)
    train, test, _, _, quality = split_train_test(clean, loan_book_params, NO_FEATURE_BUILD)
    features = ["income", "loan_amount", "term_months", "region", "product_code"]
    by_hand = test[features].merge(train[features].drop_duplicates(), how="inner")
    assert quality["test_rows_seen_in_training"] == len(by_hand) > 30
    assert f"{len(by_hand)} of {len(test)} test applicants are identical" in caplog.text
    assert data_quality_metrics(quality)["test_rows_seen_in_training"]["value"] == len(by_hand)
    loan_book_params["split"]["test_rows_seen_in_training"] = "refuse"
    with pytest.raises(ApplicantDataError, match="is 'refuse'"):
        split_train_test(clean, loan_book_params, NO_FEATURE_BUILD)


def test_a_clean_table_has_no_test_row_seen_in_training(split):
    assert split[4]["test_rows_seen_in_training"] == 0 and split[4]["dropped_features"] == {}


@pytest.mark.parametrize("policy", ["exclude", "allow"])
def test_protected_attributes_and_features_built_from_them_follow_the_policy(
        loan_book, loan_book_params, policy):
    """Exclude: no model feature, kept beside the features for the fairness screen; allow: a
    feature, recorded as never to be cited. The ratio built from income follows income."""
    loan_book_params["protected_attributes"] = {"columns": ["income"], "policy": policy,
                                                "bands": {"income": [20_000]}}
    model_input = add_domain_features(clean_applicants(loan_book, loan_book_params),
                                      loan_book_params["feature_recipes"])
    train, test, _, schema, _ = split_train_test(model_input, loan_book_params, NO_FEATURE_BUILD)
    assert schema["protected_attributes"] == {
        "policy": policy, "columns": ["income"],
        "sources": {"income": ["income"], "loan_to_income": ["income"]},
        "bands": {"income": [20_000]}}
    modelled = {"income", "loan_to_income"} <= set(schema["numeric"])
    assert modelled == (policy == "allow")
    assert {"income", "loan_to_income"} <= set(train.columns) & set(test.columns)
    assert not_cited(schema) == ["income", "loan_to_income"]
    assert set(features(train, schema).columns) >= {"loan_amount", "region"}


# ---- out of time (issue 34) ---------------------------------------------------------------
def dated_split(loan_book_params, loan_book=None, **split):
    loan_book_params["split"].update(DATED_SPLIT, **split)
    loan_book = make_dated_loan_book() if loan_book is None else loan_book
    return split_train_test(clean_applicants(loan_book, loan_book_params), loan_book_params,
                            NO_FEATURE_BUILD)


def test_a_dated_split_tests_on_the_latest_vintages_and_never_models_the_date(loan_book_params):
    train, test, in_time, schema, quality = dated_split(loan_book_params)
    assert train["applied_on"].max() < "2023-10-01" <= test["applied_on"].min()
    assert len(train) + len(test) == 600 and in_time.empty and quality["in_time_holdout_rows"] == 0
    assert "applied_on" not in schema["numeric"] + schema["categorical"]
    assert schema["date_column"] == "applied_on"
    assert schema["time"] == {"date_column": "applied_on", "vintage": "month", "cv": "stratified",
                              "development": ["2023-01-01", "2023-09-30"],
                              "out_of_time": ["2023-10-01", "2023-12-31"]}


def test_an_in_time_holdout_is_a_stratified_share_of_the_development_window(loan_book_params):
    train, test, in_time, _, quality = dated_split(loan_book_params, in_time_holdout=0.2)
    assert len(in_time) == quality["in_time_holdout_rows"] == round(0.2 * (len(train) + len(in_time)))
    assert set(in_time.index).isdisjoint(train.index) and set(in_time.index).isdisjoint(test.index)
    assert in_time["applied_on"].max() < "2023-10-01"
    assert "cv_fold" not in in_time


def test_an_in_time_holdout_too_small_for_a_bad_and_a_good_names_its_key(loan_book_params):
    with pytest.raises(ApplicantDataError, match=r"in_time_holdout = 0.001 of the 449 "
                       r"development applicants .* cannot hold a bad and a good out"):
        dated_split(loan_book_params, in_time_holdout=0.001)


def test_time_series_folds_never_train_on_a_later_month_than_they_score(loan_book_params):
    train, *_ = dated_split(loan_book_params, cv="time_series")
    months = train["applied_on"].str[:7]
    assert sorted(train["cv_fold"].unique()) == [-1, 0, 1, 2]   # 9 months: 4 blocks
    for rows, held_out in cv_splits(train["cv_fold"]):
        assert months.iloc[rows].max() < months.iloc[held_out].min()


def test_a_date_that_does_not_parse_stops_the_run_before_any_work(loan_book_params):
    loan_book = make_dated_loan_book()
    loan_book.loc[5, "applied_on"] = "2023-13-45"
    loan_book_params["split"].update(DATED_SPLIT)
    with pytest.raises(ApplicantDataError, match=r"'applied_on' .* not dates, e.g. "
                       r"\['2023-13-45'\]"):
        validate_applicants(loan_book, loan_book_params)


def test_a_window_without_bads_is_refused(loan_book_params):
    loan_book = make_dated_loan_book()
    loan_book.loc[loan_book["applied_on"] >= "2023-10-01", "defaulted"] = "N"
    with pytest.raises(ApplicantDataError, match=r"out-of-time window \(2023-10-01 to "
                       r"2023-12-31\) holds 151 applicants and no bads"):
        dated_split(loan_book_params, loan_book)


def test_a_development_window_smaller_than_the_folds_is_refused(loan_book_params):
    with pytest.raises(ApplicantDataError, match=r"development window holds 2 vintages"):
        dated_split(loan_book_params, cv="time_series", out_of_time_start="2023-03-01")
    few = make_dated_loan_book().assign(defaulted="N")
    few.loc[[0, 300, 500], "defaulted"] = "Y"   # 2 bads before October, 1 after
    with pytest.raises(ApplicantDataError, match=r"2 bads and 447 goods: too few to put both in "
                       r"each of 3 folds"):
        dated_split(loan_book_params, few, cv="stratified", out_of_time_start=None)


def test_future_application_dates_are_refused(loan_book_params):
    loan_book = make_dated_loan_book()
    loan_book.loc[599, "applied_on"] = "2999-01-01"
    loan_book_params["split"].update(DATED_SPLIT)
    with pytest.raises(ApplicantDataError, match=r"1 application dates in the future"):
        validate_applicants(loan_book, loan_book_params)
