"""Report pieces: importances read in applicant attributes, tables in Markdown."""

import numpy as np
import pandas as pd

from credit_scoring.decisions import Costs, cost_curve, decision_outcomes
from credit_scoring.models.estimators import build_estimator
from credit_scoring.models.plots import cost_curve_plot, feature_importance, markdown_table

SCHEMA = {"numeric": ["amount", "amount_per_month"], "categorical": ["purpose"]}


def _data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({
        "amount": rng.normal(size=200),
        "amount_per_month": rng.normal(size=200),
        "purpose": rng.choice(["car", "tv", None], 200),
    })
    y = (X["purpose"] == "car").astype(int)
    return X, y


def test_one_hot_importance_is_summed_back_to_the_applicant_attribute():
    X, y = _data()
    spec = {"estimator": "sklearn.ensemble.RandomForestClassifier",
            "params": {"n_estimators": 20}, "preprocessing": "one_hot"}
    importance = feature_importance(build_estimator(spec, SCHEMA, 0).fit(X, y))
    assert set(importance.index) == {"amount", "amount_per_month", "purpose"}
    assert importance.index[0] == "purpose"  # the only real signal
    assert abs(importance.sum() - 1) < 1e-9  # a random forest's importances sum to one


def test_linear_importance_is_absolute_coefficient_and_prior_model_has_none():
    X, y = _data()
    logistic = {"estimator": "sklearn.linear_model.LogisticRegression",
                "preprocessing": "one_hot_scaled"}
    assert feature_importance(build_estimator(logistic, SCHEMA, 0).fit(X, y)).min() >= 0
    prior = {"estimator": "sklearn.dummy.DummyClassifier", "preprocessing": "one_hot"}
    assert feature_importance(build_estimator(prior, SCHEMA, 0).fit(X, y)).empty


def test_markdown_table_rounds_metrics():
    table = markdown_table(pd.DataFrame({"candidate": ["a"], "cv_roc_auc_mean": [0.76543]}))
    assert "0.765" in table and "0.76543" not in table


def test_cost_curve_plot_labels_the_exact_cost_of_each_cut_off():
    rng = np.random.default_rng(0)
    pd_scores = pd.Series(rng.uniform(0, 1, 500))
    y = pd.Series((rng.uniform(0, 1, 500) < pd_scores).astype(int))
    costs = Costs(accept_bad=5, decline_good=1)
    figure = cost_curve_plot(cost_curve(y, pd_scores, costs), cutoff=0.2)
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    for cutoff in (0.2, 0.5):
        exact = decision_outcomes(y, pd_scores >= cutoff, costs)["expected_cost"]
        assert any(f"cut-off {cutoff:.3f}: cost {exact:.3f}" in label for label in labels)
