"""Shared fixtures: the project's own parameters, synthetic applicant tables, project copies."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.config import OmegaConfigLoader
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from mlflow.tracking import MlflowClient
from mlflow.tracking._model_registry import utils as mlflow_registry_utils
from mlflow.tracking._tracking_service import utils as mlflow_tracking_utils

from credit_scoring.models.estimators import build_estimator
from credit_scoring.models.evaluation import fit_and_evaluate
from credit_scoring.pipelines.data_processing.nodes import (
    add_domain_features,
    clean_applicants,
    split_train_test,
)
from credit_scoring.pipelines.thresholding import create_pipeline as thresholding_pipeline

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures"
# set by mlflow.set_tracking_uri / set_registry_uri for subprocesses to inherit
MLFLOW_URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


@pytest.fixture(scope="session")
def project_params() -> dict:
    """The parameters exactly as `kedro run` sees them (conf/base only)."""
    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")
    return loader["parameters"]


@pytest.fixture
def german_raw() -> pd.DataFrame:
    return pd.read_csv(PROJECT_ROOT / "data" / "01_raw" / "germancredit.csv")


def make_loan_book(n_rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """A synthetic applicant table unlike the German data: other target name, labels and columns.

    Default risk rises with the loan-to-income ratio and in region 'north', so a model
    has something real to learn; a few values are missing or blank, product codes are
    integers that must be treated as categories.
    """
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.4, n_rows).round(-1)
    loan = rng.uniform(1_000, 40_000, n_rows).round(-2)
    term = rng.choice([12, 24, 36, 60], n_rows)
    region = rng.choice(["north", "south", "east", " west "], n_rows)
    logit = -2.0 + 1.5 * (loan / income) + 0.8 * (region == "north") + rng.normal(0, 0.5, n_rows)
    default = rng.random(n_rows) < 1 / (1 + np.exp(-logit))
    table = pd.DataFrame(
        {
            "loan_id": np.arange(10_000, 10_000 + n_rows),
            "income": income,
            "loan_amount": loan,
            "term_months": term,
            "region": region,
            "product_code": rng.choice([101, 202, 303], n_rows),
            "defaulted": np.where(default, "Y", "N"),
        }
    )
    table.loc[::37, "income"] = np.nan
    table.loc[::41, "region"] = ""
    return table


LOAN_BOOK_PARAMS = {
    "target": {"column": "defaulted", "bad_label": "Y", "good_label": None},
    "id_column": "loan_id",
    "columns": {"drop": [], "categorical": ["product_code"], "numeric": []},
    "valid_ranges": {"income": [0, None]},
    "feature_recipes": {
        "ratios": {
            "loan_to_income": {"numerator": "loan_amount", "denominator": "income"},
            "monthly_instalment": {"numerator": "credit_amount", "denominator": "duration"},
        }
    },
    "split": {"test_size": 0.25, "cv_folds": 3, "random_state": 7, "fold_column": "cv_fold"},
}


def make_dated_loan_book(n_rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """The loan book with an application date (``applied_on``): row by row over the twelve
    months of 2023, so its last quarter is a later window."""
    days = np.arange(n_rows) * 365 // n_rows
    return make_loan_book(n_rows, seed).assign(
        applied_on=(pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D"))
        .strftime("%Y-%m-%d"))


DATED_SPLIT = {"date_column": "applied_on", "out_of_time_share": 0.25, "vintage": "month"}
"""The loan book's split out of time: its last 3 of 12 months are test."""


@pytest.fixture
def loan_book() -> pd.DataFrame:
    return make_loan_book()


@pytest.fixture
def loan_book_params() -> dict:
    return yaml.safe_load(yaml.safe_dump(LOAN_BOOK_PARAMS))


def make_project_copy(root: Path) -> Path:
    """A runnable copy of the project at ``root`` with its own MLflow database.

    conf/local/mlflow.yml sets only the tracking URI and the artifact location, exactly
    the edit a team makes to use a tracking server; the rest comes from conf/base.
    """
    root.mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root)
    (root / "src").mkdir()  # the package itself is imported from the installed project
    shutil.copytree(PROJECT_ROOT / "conf" / "base", root / "conf" / "base")
    shutil.copytree(PROJECT_ROOT / "notebooks", root / "notebooks")
    (root / "conf" / "local").mkdir()
    for layer in ("01_raw", "03_primary", "04_feature", "05_model_input", "06_models",
                  "07_model_output", "08_reporting"):
        (root / "data" / layer).mkdir(parents=True)
    for name in ("germancredit.csv", "README.md"):  # the data and its card
        shutil.copy(PROJECT_ROOT / "data" / "01_raw" / name, root / "data" / "01_raw")
    (root / "mlruns").mkdir()
    write_yaml(
        root / "conf" / "local" / "mlflow.yml",
        {
            "server": {"mlflow_tracking_uri": tracking_uri(root)},
            "tracking": {
                "experiment": {
                    "create_experiment_kwargs": {"artifact_location": str(root / "team_store")}
                }
            },
        },
    )
    return root


@pytest.fixture
def project_copy(tmp_path, monkeypatch) -> Path:
    """A runnable copy of the project, cwd set to it."""
    root = make_project_copy(tmp_path / "project")
    monkeypatch.chdir(root)
    return root


def kedro_command(*pipelines: str, env: str | None = None) -> list[str]:
    command = [sys.executable, "-m", "kedro", "run", *(["--env", env] if env else [])]
    if pipelines:
        command += ["--pipelines", ",".join(pipelines)]
    return command


def kedro_run(project: Path, *pipelines: str, check: bool = True, params: str | None = None,
              env: str | None = None) -> subprocess.CompletedProcess:
    """`kedro run [--env ...] [--pipelines ...] [--params ...]` in the project copy, as a user
    types it; a failure (with ``check``) fails the test with the end of the console."""
    command = kedro_command(*pipelines, env=env) + (["--params", params] if params else [])
    result = subprocess.run(command, check=False, cwd=project, capture_output=True, text=True)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result


@contextlib.contextmanager
def mlflow_uris_restored():
    """MLflow's process-wide tracking and registry URIs (and their environment variables,
    which subprocesses inherit) put back exactly as they were, unset included, so a run or
    script that points them at a project leaks nothing into later tests."""
    previous_uris = (mlflow_tracking_utils._tracking_uri, mlflow_registry_utils._registry_uri)
    previous_env = {name: os.environ.get(name) for name in MLFLOW_URI_VARIABLES}
    try:
        yield
    finally:
        mlflow_tracking_utils._tracking_uri, mlflow_registry_utils._registry_uri = previous_uris
        for name, value in previous_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def kedro_run_in_process(project: Path, *pipelines: str, params: dict | None = None,
                         env: str | None = None) -> BaseException | None:
    """What `kedro run [--env ...] --pipelines ... [--params ...]` does, in this process: the same
    session, hooks and runner, without the ~5 s of start-up a new interpreter costs. Returns
    the exception the run raised (None if it completed); log records reach pytest's
    ``caplog``.

    The working directory is the project's while it runs (the catalog's paths are
    relative); kedro-mlflow points MLflow's URIs at the project's store, and they are put back
    (``mlflow_uris_restored``).
    """
    previous_dir = Path.cwd()
    os.chdir(project)
    try:
        with mlflow_uris_restored():
            try:
                bootstrap_project(project)
                with KedroSession.create(project_path=project, runtime_params=params,
                                         env=env) as session:
                    session.run(pipeline_names=list(pipelines) or None)
            except Exception as error:  # noqa: BLE001  (the run's failure is the result)
                return error
            finally:
                # kedro-mlflow re-opens the pipeline's run before every node (its
                # thread-safety workaround; with `nested: True` each re-opening stacks,
                # kedro-mlflow#650) and closes it once; a `kedro run` process exits, here
                # the stack is emptied.
                while mlflow.active_run():
                    mlflow.end_run()
    finally:
        os.chdir(previous_dir)
    return None


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> Path:
    """One default `kedro run` (the whole workflow, default configuration and data) in a
    project copy, shared by the tests that inspect its results, notebooks and DAG."""
    project = make_project_copy(tmp_path_factory.mktemp("default_run") / "project")
    result = kedro_run(project)
    (project / "kedro_run.log").write_text(result.stdout + result.stderr)  # what the user saw
    return project


HOME_CREDIT_APPLICANTS = 5000
HOME_CREDIT_RAW = Path("data/01_raw/home_credit")
# small budgets: the point is the multi-table, dated path through every stage, not the models
HOME_CREDIT_FAST = ",".join([
    *[f"model_comparison.candidates.{family}.params.n_estimators=60"
      for family in ("random_forest", "xgboost", "lightgbm")],
    "model_comparison.candidates.catboost.params.iterations=60",
    "tuning.n_trials=2",
    "tuning.family=xgboost",
])
DATED = ("data_processing.split.date_column=APPLICATION_DATE,"
         "data_processing.split.in_time_holdout=0.1")
"""The documented override that makes `kedro run --env home_credit` split out of time, with
an in-time holdout (a tenth of the development window)."""


@pytest.fixture(scope="session")
def home_credit_run(tmp_path_factory) -> Path:
    """The dated Home Credit fixture, generated and run once per session: a project copy
    with conf/base + conf/home_credit, the generator's CLI writing ``--dates`` data (24
    monthly vintages, the drift planted over the last 9), and one `kedro run --env
    home_credit` split out of time (the latest 6 vintages are test, a tenth of the 18
    before is the in-time holdout)."""
    project = tmp_path_factory.mktemp("home_credit") / "project"
    project.mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project)
    (project / "src").mkdir()
    for env in ("base", "home_credit", "local"):
        if (PROJECT_ROOT / "conf" / env).is_dir():
            shutil.copytree(PROJECT_ROOT / "conf" / env, project / "conf" / env,
                            ignore=shutil.ignore_patterns("*.yml") if env == "local" else None)
    subprocess.run([sys.executable, "-m", "credit_scoring", "synth", "home-credit",
                    "--applicants", str(HOME_CREDIT_APPLICANTS), "--dates",
                    "--out", str(project / HOME_CREDIT_RAW)],
                   check=True, capture_output=True, cwd=project)
    result = kedro_run(project, params=f"{HOME_CREDIT_FAST},{DATED}", env="home_credit")
    (project / "kedro_run.log").write_text(result.stdout + result.stderr)
    return project


def relocate_store(project: Path, old: Path) -> None:
    """Point a copied project's tracking database at its own artifacts: MLflow stores
    absolute artifact paths, which would still name the project it was copied from."""
    with sqlite3.connect(project / "mlruns" / "mlflow.db") as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for column in db.execute(f"PRAGMA table_info('{table}')").fetchall():
                if "CHAR" in column[2].upper() or "TEXT" in column[2].upper():
                    db.execute(f'UPDATE "{table}" SET "{column[1]}" = '
                               f'replace("{column[1]}", ?, ?)', (str(old), str(project)))


def trained_copy(default_run: Path, root: Path) -> Path:
    """A copy of the default run's project, with its own tracking database copy."""
    shutil.copytree(default_run, root, ignore=shutil.ignore_patterns("team_store", "*.png"))
    mlflow_yml = root / "conf/local/mlflow.yml"
    config = yaml.safe_load(mlflow_yml.read_text())
    config["server"]["mlflow_tracking_uri"] = tracking_uri(root)
    write_yaml(mlflow_yml, config)
    return root


SCORECARD = "baselines.scorecard"


@pytest.fixture(scope="session")
def scorecard_champion(default_run, tmp_path_factory) -> tuple[Path, str, Path]:
    """A trained copy where policy requires a scorecard (thresholding.eligible): the WoE
    scorecard is registered by thresholding and validated, as a user's run would.
    Returns the project, the scorecard's model version and its model folder as the
    registry hands it out."""
    root = tmp_path_factory.mktemp("scorecard")
    project = trained_copy(default_run, root / "project")
    error = kedro_run_in_process(project, "thresholding", "validation",
                                 params={"thresholding": {"eligible": [SCORECARD]}})
    assert error is None, error
    client = tracking_client(project)
    version = max(client.search_model_versions("name='credit_scoring_pd'"),
                  key=lambda v: int(v.version))
    assert version.tags["candidate"] == SCORECARD
    folder = mlflow.artifacts.download_artifacts(
        artifact_uri=client.get_model_version_download_uri("credit_scoring_pd", version.version),
        dst_path=str(root / "registry"))
    return project, str(version.version), Path(folder)


def tracking_uri(project: Path) -> str:
    """The project copy's own tracking store and registry (conf/local/mlflow.yml points there)."""
    return f"sqlite:///{project / 'mlruns' / 'mlflow.db'}"


def tracking_client(project: Path) -> MlflowClient:
    """A client of the project copy's own tracking store and registry."""
    return MlflowClient(tracking_uri=tracking_uri(project))


HUB_COMMIT = "0123456789abcdef0123456789abcdef01234567"
"""The pinned revision of every model the tests put in a Hugging Face cache."""


def fill_hf_cache(cache: Path, repo_id: str, files: dict[str, Path]) -> None:
    """Lay files out exactly as huggingface_hub caches a download of ``repo_id`` at ``HUB_COMMIT``."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / HUB_COMMIT
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(HUB_COMMIT)
    for name, source in files.items():
        blob = repo / "blobs" / hashlib.sha256(source.read_bytes()).hexdigest()
        blob.write_bytes(source.read_bytes())
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))


def cache_folder(cache: Path, repo_id: str, folder: Path) -> None:
    fill_hf_cache(cache, repo_id,
                  {str(p.relative_to(folder)): p for p in folder.rglob("*") if p.is_file()})


def load_in_fresh_process(cache: Path, repo_id: str, sha256: str, then: str = "", cwd=None):
    """Load a cached release with ``HubModelDataset`` (trust off) in a fresh process with the
    Hub unreachable, so the real hf_hub code path reads the cache: (exit code, output)."""
    script = (
        "from credit_scoring.io.hub import HubModelDataset;"
        f"model = HubModelDataset('{repo_id}', '{HUB_COMMIT}', sha256='{sha256}', "
        f"cache_dir='{cache}').load();{then}"
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, cwd=cwd,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"},
                            capture_output=True, text=True)
    return result.returncode, " ".join((result.stdout + result.stderr).split())


CARD = yaml.safe_load(
    (PROJECT_ROOT / "conf/base/parameters_hub.yml").read_text()
)["hub"]["publish"]["card"]
"""The model card texts of conf/base, for a release."""


def use_small_trees(project: Path) -> None:
    """conf/local override with 40 trees per family: keeps the suite fast (the default
    configuration itself runs in the first test)."""
    config = yaml.safe_load((project / "conf/base/parameters_model_comparison.yml").read_text())
    candidates = config["model_comparison"]["candidates"]
    candidates["random_forest"]["params"]["n_estimators"] = 40
    candidates["xgboost"]["params"]["n_estimators"] = 40
    candidates["lightgbm"]["params"]["n_estimators"] = 40
    candidates["catboost"]["params"]["iterations"] = 40
    write_yaml(project / "conf/local/parameters_model_comparison.yml", config)


def use_small_tuning(project: Path, n_trials: int) -> None:
    """conf/local override of the tuning budget."""
    config = yaml.safe_load((project / "conf/base/parameters_tuning.yml").read_text())
    config["tuning"]["n_trials"] = n_trials
    write_yaml(project / "conf/local/parameters_tuning.yml", config)


def tracked_runs(project: Path) -> pd.DataFrame:
    """Every run of the project copy's experiment, as ``mlflow.search_runs`` lists them; MLflow
    stays pointed at that store, so a test can go on with ``MlflowClient()``."""
    mlflow.set_tracking_uri(tracking_uri(project))
    return mlflow.search_runs(experiment_names=["credit_scoring"])


def candidate_runs(runs: pd.DataFrame, stage: str) -> pd.DataFrame:
    """The candidate runs of ``stage``, indexed by candidate name."""
    return runs[runs["tags.credit_scoring.stage"] == stage].set_index("tags.credit_scoring.candidate")


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_yaml(path: Path, content: dict) -> None:
    path.write_text(yaml.safe_dump(content, sort_keys=False))


@pytest.fixture
def tracking_store(tmp_path, monkeypatch):
    """A throw-away SQLite tracking store and experiment whose artifacts stay in tmp_path."""
    monkeypatch.chdir(tmp_path)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.create_experiment("test", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment("test")
    yield
    mlflow.set_tracking_uri(previous)


FOREST = {
    "estimator": "sklearn.ensemble.RandomForestClassifier",
    "params": {"n_estimators": 40, "min_samples_leaf": 5, "n_jobs": 1},
    "preprocessing": "one_hot",
}


class KeptDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, so the test can read every output."""

    def _release(self) -> None:
        pass


def thresholding_params(project_params, **costs):
    params = copy.deepcopy(project_params["thresholding"])
    params["costs"].update(costs)
    return params


NO_FEATURE_BUILD = {"recipe": {"tables": {}}}
"""feature_engineering's report for a table without related tables (a pass-through)."""


def loan_book_model_input(loan_book, loan_book_params):
    """data_processing's nodes on a loan book: (train with folds, test, feature schema)."""
    clean = clean_applicants(loan_book, loan_book_params)
    train, test, _, schema, _ = split_train_test(
        add_domain_features(clean, loan_book_params["feature_recipes"]), loan_book_params,
        NO_FEATURE_BUILD)
    return train, test, schema


PRIOR = {"estimator": "sklearn.dummy.DummyClassifier", "params": {"strategy": "prior"},
         "preprocessing": "one_hot"}
SCORECARD_SPEC = {"estimator": "credit_scoring.models.scorecard.WoEScorecard",
                  "params": {"fine_classes": 10, "max_n_prebins": 10, "sample_rows": None},
                  "preprocessing": "passthrough"}


LOAN_BOOK_REASONS = {
    "reference_rows": 20_000, "seed": 42,
    "no_single_factor": {"code": "NSF", "statement": "No single factor stands out"},
    "attributes": {"income": {"code": "INC", "statement": "Income", "low": "Income is low",
                              "unit": "EUR"},
                   "region": {"code": "REG", "statement": "Region of residence"}},
}
"""A reason dictionary for the loan book: two attributes written, the rest readable names."""


LOAN_BOOK_SOURCE = {"path": "data/01_raw/loans.csv", "sha256": "ab" * 32, "bytes": 123_456}
"""What the feature build records of the loan book's raw file (a stand-in fingerprint)."""


def thresholding_catalog(loan_book, loan_book_params, params, spec=FOREST, comparison=None):
    """The thresholding pipeline and a catalog on the synthetic loan book: ``spec`` (a small
    forest by default) stands in for the tuned model, the prior-only model for the
    baselines, ``comparison`` (name -> spec, none by default) for the compared families:
    (pipeline, catalog, test rows, feature schema)."""
    train, test, schema = loan_book_model_input(loan_book, loan_book_params)
    folds = train[[schema["target"], schema["fold_column"]]]

    def oof(candidate):
        return fit_and_evaluate(build_estimator(candidate, schema, 42), train, test, schema)[2]

    oof_pd, prior_pd = oof(spec), oof(PRIOR)
    comparison = comparison or {}
    stage = {"random_state": 42, "class_weighting": None, "selection_metric": "roc_auc"}
    pipeline = thresholding_pipeline()
    catalog = DataCatalog(
        datasets={
            "model_input_train": MemoryDataset(train),
            "model_input_test": MemoryDataset(test),
            "feature_schema": MemoryDataset(schema),
            "holdout_applicants": MemoryDataset(
                loan_book.loc[test.index].drop(columns=loan_book_params["target"]["column"])),
            "tuned_model_spec": MemoryDataset({
                "candidate": "tuned", "spec": spec, "random_state": 42, "class_weighting": None,
            }),
            "tuned_oof_predictions": MemoryDataset(folds.assign(tuned=oof_pd)),
            "baselines.oof_predictions": MemoryDataset(folds.assign(prior_only=prior_pd)),
            "model_comparison.oof_predictions": MemoryDataset(folds.assign(
                **{name: oof(candidate) for name, candidate in comparison.items()})),
            "params:baselines": MemoryDataset({**stage, "candidates": {"prior_only": PRIOR}}),
            "params:model_comparison": MemoryDataset({**stage, "candidates": comparison}),
            "params:thresholding": MemoryDataset(params),
            "params:reasons": MemoryDataset(LOAN_BOOK_REASONS),
            "feature_build_report": MemoryDataset({"sources": {"applicants": LOAN_BOOK_SOURCE}}),
            **{name: KeptDataset(copy_mode="assign") for name in pipeline.all_outputs()},
        }
    )
    return pipeline, catalog, test, schema


def run_thresholding(loan_book, loan_book_params, params, spec=FOREST, comparison=None):
    """Run thresholding in memory: (catalog with every output, test rows, feature schema)."""
    pipeline, catalog, test, schema = thresholding_catalog(loan_book, loan_book_params, params,
                                                           spec, comparison)
    SequentialRunner().run(pipeline, catalog)
    return catalog, test, schema


@pytest.fixture(scope="session")
def thresholding_outputs(project_params):
    """One in-memory thresholding run on the synthetic loan book, shared by the tests that
    need a calibrated champion: (catalog with every output, test rows, feature schema)."""
    return run_thresholding(make_loan_book(), copy.deepcopy(LOAN_BOOK_PARAMS),
                            thresholding_params(project_params))
