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
    project, _, tags, _ = registered
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
    project, _, _, scorer = registered
    assert set(scorer.baselines["reasons"]["contribution"].values()) == {0.0}
    raw = pd.read_csv(project / "data/01_raw/germancredit.csv").drop(columns="creditability")
    scored = scorer.score(raw.head(300))
    declined = scored["decision"] == "decline"
    model_input = scorer.prepare(raw.head(300))[declined.to_numpy()]
    # points lost per attribute, from the points table a loan officer reads
    table = points_table(scorer.estimator, scorer.policy.scaling, scorer.calibrator)
    lost = pd.DataFrame(scorer.estimator.contributions(model_input[scorer.features]),
                        columns=scorer.features, index=model_input.index)
    citable = [c for c in lost.columns if c not in not_cited(scorer.feature_schema)]
    top = lost[citable].idxmax(axis=1)
    codes = {name: s.code for name, s in scorer.policy.statements.attributes.items()}
    expected = np.where(lost[citable].max(axis=1) > 0, top.map(codes), "NSF")
    assert (scored.loc[declined, "reason_1_code"].to_numpy() == expected).all()
    best = table.groupby("Variable")["Points"].max()
    assert set(best.index) <= set(scorer.features)


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
