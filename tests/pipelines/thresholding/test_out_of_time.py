"""The out-of-time window is never used for tuning, calibration, cut-off or selection: a
dated loan book whose later rows are rewritten (every outcome flipped, loans tripled, one
region) gives the same training rows, folds, ranking, calibration, cut-off and model."""

import copy
import json

import numpy as np
import pandas as pd

from credit_scoring.data.schema import features
from tests.conftest import (
    DATED_SPLIT,
    LOAN_BOOK_PARAMS,
    make_dated_loan_book,
    run_thresholding,
    thresholding_params,
)

FITTED = ("champion_spec", "candidate_ranking_report", "oof_predictions", "calibration_report",
          "cutoff")


def test_changing_only_the_out_of_time_rows_changes_no_fitted_parameter(project_params):
    params = thresholding_params(project_params)
    book_params = copy.deepcopy(LOAN_BOOK_PARAMS)
    book_params["split"].update(DATED_SPLIT)
    book = make_dated_loan_book()
    later = book["applied_on"] >= "2023-10-01"   # the last 3 of 12 months: out of time
    rewritten = book.copy()
    rewritten.loc[later, "defaulted"] = np.where(book.loc[later, "defaulted"] == "Y", "N", "Y")
    rewritten.loc[later, "loan_amount"] = book.loc[later, "loan_amount"] * 3
    rewritten.loc[later, "region"] = "north"
    runs = [run_thresholding(table, copy.deepcopy(book_params), params)
            for table in (book, rewritten)]
    (first, test, schema), (second, other_test, other_schema) = runs
    assert not test["defaulted"].equals(other_test["defaulted"])   # the test set did change
    assert schema == other_schema
    pd.testing.assert_frame_equal(first.load("model_input_train"),
                                  second.load("model_input_train"))  # what tuning reads
    for name in FITTED:
        a, b = first.load(f"thresholding.{name}"), second.load(f"thresholding.{name}")
        if isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b)
        else:   # NaN where nothing is approved: compared as written
            assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True), name
    # the champions decide alike on any applicant
    rows = features(first.load("model_input_train"), schema)
    np.testing.assert_array_equal(first.load("thresholding.champion_model").pd(rows),
                                  second.load("thresholding.champion_model").pd(rows))
