"""The registry gate, as a user meets it: a deliberately bad version (a shuffled target) on a
trained copy of the default project is registered and validated, and only the gate keeps it
from the champion; under `warn` it takes the champion, carrying its verdict."""

import json

import numpy as np
import pandas as pd
import pytest

from .conftest import kedro_run_in_process, tracking_client, trained_copy, write_yaml

MODEL = "credit_scoring_pd"
OOF_TABLES = ("data/05_model_input/model_input_train.parquet",
              "data/06_models/baselines/oof_predictions.parquet",
              "data/06_models/model_comparison/oof_predictions.parquet",
              "data/06_models/tuning/oof_predictions.parquet")


def shuffle_the_target(project) -> None:
    """The training target permuted (seeded) in the model input and, identically, in every
    candidate stage's out-of-fold table: thresholding ranks and refits on labels that carry
    no signal, on the same rows and folds."""
    train = pd.read_parquet(project / OOF_TABLES[0])
    shuffled = pd.Series(np.random.default_rng(7).permutation(train["creditability"].to_numpy()),
                         index=train.index)
    for path in OOF_TABLES:
        table = pd.read_parquet(project / path)
        table["creditability"] = shuffled.loc[table.index]
        table.to_parquet(project / path)


def aliases(project) -> dict[str, str]:
    client = tracking_client(project)
    return {alias: str(version) for alias, version
            in client.get_registered_model(MODEL).aliases.items()}


@pytest.mark.integration
def test_a_version_validated_not_fit_does_not_take_the_champion_unless_the_gate_warns(
        default_run, tmp_path, caplog):
    project = trained_copy(default_run, tmp_path / "project")
    before = aliases(project)
    record = (project / "data/06_models/champion/champion.json").read_text()
    shuffle_the_target(project)
    # the other rules let it through: to the fold fingerprint (which hashes the labels)
    # shuffled labels are other folds, which a reviewer may accept (on_other_folds:
    # promote); then neither the fingerprint nor the CV comparison refuses it
    write_yaml(project / "conf/local/parameters.yml",
               {"thresholding": {"champion": {"on_other_folds": "promote"}}})
    assert kedro_run_in_process(project, "thresholding", "validation") is None
    client = tracking_client(project)
    bad = max(client.search_model_versions(f"name='{MODEL}'"), key=lambda v: int(v.version))
    assert bad.tags["champion_decision"].startswith("promoted to champion")  # CV let it by
    assert bad.tags["credit_scoring.promotion"] == "validated"  # gated once, never again
    assert bad.tags["validation_verdict"] == "not fit"
    assert aliases(project) == {**before, "challenger": str(bad.version)}  # champion unchanged
    assert "verdict not fit: the champion stays" in bad.tags["validation_gate"]
    assert (project / "data/06_models/champion/champion.json").read_text() == record
    report = json.loads((project / "data/08_reporting/validation/validation_report.json")
                        .read_text())
    assert report["verdict"] == "not fit" and report["registry"]["alias"] == "challenger"
    assert "auc_lower_bound" in {row["check"] for row in report["findings"]["ranked"]}
    page = (project / "data/08_reporting/validation/validation_report.html").read_text()
    assert "<p class='alarm'>verdict not fit: the champion stays" in page
    assert any(r.levelname == "ERROR" and "the champion stays" in r.getMessage()
               for r in caplog.records)  # red in the console

    # validated again, the challenger stays where the gate put it: only the version
    # awaiting validation is gated
    assert kedro_run_in_process(project, "validation",
                                params={"validation": {"model_version": bad.version}}) is None
    assert aliases(project) == {**before, "challenger": str(bad.version)}

    # under warn the next such version takes the champion, and carries its verdict
    write_yaml(project / "conf/local/parameters.yml",
               {"thresholding": {"champion": {"on_other_folds": "promote"}},
                "validation": {"gate": "warn"}})
    assert kedro_run_in_process(project, "thresholding", "validation") is None
    taken = max(client.search_model_versions(f"name='{MODEL}'"), key=lambda v: int(v.version))
    assert aliases(project)["champion"] == str(taken.version) != str(bad.version)
    assert taken.tags["validation_verdict"] == "not fit"
    assert "(validation.gate: warn)" in taken.tags["validation_gate"]
    assert str(json.loads((project / "data/06_models/champion/champion.json").read_text())[
        "version"]) == str(taken.version)
