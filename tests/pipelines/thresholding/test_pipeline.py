"""thresholding in memory: calibration, the cut-off, the test report and the registered champion."""

import json
import logging
import subprocess
import sys

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from credit_scoring.io.registry import MlflowChampionDataset
from credit_scoring.models.evaluation import out_of_fold_metrics
from credit_scoring.pipelines.thresholding.nodes import rank_champion_candidates
from tests.conftest import PRIOR, run_thresholding, thresholding_catalog, thresholding_params

LOGISTIC = {"estimator": "sklearn.linear_model.LogisticRegression",
            "preprocessing": "one_hot_scaled", "params": {"C": 0.5}}


@pytest.fixture
def outputs(thresholding_outputs):
    return thresholding_outputs


@pytest.fixture
def registry(outputs, tracking_store):
    """The thresholding champion candidate, an empty registry dataset for it, a client."""
    catalog, _, _ = outputs
    return catalog.load("champion@registry"), MlflowChampionDataset(registered_model_name="test_pd"), \
        MlflowClient()


def test_cutoff_is_chosen_on_out_of_fold_pds_and_reported_on_test(outputs):
    catalog, test, schema = outputs
    cutoff = catalog.load("thresholding.cutoff")
    oof = catalog.load("thresholding.oof_predictions")
    curve = catalog.load("thresholding.cost_curve_report")
    # the chosen cut-off is the cheapest point of the out-of-fold cost curve
    assert cutoff["oof_expected_cost"] == pytest.approx(curve["expected_cost"].min())
    assert cutoff["analytic_cutoff"] == pytest.approx(1 / 6)
    assert len(oof) + len(test) == 400 and oof["pd"].between(0, 1).all()

    scores = catalog.load("thresholding.test_scores")
    assert scores.index.equals(test.index)
    assert ((scores["pd"] >= cutoff["cutoff"]) == (scores["decision"] == "decline")).all()
    report = catalog.load("thresholding.decision_report").set_index("cut-off rule")
    assert list(report.index) == ["naive 0.5", "cost-optimal"]
    counts = report[["accepted_good", "declined_good", "accepted_bad", "declined_bad"]]
    assert (counts.sum(axis=1) == len(test)).all()
    chosen = report.loc["cost-optimal"]
    assert chosen["approval_rate"] == pytest.approx((scores["decision"] == "accept").mean())
    assert chosen["cost_saving_pct"] == pytest.approx(
        100 * (1 - chosen["expected_cost"] / report.loc["naive 0.5", "expected_cost"])
    )


def test_the_calibration_with_the_lowest_out_of_fold_log_loss_is_chosen_and_logged(outputs):
    catalog, _, schema = outputs
    oof = catalog.load("thresholding.oof_predictions")
    report = catalog.load("thresholding.calibration_report").set_index("method")
    assert list(report.index) == ["none", "platt", "isotonic"]
    chosen = report.index[report["chosen"]].tolist()
    assert chosen == [report["log_loss"].idxmin()]
    champion = catalog.load("champion@registry")
    metrics = champion["metrics"]
    for method in report.index:  # both losses of every method, as MLflow metrics
        assert metrics[f"calibration_{method}_log_loss"] == pytest.approx(report.loc[method, "log_loss"])
        assert metrics[f"calibration_{method}_brier"] == pytest.approx(report.loc[method, "brier"])
    assert champion["params"]["calibration"] == champion["tags"]["calibration"] == chosen[0]
    # the cut-off is chosen on the PDs the champion gives: its calibrator on out-of-fold PDs
    scorer = catalog.load("thresholding.champion_model")
    expected = (oof["pd_uncalibrated"] if scorer.calibrator is None
                else scorer.calibrator.predict(oof["pd_uncalibrated"]))
    np.testing.assert_allclose(oof["pd"], expected)
    for name in ("cv_brier_mean", "cv_brier_uncalibrated", "test_brier", "test_brier_uncalibrated"):
        assert 0 < metrics[name] < 0.25
    markdown = catalog.load("thresholding.decision_markdown")
    assert "Decline when PD >=" in markdown and "Score bands" in markdown
    bands = catalog.load("thresholding.score_band_report")
    assert bands["applicants"].sum() == 100


def test_platt_calibrated_pds_average_to_the_observed_bad_rate(
    loan_book, loan_book_params, project_params
):
    params = thresholding_params(project_params)
    params["calibration"]["methods"] = ["platt"]
    catalog, _, schema = run_thresholding(loan_book, loan_book_params, params, spec=LOGISTIC)
    oof = catalog.load("thresholding.oof_predictions")
    # Platt scaling is a logistic fit: its PDs average to the bad rate they were fitted on
    assert oof["pd"].mean() == pytest.approx(oof[schema["target"]].mean(), abs=1e-4)
    assert oof["pd"].corr(oof["pd_uncalibrated"], method="spearman") > 0.999
    scores = catalog.load("thresholding.test_scores")
    assert scores["pd"].corr(scores["pd_uncalibrated"], method="spearman") > 0.999


def test_champion_alias_moves_only_to_a_model_that_is_not_worse(outputs, tracking_store, caplog,
                                                                 tmp_path):
    catalog, _, _ = outputs
    champion = catalog.load("champion@registry")
    dataset = MlflowChampionDataset(registered_model_name="test_pd", local_dir=tmp_path / "champ")
    client = MlflowClient()

    def register(auc):
        candidate = {**champion, "metrics": {**champion["metrics"], "cv_roc_auc_mean": auc}}
        dataset.save(candidate)
        return str(client.get_model_version_by_alias("test_pd", "champion").version)

    assert register(0.80) == "1"
    record = (tmp_path / "champ" / "champion.json").read_text()
    assert register(0.70) == "1"  # worse: the alias stays, and so does the champion's record
    assert (tmp_path / "champ" / "champion.json").read_text() == record
    kept = client.get_model_version("test_pd", "2")
    assert kept.tags["champion_decision"] == (
        "not promoted, champion unchanged: cv_roc_auc_mean 0.7000 is worse than version 1's 0.8000"
    )
    assert "is worse than" in caplog.text
    assert kept.tags["credit_scoring.registration"] == "complete"  # promoted or not
    assert dataset.mark_incomplete_versions(client) == []  # finished ones are left alone
    assert register(0.80) == "3"  # as good: the newer model takes over
    assert json.loads((tmp_path / "champ" / "champion.json").read_text())["version"] == 3
    version = client.get_model_version("test_pd", "3")
    assert float(version.tags["cutoff"]) == pytest.approx(catalog.load("thresholding.cutoff")["cutoff"])
    assert version.tags["cost_accept_bad"] == "5"
    assert version.tags["calibration"] == champion["params"]["calibration"]
    # what the registry's list of versions shows: plain text with its numbers
    cutoff = float(version.tags["cutoff"])
    assert version.description.startswith(
        f"Declines when PD \u2265 {cutoff:.4f}, score {version.tags['cutoff_score']}. Costs: "
        "accepting a bad 5, declining a good 1. On test: approves ")
    assert "#" not in version.description and "**" not in version.description
    assert "decision_report.md" in {a.path for a in client.list_artifacts(version.run_id)}


def test_a_candidate_with_an_undefined_metric_is_never_promoted(registry, caplog):
    champion, dataset, client = registry
    undefined = {**champion, "metrics": {**champion["metrics"], "cv_roc_auc_mean": float("nan")}}
    dataset.save(undefined)  # not even as the first version
    assert not dataset.exists()
    dataset.save(champion)
    dataset.save(undefined)
    assert client.get_model_version_by_alias("test_pd", "champion").version == 2
    assert "cv_roc_auc_mean is undefined (NaN)" in caplog.text


def test_a_candidate_on_other_folds_is_not_compared_and_not_promoted(registry):
    champion, dataset, client = registry
    dataset.save(champion)
    better_elsewhere = {**champion, "folds_fingerprint": "other data",
                        "metrics": {**champion["metrics"], "cv_roc_auc_mean": 0.99}}
    dataset.save(better_elsewhere)
    assert client.get_model_version_by_alias("test_pd", "champion").version == 1
    assert "validated on other training rows or CV folds" in client.get_model_version(
        "test_pd", "2").tags["champion_decision"]
    dataset.save({**better_elsewhere, "on_other_folds": "promote"})  # after a human review
    assert client.get_model_version_by_alias("test_pd", "champion").version == 3


def test_a_changed_selection_metric_compares_both_versions_on_it_the_right_way_round(registry):
    champion, dataset, client = registry
    dataset.save(champion)
    # brier is lower-is-better: a higher brier with a better AUC must not take the alias
    worse_brier = {**champion, "selection_metric": "brier", "metrics": {
        **champion["metrics"], "cv_roc_auc_mean": 0.99,
        "cv_brier_mean": champion["metrics"]["cv_brier_mean"] + 0.01}}
    dataset.save(worse_brier)
    assert client.get_model_version_by_alias("test_pd", "champion").version == 1
    assert "cv_brier_mean" in client.get_model_version("test_pd", "2").tags["champion_decision"]


def test_a_champion_without_the_metric_is_measured_on_its_stored_out_of_fold_pds(registry):
    champion, dataset, client = registry
    without_ks = {**champion, "metrics": {k: v for k, v in champion["metrics"].items()
                                          if not k.startswith("cv_ks")}}
    dataset.save(without_ks)
    first = client.get_model_version_by_alias("test_pd", "champion")
    assert "cv_ks_mean" not in client.get_run(first.run_id).data.metrics
    oof = champion["oof_predictions"]
    expected = out_of_fold_metrics(oof["bad"], oof["pd"], oof["fold"])["cv_ks_mean"]
    slightly_worse = {**champion, "selection_metric": "ks", "metrics": {
        **champion["metrics"], "cv_ks_mean": expected - 1e-6}}
    dataset.save(slightly_worse)
    assert f"worse than version 1's {expected:.4f}" in client.get_model_version(
        "test_pd", "2").tags["champion_decision"]


def test_registered_champion_scores_raw_rows_in_a_new_process(outputs, tracking_store, tmp_path):
    catalog, test, schema = outputs
    MlflowChampionDataset(registered_model_name="test_pd").save(catalog.load("champion@registry"))
    raw = catalog.load("holdout_applicants")  # raw loan-book rows, as a lender's file has them
    raw.to_parquet(tmp_path / "rows.parquet")
    script = (
        "import mlflow, pandas as pd;"
        f"mlflow.set_tracking_uri({mlflow.get_tracking_uri()!r});"
        "model = mlflow.pyfunc.load_model('models:/test_pd@champion');"
        f"model.predict(pd.read_parquet({str(tmp_path / 'rows.parquet')!r}))"
        f".to_parquet({str(tmp_path / 'scored.parquet')!r})"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path)
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    in_memory = catalog.load("thresholding.test_scores")
    assert list(scored.columns[:5]) == ["loan_id", "pd", "score", "band", "decision"]
    assert list(scored.columns[5:]) == [f"reason_{k}_{part}" for k in range(1, 5)
                                        for part in ("code", "text", "value")]
    assert (scored["loan_id"] == raw["loan_id"].to_numpy()).all()
    np.testing.assert_allclose(scored["pd"], in_memory["pd"], rtol=1e-9)
    for column in ("decision", "score", "band"):
        assert (scored[column].to_numpy() == in_memory[column].to_numpy()).all()
    declined = scored["decision"] == "decline"
    assert scored.loc[declined, "reason_1_code"].notna().all()
    assert scored.loc[~declined, "reason_1_code"].isna().all()
    # the catalog dataset loads the same version back for scoring
    loaded = MlflowChampionDataset(registered_model_name="test_pd").load()
    assert (loaded.predict(raw)["decision"].to_numpy() == in_memory["decision"].to_numpy()).all()


def test_families_ranked_on_a_sample_do_not_compete_for_champion(
    loan_book, loan_book_params, project_params, caplog
):
    _, catalog, _, schema = thresholding_catalog(loan_book, loan_book_params,
                                                 thresholding_params(project_params))
    train = catalog.load("model_input_train")
    target, fold = schema["target"], schema["fold_column"]
    sample = train[[target, fold]].iloc[::2]
    # a perfect family, but measured on half the rows: not comparable with the others
    comparison = {**catalog.load("params:model_comparison"), "candidates": {"perfect": PRIOR}}
    inputs = [train, schema, catalog.load("baselines.oof_predictions"),
              sample.assign(perfect=sample[target].astype(float)),
              catalog.load("tuned_oof_predictions"), catalog.load("params:baselines"),
              comparison, catalog.load("tuned_model_spec"), thresholding_params(project_params)]
    with caplog.at_level(logging.INFO):
        spec, _, ranking, *_ = rank_champion_candidates(*inputs)
    assert "model_comparison.perfect" not in set(ranking["candidate"])
    assert spec["candidate"] == "tuning.tuned"
    assert "do not compete for champion" in caplog.text
    # rows that are not the training rows' own targets and folds are refused, sample or not
    inputs[3] = inputs[3].assign(**{fold: (sample[fold] + 1) % 3})
    with pytest.raises(ValueError, match="do not match model_input_train"):
        rank_champion_candidates(*inputs)


def test_policy_may_restrict_the_champion_to_eligible_candidates_and_all_stay_challengers(
    loan_book, loan_book_params, project_params
):
    _, catalog, _, schema = thresholding_catalog(loan_book, loan_book_params,
                                                 thresholding_params(project_params))
    params = {**thresholding_params(project_params), "eligible": ["baselines.prior_only"]}
    inputs = {name: catalog.load(name) for name in (
        "model_input_train", "feature_schema", "tuned_model_spec")}
    spec, _, ranking, _, sides, oof = rank_champion_candidates(
        inputs["model_input_train"], schema, catalog.load("baselines.oof_predictions"),
        catalog.load("model_comparison.oof_predictions"), catalog.load("tuned_oof_predictions"),
        catalog.load("params:baselines"), catalog.load("params:model_comparison"),
        inputs["tuned_model_spec"], params)
    assert spec["candidate"] == "baselines.prior_only"  # worse, but the only one allowed
    assert "among thresholding.eligible" in spec["selection_reason"]
    assert ranking.set_index("candidate")["eligible"].to_dict() == {
        "tuning.tuned": False, "baselines.prior_only": True}
    assert sides["complex"]["candidate"] == "tuning.tuned" and sides["simpler"] is None
    assert list(oof.columns) == [schema["target"], schema["fold_column"], "tuning.tuned"]
    pd.testing.assert_series_equal(oof["tuning.tuned"], catalog.load("tuned_oof_predictions")[
        "tuned"].loc[oof.index], check_names=False)
    params["eligible"] = ["baselines.scorecard"]
    with pytest.raises(ValueError, match=r"eligible names \['baselines.scorecard'\], which did "
                                         r"not compete"):
        rank_champion_candidates(
            inputs["model_input_train"], schema, catalog.load("baselines.oof_predictions"),
            catalog.load("model_comparison.oof_predictions"),
            catalog.load("tuned_oof_predictions"), catalog.load("params:baselines"),
            catalog.load("params:model_comparison"), inputs["tuned_model_spec"], params)
