"""Candidates built from YAML specs carry their preprocessing and their seed."""

import pandas as pd
import pytest

from credit_scoring.estimators import build_estimator

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
