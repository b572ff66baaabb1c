"""Session-level tests: real `kedro run`s of a project copy against a temporary MLflow database."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from .conftest import (
    LOAN_BOOK_PARAMS,
    candidate_runs,
    kedro_run,
    make_loan_book,
    tracked_runs,
    tracking_uri,
    use_small_trees,
    use_small_tuning,
    write_yaml,
)

pytestmark = pytest.mark.integration


def test_default_run_tracks_every_candidate_side_by_side(default_run):
    project_copy = default_run

    runs = tracked_runs(project_copy)
    parent = runs[runs["tags.mlflow.runName"] == "kedro run"].iloc[0]
    # conf/local/mlflow.yml moved the store; conf/base's flattened params still apply
    assert parent["artifact_uri"].startswith((project_copy / "team_store").as_uri())
    assert parent["params.data_processing.split.random_state"] == "42"
    assert parent["params.baselines.candidates.logistic_regression.params.C"] == "0.1"

    baselines = candidate_runs(runs, "baselines")
    comparison = candidate_runs(runs, "model_comparison")
    assert sorted(baselines.index) == ["logistic_regression", "prior_only", "scorecard"]
    assert baselines.loc["scorecard", "params.model.min_iv"] == "0.02"
    assert sorted(comparison.index) == ["catboost", "lightgbm", "random_forest", "xgboost"]
    children = pd.concat([baselines, comparison])
    assert (children["tags.mlflow.parentRunId"] == parent["run_id"]).all()
    for metric in ("roc_auc", "gini", "ks", "pr_auc", "brier", "log_loss"):
        assert children[f"metrics.cv_{metric}_mean"].notna().all()
        assert children[f"metrics.cv_{metric}_std"].notna().all()
        assert children[f"metrics.test_{metric}"].notna().all()
    assert (children["metrics.fit_time_s"] > 0).all()
    assert comparison.loc["xgboost", "params.model.max_depth"] == "3"

    logistic = baselines.loc["logistic_regression"]
    assert 0.75 <= logistic["metrics.cv_roc_auc_mean"] <= 0.82
    assert logistic["metrics.cv_gini_mean"] == pytest.approx(
        2 * logistic["metrics.cv_roc_auc_mean"] - 1
    )
    assert baselines.loc["prior_only", "metrics.cv_roc_auc_mean"] == pytest.approx(0.5)

    # every logged model scores raw (un-encoded) applicant rows
    test_rows = pd.read_parquet(project_copy / "data/05_model_input/model_input_test.parquet")
    for run_id in children["run_id"]:
        pd_ = mlflow.pyfunc.load_model(f"runs:/{run_id}/model").predict(
            test_rows.drop(columns="creditability")
        )
        assert pd_.shape == (250,) and ((pd_ >= 0) & (pd_ <= 1)).all()

    # the selected family is the argmax of the logged CV metric
    selected = pd.read_json(project_copy / "data/06_models/selected_family.json", typ="series")
    assert selected["candidate"] == comparison["metrics.cv_roc_auc_mean"].idxmax()

    report = project_copy / "data/08_reporting/model_comparison"
    ranked = pd.read_csv(report / "metrics.csv")
    assert ranked["candidate"].iloc[0] == selected["candidate"]
    for name in ("metrics.md", "roc_curves.png", "precision_recall_curves.png",
                 "best_feature_importance.png", "feature_importance.csv"):
        assert (report / name).stat().st_size > 0
    logged = [a.path for a in mlflow.MlflowClient().list_artifacts(parent["run_id"],
                                                                    "model_comparison")]
    assert "model_comparison/roc_curves.png" in logged
    assert "model_comparison/selected_family.json" in logged

    # ... and ends with a registered champion that scores raw rows in a fresh process
    champion = mlflow.MlflowClient().get_model_version_by_alias("credit_scoring_pd", "champion")
    record = json.loads((project_copy / "data/06_models/champion/champion.json").read_text())
    assert float(champion.tags["cutoff"]) == pytest.approx(record["policy"]["cutoff"])
    assert champion.tags["cost_accept_bad"] == "5" and champion.tags["cost_decline_good"] == "1"
    in_memory = pd.read_parquet(project_copy / "data/07_model_output/thresholding/test_scores.parquet")
    holdout = pd.read_csv(project_copy / "data/05_model_input/holdout_applicants.csv")
    scored = score_in_new_process(project_copy, "models:/credit_scoring_pd@champion", holdout)
    assert (scored["decision"].to_numpy() == in_memory["decision"].to_numpy()).all()
    np.testing.assert_allclose(scored["pd"], in_memory["pd"], rtol=1e-9)
    decisions = pd.read_csv(project_copy / "data/08_reporting/thresholding/decision.csv")
    naive, chosen = decisions["expected_cost"]
    assert chosen < naive  # the 5:1 cost matrix makes 0.5 a poor cut-off
    thresholding = [a.path for a in mlflow.MlflowClient().list_artifacts(parent["run_id"],
                                                                         "thresholding")]
    for name in ("score_band.csv", "decision.md", "cutoff.json"):
        assert f"thresholding/{name}" in thresholding


def test_the_champion_is_the_simplest_adequate_candidate_and_its_run_says_why(default_run):
    project_copy = default_run
    runs = tracked_runs(project_copy)
    champion = mlflow.MlflowClient().get_model_version_by_alias("credit_scoring_pd", "champion")
    record = json.loads((project_copy / "data/06_models/champion/champion.json").read_text())
    # chosen among every candidate on the shared folds: the simplest within one standard
    # error of the best, and the run says why, naming each runner-up
    ranking = pd.read_csv(project_copy / "data/08_reporting/thresholding/candidate_ranking.csv")
    assert set(ranking["candidate"]) >= {"baselines.logistic_regression", "baselines.prior_only",
                                         "model_comparison.xgboost", "thresholding.blend"}
    chosen = ranking[ranking["chosen"]].iloc[0]
    assert champion.tags["candidate"] == chosen["candidate"] == record["candidate"]
    assert chosen["within_one_se"] and chosen["complexity"] == ranking.loc[
        ranking["within_one_se"], "complexity"].min()
    reason = champion.tags["selection_reason"]
    assert reason.startswith(f"{chosen['candidate']} (cv_roc_auc_mean")
    for runner_up in ranking.loc[~ranking["chosen"], "candidate"]:
        assert runner_up in reason
    # the blend competed with its own run, before any of it was refitted
    blend = candidate_runs(runs, "thresholding").loc["blend"]
    assert blend["metrics.cv_roc_auc_mean"] == pytest.approx(
        ranking.set_index("candidate").loc["thresholding.blend", "cv_roc_auc_mean"])


def score_in_new_process(project: Path, model_uri: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Load ``model_uri`` from the project's tracking store in a fresh Python and score rows."""
    rows.to_parquet(project / "rows.parquet")
    script = (
        "import mlflow, pandas as pd;"
        f"mlflow.set_tracking_uri('{tracking_uri(project)}');"
        f"mlflow.pyfunc.load_model('{model_uri}').predict(pd.read_parquet('rows.parquet'))"
        ".to_parquet('scored.parquet')"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=project)
    return pd.read_parquet(project / "scored.parquet")


def test_the_default_run_reports_time_and_memory_per_stage(default_run):
    timings = pd.read_csv(default_run / "data/08_reporting/stage_timings.csv").set_index("stage")
    assert list(timings.index) == ["feature_engineering", "data_processing", "baselines",
                                   "model_comparison", "tuning", "thresholding", "validation"]
    assert (timings["seconds"] > 0).all() and (timings["nodes"] >= 1).all()
    # tuning searches, the others fit a handful of models: it is the longest stage
    assert timings["seconds"].idxmax() == "tuning"
    # the process's high-water mark when each stage's last node ended (Kedro may run a
    # stage's last reporting node after a later stage's, so stages are not in order)
    assert 0.1 < timings["peak_rss_gb"].max() < 8


def test_the_default_run_ends_with_a_validation_report_on_its_champion(default_run):
    folder = default_run / "data/08_reporting/validation"
    content = json.loads((folder / "validation_report.json").read_text())
    # credit sense, declared in conf/base, holds for the German champion
    effects = {row["feature"]: row["status"] for row in content["tables"]["feature_effects"]}
    assert effects == {"duration_in_month": "as expected",
                       "installment_rate_in_percentage_of_disposable_income": "as expected"}
    # every attribute the German champion can cite has a written statement; none is protected
    assert {row["source"] for row in content["tables"]["reason_statements"]} == {"dictionary"}
    assert "No protected attribute, nor a feature built from one, is a model feature" in \
        " ".join(content["findings"]["reasons"])
    challenger = pd.DataFrame(content["tables"]["challenger"]).set_index(["sample", "model"])
    assert 0.7 < challenger.loc[("test", "challenger"), "auc"] < 0.9  # a real scorecard
    assert "No scoring batch yet" in (folder / "validation_report.html").read_text()
    # it concludes: a verdict, and the findings a validator raises on this run
    checks = {row["check"] for row in content["findings"]["ranked"]}
    assert content["verdict"] == "fit with findings"
    assert {"cutoff_sensitivity", "decline_share", "out_of_time"} <= checks
    assert checks & {"monotonicity", "monotonicity_power"}  # bands too small to trust
    assert "challenger_tie" in checks or content["tables"]["summary"][3]["value"].startswith(
        "baselines.scorecard")
    # the data card's SHA-256 is the one the report traces the raw file to
    provenance = {row["item"]: row["value"] for row in content["tables"]["provenance"]}
    card_sha = re.search(r"SHA-256\*\* \| `([0-9a-f]{64})`",
                         (default_run / "data/01_raw/README.md").read_text()).group(1)
    assert f"sha256 {card_sha}" in provenance["data: applicants"]
    scorecard = pd.read_csv(folder / "challenger_scorecard.csv")
    assert scorecard["Points"].notna().all() and scorecard["IV"].ge(0).all()
    tracked_runs(default_run)
    champion = mlflow.MlflowClient().get_model_version_by_alias("credit_scoring_pd", "champion")
    logged = {a.path for a in mlflow.MlflowClient().list_artifacts(champion.run_id, "validation")}
    assert "validation/challenger_scorecard.csv" in logged


def test_validation_reads_the_version_given_at_run_time_and_an_unknown_one_changes_nothing(
        default_run):
    page = default_run / "data/08_reporting/validation/validation_report.html"
    before = page.read_bytes()
    failed = kedro_run(default_run, "validation", check=False,
                       params="validation.model_version=99")
    assert failed.returncode != 0
    assert "'champion@version' (credit_scoring_pd version 99) does not exist yet: name a version" \
        in " ".join((failed.stdout + failed.stderr).split())
    assert page.read_bytes() == before
    kedro_run(default_run, "validation", params="validation.model_version=1")
    assert "credit_scoring_pd version 1" in page.read_text()


def test_pipelines_run_alone_and_rerun_gives_identical_metrics(project_copy):
    use_small_trees(project_copy)
    kedro_run(project_copy, "feature_engineering", "data_processing")
    assert (project_copy / "data/05_model_input/model_input_train.parquet").exists()
    kedro_run(project_copy, "baselines", "model_comparison")
    kedro_run(project_copy, "baselines", "model_comparison")

    runs = tracked_runs(project_copy)
    # kedro-mlflow names a run after its pipelines, in no fixed order
    run_names = {frozenset(name.split("+")) for name in runs["tags.mlflow.runName"]}
    assert {frozenset({"feature_engineering", "data_processing"}),
            frozenset({"baselines", "model_comparison"})} <= run_names
    for stage in ("baselines", "model_comparison"):
        candidates = candidate_runs(runs, stage)
        metrics = [c for c in candidates.columns
                   if c.startswith(("metrics.cv_", "metrics.test_")) and "time" not in c]
        for name in candidates.index.unique():
            first, second = candidates.loc[name, metrics].to_numpy()
            # equal up to the order of a multi-threaded sum (a forest on every core adds its
            # trees' PDs in whichever order the threads finish): 1e-16, not a seed problem
            np.testing.assert_allclose(first, second, rtol=1e-12, err_msg=f"{stage}/{name}")


def test_train_is_the_quick_path_from_raw_data_to_a_tracked_xgboost(project_copy):
    kedro_run(project_copy, "train")
    runs = tracked_runs(project_copy)
    assert runs[runs["tags.mlflow.parentRunId"].isna()]["tags.mlflow.runName"].tolist() == [
        "train"
    ]
    xgboost = candidate_runs(runs, "train").loc["xgboost"]
    assert xgboost["metrics.cv_roc_auc_mean"] > 0.7
    assert xgboost["params.estimator"] == "xgboost.XGBClassifier"


def test_another_applicant_table_runs_by_config_alone(project_copy):
    make_loan_book(n_rows=600).to_csv(project_copy / "data/01_raw/loan_book.csv", index=False)
    local = project_copy / "conf" / "local"
    write_yaml(local / "catalog.yml", {
        "applicants_raw": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/loan_book.csv"}
    })
    # the table's own block replaces the German one in conf/base, as README says: conf/local
    # would merge key by key and keep the German range rules
    # region stands in for a protected attribute the lender decided to keep in the model
    write_yaml(project_copy / "conf/base/parameters_data_processing.yml",
               {"data_processing": {**LOAN_BOOK_PARAMS, "protected_attributes": {
                   "columns": ["region"], "policy": "allow"}}})

    use_small_trees(project_copy)
    use_small_tuning(project_copy, n_trials=4)
    kedro_run(project_copy)

    runs = tracked_runs(project_copy)
    logistic = candidate_runs(runs, "baselines").loc["logistic_regression"]
    assert logistic["metrics.cv_roc_auc_mean"] > 0.6  # the synthetic risk signal is learnt
    assert (candidate_runs(runs, "model_comparison")["metrics.cv_roc_auc_mean"] > 0.6).all()
    train = pd.read_parquet(project_copy / "data/05_model_input/model_input_train.parquet")
    assert {"loan_to_income", "cv_fold", "defaulted"} <= set(train.columns)
    assert set(train["cv_fold"]) == {0, 1, 2}
    champion = mlflow.MlflowClient().get_model_version_by_alias("credit_scoring_pd", "champion")
    chosen = json.loads((project_copy / "data/06_models/thresholding/champion_spec.json").read_text())
    assert champion.tags["candidate"] == chosen["candidate"]

    # scoring: the held-out applicants (raw rows, no target) with the registered champion
    kedro_run(project_copy, "scoring")
    scored = pd.read_csv(project_copy / "data/07_model_output/scoring/scored_applicants.csv")
    holdout = pd.read_csv(project_copy / "data/05_model_input/holdout_applicants.csv")
    assert "defaulted" not in holdout.columns
    assert scored["loan_id"].tolist() == holdout["loan_id"].tolist()
    assert set(scored["decision"]) <= {"accept", "decline"}
    # allowed in the model, never cited, and a finding of the validation report
    schema = json.loads((project_copy / "data/05_model_input/feature_schema.json").read_text())
    assert "region" in schema["categorical"]
    codes = scored.filter(regex=r"^reason_\d_code$").stack()
    assert len(codes) and "REGION" not in set(codes)
    report = json.loads((project_copy / "data/08_reporting/validation/validation_report.json")
                        .read_text())
    assert "protected attributes are model features (protected_attributes.policy allow): " \
           "['region']" in " ".join(report["findings"]["reasons"])
    assert "region" in {row["attribute"] for row in report["tables"]["fairness"]}
    assert "protected_in_model" in {row["check"] for row in report["findings"]["ranked"]}
    stability = pd.read_csv(project_copy / "data/08_reporting/scoring/population_stability.csv")
    # against the development sample's distributions, which travel inside the model
    assert stability["variable"].iloc[0] == "score" and (stability["psi"] < 0.25).all()
    scoring_run = tracked_runs(project_copy).query("`tags.mlflow.runName` == 'scoring'").iloc[0]
    assert scoring_run["metrics.psi.score"] == pytest.approx(stability["psi"].iloc[0])

    # the release `credit-scoring-hub publish` would upload, built without uploading
    hub = Path(sys.executable).with_name("credit-scoring-hub")
    subprocess.run([str(hub), "publish", "--repo-id", "someone/credit-pd", "--dry-run",
                    "--folder", "release"], cwd=project_copy, check=True, capture_output=True)
    release = project_copy / "release"
    assert (release / "model" / "MLmodel").exists() and (release / "README.md").exists()
    assert f"Decline when PD >= **{float(champion.tags['cutoff']):.4f}**" in (
        release / "README.md").read_text()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_bad_input_fails_before_training_and_keeps_earlier_results(project_copy):
    kedro_run(project_copy, "feature_engineering", "data_processing", "baselines")
    model_input = project_copy / "data/05_model_input/model_input_train.parquet"
    before = _digest(model_input)
    runs_before = tracked_runs(project_copy)

    raw = pd.read_csv(project_copy / "data/01_raw/germancredit.csv")
    raw["creditability"] = np.where(raw.index % 3 == 0, "bad", "unknown")
    raw.to_csv(project_copy / "data/01_raw/germancredit.csv", index=False)
    failed = kedro_run(project_copy, "feature_engineering", "data_processing", "baselines",
                       check=False)
    assert failed.returncode != 0
    assert "ApplicantDataError" in failed.stderr + failed.stdout
    assert "creditability" in failed.stderr + failed.stdout

    assert _digest(model_input) == before
    runs_after = tracked_runs(project_copy)
    kept = runs_after.set_index("run_id").loc[runs_before["run_id"]]
    assert (kept["status"] == "FINISHED").all()
    new = runs_after[~runs_after["run_id"].isin(runs_before["run_id"])]
    assert new["status"].tolist() == ["FAILED"]



def test_every_path_the_readme_shows_exists_after_the_default_run(default_run):
    """The README's "What you get" table: each `data/...` path, and each file it names in
    the same row, as a newcomer would look for it."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `data/")]
    assert len(rows) >= 5
    for row in rows:
        where, what = row.split(" | ", 1)
        folder = where.strip("| `")
        assert (default_run / folder).exists(), folder
        base = default_run / folder if folder.endswith("/") else (default_run / folder).parent
        for name in re.findall(r"`([\w.-]+\.(?:md|csv|json|html|pdf|png))`", what):
            assert (base / name).exists(), f"{base / name} (README: {row[:60]}...)"
