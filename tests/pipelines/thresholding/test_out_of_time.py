"""The out-of-time window is never used for tuning, calibration, cut-off or selection: a
dated loan book whose later rows are rewritten (every outcome flipped, loans tripled, one
region) gives the same training rows, folds, ranking, calibration, cut-off and model. And
time-ordered folds run from a candidate stage to a cut-off."""

import copy
import json

import numpy as np
import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from credit_scoring.data.schema import features
from credit_scoring.pipelines.model_comparison import create_pipeline as comparison_pipeline
from tests.conftest import (
    DATED_SPLIT,
    LOAN_BOOK_PARAMS,
    KeptDataset,
    loan_book_model_input,
    make_dated_loan_book,
    run_thresholding,
    thresholding_params,
)

LOGISTIC = {"estimator": "sklearn.linear_model.LogisticRegression", "params": {"max_iter": 500},
            "preprocessing": "one_hot_scaled"}

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


def test_time_ordered_folds_run_from_the_candidate_stages_to_a_cut_off(project_params):
    """cv: time_series end to end in memory: model_comparison's stage (its plots included)
    leaves the first block without out-of-fold PDs, thresholding calibrates and cuts off on
    the scored folds only, and the fairness screen reads those rows."""
    book_params = copy.deepcopy(LOAN_BOOK_PARAMS)
    book_params["split"].update(DATED_SPLIT, cv="time_series")
    book = make_dated_loan_book()
    train, test, schema = loan_book_model_input(book, book_params)
    first_block = train["cv_fold"] == -1
    assert first_block.sum() > 0 and sorted(train["cv_fold"].unique()) == [-1, 0, 1, 2]
    stage = {"candidates": {"logistic": LOGISTIC}, "random_state": 1,
             "selection_metric": "roc_auc", "class_weighting": None, "sample_rows": None}
    pipeline = comparison_pipeline()
    catalog = DataCatalog(datasets={
        "model_input_train": MemoryDataset(train), "model_input_test": MemoryDataset(test),
        "feature_schema": MemoryDataset(schema),
        **{name: KeptDataset(copy_mode="assign") for name in pipeline.all_outputs()},
        **{f"params:model_comparison.{k}": MemoryDataset(v) for k, v in stage.items()}})
    SequentialRunner().run(pipeline, catalog)
    oof = catalog.load("model_comparison.oof_predictions")
    assert oof.loc[first_block, "logistic"].isna().all()
    assert oof.loc[~first_block, "logistic"].notna().all()
    assert catalog.load("model_comparison.metrics")["cv_roc_auc_mean"].notna().all()

    outputs, _, _ = run_thresholding(book, book_params, thresholding_params(project_params))
    calibrated = outputs.load("thresholding.oof_predictions")
    assert calibrated.index.equals(train.index[~first_block])
    assert calibrated["pd"].notna().all()
    assert np.isfinite(outputs.load("thresholding.cutoff")["cutoff"])
