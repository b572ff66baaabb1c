"""The blended candidate: its weights, no leakage on the folds, its explanation, its native
files, and a blended champion from thresholding to the registry and the Hub."""

import copy
import json
import subprocess
import sys

import mlflow
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression

from credit_scoring.data.schema import features, target
from credit_scoring.io.hub import MANIFEST, build_release, file_sha256
from credit_scoring.io.registry import MlflowChampionDataset
from credit_scoring.models.blend import (
    CANDIDATE,
    BlendedPD,
    blend_members,
    cross_fitted_stack,
    fit_blend,
    fit_stack,
    stack,
)
from credit_scoring.models.estimators import fit_candidate
from credit_scoring.models.families import BLEND
from credit_scoring.models.model_files import unsafe_files
from tests.conftest import (
    CARD,
    FOREST,
    LOAN_BOOK_PARAMS,
    PRIOR,
    cache_folder,
    load_in_fresh_process,
    loan_book_model_input,
    make_loan_book,
    run_thresholding,
    thresholding_params,
)


def member_logits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.random(n)


def test_stack_weights_are_the_logistic_fit_on_the_members_logits():
    z, u = member_logits(200_000)
    y = u < expit(-0.5 + 1.0 * z[:, 0] + 0.5 * z[:, 1])
    weights, intercept = fit_stack(expit(z[:, :2]), y)
    reference = LogisticRegression(C=1e12, tol=1e-12, max_iter=1000).fit(z[:, :2], y)
    np.testing.assert_allclose(weights, reference.coef_[0], atol=1e-4)
    assert intercept == pytest.approx(reference.intercept_[0], abs=1e-4)
    np.testing.assert_allclose([intercept, *weights], [-0.5, 1.0, 0.5], atol=0.03)  # the truth


def test_a_member_whose_pd_runs_the_wrong_way_gets_weight_zero():
    z, u = member_logits(50_000, seed=1)
    y = u < expit(-0.5 + 1.0 * z[:, 0] - 0.5 * z[:, 2])  # a higher PD_3 means *fewer* bads
    weights, _ = fit_stack(expit(z[:, [0, 2]]), y)
    assert weights[1] == 0.0 and weights[0] == pytest.approx(1.0, abs=0.05)


def test_a_folds_blended_pds_never_depend_on_its_own_labels():
    z, u = member_logits(5_000, seed=2)
    member_pds = pd.DataFrame(expit(z), columns=["a", "b", "c"])
    y = pd.Series(u < expit(z[:, 0] + z[:, 1]), dtype=int)
    folds = pd.Series(np.arange(5_000) % 5)
    blended = cross_fitted_stack(member_pds, y, folds)
    flipped = y.where(folds != 0, 1 - y)  # fold 0's labels reversed
    again = cross_fitted_stack(member_pds, flipped, folds)
    in_fold = (folds == 0).to_numpy()
    np.testing.assert_array_equal(again[in_fold], blended[in_fold])
    assert not np.allclose(again[~in_fold], blended[~in_fold])  # the others learnt from it


def test_members_are_the_best_ranked_candidates_that_tell_applicants_apart():
    ranking = pd.DataFrame({"candidate": ["t.forest", "b.prior", "m.logistic", "m.lightgbm"]})
    specs = {"t.forest": {"spec": FOREST}, "b.prior": {"spec": PRIOR},
             "m.logistic": {"spec": {"estimator": "sklearn.linear_model.LogisticRegression"}},
             "m.lightgbm": {"spec": {"estimator": "lightgbm.LGBMClassifier"}}}
    assert blend_members(ranking, specs, 2) == ["t.forest", "m.logistic"]
    assert blend_members(ranking, specs, 3) == ["t.forest", "m.logistic", "m.lightgbm"]
    assert blend_members(ranking, specs, 1) == []  # a blend of one model is that model
    assert blend_members(ranking.iloc[:2], specs, 3) == []  # only one that discriminates


@pytest.fixture(scope="module")
def members(project_params):
    """A logistic regression and a LightGBM (both explained in log-odds) on the loan book."""
    lightgbm = copy.deepcopy(project_params["model_comparison"]["candidates"]["lightgbm"])
    lightgbm["params"].update(n_estimators=100, n_jobs=1)
    logistic = project_params["baselines"]["candidates"]["logistic_regression"]
    return [{"candidate": "baselines.logistic_regression", "spec": logistic, "random_state": 42,
             "class_weighting": None, "weight": 0.7},
            {"candidate": "model_comparison.lightgbm", "spec": lightgbm, "random_state": 42,
             "class_weighting": "balanced", "weight": 0.4}]


@pytest.fixture(scope="module")
def fitted(members):
    train, test, schema = loan_book_model_input(make_loan_book(), copy.deepcopy(LOAN_BOOK_PARAMS))
    X, y = features(train, schema), target(train, schema)
    candidate = {"candidate": CANDIDATE, "random_state": 42, "class_weighting": None,
                 "spec": {"estimator": BLEND, "intercept": -0.3, "members": members}}
    return fit_blend(candidate, X, y, schema), X, y, features(test, schema), schema


def test_a_blend_is_its_members_refitted_and_stacked(fitted, members):
    model, X, y, X_test, schema = fitted
    alone = [fit_candidate(m, X, y, schema).predict_proba(X_test)[:, 1] for m in members]
    expected = expit(-0.3 + 0.7 * logit(alone[0]) + 0.4 * logit(alone[1]))
    np.testing.assert_allclose(model.predict_proba(X_test)[:, 1], expected, rtol=1e-12)
    np.testing.assert_allclose(stack(np.column_stack(alone), [0.7, 0.4], -0.3), expected)


def test_blend_contributions_add_up_to_its_log_odds(fitted):
    model, _, _, X_test, _ = fitted
    blend = model[-1]
    values = blend.contributions(model[:-1].transform(X_test))
    assert values.shape == (len(X_test), len(blend.feature_names_in_))
    # both members are exact in log-odds (TreeSHAP, coefficient x centred input): the sum of
    # a row's contributions moves exactly as the blend's log-odds move
    log_odds = logit(model.predict_proba(X_test)[:, 1])
    np.testing.assert_allclose(values.sum(axis=1) - values.sum(axis=1)[0],
                               log_odds - log_odds[0], atol=1e-8)


def test_a_blend_is_stored_as_native_member_files_and_read_back_code_free(fitted, tmp_path):
    model, _, _, X_test, _ = fitted
    blend = model[-1]
    blend.save(tmp_path / "estimator.blend")
    files = sorted(p.name for p in (tmp_path / "estimator.blend").iterdir())
    assert files == ["blend.json", "member_1.estimator.skops", "member_1.preprocessing.skops",
                     "member_2.estimator.txt", "member_2.preprocessing.skops"]
    assert unsafe_files(tmp_path / "estimator.blend") == {}
    weights = json.loads((tmp_path / "estimator.blend" / "blend.json").read_text())
    assert [m["weight"] for m in weights["members"]] == [0.7, 0.4]
    loaded = BlendedPD.load(tmp_path / "estimator.blend")
    np.testing.assert_allclose(loaded.predict_proba(X_test), blend.predict_proba(X_test),
                               rtol=1e-12)
    np.testing.assert_allclose(loaded.contributions(X_test), blend.contributions(X_test),
                               rtol=1e-9, atol=1e-12)


def two_sided_loan_book(n_rows: int, seed: int) -> pd.DataFrame:
    """A loan book whose risk is a smooth loan-to-income effect, which a logistic regression
    fits best, plus an interaction (60-month loans of product 303), which only trees find."""
    book = make_loan_book(n_rows, seed)
    ratio = (book["loan_amount"] / book["income"]).fillna(0.5)
    log_odds = -2.5 + 3.0 * ratio + 3.0 * ((book["term_months"] == 60)
                                           & (book["product_code"] == 303))
    bad = np.random.default_rng(seed + 100).random(n_rows) < expit(log_odds)
    return book.assign(defaulted=np.where(bad, "Y", "N"))


@pytest.mark.integration
def test_a_blended_champion_goes_from_thresholding_to_the_registry_and_the_hub(
    project_params, members, tracking_store, tmp_path
):
    # the tuned forest, a logistic regression and LightGBM compete; each sees part of the
    # risk, and their blend ranks first on the same folds
    lightgbm = copy.deepcopy(members[1]["spec"])
    lightgbm["params"]["n_estimators"] = 200
    comparison = {"logistic": members[0]["spec"], "lightgbm": lightgbm}
    # the best candidate wins (thresholding.selection: best), to carry a blend through
    params = {**thresholding_params(project_params), "selection": "best"}
    catalog, _, _ = run_thresholding(two_sided_loan_book(2000, 2), copy.deepcopy(LOAN_BOOK_PARAMS),
                                     params, comparison=comparison)
    ranking = catalog.load("thresholding.candidate_ranking_report")
    assert ranking.iloc[0]["candidate"] == CANDIDATE, ranking
    champion = catalog.load("champion@registry")
    assert set(champion["params"]["blend"]) == {"tuning.tuned", "model_comparison.logistic",
                                                "model_comparison.lightgbm"}
    assert champion["params"]["estimator"] == BLEND
    MlflowChampionDataset(registered_model_name="test_pd_blend").save(champion)
    requirements = mlflow.pyfunc.get_model_dependencies("models:/test_pd_blend@champion")
    packages = {line.split("==")[0] for line in open(requirements).read().split()}
    assert {"lightgbm", "shap", "scikit-learn"} <= packages  # every member's

    raw = catalog.load("holdout_applicants")
    raw.to_parquet(tmp_path / "rows.parquet")
    in_memory = catalog.load("thresholding.test_scores")
    script = ("import mlflow, pandas as pd;"
              f"mlflow.set_tracking_uri({mlflow.get_tracking_uri()!r});"
              "model = mlflow.pyfunc.load_model('models:/test_pd_blend@champion');"
              "model.predict(pd.read_parquet('rows.parquet')).to_parquet('scored.parquet')")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path)
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    np.testing.assert_allclose(scored["pd"], in_memory["pd"], rtol=1e-9)
    declined = scored["decision"] == "decline"
    codes = {s.code for s in champion["model"].policy.statements.attributes.values()}
    assert declined.any() and scored.loc[declined, "reason_1_code"].isin(codes | {"NSF"}).all()

    version = mlflow.MlflowClient().get_model_version_by_alias("test_pd_blend", "champion")
    folder = build_release(f"models:/test_pd_blend/{version.version}", tmp_path / "release",
                           "someone/credit-pd-blend", {}, CARD)
    assert list(folder.rglob("blend.json")) and list(folder.rglob("member_*.estimator.txt"))
    cache = tmp_path / "hf_cache"
    cache_folder(cache, "someone/credit-pd-blend", folder)
    code, output = load_in_fresh_process(
        cache, "someone/credit-pd-blend", file_sha256(folder / MANIFEST), cwd=tmp_path,
        then=("import pandas as pd; model.predict(pd.read_parquet('rows.parquet'))"
              ".to_parquet('hub.parquet')"))
    assert code == 0, output
    np.testing.assert_allclose(pd.read_parquet(tmp_path / "hub.parquet")["pd"], in_memory["pd"],
                               rtol=1e-9)
