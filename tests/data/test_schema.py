"""Bad input stops the run before any training, with a message naming the column and the fix."""

import pandas as pd
import pytest

from credit_scoring.data.schema import (
    ApplicantDataError,
    build_feature_schema,
    features,
    protected_sources,
    validate_raw,
    validate_scoring,
)


def test_valid_german_table_passes_unchanged(german_raw, project_params):
    validated = validate_raw(german_raw, project_params["data_processing"])
    pd.testing.assert_frame_equal(validated, german_raw)


def test_empty_table_is_refused(german_raw, project_params):
    with pytest.raises(ApplicantDataError, match="empty.*applicants_raw"):
        validate_raw(german_raw.iloc[0:0], project_params["data_processing"])


def test_missing_target_column_names_column_and_setting(german_raw, project_params):
    with pytest.raises(ApplicantDataError, match=r"'creditability' \(data_processing.target.column\)"):
        validate_raw(german_raw.drop(columns="creditability"), project_params["data_processing"])


def test_non_binary_target_names_the_offending_value(german_raw, project_params):
    raw = german_raw.copy()
    raw.loc[3, "creditability"] = "unknown"
    with pytest.raises(ApplicantDataError, match="creditability.*unknown"):
        validate_raw(raw, project_params["data_processing"])


def test_absent_bad_label_says_which_setting_to_change(german_raw, project_params):
    params = {**project_params["data_processing"]}
    params["target"] = {**params["target"], "bad_label": "defaulted"}
    with pytest.raises(ApplicantDataError, match="bad label 'defaulted'.*bad_label"):
        validate_raw(german_raw, params)


def test_three_valued_target_without_good_label_is_refused(loan_book, loan_book_params):
    loan_book.loc[0, "defaulted"] = "maybe"
    with pytest.raises(ApplicantDataError, match="must be binary.*maybe"):
        validate_raw(loan_book, loan_book_params)


def test_duplicate_ids_are_refused(loan_book, loan_book_params):
    loan_book.loc[5, "loan_id"] = loan_book.loc[4, "loan_id"]
    with pytest.raises(ApplicantDataError, match="loan_id.*unique"):
        validate_raw(loan_book, loan_book_params)


def test_missing_target_values_are_refused(loan_book, loan_book_params):
    loan_book.loc[2, "defaulted"] = None
    with pytest.raises(ApplicantDataError, match="defaulted"):
        validate_raw(loan_book, loan_book_params)


def test_column_declared_numeric_must_parse(loan_book, loan_book_params):
    loan_book["loan_amount"] = loan_book["loan_amount"].astype(str)
    loan_book.loc[7, "loan_amount"] = "twelve thousand"
    loan_book_params["columns"]["numeric"] = ["loan_amount"]
    with pytest.raises(ApplicantDataError, match="loan_amount.*twelve thousand"):
        validate_raw(loan_book, loan_book_params)


def test_every_absent_declared_column_is_listed_at_once(loan_book, loan_book_params):
    loan_book_params["valid_ranges"]["age"] = [18, 100]
    loan_book_params["columns"]["categorical"] = ["product_code", "branch"]
    with pytest.raises(ApplicantDataError) as error:
        validate_raw(loan_book.drop(columns="defaulted"), loan_book_params)
    message = str(error.value)
    for expected in ("'defaulted' (data_processing.target.column)",
                     "'branch' (data_processing.columns.categorical)",
                     "'age' (data_processing.valid_ranges)"):
        assert expected in message


def test_text_in_a_numeric_column_is_refused_with_count_and_examples(loan_book, loan_book_params):
    # 'income' is numeric, but a few rows hold text: pandas reads the column as text
    loan_book["income"] = loan_book["income"].astype(object)
    loan_book.loc[[3, 4, 9, 11], "income"] = ["unknown", "n.a.", "?", "unknown"]
    with pytest.raises(ApplicantDataError) as error:
        validate_raw(loan_book, loan_book_params)
    assert ("column 'income': 4 value(s) are not numbers (e.g. ['unknown', 'n.a.', '?'])"
            in str(error.value))


def test_a_column_mostly_of_numbers_is_numeric_even_with_many_text_values(loan_book,
                                                                       loan_book_params):
    loan_book["loan_amount"] = loan_book["loan_amount"].astype(object)
    loan_book.loc[loan_book.index[:80], "loan_amount"] = "n/a"  # 20 %: numbers with holes
    with pytest.raises(ApplicantDataError, match="'loan_amount': 80 value.*not numbers"):
        validate_raw(loan_book, loan_book_params)
    loan_book_params["columns"]["numeric_share"] = 0.9  # stricter reading: a category
    validate_raw(loan_book, loan_book_params)


def test_a_range_rule_on_a_text_column_names_the_values_not_a_type_error(loan_book,
                                                                        loan_book_params):
    loan_book["region_score"] = loan_book["region"].map({"north": "high"}).fillna("low")
    loan_book_params["valid_ranges"]["region_score"] = [0, 1]
    with pytest.raises(ApplicantDataError, match="'region_score': 400 value.*not numbers"):
        validate_raw(loan_book, loan_book_params)


def test_range_rule_on_absent_column_is_refused(loan_book, loan_book_params):
    loan_book_params["valid_ranges"]["age"] = [18, 100]
    with pytest.raises(ApplicantDataError, match="age"):
        validate_raw(loan_book, loan_book_params)


def test_reserved_fold_column_is_refused(loan_book, loan_book_params):
    with pytest.raises(ApplicantDataError, match="cv_fold.*reserved"):
        validate_raw(loan_book.assign(cv_fold=1), loan_book_params)


def test_feature_schema_excludes_target_id_and_fold(loan_book_params):
    table = pd.DataFrame(
        {"loan_id": [1, 2], "defaulted": [0, 1], "cv_fold": [0, 1], "x": [1.0, 2.0],
         "region": ["a", None]}
    )
    schema = build_feature_schema(table, loan_book_params)
    assert schema["numeric"] == ["x"]
    assert schema["categorical"] == ["region"]
    assert schema["categories"] == {"region": ["a"]}
    with pytest.raises(ApplicantDataError, match=r"\['x'\] are missing"):
        features(table.drop(columns="x"), schema)


def test_a_column_named_twice_is_refused_in_training_and_in_scoring(german_raw, project_params):
    twice = pd.concat([german_raw, german_raw[["age_in_years"]] + 1], axis=1)
    with pytest.raises(ApplicantDataError,
                       match="column 'age_in_years' appears 2 times in the applicant table"):
        validate_raw(twice, project_params["data_processing"])
    with pytest.raises(ApplicantDataError, match="appears 2 times in the applicants to score"):
        validate_scoring(twice, {"numeric": [], "categorical": []})


def test_features_built_from_a_protected_column_follow_it_at_any_depth():
    """A ratio of a ratio of age, and an aggregate of it that only policy allow lets a
    recipe build, are as protected as age itself."""
    params = {"protected_attributes": {"columns": ["age_in_years"], "policy": "allow"},
              "feature_recipes": {"ratios": {
                  "amount_per_age": {"numerator": "credit_amount", "denominator": "age_in_years"},
                  "per_age_per_month": {"numerator": "amount_per_age",
                                        "denominator": "duration_in_month"},
                  "monthly": {"numerator": "credit_amount", "denominator": "duration_in_month"},
                  "off": None}}}
    columns = ["bureau__age_in_years__max", "bureau__days_credit__mean", "age_in_years"]
    assert protected_sources(params, columns) == {
        "age_in_years": ["age_in_years"], "bureau__age_in_years__max": ["age_in_years"],
        "amount_per_age": ["age_in_years"], "per_age_per_month": ["age_in_years"]}
