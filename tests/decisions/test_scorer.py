"""The champion as one object: raw rows in; PD, score, band, decision and reasons out."""

import json
import time

import numpy as np
import pandas as pd
import pytest
import xgboost
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PythonModelContext

from credit_scoring.data.schema import ApplicantDataError, features, target
from credit_scoring.decisions import DecisionPolicy
from credit_scoring.decisions.scorer import (
    MAX_ROWS_ENV,
    MAX_ROWS_PER_REQUEST,
    PDModel,
    PDScorer,
    served_row_limit,
)
from credit_scoring.models.estimators import build_estimator
from credit_scoring.models.families import FAMILIES, family_name
from tests.conftest import LOAN_BOOK_PARAMS, PRIOR, loan_book_model_input, make_loan_book

SPECS = {
    "xgboost": {"estimator": "xgboost.XGBClassifier", "preprocessing": "native_categorical",
                "params": {"n_estimators": 30, "max_depth": 3, "enable_categorical": True,
                           "n_jobs": 1}},
    "lightgbm": {"estimator": "lightgbm.LGBMClassifier", "preprocessing": "native_categorical",
                 "params": {"n_estimators": 30, "num_leaves": 8, "min_child_samples": 10,
                            "verbose": -1, "n_jobs": 1}},
    "catboost": {"estimator": "catboost.CatBoostClassifier", "preprocessing": "native_categorical",
                 "params": {"iterations": 30, "depth": 3, "verbose": 0, "thread_count": 1,
                            "allow_writing_files": False},
                 "categorical_features_param": "cat_features"},
    "random_forest": {"estimator": "sklearn.ensemble.RandomForestClassifier",
                      "preprocessing": "one_hot",
                      "params": {"n_estimators": 30, "min_samples_leaf": 5, "n_jobs": 1}},
    "logistic_regression": {"estimator": "sklearn.linear_model.LogisticRegression",
                            "preprocessing": "one_hot_scaled", "params": {"C": 0.5}},
    "scorecard": {"estimator": "credit_scoring.models.scorecard.WoEScorecard",
                  "preprocessing": "passthrough",
                  "params": {"fine_classes": 10, "max_n_prebins": 10, "sample_rows": None}},
}
POLICY = DecisionPolicy.from_config({
    "decline_when": "pd >= cutoff", "cutoff": 0.3, "cutoff_score": 512,
    "costs": {"accept_bad": 5, "decline_good": 1},
    "scorecard": {"base_score": 600, "base_odds": 50, "pdo": 20},
    "band_edges": [560.0, 600.0, 640.0], "reason_codes": 3})


@pytest.fixture(scope="module")
def model_input():
    return loan_book_model_input(make_loan_book(600), LOAN_BOOK_PARAMS)


def scorer(spec, model_input) -> PDScorer:
    train, _, schema = model_input
    X = features(train, schema)
    model = build_estimator(spec, schema, 0).fit(X, target(train, schema))
    family = family_name(model[-1])
    reference = ({"encoded_mean": np.asarray(model[:-1].transform(X), dtype=float).mean(axis=0)}
                 if FAMILIES[family].centred else None)
    return PDScorer(family, model[:-1], model[-1], feature_schema=schema, policy=POLICY,
                    baselines=reference)


def test_every_family_in_the_parameters_has_an_entry(project_params):
    for stage in ("baselines", "model_comparison"):
        for spec in project_params[stage]["candidates"].values():
            assert spec["estimator"] in FAMILIES


@pytest.mark.parametrize("name", list(SPECS))
def test_contributions_name_applicant_attributes_and_add_up_to_the_model_output(name, model_input):
    champion = scorer(SPECS[name], model_input)
    _, test, schema = model_input
    rows = features(test, schema)
    contribution = champion.contributions(rows)
    assert list(contribution.columns) == list(rows.columns)  # one-hot summed back
    assert contribution.index.equals(rows.index)
    # TreeSHAP and linear contributions explain each applicant's output exactly, up to a
    # constant: log-odds for boosting and logistic, the PD itself for a random forest
    pd_scores = champion.pd(rows)
    raw = pd_scores if name == "random_forest" else np.log(pd_scores / (1 - pd_scores))
    explained = contribution.sum(axis=1).to_numpy()
    np.testing.assert_allclose(raw - raw.mean(), explained - explained.mean(), atol=1e-4)


def test_logistic_reasons_are_coefficient_times_deviation_from_the_average_applicant(model_input):
    champion = scorer(SPECS["logistic_regression"], model_input)
    train, _, schema = model_input
    contribution = champion.contributions(features(train, schema))
    # the average training applicant has no reason: every attribute averages to zero
    np.testing.assert_allclose(contribution.mean(), 0, atol=1e-9)


def test_xgboost_reasons_are_its_native_treeshap_contributions_above_zero(model_input):
    champion = scorer(SPECS["xgboost"], model_input)
    _, test, schema = model_input
    rows = features(test, schema)
    native = champion.estimator.get_booster().predict(
        xgboost.DMatrix(champion.preprocess.transform(rows), enable_categorical=True),
        pred_contribs=True)[:, :-1]
    native = pd.DataFrame(native, index=rows.index, columns=rows.columns)
    reasons = champion.reasons(rows, 3)  # no stored reference: measured from the model's average
    for position, (_row, values) in enumerate(native.iterrows()):
        named = [reasons[f"reason_{k}_code"][position] for k in (1, 2, 3)]
        raised = [c.upper() for c in values.nlargest(3).index if values[c] > 0]
        assert named == (raised or ["NSF"]) + [None] * (3 - max(len(raised), 1))


@pytest.fixture(scope="module")
def raw_rows(model_input):
    _, test, _ = model_input
    return make_loan_book(600).loc[test.index].drop(columns="defaulted")


def test_raw_rows_get_id_pd_score_band_decision_and_reasons_as_strict_json(model_input, raw_rows):
    champion = scorer(SPECS["xgboost"], model_input)
    _, test, schema = model_input
    table = champion.score(raw_rows)
    assert list(table.columns) == ["loan_id", "pd", "score", "band", "decision",
                                   *[f"reason_{k}_{part}" for k in (1, 2, 3)
                                     for part in ("code", "text", "value")]]
    np.testing.assert_allclose(table["pd"], champion.pd(features(test, schema)), rtol=1e-12)
    assert ((table["pd"] >= 0.3) == (table["decision"] == "decline")).all()
    assert table["band"].between(1, 4).all()
    declined = table["decision"] == "decline"
    assert 0 < declined.sum() < len(table)
    assert table.loc[declined, "reason_1_code"].notna().all()
    assert table.loc[~declined, "reason_1_code"].isna().all()
    json.dumps(table.to_dict(orient="records"), allow_nan=False)  # null, never NaN


def test_the_prior_only_benchmark_scores_but_names_no_single_factor(model_input, raw_rows):
    table = scorer(PRIOR, model_input).score(raw_rows)
    declined = table["decision"] == "decline"
    assert table["pd"].nunique() == 1
    assert set(table.loc[declined, "reason_1_code"]) <= {"NSF"}
    assert table["reason_2_code"].isna().all()


def test_bad_raw_rows_are_refused_naming_the_column(model_input, raw_rows):
    champion = scorer(SPECS["random_forest"], model_input)
    with pytest.raises(ApplicantDataError, match=r"\['loan_amount'\] are missing"):
        champion.score(raw_rows.drop(columns="loan_amount"))
    typo = raw_rows.astype({"income": object})
    typo.iloc[0, typo.columns.get_loc("income")] = "12k"
    model = PDModel()
    model.scorer = champion
    with pytest.raises(MlflowException, match=r"column 'income': 1 value\(s\) are not numbers"):
        model.predict(PythonModelContext({}, {}), typo)


@pytest.mark.parametrize("asked", [10**9, 5, -1, True, "3", 2.0])
def test_a_number_of_reasons_that_is_not_a_count_of_the_models_attributes_is_refused(
        asked, model_input, raw_rows):
    champion = scorer(SPECS["xgboost"], model_input)
    started = time.perf_counter()
    with pytest.raises(ApplicantDataError, match="reason_codes must be"):
        champion.score(raw_rows, asked)
    assert time.perf_counter() - started < 1  # refused before any work, not after


def test_up_to_four_reasons_can_be_asked_for(model_input, raw_rows):
    champion = scorer(SPECS["xgboost"], model_input)
    table = champion.score(raw_rows.head(20), 4)
    assert "reason_4_code" in table.columns and "reason_5_code" not in table.columns


def test_a_call_with_more_rows_than_the_model_serves_is_refused_naming_the_limit(
        model_input, raw_rows, monkeypatch):
    model = PDModel()
    model.scorer, model.max_rows = scorer(SPECS["xgboost"], model_input), 5
    with pytest.raises(MlflowException, match=r"6 rows in one call: this model scores at most 5 "
                                              r"rows per request.*CREDIT_SCORING_MAX_ROWS"):
        model.predict(PythonModelContext({}, {}), raw_rows.head(6))
    assert len(model.predict(PythonModelContext({}, {}), raw_rows.head(5))) == 5
    # the model's own limit, unless the server's environment says otherwise
    assert served_row_limit({"max_rows_per_request": 300}) == 300
    assert served_row_limit({}) == MAX_ROWS_PER_REQUEST
    monkeypatch.setenv(MAX_ROWS_ENV, "50")
    assert served_row_limit({"max_rows_per_request": 300}) == 50
    monkeypatch.setenv(MAX_ROWS_ENV, "lots")
    with pytest.raises(ValueError, match=f"{MAX_ROWS_ENV} must be a whole number"):
        served_row_limit({})
