"""The WoE scorecard as champion, from the user's side: where policy requires a scorecard
(thresholding.eligible), thresholding registers it, its reasons are the points lost against
each attribute's maximum, and its validation report sets the best complex candidate against
it and shows its points table. (Its deployment paths: tests/test_deployment.py.)"""

import json

import mlflow
import numpy as np
import pandas as pd
import pytest

from credit_scoring.data.schema import not_cited
from credit_scoring.decisions import scorer_of
from credit_scoring.models.scorecard import points_table

from .conftest import SCORECARD, tracking_client

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def registered(scorecard_champion):
    """(project, version, the version's tags, its PDScorer loaded from the registry)."""
    project, version, folder = scorecard_champion
    tags = tracking_client(project).get_model_version("credit_scoring_pd", version).tags
    return project, version, tags, scorer_of(mlflow.pyfunc.load_model(str(folder)))


def test_policy_can_require_a_scorecard_and_the_ranking_says_who_was_eligible(registered):
    project, version, tags, _ = registered
    # the forest it replaces is not eligible any more: a policy change, not a CV contest
    assert tags["champion_decision"].startswith("promoted to champion")
    assert "thresholding.eligible" in tags["champion_decision"]
    aliases = tracking_client(project).get_registered_model("credit_scoring_pd").aliases
    assert str(aliases["champion"]) == version
    assert "Not eligible (thresholding.eligible)" in tags["selection_reason"]
    ranking = pd.read_csv(project / "data/08_reporting/thresholding/candidate_ranking.csv")
    assert ranking.loc[ranking["chosen"], "candidate"].tolist() == [SCORECARD]
    assert ranking.loc[ranking["eligible"], "candidate"].tolist() == [SCORECARD]
    assert len(ranking) > 5  # every candidate still ranked, so still a challenger
    assert tags["complexity"] == "2"
    assert "among thresholding.eligible" in tags["selection_reason"]
    challengers = json.loads((project / "data/06_models/thresholding/challengers.json")
                             .read_text())
    best_complex = ranking[ranking["complexity"] >= 3].iloc[0]["candidate"]
    assert challengers["complex"]["candidate"] == best_complex
    assert challengers["simpler"]["candidate"] == SCORECARD


def test_a_scorecards_reasons_are_the_attributes_that_lost_most_points(registered):
    """Read off the points table as a loan officer would: per attribute, its maximum minus
    the points of the applicant's class; the first reason is the largest loss."""
    project, _, _, scorer = registered
    assert set(scorer.baselines["reasons"]["contribution"].values()) == {0.0}
    raw = pd.read_csv(project / "data/01_raw/germancredit.csv").drop(columns="creditability")
    scored = scorer.score(raw.head(300))
    declined = (scored["decision"] == "decline").to_numpy()
    rows = scorer.prepare(raw.head(300))[declined]
    table = points_table(scorer.estimator, scorer.policy.scaling, scorer.calibrator)
    populated = table[table["Count"] > 0]  # the classes development applicants fell in
    card = scorer.estimator
    woe = card.woe(rows)
    cited = set(scorer.features) - set(not_cited(scorer.feature_schema))
    lost = pd.DataFrame({
        entry["name"]: table.loc[table["Variable"] == entry["name"], "Points"].max()
        - populated[populated["Variable"] == entry["name"]].set_index("WoE")["Points"].loc[
            woe[:, j]].to_numpy()
        for j, entry in enumerate(card.attributes_) if entry["name"] in cited})
    codes = {name: s.code for name, s in scorer.policy.statements.attributes.items()}
    expected = np.where(lost.max(axis=1) > 1e-9, lost.idxmax(axis=1).map(codes), "NSF")
    assert declined.sum() > 50
    assert (scored.loc[declined, "reason_1_code"].to_numpy() == expected).all()


def test_the_scorecards_report_has_its_points_table_and_a_complex_challenger(registered):
    project, version, tags, scorer = registered
    folder = project / "data/08_reporting/validation"
    report = json.loads((folder / "validation_report.json").read_text())
    assert report["title"].endswith(f"version {version}")
    challenger = pd.DataFrame(report["tables"]["challenger"])
    test = challenger[challenger["sample"] == "test"].set_index("model")
    assert test.loc["champion", "candidate"] == SCORECARD
    assert test.loc["challenger", "complexity"] >= 3
    card = pd.read_csv(folder / "challenger_scorecard.csv")
    assert set(card["Variable"]) == {e["name"] for e in scorer.estimator.attributes_}
    html = (folder / "validation_report.html").read_text()
    assert f"Challenger: {test.loc['challenger', 'candidate']}" in html
    assert "its points table follows" in html
    checks = {f["check"] for f in report["findings"]["ranked"]}
    assert not checks & {"challenger_tie", "challenger_better"}  # no simpler model than it
    assert tags["validation_verdict"] in ("fit for use", "fit with findings", "not fit")
    # the credit committee's page carries the points table too
    decision = (project / "data/08_reporting/thresholding/decision.md").read_text()
    assert "## Points table" in decision and card["Variable"].iloc[0] in decision
