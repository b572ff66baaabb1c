"""validation in memory on a registered champion: every section, numbers that can be
checked by hand, the files on disk and in the model version's MLflow run."""

import copy
import json
import shutil
import unicodedata

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from mlflow.tracking import MlflowClient
from sklearn.metrics import roc_auc_score

from credit_scoring.decisions import Constraints
from credit_scoring.io.datasets import OptionalDataset
from credit_scoring.io.registry import (
    MlflowChampionDataset,
    MlflowModelVersionDataset,
    ValidationReportDataset,
)
from credit_scoring.models.estimators import build_estimator
from credit_scoring.models.evaluation import fit_and_evaluate
from credit_scoring.pipelines.validation import create_pipeline
from credit_scoring.pipelines.validation.nodes import decision_sensitivity, stability
from tests.conftest import LOAN_BOOK_SOURCE, PROJECT_ROOT, SCORECARD_SPEC, KeptDataset

SECTIONS = ("findings", "model-card", "discrimination", "calibration", "stability", "over-time",
            "feature-effects", "challenger", "decisions", "reasons", "fairness", "data-quality")
EXPECTED_EFFECTS = {"loan_to_income": 1, "income": 1, "term_months": -1}


# region and income stand in for protected attributes of the data (the champion was trained
# without any); income is screened in bands
PROTECTED = {"policy": "allow", "columns": ["region", "income"],
             "sources": {"region": ["region"], "income": ["income"],
                         "loan_to_income": ["income"]},
             "bands": {"income": [20_000, 30_000]}}
# the raw file as this validation run's feature build read it: changed since the version
# was developed on LOAN_BOOK_SOURCE
TODAYS_SOURCE = {**LOAN_BOOK_SOURCE, "sha256": "cd" * 32}
DATA_QUALITY = {"train_rows": 300, "test_rows": 100, "test_rows_seen_in_training": 7,
                "dropped_features": {"branch": "constant: 'north' on every training row"}}


@pytest.fixture
def validated(thresholding_outputs, project_params, tracking_store, tmp_path):
    """The in-memory champion registered in a real store, then validated: (catalog, folder)."""
    catalog, _, schema = thresholding_outputs
    train = catalog.load("model_input_train")
    MlflowChampionDataset(registered_model_name="test_pd").save(
        catalog.load("champion@registry"))
    pipeline = create_pipeline()
    folder = tmp_path / "validation"
    outputs = {name: KeptDataset(copy_mode="assign") for name in pipeline.all_outputs()}
    outputs["validation.report"] = ValidationReportDataset(folder=str(folder))
    params = copy.deepcopy(project_params)  # the data card, wherever the test runs
    params["validation"]["model_card"]["data_card"] = str(PROJECT_ROOT / "data/01_raw/README.md")
    validation_catalog = DataCatalog(datasets={
        "champion@version": MlflowModelVersionDataset(registered_model_name="test_pd"),
        "holdout_applicants": MemoryDataset(catalog.load("holdout_applicants")),
        "model_input_train": MemoryDataset(catalog.load("model_input_train")),
        "model_input_test": MemoryDataset(catalog.load("model_input_test")),
        # an undated split: no in-time holdout (the dated path: tests/test_over_time.py)
        "model_input_in_time": MemoryDataset(catalog.load("model_input_test").iloc[:0]),
        "applicant_features": MemoryDataset(catalog.load("holdout_applicants")),
        # the loan book's risk rises with loan / income: declaring income "increasing" is wrong
        "feature_schema": MemoryDataset({**schema, "expected_effects": EXPECTED_EFFECTS,
                                         "protected_attributes": PROTECTED}),
        "params:validation": MemoryDataset(params["validation"]),
        "parameters": MemoryDataset(params),
        "data_quality": MemoryDataset(DATA_QUALITY),
        # thresholding's challengers had a scorecard been a baseline: the simpler side
        "challengers": MemoryDataset({"simpler": {
            "candidate": "baselines.scorecard", "spec": SCORECARD_SPEC, "random_state": 42,
            "class_weighting": None, "complexity": 2}, "complex": None}),
        "challenger_oof": MemoryDataset(train[[schema["target"], schema["fold_column"]]].assign(
            **{"baselines.scorecard": fit_and_evaluate(build_estimator(SCORECARD_SPEC, schema, 42),
                                                       train, catalog.load("model_input_test"),
                                                       schema)[2]})),
        "feature_build_report": MemoryDataset({"sources": {"applicants": TODAYS_SOURCE}}),
        "latest_batch_stability": OptionalDataset(dataset={
            "type": "pandas.CSVDataset", "filepath": str(tmp_path / "no_batch_yet.csv")}),
        **outputs,
    })
    SequentialRunner().run(pipeline, validation_catalog)
    return validation_catalog, folder


def test_the_report_is_one_html_page_with_every_section_and_a_json_of_its_figures(validated):
    catalog, folder = validated
    page = (folder / "validation_report.html").read_text()
    for section in SECTIONS:
        assert f"id='{section}'" in page
    assert page.count("<svg") >= 7 and "<script" not in page and "http" not in page.split(
        "</style>")[0]
    content = json.loads((folder / "validation_report.json").read_text())
    assert {"discrimination", "calibration", "score_bands", "stability", "cost_scenarios",
            "principal_reasons", "gains"} <= set(content["tables"])
    assert set(content["figures"]["curves"]) == {"train (out-of-fold)", "test"}


def test_the_report_is_logged_to_the_model_versions_run_with_its_verdict(validated):
    version = MlflowClient().get_model_version_by_alias("test_pd", "champion")
    logged = {a.path for a in MlflowClient().list_artifacts(version.run_id, "validation")}
    assert logged == {f"validation/{name}" for name in (
        "validation_report.html", "validation_report.json", "validation_report.pdf",
        "challenger_scorecard.csv", "data_card.md")}
    content = json.loads((validated[1] / "validation_report.json").read_text())
    assert version.tags["validation_verdict"] == content["verdict"]


def test_the_report_opens_with_its_verdict_ranked_findings_and_the_model_card(validated):
    _, folder = validated
    page = (folder / "validation_report.html").read_text()
    content = json.loads((folder / "validation_report.json").read_text())
    assert content["verdict"] in ("fit for use", "fit with findings", "not fit")
    # the verdict, then the findings, then the model card, before any statistic
    assert (page.index(f"Verdict: {content['verdict']}") < page.index("id='findings'")
            < page.index("id='model-card'") < page.index("id='discrimination'"))
    findings = pd.DataFrame(content["findings"]["ranked"])
    order = {"high": 0, "medium": 1, "low": 2}
    assert findings["severity"].map(order).is_monotonic_increasing
    # this loan book has 7 test rows seen in training, an effect against its declared
    # direction (income), no dates, and more declines than not
    assert {"test_rows_seen", "effects_reversed", "out_of_time"} <= set(findings["check"])
    assert content["verdict"] == "not fit"  # a reversed effect is high
    for row in findings.itertuples():  # each links to its section and says what to do
        assert f"href='#{row.section}'" in page and row.action
    card = pd.DataFrame(content["tables"]["model_card"]).set_index("item")["value"]
    assert card["default definition"].startswith("defaulted = 'Y' (bad), against every other")
    assert "300 applicants" in card["development sample"]
    provenance = pd.DataFrame(content["tables"]["provenance"]).set_index("item")["value"]
    # the data the version was developed on, as it recorded them, not today's file
    assert provenance["data: applicants"] == (f"data/01_raw/loans.csv sha256 {'ab' * 32} "
                                              "(123,456 bytes)")
    assert "scikit-learn" in provenance["packages"] and "seed" in provenance["seeds"]
    assert provenance["MLflow run"] == MlflowClient().get_model_version_by_alias(
        "test_pd", "champion").run_id
    assert any("No out-of-time sample" in note for note in content["limitations"])
    assert "href='data_card.md'" in page and (folder / "data_card.md").exists()
    for role in ("prepared by", "approved by"):
        assert role in page


def test_band_edges_are_whole_scores_and_the_gains_table_has_a_heading(validated):
    catalog, folder = validated
    bands = catalog.load("validation.score_band_table")
    assert bands["scores"].str.fullmatch(r"(< \d+|\d+ to < \d+|>= \d+)").all()
    assert "<caption>Gains by PD decile (test)" in (folder / "validation_report.html").read_text()


def test_test_auc_is_that_of_the_raw_rows_scored_by_the_model_with_an_interval(validated):
    catalog, _ = validated
    scores = catalog.load("validation.test_scores")
    table = catalog.load("validation.discrimination_table").set_index("sample")
    test = table.loc["test"]
    assert test["auc"] == pytest.approx(roc_auc_score(scores["bad"], scores["pd"]))
    assert test["auc_low"] < test["auc"] < test["auc_high"]
    assert test["gini"] == pytest.approx(2 * test["auc"] - 1)
    assert test["ks_low"] <= test["ks"] <= test["ks_high"]
    assert table.loc["train (out-of-fold)", "applicants"] == len(
        MlflowModelVersionDataset(registered_model_name="test_pd").load()["oof_predictions"])


def test_every_score_band_has_a_jeffreys_light_and_counts_that_add_up(validated):
    catalog, _ = validated
    bands = catalog.load("validation.score_band_table")
    scores = catalog.load("validation.test_scores")
    test = bands[bands["sample"] == "test"]
    assert test["applicants"].sum() == len(scores) and test["bads"].sum() == scores["bad"].sum()
    assert set(bands["light"]) <= {"green", "amber", "red"}
    assert set(bands["pd_vs_interval"]) <= {"within", "PD above (conservative)", "PD below"}
    below = bands["pd_vs_interval"] == "PD below"
    assert (bands.loc[below, "mean_pd"] < bands.loc[below, "dr_low"]).all()
    assert test["scores"].iloc[0].startswith("< ") and test["scores"].iloc[-1].startswith(">= ")
    assert ((test["dr_low"] <= test["default_rate"]) & (test["default_rate"] <= test["dr_high"])).all()


def test_stability_covers_the_score_and_every_feature(validated, thresholding_outputs):
    catalog, _ = validated
    _, _, schema = thresholding_outputs
    table = catalog.load("validation.stability_table")
    assert table["kind"].tolist().count("PSI") == 1
    assert set(table.loc[table["kind"] == "CSI", "variable"]) == set(
        schema["numeric"] + schema["categorical"])


def test_the_challenger_is_compared_on_the_same_rows_and_its_scorecard_is_a_csv(validated):
    catalog, folder = validated
    table = catalog.load("validation.challenger_table").set_index(["sample", "model"])
    scores = catalog.load("validation.test_scores")
    test = table.loc["test"]
    assert test.loc["champion", "auc"] == pytest.approx(roc_auc_score(scores["bad"], scores["pd"]))
    difference = test.loc["champion - challenger"]
    assert difference["auc"] == pytest.approx(test.loc["champion", "auc"]
                                              - test.loc["challenger", "auc"])
    assert difference["low"] < difference["auc"] < difference["high"]
    assert (test["low"] < test["auc"]).all()
    # the in-memory champion's out-of-fold PDs are of these training rows: a paired test
    assert 0 <= table.loc[("train (out-of-fold)", "champion - challenger"), "p_value"] <= 1
    scorecard = pd.read_csv(folder / "challenger_scorecard.csv")
    assert {"Variable", "Bin", "WoE", "IV", "Points"} <= set(scorecard.columns)
    assert scorecard.groupby("Variable")["Count"].sum().nunique() == 1  # every class counted


def test_a_feature_whose_effect_runs_against_its_declared_direction_is_flagged(validated):
    catalog, folder = validated
    effects = catalog.load("validation.effects_table").set_index("feature")
    assert set(effects.index) == set(EXPECTED_EFFECTS)
    assert effects.loc["loan_to_income", "status"] == "as expected"
    assert effects.loc["loan_to_income", "rho"] > 0.5
    assert effects.loc["income", "status"] == "reversed"  # more income, lower PD
    assert not effects["constrained"].any()  # the forest cannot be constrained
    dependence = catalog.load("validation.dependence")["loan_to_income"]
    assert dependence["value"] == sorted(dependence["value"])


def test_the_latest_scoring_batch_is_compared_only_when_this_version_scored_it(
        validated, thresholding_outputs, project_params):
    catalog, _ = validated
    _, _, schema = thresholding_outputs
    version = catalog.load("champion@version")
    args = (version, catalog.load("model_input_test"), catalog.load("validation.test_scores"),
            schema)
    params = project_params["validation"]
    assert "No scoring batch yet" in catalog.load("validation.latest_batch_note")
    batch = pd.DataFrame({"variable": ["score", "income"], "psi": [0.31, 0.02],
                          "status": ["shift", "stable"], "model_run_id": version["run_id"]})
    table, note = stability(*args, batch, params)
    compared = table.set_index("variable")
    assert compared.loc["score", "latest_batch_index"] == 0.31
    assert compared.loc["income", "latest_batch_status"] == "stable"
    assert "scored by this version" in note
    table, note = stability(*args, batch.assign(model_run_id="another-run"), params)
    assert "latest_batch_index" not in table and "another-run" in note


def test_dearer_bads_lower_the_cut_off(validated):
    catalog, _ = validated
    scenarios = catalog.load("validation.cost_scenarios").set_index("accept_bad_cost_change")
    assert scenarios.loc[0.5, "cutoff"] <= scenarios.loc[0.0, "cutoff"] <= scenarios.loc[
        -0.5, "cutoff"]
    reasons = catalog.load("validation.principal_reasons")
    scores = catalog.load("validation.test_scores")
    assert reasons["declined_applicants"].sum() == (scores["decision"] == "decline").sum()


@pytest.mark.integration
def test_the_report_reads_in_a_real_browser_offline_without_console_errors(validated, tmp_path):
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    _, folder = validated
    chromium = shutil.which("chromium")
    assert chromium, "headless Chromium is needed: apt-get install -y chromium (.ci/run does it)"
    problems, requests = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})  # a laptop's width
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("request", lambda r: None if r.url.startswith("file:") else requests.append(r.url))
        page.goto((folder / "validation_report.html").as_uri())
        for section in SECTIONS:
            assert page.locator(f"section#{section} h2").is_visible()
        screen = page.locator("section#fairness table").first
        assert screen.is_visible() and "adverse_impact_ratio" in screen.inner_text()
        assert page.locator("figure svg").count() >= 7
        # nothing wider than the window: every chart and table reads without scrolling sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        page.screenshot(path=str(tmp_path / "report.png"))
        # a phone (390 px): the page never scrolls sideways, wide tables scroll in their box
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator("section#findings .scroll table").count() == 1
        # printed on A4 (186 mm between the margins at 96 px per inch): no table is cut
        page.set_viewport_size({"width": 703, "height": 1000})
        page.emulate_media(media="print")
        cut = page.evaluate("""[...document.querySelectorAll('table, figure svg')]
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .length""")
        assert cut == 0
        browser.close()
    assert problems == [] and requests == []


def test_the_pdf_beside_the_report_holds_every_section_on_a4(validated):
    from pypdf import PdfReader  # noqa: PLC0415

    _, folder = validated
    reader = PdfReader(folder / "validation_report.pdf")
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)  # A4, in mm
    text = "".join("".join(unicodedata.normalize("NFKC", page.extract_text()).split())
                   for page in reader.pages)
    content = json.loads((folder / "validation_report.json").read_text())
    for title in (f"Verdict: {content['verdict']}", "Model and data card", "Discrimination",
                  "Calibration", "Stability", "Feature effects", "Challenger", "Decisions",
                  "Reasons", "Fairness screen", "Data quality", "Sign-off", "approved by"):
        assert "".join(title.split()) in text, title


def test_the_re_chosen_cut_offs_keep_the_models_approval_constraint(validated, project_params):
    catalog, _ = validated
    version = catalog.load("champion@version")
    scorer = version["model"]
    scorer.policy = scorer.policy.model_copy(
        update={"constraints": Constraints(min_approval_rate=0.9)})
    scenarios, _, _ = decision_sensitivity(version, catalog.load("validation.test_scores"),
                                           project_params["validation"])
    oof = version["oof_predictions"]
    for cutoff in scenarios.loc[scenarios["accept_bad_cost_change"] != 0, "cutoff"]:
        assert (oof["pd"] < cutoff).mean() >= 0.9


def test_the_data_quality_findings_of_the_split_are_in_the_report(validated):
    _, folder = validated
    rows = json.loads((folder / "validation_report.json").read_text())["tables"]["data_quality"]
    assert rows[0]["result"] == "7 of 100 (7.0%)" and "optimistic" in rows[0]["meaning"]
    assert rows[1] == {"check": "features dropped as empty or constant", "result": "1",
                       "meaning": "branch: constant: 'north' on every training row"}


def test_the_fairness_screen_gives_each_protected_groups_outcomes_on_test_and_out_of_fold(
        validated):
    catalog, folder = validated
    content = json.loads((folder / "validation_report.json").read_text())
    screen = pd.DataFrame(content["tables"]["fairness"])
    assert set(screen["sample"]) == {"test", "train (out-of-fold)"}
    assert set(screen["attribute"]) == {"region", "income"}
    assert set(screen.loc[screen["attribute"] == "income", "group"]) <= {
        "< 20000", "20000 to < 30000", ">= 30000", "missing"}
    # test approval rates, recomputed from the scored test applicants
    scored = catalog.load("validation.test_scores")
    region = catalog.load("model_input_test")["region"].astype(object).fillna("missing")
    approval = (scored["decision"] == "accept").groupby(region.to_numpy()).mean()
    test = screen[(screen["sample"] == "test") & (screen["attribute"] == "region")]
    for row in test[test["status"] != "too small to test"].itertuples():
        assert row.approval_rate == pytest.approx(approval[row.group])
        assert row.adverse_impact_ratio == pytest.approx(
            row.approval_rate / test["approval_rate"].max())
    assert (test["status"] == "too small to test").any()  # 'missing' holds 2 or 3 applicants
    # the findings read the model's own contract: this champion was trained without any
    findings = " ".join(content["findings"]["reasons"])
    assert "No protected attribute, nor a feature built from one, is a model feature " \
           "(policy exclude: [])" in findings
    examples = pd.DataFrame(content["tables"]["example_declines"])
    assert examples["code"].notna().all() and examples["statement"].notna().all()
