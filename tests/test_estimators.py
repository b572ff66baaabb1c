"""Candidates built from YAML specs carry their preprocessing and their seed."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import PredefinedSplit

from credit_scoring.estimators import (
    NativeCategories,
    build_estimator,
    predict_pd,
    split_calibration,
)
from credit_scoring.schema import features, target
from tests.conftest import loan_book_model_input

SCHEMA = {"numeric": ["income"], "categorical": ["region"]}
LOGISTIC = {
    "estimator": "sklearn.linear_model.LogisticRegression",
    "params": {"C": 0.5},
    "preprocessing": "one_hot_scaled",
}


def test_spec_params_and_seed_reach_the_estimator():
    model = build_estimator(LOGISTIC, SCHEMA, random_state=11).named_steps["model"]
    assert model.C == 0.5 and model.random_state == 11
    seeded = {**LOGISTIC, "params": {"random_state": 3}}
    assert build_estimator(seeded, SCHEMA, random_state=11).named_steps["model"].random_state == 3


def test_estimator_without_seed_is_built():
    spec = {"estimator": "sklearn.naive_bayes.GaussianNB", "preprocessing": "one_hot"}
    assert build_estimator(spec, SCHEMA, random_state=1).named_steps["model"].priors is None


def test_unknown_preprocessing_is_named_in_the_error():
    with pytest.raises(ValueError, match="Unknown preprocessing 'woe'.*one_hot_scaled"):
        build_estimator({**LOGISTIC, "preprocessing": "woe"}, SCHEMA, random_state=0)


def test_fitted_candidate_scores_raw_rows_with_missing_and_unseen_values():
    train = pd.DataFrame({"income": [1.0, 2.0, 3.0, 4.0], "region": ["a", "b", "a", None]})
    model = build_estimator(LOGISTIC, SCHEMA, random_state=0).fit(train, [0, 1, 0, 1])
    new = pd.DataFrame({"income": [float("nan"), 2.5], "region": ["zzz", None]})
    pd_ = model.predict_proba(new)[:, 1]
    assert ((pd_ > 0) & (pd_ < 1)).all()


def test_native_categories_map_missing_and_unseen_to_one_level():
    train = pd.DataFrame({"income": [1.0, 2.0], "region": ["north", "south"]})
    encoder = NativeCategories(["region"]).fit(train)
    out = encoder.transform(pd.DataFrame({"income": [3.0, 4.0, np.nan],
                                          "region": ["south", "mars", None]}))
    assert out["region"].dtype == "category"
    assert list(out["region"].cat.categories) == ["north", "south", "__missing__"]
    assert out["region"].tolist() == ["south", "__missing__", "__missing__"]
    assert np.isnan(out.loc[2, "income"])  # numbers untouched, missing kept for the trees


@pytest.mark.parametrize(
    "spec",
    [
        {"estimator": "xgboost.XGBClassifier",
         "params": {"n_estimators": 10, "enable_categorical": True, "n_jobs": 1},
         "preprocessing": "native_categorical"},
        {"estimator": "catboost.CatBoostClassifier",
         "params": {"iterations": 10, "verbose": 0, "allow_writing_files": False},
         "preprocessing": "native_categorical", "categorical_features_param": "cat_features"},
    ],
    ids=["xgboost", "catboost"],
)
def test_gradient_boosting_uses_native_categories_and_is_seeded(spec):
    model = build_estimator(spec, SCHEMA, random_state=5)
    assert model.named_steps["model"].get_params()["random_state"] == 5
    clone(model)  # cross-validation clones every candidate
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"income": rng.normal(size=80), "region": rng.choice(["a", "b"], 80)})
    y = (X["region"] == "a").astype(int)
    pd_ = model.fit(X, y).predict_proba(X.assign(region=["zzz"] * 80))[:, 1]
    assert pd_.shape == (80,)


@pytest.mark.parametrize("spec", [
    LOGISTIC,
    {"estimator": "sklearn.ensemble.RandomForestClassifier", "preprocessing": "one_hot",
     "params": {"n_estimators": 20, "min_samples_leaf": 5}},
], ids=["decision_function", "predict_proba"])
def test_a_model_stored_in_parts_predicts_what_calibratedclassifiercv_does(spec, loan_book,
                                                                          loan_book_params):
    train, test, schema = loan_book_model_input(loan_book, loan_book_params)
    folds = PredefinedSplit(train[schema["fold_column"]].to_numpy())
    calibrated = CalibratedClassifierCV(
        build_estimator(spec, schema, 0), method="sigmoid", cv=folds, ensemble=False
    ).fit(features(train, schema), target(train, schema))
    pipeline, calibrator = split_calibration(calibrated)
    rows = features(test, schema)
    np.testing.assert_allclose(
        predict_pd(pipeline[:-1], pipeline[-1], calibrator, rows),
        calibrated.predict_proba(rows)[:, 1], rtol=1e-9,
    )
