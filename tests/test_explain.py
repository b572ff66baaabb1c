"""Reason codes agree with each model family's own contributions."""

import numpy as np
import pandas as pd
import pytest
import xgboost

from credit_scoring.estimators import build_estimator
from credit_scoring.explain import contributions, reason_codes
from credit_scoring.schema import features, target
from tests.conftest import LOAN_BOOK_PARAMS, loan_book_model_input, make_loan_book

SPECS = {
    "xgboost": {"estimator": "xgboost.XGBClassifier", "preprocessing": "native_categorical",
                "params": {"n_estimators": 30, "max_depth": 3, "enable_categorical": True,
                           "n_jobs": 1}},
    "catboost": {"estimator": "catboost.CatBoostClassifier", "preprocessing": "native_categorical",
                 "params": {"iterations": 30, "depth": 3, "verbose": 0, "thread_count": 1,
                            "allow_writing_files": False},
                 "categorical_features_param": "cat_features"},
    "random_forest": {"estimator": "sklearn.ensemble.RandomForestClassifier",
                      "preprocessing": "one_hot",
                      "params": {"n_estimators": 30, "min_samples_leaf": 5, "n_jobs": 1}},
    "logistic_regression": {"estimator": "sklearn.linear_model.LogisticRegression",
                            "preprocessing": "one_hot_scaled", "params": {"C": 0.5}},
}


@pytest.fixture(scope="module")
def model_input():
    return loan_book_model_input(make_loan_book(600), LOAN_BOOK_PARAMS)


def fitted(name, model_input):
    train, test, schema = model_input
    model = build_estimator(SPECS[name], schema, 0).fit(features(train, schema), target(train, schema))
    return model, features(test, schema)


@pytest.mark.parametrize("name", list(SPECS))
def test_contributions_name_applicant_attributes_and_add_up_to_the_model_output(name, model_input):
    model, rows = fitted(name, model_input)
    contribution = contributions(model[:-1], model[-1], rows)
    assert list(contribution.columns) == list(rows.columns)  # one-hot summed back
    assert contribution.index.equals(rows.index)
    # contributions explain differences between applicants in the model's own output
    pd_scores = model.predict_proba(rows)[:, 1]
    raw = pd_scores if name == "random_forest" else np.log(pd_scores / (1 - pd_scores))
    explained = contribution.sum(axis=1).to_numpy()
    np.testing.assert_allclose(raw - raw.mean(), explained - explained.mean(), atol=1e-4)


def test_xgboost_reasons_agree_with_its_native_contributions(model_input):
    model, rows = fitted("xgboost", model_input)
    reasons = reason_codes(contributions(model[:-1], model[-1], rows), 3)
    native = model[-1].get_booster().predict(
        xgboost.DMatrix(model[:-1].transform(rows), enable_categorical=True), pred_contribs=True
    )[:, :-1]
    native = pd.DataFrame(native, index=rows.index, columns=rows.columns)
    for row, reason in reasons.iterrows():
        named = native.loc[row, list(reason)]
        assert list(named.index) == list(native.loc[row].nlargest(3).index)  # largest first
        if (native.loc[row] > 0).any():
            assert named.iloc[0] > 0  # the first reason really pushed this PD up
        others = native.loc[row].drop(list(reason))
        assert (others <= named.min()).all()


def test_reasons_rank_attributes_by_contribution():
    contribution = pd.DataFrame({"age": [0.3, -0.1], "income": [-0.2, -0.3], "region": [0.1, -0.05]})
    reasons = reason_codes(contribution, 2)
    assert reasons.to_numpy().tolist() == [["age", "region"], ["region", "age"]]
