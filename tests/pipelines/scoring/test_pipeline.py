"""scoring in memory: raw applicants -> the champion's PD, score, band, decision, reasons; drift."""

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from credit_scoring.data.schema import ApplicantDataError, validate_scoring
from credit_scoring.decisions.scorer import scorer_of
from credit_scoring.io.registry import MlflowChampionDataset
from credit_scoring.pipelines.feature_engineering import features_to_score
from credit_scoring.pipelines.scoring import create_pipeline
from credit_scoring.validation.stability import psi, psi_from_baseline
from tests.conftest import KeptDataset, make_loan_book

SCORING = {"psi": {"watch": 0.1, "alarm": 0.25}}
REASONS = [f"reason_{k}_code" for k in range(1, 5)]


@pytest.fixture
def new_applicants(thresholding_outputs):
    """The synthetic loan book's test applicants as raw rows without target, one region unseen."""
    _, test, _ = thresholding_outputs
    raw = make_loan_book().loc[test.index].drop(columns="defaulted")
    raw.loc[raw.index[:4], "region"] = "atlantis"
    return raw


@pytest.fixture
def champion(thresholding_outputs, tracking_store):
    catalog, _, _ = thresholding_outputs
    dataset = MlflowChampionDataset(registered_model_name="test_pd")
    dataset.save(catalog.load("champion@registry"))
    return dataset.load()


def run_scoring(champion, applicants):
    """The scoring pipeline, as registered, with nothing but the model, the rows (no related
    tables: the loan book is one table) and the PSI thresholds."""
    pipeline = features_to_score() + create_pipeline()
    scoring_catalog = DataCatalog(
        datasets={
            "applicants_to_score": MemoryDataset(applicants),
            "related_tables_to_score": MemoryDataset({}),
            "scoring_model": MemoryDataset(champion, copy_mode="assign"),
            "params:scoring": MemoryDataset(SCORING),
            **{name: KeptDataset(copy_mode="assign") for name in pipeline.all_outputs()},
        }
    )
    SequentialRunner().run(pipeline, scoring_catalog)
    return scoring_catalog


def test_new_applicants_get_pd_score_decision_and_reasons(champion, new_applicants,
                                                          thresholding_outputs):
    catalog, _, schema = thresholding_outputs
    scored = run_scoring(champion, new_applicants).load("scored_applicants")
    assert list(scored.columns) == ["loan_id", "pd", "score", "band", "decision",
                                    *[f"reason_{k}_{part}" for k in range(1, 5)
                                      for part in ("code", "text", "value")]]
    assert scored["loan_id"].tolist() == new_applicants["loan_id"].tolist()
    cutoff = catalog.load("thresholding.cutoff")["cutoff"]
    assert ((scored["pd"] >= cutoff) == (scored["decision"] == "decline")).all()
    declined = scored[scored["decision"] == "decline"]
    assert declined["reason_1_code"].notna().all()  # every decline is explained
    assert scored.loc[scored["decision"] == "accept", "reason_1_code"].isna().all()
    codes = {s.code for s in scorer_of(champion).policy.statements.attributes.values()}
    assert set(declined[REASONS].stack().dropna()) <= codes | {"NSF"}


def test_a_batch_without_declines_gets_empty_reason_columns(champion, new_applicants,
                                                             thresholding_outputs):
    _, _, schema = thresholding_outputs
    first = run_scoring(champion, new_applicants).load("scored_applicants")
    accepted = new_applicants[(first["decision"] == "accept").to_numpy()]
    scored = run_scoring(champion, accepted).load("scored_applicants")
    assert (scored["decision"] == "accept").all()
    assert scored[REASONS].isna().all().all()


def test_a_category_blank_in_every_new_row_stays_a_category(champion, new_applicants,
                                                            thresholding_outputs):
    blank = new_applicants.assign(region=np.nan)  # read from CSV, an empty column is float
    scored = run_scoring(champion, blank).load("scored_applicants")
    assert scored["pd"].between(0, 1).all()


def test_unseen_categories_are_scored_and_counted(champion, new_applicants, thresholding_outputs):
    outputs = run_scoring(champion, new_applicants)
    unseen = outputs.load("scoring.unseen_categories_report")
    assert unseen.to_dict("records") == [{"column": "region", "value": "atlantis", "applicants": 4}]
    assert outputs.load("scored_applicants")["pd"].notna().all()


def test_drift_report_covers_the_score_and_every_feature(champion, new_applicants,
                                                         thresholding_outputs, caplog):
    catalog, _, schema = thresholding_outputs
    shifted = new_applicants.assign(loan_amount=new_applicants["loan_amount"] * 3)
    outputs = run_scoring(champion, shifted)
    report = outputs.load("scoring.population_stability_report").set_index("variable")
    assert report.index[0] == "score"
    # the baselines travel inside the model: its development sample's score and features
    baselines = scorer_of(champion).baselines
    assert sum(baselines["score"]["shares"]) == pytest.approx(1)
    assert psi_from_baseline(baselines["score"],
                             catalog.load("thresholding.oof_predictions")["score"]) == 0
    train = catalog.load("model_input_train")
    assert psi_from_baseline(baselines["features"]["region"], train["region"]) == 0
    assert set(report.index[1:]) == set(schema["numeric"]) | set(schema["categorical"])
    assert report.loc["loan_amount", "status"] == "shift"
    assert set(report["model_run_id"]) == {champion.metadata.run_id}  # what validation joins on
    assert "Population shift (PSI > 0.25) in" in caplog.text and "loan_amount" in caplog.text
    metrics = outputs.load("scoring.psi_metrics")
    assert metrics["loan_amount"]["value"] == pytest.approx(report.loc["loan_amount", "psi"])


def test_psi_is_zero_for_the_same_population_and_large_for_a_shifted_one():
    rng = np.random.default_rng(0)
    train = pd.Series(rng.normal(0, 1, 20_000))
    assert psi(train, pd.Series(rng.normal(0, 1, 20_000))) < 0.01
    assert psi(train, train) == pytest.approx(0, abs=1e-12)
    assert psi(train, pd.Series(rng.normal(1, 1, 20_000))) > 0.25
    levels = pd.Series(rng.choice(["a", "b", "c"], 5_000))
    assert psi(levels, levels.sample(frac=1, random_state=1)) == pytest.approx(0, abs=1e-12)
    assert psi(levels, pd.Series(["d"] * 5_000)) > 1  # all applicants in an unseen level


def test_scoring_input_with_a_missing_column_names_it(new_applicants, thresholding_outputs):
    _, _, schema = thresholding_outputs
    with pytest.raises(ApplicantDataError, match=r"\['income'\] are missing"):
        validate_scoring(new_applicants.drop(columns="income"), schema)


def test_scoring_input_with_a_wrong_type_names_column_and_value(new_applicants,
                                                                thresholding_outputs):
    _, _, schema = thresholding_outputs
    bad = new_applicants.astype({"term_months": object})
    bad.loc[bad.index[0], "term_months"] = "five years"
    with pytest.raises(ApplicantDataError, match=r"column 'term_months'.*five years"):
        validate_scoring(bad, schema)


def test_an_empty_scoring_file_is_refused(new_applicants, thresholding_outputs):
    _, _, schema = thresholding_outputs
    with pytest.raises(ApplicantDataError, match="empty"):
        validate_scoring(new_applicants.iloc[:0], schema)


def test_without_an_id_column_every_scored_row_carries_its_input_row(champion, new_applicants):
    applicants = new_applicants.drop(columns="loan_id").reset_index(drop=True)
    scored = run_scoring(champion, applicants).load("scored_applicants")
    assert scored.columns[0] == "input_row"
    assert scored["input_row"].tolist() == list(range(len(applicants)))
