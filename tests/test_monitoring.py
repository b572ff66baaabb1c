"""Watched over time, as a bank runs it (issue 35): monthly batches of new applicants scored in
turn by the dated Home Credit champion, the monitoring report, backtesting once outcomes
arrive, and a recalibration registered as a gated version. Real Kedro runs (in process), the
real MLflow store and registry, on a copy of the session's ``home_credit_run``.

The batches come from a second generated set (seed 1, 20,000 applicants: about 830 a month,
the size of a month's applications at a small lender): five stable months, then 2024-09, two
thirds into the drift the generator plants over its last 9 months (docs/over-time.md): its
loans larger, its external scores narrowed, its defaults about twice the PD, its ranking
still whole. A month later the ranking goes too (2024-10: backtesting says redevelop).
"""

import json
import runpy
import shutil
import sys
from collections import Counter
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from credit_scoring.data.synth import DATE_COLUMN, home_credit
from credit_scoring.io.monitoring_store import MonitoringStoreDataset

from .conftest import (
    PROJECT_ROOT,
    kedro_run_in_process,
    mlflow_uris_restored,
    relocate_store,
    tracking_client,
    tracking_uri,
    trained_copy,
)

pytestmark = pytest.mark.integration

STABLE = ["2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]
DRIFTED, LATER = "2024-09", "2024-10"
MODEL = "credit_scoring_pd_home_credit"
STORE = "data/07_model_output/monitoring"
REPORT = "data/08_reporting/monitoring/monitoring_report"
RELATED = {"bureau": "bureau", "previous": "previous_application",
           "installments": "installments_payments"}
NEVER_SCORED = [999000001, 999000002]


class Bank:
    """The project copy, the later applicants and what each step did."""

    def __init__(self, project, tables):
        self.project, self.tables = project, tables
        self.runs: dict[str, BaseException | None] = {}

    def deliver(self, month: str, applicants: pd.DataFrame | None = None) -> None:
        """A month's new applications (without their outcome) and their bureau, previous
        applications and instalments, where conf/home_credit's scoring entries point."""
        rows = self.tables["application_train"]
        batch = rows[rows[DATE_COLUMN].str[:7] == month].drop(columns="TARGET") \
            if applicants is None else applicants
        folder = self.project / "data/01_raw/batches" / month
        folder.mkdir(parents=True, exist_ok=True)
        batch.to_csv(folder / "application.csv", index=False)
        for table in RELATED.values():
            related = self.tables[table]
            related[related["SK_ID_CURR"].isin(batch["SK_ID_CURR"])].to_csv(
                folder / f"{table}.csv", index=False)
        catalog_file = self.project / "conf/home_credit/catalog.yml"
        catalog = yaml.safe_load(catalog_file.read_text())
        catalog["applicants_to_score"]["filepath"] = str(folder / "application.csv")
        catalog["related_tables_to_score"]["tables"] = {
            name: str(folder / f"{table}.csv") for name, table in RELATED.items()}
        catalog_file.write_text(yaml.safe_dump(catalog))

    def run(self, step: str, *pipelines: str) -> BaseException | None:
        self.runs[step] = kedro_run_in_process(self.project, *pipelines, env="home_credit")
        return self.runs[step]

    def history(self) -> dict[str, pd.DataFrame]:
        return MonitoringStoreDataset(str(self.project / STORE)).load()

    def report(self) -> dict:
        return json.loads((self.project / f"{REPORT}.json").read_text())

    def outcomes_for_the_approved(self) -> None:
        """Outcomes as a servicing system delivers them: approved applicants only, a year on,
        plus two for applicants this model never scored."""
        scores = self.history()["scores"]
        approved = scores.loc[scores["decision"] == "accept", "applicant"].astype(int)
        truth = self.tables["application_train"].set_index("SK_ID_CURR")
        outcomes = pd.DataFrame({
            "SK_ID_CURR": [*approved, *NEVER_SCORED],
            "defaulted": [*truth.loc[approved, "TARGET"], 0, 1],
            "observed_on": [*(pd.to_datetime(truth.loc[approved, DATE_COLUMN])
                              + pd.DateOffset(years=1)).dt.strftime("%Y-%m-%d"),
                            "2025-06-30", "2025-06-30"]})
        outcomes.to_csv(self.project / "data/01_raw/outcomes.csv", index=False)


@pytest.fixture(scope="module")
def bank(home_credit_run, tmp_path_factory) -> Bank:
    """Six monthly batches scored in turn, the last drifted; the first monitoring report."""
    project = tmp_path_factory.mktemp("monitoring") / "project"
    shutil.copytree(home_credit_run, project)
    relocate_store(project, home_credit_run)
    # the bank's history starts with its first monthly batch (tests/test_home_credit.py
    # scored the fixture's own new applicants, all 24 months in one file)
    shutil.rmtree(project / STORE, ignore_errors=True)
    bank = Bank(project, home_credit(20_000, seed=1, test_share=0.0, dates=True))
    for month in [*STABLE, DRIFTED]:
        bank.deliver(month)
        assert bank.run(f"score {month}", "scoring") is None, bank.runs[f"score {month}"]
    bank.after_six = bank.history()
    assert bank.run("monitoring", "monitoring") is None, bank.runs["monitoring"]
    bank.first_report = bank.report()
    return bank


def test_each_batch_is_recorded_with_its_period_model_and_figures(bank):
    batches = bank.after_six["batches"]
    assert batches["batch_start"].dt.strftime("%Y-%m").tolist() == [*STABLE, DRIFTED]
    assert (batches["period_from"] == "application dates").all()
    assert (batches["model_version"] == "1").all() and (batches["model_name"] == MODEL).all()
    assert batches["rows"].between(750, 950).all()
    assert batches["approval_rate"].between(0.7, 1).all()
    scores = bank.after_six["scores"]
    assert len(scores) == batches["rows"].sum() and scores["applicant"].notna().all()
    client = tracking_client(bank.project)
    runs = client.search_runs(
        [client.get_experiment_by_name("credit_scoring_home_credit").experiment_id],
        filter_string="tags.`mlflow.runName` = 'scoring'")
    logged = Counter(int(run.data.metrics["monitoring.rows"]) for run in runs
                     if "monitoring.rows" in run.data.metrics)
    assert Counter(batches["rows"].tolist()) <= logged   # the store also holds earlier runs


def test_scoring_the_same_batch_again_does_not_count_it_twice(bank):
    # the drifted month is still where the catalog points: the same rows, the same model
    assert bank.run("score again", "scoring") is None
    again = bank.history()["batches"]
    assert again["batch_id"].tolist() == bank.after_six["batches"]["batch_id"].tolist()


def test_a_failed_batch_writes_nothing(bank):
    rows = bank.tables["application_train"]
    broken = rows[rows[DATE_COLUMN].str[:7] == LATER].drop(columns=["TARGET", "AMT_CREDIT"])
    bank.deliver("broken", broken)
    error = bank.run("score broken", "scoring")
    assert error is not None and "AMT_CREDIT" in str(error)
    assert bank.history()["batches"]["batch_id"].tolist() == bank.after_six[
        "batches"]["batch_id"].tolist()


def test_the_drifted_batch_alone_raises_alerts_that_name_the_shifted_features(bank):
    alerts = pd.DataFrame(bank.first_report["tables"]["alerts"])
    assert set(alerts["batch_start"]) == {f"{DRIFTED}-01"}
    csi = alerts.set_index("rule").loc["feature_csi"]
    assert csi["severity"] == "high"
    named = {driver.rsplit(" ", 1)[0] for driver in csi["drivers"].split(", ")}
    assert {"AMT_CREDIT", "EXT_SOURCE_2"} <= named     # the generator's planted drift
    assert bank.first_report["verdict"] == "not fit"
    assert bank.first_report["summary"].startswith(
        f"Not fit: the latest batch ({DRIFTED}-01 to {DRIFTED}-30")
    batches = pd.DataFrame(bank.first_report["tables"]["batches"])
    assert batches["status"].tolist() == ["ok"] * 5 + ["alert"]


def test_before_outcomes_arrive_the_report_says_there_is_no_backtest(bank):
    assert bank.first_report["backtesting"]["status"] == "unavailable"
    assert "No outcomes yet" in bank.first_report["backtesting"]["message"]


@pytest.fixture(scope="module")
def backtested(bank) -> dict:
    bank.outcomes_for_the_approved()
    assert bank.run("backtest", "monitoring") is None, bank.runs["backtest"]
    return bank.report()


def test_backtesting_recommends_recalibrating_the_drifted_vintage(backtested):
    table = pd.DataFrame(backtested["backtesting"]["batches"]).set_index("batch_start")
    assert (table.loc[[f"{m}-01" for m in STABLE], "recommendation"] == "keep").all()
    drifted = table.loc[f"{DRIFTED}-01"]
    assert drifted["recommendation"] == "recalibrate"
    assert drifted["default_rate"] > 1.5 * drifted["mean_pd"]
    assert backtested["backtesting"]["recommendation"]["action"] == "recalibrate"
    assert backtested["backtesting"]["population"].startswith("approved applicants")


def test_outcomes_for_applicants_never_scored_are_counted_and_shown(bank, backtested):
    matching = backtested["backtesting"]["matching"]
    assert matching["never_scored"] == 2
    assert matching["never_scored_examples"] == [str(i) for i in NEVER_SCORED]
    assert matching["declined_with_outcome"] == 0 and matching["approved_waiting"] == 0
    page = (bank.project / f"{REPORT}.html").read_text()
    assert "2 for applicants never scored (not in the backtest), e.g. 999000001" in page


@pytest.fixture(scope="module")
def recalibrated(bank, backtested) -> dict:
    """A later month scored, its outcomes in: the champion recalibrated on the drifted
    month's outcomes and validated on the later month's."""
    bank.deliver(LATER)
    assert bank.run(f"score {LATER}", "scoring") is None, bank.runs[f"score {LATER}"]
    bank.outcomes_for_the_approved()
    assert bank.run("recalibrate", "recalibrate") is None, bank.runs["recalibrate"]
    return json.loads((bank.project / "data/08_reporting/recalibration/"
                                      "recalibration_report.json").read_text())


def test_recalibration_registers_a_validated_version_that_calibrates_better_later(
        bank, recalibrated):
    client = tracking_client(bank.project)
    champion = client.get_model_version_by_alias(MODEL, "champion")
    assert str(champion.version) == "2" and champion.tags["recalibrated_from"] == "1"
    assert champion.tags["outcome_window"] == f"{DRIFTED}-01 to {DRIFTED}-30"
    assert champion.tags["holdout_window"] == f"{LATER}-01 to {LATER}-31"
    assert champion.tags["validation_verdict"] == recalibrated["verdict"] != "not fit"
    holdout = pd.DataFrame(recalibrated["tables"]["holdout"]).set_index("model")
    assert abs(holdout.loc["recalibrated", "citl_z"]) < abs(holdout.loc["parent", "citl_z"])
    assert holdout.loc["recalibrated", "auc"] == pytest.approx(holdout.loc["parent", "auc"])
    run = client.get_run(champion.run_id)
    assert run.data.params["lineage.parent_version"] == "1"
    assert run.data.metrics["cv_roc_auc_mean"] == client.get_run(
        client.get_model_version(MODEL, "1").run_id).data.metrics["cv_roc_auc_mean"]
    artifacts = {a.path for a in client.list_artifacts(champion.run_id, "validation")}
    assert "validation/recalibration_report.html" in artifacts
    record = json.loads((bank.project / "data/06_models/champion_home_credit/champion.json"
                         ).read_text())
    assert record["version"] == 2 and record["recalibrated_from"] == 1


def test_the_recalibrated_version_keeps_the_parents_estimator_file(bank, recalibrated,
                                                                   tmp_path):
    mlflow.set_tracking_uri(tracking_uri(bank.project))   # models:/ reads the registry
    try:
        folders = {version: Path(mlflow.artifacts.download_artifacts(
            f"models:/{MODEL}/{version}", dst_path=str(tmp_path / version)))
            for version in ("1", "2")}
    finally:
        mlflow.set_tracking_uri(None)
    estimators = {version: next((folder / "artifacts").glob("estimator*")).read_bytes()
                  for version, folder in folders.items()}
    assert estimators["1"] == estimators["2"]
    calibrators = {version: (folder / "artifacts/calibrator.skops").read_bytes()
                   for version, folder in folders.items()}
    assert calibrators["1"] != calibrators["2"]


def test_a_browser_opens_the_monitoring_report(bank, backtested, tmp_path):
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    chromium = shutil.which("chromium")
    assert chromium, "headless Chromium is needed: apt-get install -y chromium (.ci/run does it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto((bank.project / f"{REPORT}.html").as_uri())
        assert page.locator(".verdict").inner_text() == "Verdict: not fit"
        assert page.locator("section#batches figure svg").first.is_visible()
        alerts = page.locator("section#alerts")
        assert "feature CSI above 0.25" in alerts.inner_text()
        assert "recalibrate" in page.locator("section#backtesting").inner_text()
        page.screenshot(path=str(tmp_path / "monitoring.png"), full_page=False)
        browser.close()


def test_without_a_date_or_an_id_the_batch_takes_the_date_given_and_backtesting_says_why(
        default_run, tmp_path):
    """German Credit has neither: the batch is filed under scoring.batch_date, and the
    monitoring report explains that backtesting needs an applicant id."""
    project = trained_copy(default_run, tmp_path / "project")
    (project / "data/01_raw/outcomes.csv").write_text("applicant,defaulted,observed_on\n")
    error = kedro_run_in_process(project, "scoring",
                                 params={"scoring": {"batch_date": "2025-03-31"}})
    assert error is None, error
    assert kedro_run_in_process(project, "monitoring") is None
    batch = MonitoringStoreDataset(str(project / STORE)).load()["batches"].iloc[0]
    assert (batch["batch_start"], batch["period_from"]) == (pd.Timestamp("2025-03-31"),
                                                            "scoring.batch_date")
    report = json.loads((project / f"{REPORT}.json").read_text())
    assert report["backtesting"]["status"] == "unavailable"
    assert report["backtesting"]["message"].startswith(
        "Backtesting needs an applicant id to join outcomes to scored applicants: set "
        "data_processing.id_column")
    assert report["verdict"] in {"fit for use", "fit with findings"}


def test_the_monitoring_benchmark_runs_at_smoke_size(bank, monkeypatch, capsys):
    """benchmarks/benchmark_monitoring.py, at --smoke size, in this process (its own start-up
    is not the point): the script behind the docs' numbers still runs against the project's
    champion."""
    monkeypatch.setattr(sys, "argv", ["benchmark_monitoring.py", "--smoke",
                                      "--project", str(bank.project)])
    with mlflow_uris_restored(), pytest.raises(SystemExit) as finished:
        runpy.run_path(str(PROJECT_ROOT / "benchmarks/benchmark_monitoring.py"),
                       run_name="__main__")
    assert finished.value.code == 0
    printed = capsys.readouterr().out
    table = printed[printed.index("step"):]
    assert "record       1 batch of 1,000" in table and "report              2 batches" in table
