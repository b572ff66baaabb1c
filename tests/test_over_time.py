"""Out of time, as a user runs it (issue 34): the generator's dated Home Credit files, `kedro
run --env home_credit` with the documented date override, and the validation report that
catches the drift planted over the last 9 months (docs/over-time.md). Shares the session's
``home_credit_run`` with tests/test_home_credit.py."""

import json
import shutil

import mlflow
import pandas as pd
import pytest

from credit_scoring.data.synth import DATE_COLUMN
from credit_scoring.decisions.scorer import scorer_of

from .conftest import HOME_CREDIT_RAW, tracking_client, tracking_uri

pytestmark = pytest.mark.integration

REPORT = "data/08_reporting/validation/validation_report"


@pytest.fixture(scope="module")
def report(home_credit_run) -> dict:
    return json.loads((home_credit_run / f"{REPORT}.json").read_text())


def test_test_is_the_latest_six_vintages_and_the_date_is_no_feature(home_credit_run):
    test = pd.read_parquet(home_credit_run / "data/05_model_input/model_input_test.parquet")
    train = pd.read_parquet(home_credit_run / "data/05_model_input/model_input_train.parquet")
    assert train[DATE_COLUMN].max() < "2024-07-01" <= test[DATE_COLUMN].min()
    assert sorted(test[DATE_COLUMN].str[:7].unique()) == [f"2024-{m:02d}" for m in range(7, 13)]
    schema = json.loads((home_credit_run / "data/05_model_input/feature_schema.json").read_text())
    assert schema["time"]["out_of_time"] == ["2024-07-01", "2024-12-31"]
    mlflow.set_tracking_uri(tracking_uri(home_credit_run))
    try:
        scorer = scorer_of(mlflow.pyfunc.load_model("models:/credit_scoring_pd_home_credit@champion"))
    finally:
        mlflow.set_tracking_uri(None)
    assert DATE_COLUMN not in scorer.features


def test_the_report_shows_the_out_of_time_auc_below_the_in_time_one(report):
    table = pd.DataFrame(report["tables"]["discrimination"]).set_index("sample")
    assert table.index.tolist() == ["train (out-of-fold)", "in-time holdout", "test"]
    assert table.loc["in-time holdout", "applicants"] == 377   # a tenth of 3,770, rounded up
    auc = table["auc"]
    assert auc["test"] < auc["train (out-of-fold)"] - 0.03
    checks = {finding["check"] for finding in report["findings"]["ranked"]}
    assert "out_of_time_auc_drop" in checks and "out_of_time" not in checks


def test_late_vintages_default_more_than_their_pd_and_are_flagged(report):
    vintages = pd.DataFrame(report["tables"]["vintages"])
    later = vintages[vintages["sample"] == "test"]
    assert later["vintage"].tolist() == [f"2024-{m:02d}" for m in range(7, 13)]
    earlier = vintages[vintages["sample"] == "train (out-of-fold)"]
    assert len(earlier) == 18 and (earlier["light"] != "red").all()
    in_time = vintages[vintages["sample"] == "in-time holdout"]
    assert in_time["vintage"].tolist() == earlier["vintage"].tolist()
    assert in_time["applicants"].sum() == 377
    gap = later["default_rate"] - later["mean_pd"]
    assert (gap > 0).all() and gap.mean() > 0.03   # +0.8 log-odds, PDs from stable months
    assert (later.tail(3)["light"] == "red").any()
    assert "vintage_calibration" in {f["check"] for f in report["findings"]["ranked"]}


def test_psi_flags_the_features_whose_population_was_shifted(report):
    stability = pd.DataFrame(report["tables"]["stability"]).set_index("variable")
    assert (stability.loc[["AMT_CREDIT", "AMT_GOODS_PRICE", "AMT_ANNUITY"], "status"]
            == "shift").all()
    assert stability.loc["FLAG_OWN_REALTY", "status"] == "stable"   # nothing planted there


def test_the_report_is_logged_to_mlflow_with_its_vintages(home_credit_run, report):
    tracking = tracking_client(home_credit_run)
    version = tracking.get_model_version_by_alias("credit_scoring_pd_home_credit", "champion")
    logged = json.loads(open(mlflow.artifacts.download_artifacts(
        run_id=version.run_id, artifact_path="validation/validation_report.json",
        tracking_uri=tracking_uri(home_credit_run))).read())
    assert logged["tables"]["vintages"] == report["tables"]["vintages"]


def test_a_browser_sees_the_over_time_section(home_credit_run, tmp_path):
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    chromium = shutil.which("chromium")
    assert chromium, "headless Chromium is needed: apt-get install -y chromium (.ci/run does it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto((home_credit_run / f"{REPORT}.html").as_uri())
        section = page.locator("section#over-time")
        assert section.locator("h2").inner_text() == "Over time"
        assert section.locator("figure svg").first.is_visible()
        text = section.inner_text()
        assert "out of time 2024-07-01 to 2024-12-31" in text and "2024-12" in text
        assert page.locator("section#findings").get_by_text(
            "Discrimination falls out of time").is_visible()
        page.screenshot(path=str(tmp_path / "over_time.png"), full_page=False)
        browser.close()


def test_the_raw_files_carry_the_dates_the_generator_wrote(home_credit_run):
    application = pd.read_csv(home_credit_run / HOME_CREDIT_RAW / "application_train.csv")
    months = application[DATE_COLUMN].str[:7]
    assert months.nunique() == 24 and months.min() == "2023-01" and months.max() == "2024-12"
