"""`kedro run --env home_credit` end to end on a small generated Home Credit set, as a user runs it:
the generator's CLI writes the raw CSVs (dated: the session's ``home_credit_run`` fixture, shared
with tests/test_over_time.py), the shipped environment builds the features, trains, registers a
champion that carries its recipe, and scores new applicants from their history."""

import json

import mlflow
import pandas as pd
import pytest
import yaml
from mlflow.exceptions import MlflowException

from credit_scoring.data.schema import ApplicantDataError
from credit_scoring.decisions.scorer import scorer_of

from .conftest import (
    HOME_CREDIT_APPLICANTS,
    HOME_CREDIT_RAW,
    kedro_run,
    tracking_client,
    tracking_uri,
)

pytestmark = pytest.mark.integration

APPLICANTS, RAW = HOME_CREDIT_APPLICANTS, HOME_CREDIT_RAW


def test_the_run_builds_over_100_aggregates_that_reach_the_model(home_credit_run):
    features = pd.read_parquet(home_credit_run / "data/03_primary/applicant_features.parquet")
    application = pd.read_csv(home_credit_run / RAW / "application_train.csv")
    assert len(features) == APPLICANTS
    built = [c for c in features.columns if "__" in c]
    assert len(built) >= 100
    assert features["SK_ID_CURR"].tolist() == application["SK_ID_CURR"].tolist()
    schema = json.loads((home_credit_run / "data/05_model_input/feature_schema.json").read_text())
    model_features = set(schema["numeric"]) | set(schema["categorical"])
    assert {"bureau__days_credit__mean", "installments__dpd__max__last_365d",
            "bureau_debt_to_income"} <= model_features
    assert "SK_ID_CURR" not in model_features and "DAYS_EMPLOYED" in model_features
    assert schema["feature_build"]["tables"]["bureau"]["key"] == "SK_ID_CURR"


def test_counts_orphans_and_recipe_are_tracked_in_mlflow(home_credit_run):
    tracking = tracking_client(home_credit_run)
    experiment = tracking.get_experiment_by_name("credit_scoring_home_credit")
    run, = tracking.search_runs([experiment.experiment_id],
                                "metrics.`feature_build.bureau.rows` > 0")
    bureau = pd.read_csv(home_credit_run / RAW / "bureau.csv")
    test_ids = pd.read_csv(home_credit_run / RAW / "application_test.csv")["SK_ID_CURR"]
    metrics = run.data.metrics
    # the leakage guard: credits opened after the application are counted, not aggregated
    after = (bureau["DAYS_CREDIT"] > 0).sum()
    assert after > 0 and metrics["feature_build.bureau.after_application_rows"] == after
    assert metrics["feature_build.bureau.rows"] == len(bureau) - after
    # the history tables hold the test applicants' records too: orphans of the training build
    assert metrics["feature_build.bureau.orphan_rows"] == (
        bureau["SK_ID_CURR"].isin(test_ids) & (bureau["DAYS_CREDIT"] <= 0)).sum()
    assert metrics["feature_build.features"] >= 100 and metrics["feature_build.seconds"] > 0
    assert run.data.params["feature_engineering.tables.bureau.key"] == "SK_ID_CURR"
    artifacts = [a.path for a in tracking.list_artifacts(run.info.run_id, "feature_engineering")]
    assert "feature_engineering/feature_build_report.json" in artifacts


def test_the_run_reports_stage_times_and_chooses_its_calibration(home_credit_run):
    timings = pd.read_csv(home_credit_run / "data/08_reporting/stage_timings.csv")
    assert timings["stage"].tolist() == ["feature_engineering", "data_processing", "baselines",
                                         "model_comparison", "tuning", "thresholding", "validation"]
    calibration = pd.read_csv(home_credit_run / "data/08_reporting/thresholding/calibration.csv")
    assert calibration["method"].tolist() == ["none", "platt", "isotonic"]
    assert calibration.loc[calibration["chosen"], "log_loss"].item() == calibration["log_loss"].min()
    summary = json.loads((home_credit_run / "data/06_models/tuning/study_summary.json").read_text())
    # the boosting spec sets every searched parameter: the untuned configuration is trial 0
    assert summary["untuned_trial"]["number"] == 0


def test_the_home_credit_champion_is_its_own_model(home_credit_run):
    tracking = tracking_client(home_credit_run)
    version = tracking.get_model_version_by_alias("credit_scoring_pd_home_credit", "champion")
    assert str(version.version) == "1"
    with pytest.raises(MlflowException):  # the German Credit champion is untouched (absent here)
        tracking.get_model_version_by_alias("credit_scoring_pd", "champion")


def test_scoring_rebuilds_the_features_from_the_new_applicants_history(home_credit_run):
    kedro_run(home_credit_run, "scoring", env="home_credit")
    scored = pd.read_parquet(home_credit_run / "data/07_model_output/scoring/scored_applicants.parquet")
    new = pd.read_csv(home_credit_run / RAW / "application_test.csv")
    assert scored["SK_ID_CURR"].tolist() == new["SK_ID_CURR"].tolist()
    assert scored["pd"].between(0, 1).all() and set(scored["decision"]) <= {"accept", "decline"}
    report = json.loads((home_credit_run / "data/07_model_output/scoring/"
                         "feature_build_report.json").read_text())
    assert report["applicants"] == len(new) and report["features"] >= 100
    assert report["recipe"]["tables"]["bureau"]["key"] == "SK_ID_CURR"


def test_the_registered_model_carries_its_recipe_and_refuses_rows_without_it(home_credit_run):
    mlflow.set_tracking_uri(tracking_uri(home_credit_run))
    try:
        model = mlflow.pyfunc.load_model("models:/credit_scoring_pd_home_credit@champion")
    finally:
        mlflow.set_tracking_uri(None)
    scorer = scorer_of(model)
    assert scorer.feature_schema["feature_build"]["tables"]["installments"]["per"]["key"] == \
        "SK_ID_PREV"
    bare = pd.read_csv(home_credit_run / RAW / "application_test.csv").head(3)
    with pytest.raises(Exception, match="bureau__count"):  # the signature names them
        model.predict(bare)
    with pytest.raises(ApplicantDataError, match="makes them from the applicants' related "
                                                 "tables.*related_tables_to_score"):
        scorer.prepare(bare)
    # issue 32: every attribute has a written or a generated statement, none is protected
    statements = scorer.policy.statements.attributes
    assert {s.source for s in statements.values()} <= {"dictionary", "generated", "derived"}
    assert statements["bureau__credit_day_overdue__max"].text == \
        "Days overdue on credit bureau records (highest)"
    assert not {"CODE_GENDER", "DAYS_BIRTH", "NAME_FAMILY_STATUS"} & set(scorer.features)


def test_a_bureau_file_delivered_twice_is_aggregated_once_and_reported(home_credit_run):
    """Issue 31, defect 3: the feed appended to itself used to double every bureau count."""
    features = home_credit_run / "data/03_primary/applicant_features.parquet"
    before = pd.read_parquet(features)
    bureau_file = home_credit_run / RAW / "bureau.csv"
    original = bureau_file.read_bytes()
    bureau = pd.read_csv(bureau_file)
    pd.concat([bureau, bureau]).to_csv(bureau_file, index=False)
    try:
        result = kedro_run(home_credit_run, "feature_engineering", env="home_credit")
    finally:
        bureau_file.write_bytes(original)
    pd.testing.assert_frame_equal(pd.read_parquet(features), before)
    assert "repeat a SK_ID_BUREAU" in " ".join(result.stdout.split())  # the warning's start
    report = json.loads((home_credit_run / "data/03_primary/feature_build_report.json")
                        .read_text())
    assert report["tables"]["bureau"]["duplicate_rows"] == len(bureau)
    tracking = tracking_client(home_credit_run)
    experiment = tracking.get_experiment_by_name("credit_scoring_home_credit")
    run = tracking.search_runs([experiment.experiment_id], order_by=["start_time DESC"])[0]
    assert run.data.metrics["feature_build.bureau.dropped_rows"] == len(bureau)


def test_spark_builds_the_same_features_by_configuration_alone(home_credit_run):
    """`backend: pyspark` on the catalog entry, nothing else: the same applicant_features."""
    features = home_credit_run / "data/03_primary/applicant_features.parquet"
    on_duckdb = pd.read_parquet(features)
    catalog_file = home_credit_run / "conf/home_credit/catalog.yml"
    original = catalog_file.read_text()
    catalog = yaml.safe_load(original)
    catalog["related_tables"] |= {"backend": "pyspark", "backend_args": {
        "spark.master": "local[1]", "spark.sql.shuffle.partitions": "2",
        "spark.ui.enabled": "false"}}
    catalog_file.write_text(yaml.safe_dump(catalog))
    try:
        kedro_run(home_credit_run, "feature_engineering", env="home_credit")
    finally:
        catalog_file.write_text(original)
    pd.testing.assert_frame_equal(pd.read_parquet(features), on_duckdb, check_exact=False,
                                  rtol=1e-9, atol=1e-9)
