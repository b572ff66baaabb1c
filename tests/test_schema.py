"""Bad input stops the run before any training, with a message naming the column and the fix."""

import pandas as pd
import pytest

from credit_scoring.schema import ApplicantDataError, build_feature_schema, features, validate_raw


def test_valid_german_table_passes_unchanged(german_raw, project_params):
    validated = validate_raw(german_raw, project_params["data_processing"])
    pd.testing.assert_frame_equal(validated, german_raw)


def test_empty_table_is_refused(german_raw, project_params):
    with pytest.raises(ApplicantDataError, match="empty.*applicants_raw"):
        validate_raw(german_raw.iloc[0:0], project_params["data_processing"])


def test_missing_target_column_names_column_and_setting(german_raw, project_params):
    with pytest.raises(ApplicantDataError, match="'creditability' is missing.*target.column"):
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
