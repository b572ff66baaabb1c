"""Candidates built from YAML specs carry their preprocessing, their seed and early stopping."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import xgboost
from scipy.special import logit
from sklearn.base import clone

from credit_scoring.data.schema import features, target
from credit_scoring.models.calibration import PDCalibrator
from credit_scoring.models.encoders import NativeCategories
from credit_scoring.models.estimators import build_estimator, predict_pd
from credit_scoring.models.evaluation import fold_models
from credit_scoring.models.families import FAMILIES, contributions
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


def test_a_model_stored_in_parts_predicts_the_calibrated_pd_of_its_estimator():
    train = pd.DataFrame({"income": np.linspace(0, 1, 40), "region": ["a", "b"] * 20})
    y = (train["income"] > 0.5).astype(int)
    model = build_estimator(LOGISTIC, SCHEMA, 0).fit(train, y)
    calibrator = PDCalibrator("platt").fit(model.predict_proba(train)[:, 1], y)
    np.testing.assert_allclose(
        predict_pd(model[:-1], model[-1], calibrator, train),
        calibrator.predict(model.predict_proba(train)[:, 1]), rtol=1e-12)
    np.testing.assert_allclose(predict_pd(model[:-1], model[-1], None, train),
                               model.predict_proba(train)[:, 1])


BOOSTING = {
    "xgboost": {"estimator": "xgboost.XGBClassifier", "preprocessing": "native_categorical",
                "params": {"n_estimators": 1000, "learning_rate": 0.3, "enable_categorical": True,
                           "n_jobs": 1}},
    "lightgbm": {"estimator": "lightgbm.LGBMClassifier", "preprocessing": "native_categorical",
                 "params": {"n_estimators": 1000, "learning_rate": 0.3, "verbose": -1,
                            "n_jobs": 1}},
    "catboost": {"estimator": "catboost.CatBoostClassifier",
                 "preprocessing": "native_categorical", "categorical_features_param": "cat_features",
                 "params": {"iterations": 1000, "learning_rate": 0.3, "verbose": 0,
                            "allow_writing_files": False}},
}
STOP = {"rounds": 10, "validation_share": 0.2}


def _rounds(model) -> int:
    estimator = model[-1]
    if hasattr(estimator, "booster_"):
        return estimator.booster_.num_trees()
    if hasattr(estimator, "tree_count_"):
        return estimator.tree_count_
    return estimator.best_iteration + 1


@pytest.mark.parametrize("family", list(BOOSTING))
def test_early_stopping_stops_on_a_slice_of_the_fitted_rows_never_on_a_scored_fold(
    family, loan_book, loan_book_params, monkeypatch
):
    train, _, schema = loan_book_model_input(loan_book, loan_book_params)
    X, y, folds = features(train, schema), target(train, schema), train[schema["fold_column"]]
    name = BOOSTING[family]["estimator"]
    seen = []

    def recording(estimator, inputs, y_stop, rounds):
        seen.append(y_stop.index)  # the applicants early stopping is measured on
        return real(estimator, inputs, y_stop, rounds)

    real = FAMILIES[name].early_stopping
    monkeypatch.setitem(FAMILIES, name, dataclasses.replace(FAMILIES[name],
                                                            early_stopping=recording))
    spec = {**BOOSTING[family], "early_stopping": STOP}
    models = list(fold_models(build_estimator(spec, schema, 7), X, y, folds))
    assert len(seen) == len(models) == folds.nunique()
    for (model, held_out, _), stop_rows in zip(models, seen, strict=True):
        scored = X.index[held_out]
        assert stop_rows.intersection(scored).empty          # never the scored fold
        assert len(stop_rows) == round(0.2 * (len(X) - len(scored)))  # a slice of the rest
        assert _rounds(model) < 1000                           # it did stop
    first_slice = seen[0]
    seen.clear()
    next(fold_models(build_estimator(spec, schema, 7), X, y, folds))
    assert seen[0].equals(first_slice)  # seeded: the same slice on every run


def test_xgboost_reasons_use_the_trees_it_predicts_with_after_early_stopping(
    loan_book, loan_book_params
):
    train, test, schema = loan_book_model_input(loan_book, loan_book_params)
    model = build_estimator({**BOOSTING["xgboost"], "early_stopping": STOP}, schema, 0).fit(
        features(train, schema), target(train, schema))
    inputs = model[:-1].transform(features(test, schema))
    margin = logit(model[-1].predict_proba(inputs)[:, 1])
    base = model[-1].get_booster().predict(xgboost.DMatrix(inputs, enable_categorical=True),
                                           output_margin=True, iteration_range=(0, 1))
    shap = contributions("xgboost.XGBClassifier", model[-1], inputs)
    assert model[-1].best_iteration + 1 < model[-1].get_booster().num_boosted_rounds()
    # SHAP values plus the bias add up to the margin predict_proba used
    bias = margin - shap.sum(axis=1)
    np.testing.assert_allclose(bias, bias[0], atol=1e-4)
    assert base.shape == margin.shape


def test_early_stopping_is_refused_for_a_family_without_boosting_rounds():
    spec = {**LOGISTIC, "early_stopping": STOP}
    X = pd.DataFrame({"income": np.linspace(0, 1, 40), "region": ["a", "b"] * 20})
    with pytest.raises(ValueError, match="no boosting rounds to stop early"):
        build_estimator(spec, SCHEMA, 0).fit(X, [0, 1] * 20)
