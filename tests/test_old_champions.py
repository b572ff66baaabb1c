"""Old champions keep working after the package was regrouped (credit_scoring.MOVED).

``fixtures/wave2_champion`` is a model version registered by the wave-2 code, before any
module moved (``fixtures/make_wave2_champion.py``): a blend (family
``credit_scoring.blend.BlendedPD``) of a logistic regression (``CategoryOneHot``) and an
XGBoost (``NativeCategories``), Platt-calibrated (``PDCalibrator``), with its decision policy.
Each way a deployment loads a champion is tried in a fresh Python process, as a server or a
batch job would, and must score 20 raw applicants as the old code did.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import skops.io
from kedro.utils import load_obj

from credit_scoring.io.hub import file_sha256, write_manifest
from credit_scoring.models.model_files import untrusted_skops_types
from tests.conftest import HUB_COMMIT, cache_folder

FIXTURES = Path(__file__).parent / "fixtures"
MODEL = FIXTURES / "wave2_champion"
APPLICANTS = FIXTURES / "wave2_champion.applicants.csv"
EXPECTED = FIXTURES / "wave2_champion.expected.csv"
REPO = "credit-scoring/wave2-champion"
OLD_PACKAGE = MODEL / "code" / "credit_scoring"  # the wave-2 package, as the model bundled it
REMOVED = {
    "credit_scoring.decisions.scorecard_points": "decisions.ScoreScaling(...).points(pd)",
    "credit_scoring.parameters.Scorecard": "decisions.ScoreScaling",
    # the WoE scorecard became an estimator (a candidate and the validator's challenger)
    "credit_scoring.parameters.Challenger": "the scorecard candidate's params (baselines)",
    "credit_scoring.scorecard.fit_scorecard": "models.scorecard.WoEScorecard(...).fit(X, y)",
    "credit_scoring.scorecard.scorecard_pd": "WoEScorecard.predict_proba(X)[:, 1]",
    "credit_scoring.scorecard.scorecard_table": "models.scorecard.points_table(card, scale)",
    "credit_scoring.scorecard.cross_fitted_challenger": "a baselines candidate, cross-validated",
}
"""Public names of wave 2 that were renamed, not moved (docs/development.md says how to migrate)."""

SCORE = """
import sys
from pathlib import Path

import pandas as pd

how, where, applicants, out = sys.argv[1:]
rows = pd.read_csv(applicants)
if how == "mlflow":  # MLflow's own loader: runs the model's bundled pd_model.py and code/
    import mlflow
    model = mlflow.pyfunc.load_model(where)
elif how == "code-free":  # the installed package rebuilds it from the model's data files
    from credit_scoring.decisions import load_code_free
    model = load_code_free(Path(where))
else:  # a Hub release: pinned, checked against SHA256SUMS, loaded code-free
    from credit_scoring.io.hub import download, load_model
    cache, repo, revision, sha256 = where.split("|")
    model = load_model(download(repo, revision, None, sha256=sha256, cache_dir=cache))
model.predict(rows).to_csv(out, index=False)
"""


def score_in_fresh_process(how: str, where: str, tmp_path: Path) -> pd.DataFrame:
    out = tmp_path / f"{how}.csv"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", SCORE, how, where, str(APPLICANTS), str(out)],
                            capture_output=True, text=True, env=env, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    return pd.read_csv(out)


@pytest.fixture
def model_copy(tmp_path) -> Path:
    """The registered version's folder, copied (loading it compiles its bundled code)."""
    return Path(shutil.copytree(MODEL, tmp_path / "model"))


def hub_release(model: Path, tmp_path: Path) -> str:
    """The model published as a release and cached as if downloaded:
    ``cache|repo|revision|sha256``."""
    release = tmp_path / "release"
    shutil.copytree(model, release / "model")
    manifest = write_manifest(release)
    cache = tmp_path / "hf_cache"
    cache_folder(cache, REPO, release)
    # the release is pinned by its revision and by the checksum of its SHA256SUMS
    return f"{cache}|{REPO}|{HUB_COMMIT}|{file_sha256(manifest)}"


@pytest.mark.integration
@pytest.mark.parametrize("how", ["mlflow", "code-free", "hub"])
def test_a_champion_registered_before_the_move_loads_and_scores_as_it_did(how, model_copy,
                                                                          tmp_path):
    where = hub_release(model_copy, tmp_path) if how == "hub" else str(model_copy)
    scored = score_in_fresh_process(how, where, tmp_path)
    expected = pd.read_csv(EXPECTED)
    pd.testing.assert_series_equal(scored["pd"], expected["pd"], rtol=1e-12, atol=1e-12)
    for column in ("input_row", "score", "band", "decision"):
        pd.testing.assert_series_equal(scored[column], expected[column])
    declined = scored["decision"] == "decline"
    assert declined.sum() > 0
    if how == "mlflow":  # its bundled wave-2 code: the reasons it gave then, exactly
        assert list(scored.columns) == list(expected.columns)
        for column in expected.columns.drop("pd"):
            pd.testing.assert_series_equal(scored[column], expected[column])
    else:  # the installed package: today's reasons (codes and readable names: it has no
        # reason dictionary, no approved-applicant reference; measured from its own average)
        assert list(scored.columns[5:]) == [f"reason_{k}_{part}" for k in (1, 2, 3)
                                            for part in ("code", "text", "value")]
        assert scored.loc[declined, "reason_1_code"].notna().all()
        assert scored.loc[declined, "reason_1_text"].notna().all()


def test_the_fixture_is_a_wave2_model_with_the_old_names():
    """What the test above proves depends on the fixture naming the old paths."""
    assert "family: credit_scoring.blend.BlendedPD" in (MODEL / "MLmodel").read_text()
    old_names = {name for file in MODEL.rglob("*.skops")
                 for name in skops.io.get_untrusted_types(file=file)}
    assert {"credit_scoring.calibration.PDCalibrator", "credit_scoring.estimators.CategoryOneHot",
            "credit_scoring.estimators.NativeCategories"} <= old_names
    assert all(untrusted_skops_types(file) == [] for file in MODEL.rglob("*.skops"))


@pytest.mark.parametrize(("old", "new"), [
    ("credit_scoring.datasets.ApplicantCSVDataset", "credit_scoring.io.datasets"),
    ("credit_scoring.datasets.RelatedTablesDataset", "credit_scoring.io.datasets"),
    ("credit_scoring.datasets.OptionalDataset", "credit_scoring.io.datasets"),
    ("credit_scoring.tracking.MlflowCandidateRunsDataset", "credit_scoring.io.tracking"),
    ("credit_scoring.tracking.MlflowChampionDataset", "credit_scoring.io.registry"),
    ("credit_scoring.tracking.MlflowModelVersionDataset", "credit_scoring.io.registry"),
    ("credit_scoring.tracking.ValidationReportDataset", "credit_scoring.io.registry"),
    ("credit_scoring.optuna_storage.OptunaStorageDataset", "credit_scoring.io.optuna_storage"),
    ("credit_scoring.hub.HubModelDataset", "credit_scoring.io.hub"),
    ("credit_scoring.hub.main", "credit_scoring.io.hub"),
    ("credit_scoring.calibration.PDCalibrator", "credit_scoring.models.calibration"),
    ("credit_scoring.estimators.CategoryOneHot", "credit_scoring.models.encoders"),
    ("credit_scoring.families.FAMILIES", "credit_scoring.models.families"),
])
def test_a_catalog_or_entry_point_written_before_the_move_finds_the_same_object(old, new):
    """A team's conf/local catalog names ``type: credit_scoring.datasets...``: Kedro loads it
    with load_obj, which must give the class that now lives in ``new``."""
    name = old.rsplit(".", 1)[1]
    assert load_obj(old) is getattr(__import__(new, fromlist=[name]), name)


def old_public_names() -> list[str]:
    """Every public module-level name of the wave-2 package's root modules."""
    names = []
    for module in sorted(OLD_PACKAGE.glob("*.py")):
        if module.stem in ("__init__", "__main__"):
            continue
        for node in ast.parse(module.read_text()).body:
            targets = ([node.name] if isinstance(node, ast.FunctionDef | ast.ClassDef) else
                       [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)])
            names += [f"credit_scoring.{module.stem}.{name}" for name in targets
                      if not name.startswith("_")]
    return names


def test_every_public_name_of_the_old_package_resolves_or_is_listed_as_renamed():
    names = old_public_names()
    assert len(names) > 150  # the walk found the old package
    unresolved = []
    for name in names:
        try:
            load_obj(name)
        except (ImportError, AttributeError):
            unresolved.append(name)
    assert sorted(unresolved) == sorted(REMOVED)
