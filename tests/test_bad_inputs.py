"""Bad input, as a user meets it: a real Kedro run on a trained project copy.

Every case asserts what a credit-risk team relies on: the run fails (or, where that is
the documented behaviour, warns) with a message that names the column, key or file; no
MLflow run is left RUNNING; the champion alias does not move; and every file under
data/06_models and data/08_reporting is unchanged (for a warning case, the champion's
own record in data/06_models/champion/).

One case of each kind goes through the `kedro run` command itself (what the console
shows); the rest run the same Kedro session in this process, which is the same code
without a new interpreter's start-up, and read the exception and the log.
"""

from __future__ import annotations

import csv
import hashlib
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from .conftest import (
    kedro_run,
    kedro_run_in_process,
    make_project_copy,
    tracking_client,
    trained_copy,
    write_yaml,
)

pytestmark = pytest.mark.integration

RAW = "data/01_raw/germancredit.csv"
TO_SCORE = "data/05_model_input/holdout_applicants.csv"
GUARDED = ("data/06_models", "data/08_reporting")
FIRST_STAGES = ("feature_engineering", "data_processing")
"""What reads the applicant file: the feature build, then data_processing."""
CHAMPION_RECORD = "data/06_models/champion"


# ---- how a case breaks the project ------------------------------------------------------
def edit_raw(change: Callable[[pd.DataFrame], pd.DataFrame], path: str = RAW) -> Callable:
    def setup(project: Path) -> None:
        table = pd.read_csv(project / path)
        change(table).to_csv(project / path, index=False)
    return setup


def write_bytes(content: bytes, path: str = RAW) -> Callable:
    def setup(project: Path) -> None:
        (project / path).write_bytes(content)
    return setup


def german_as(sep: str = ",", encoding: str = "utf-8") -> Callable:
    def setup(project: Path) -> None:
        table = pd.read_csv(project / RAW)
        table.loc[0, "purpose"] = "Möbel"  # a non-ASCII value, as in a German export
        table.to_csv(project / RAW, index=False, sep=sep, encoding=encoding)
    return setup


def override(block: str, changes: dict) -> Callable:
    """A partial conf/local override: only the changed keys (parameters are soft-merged)."""
    def setup(project: Path) -> None:
        write_yaml(project / f"conf/local/parameters_{block}.yml", {block: changes})
    return setup


def both(*setups: Callable) -> Callable:
    def setup(project: Path) -> None:
        for step in setups:
            step(project)
    return setup


def with_history(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable:
    """German Credit with an applicant id and a related table of two bureau records each,
    aggregated by a one-line recipe; ``change`` breaks the related table."""
    def setup(project: Path) -> None:
        applicants = pd.read_csv(project / RAW)
        applicants.insert(0, "applicant_id", range(len(applicants)))
        applicants.to_csv(project / RAW, index=False)
        bureau = pd.DataFrame({"applicant_id": [*range(len(applicants))] * 2,
                               "DAYS_CREDIT": [-100.0, -400.0] * len(applicants)})
        change(bureau).to_csv(project / "data/01_raw/bureau.csv", index=False)
        write_yaml(project / "conf/local/catalog_history.yml", {"related_tables": {
            "type": "credit_scoring.io.datasets.RelatedTablesDataset",
            "tables": {"bureau": "data/01_raw/bureau.csv"}}})
        override("data_processing", {"id_column": "applicant_id"})(project)
        override("feature_engineering", {"tables": {"bureau": {
            "key": "applicant_id", "aggregates": {"all": {"DAYS_CREDIT": ["mean"]}}}}})(project)
    return setup


def set_cell(column: str, row: int, value) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(table: pd.DataFrame) -> pd.DataFrame:
        table[column] = table[column].astype(object)
        table.loc[row, column] = value
        return table
    return change


@dataclass
class Case:
    id: str
    setup: Callable[[Path], None]
    pipelines: tuple[str, ...]
    message: str
    warns: bool = False
    secret: str | None = None  # must appear nowhere: console, MLflow params
    cli: bool = False  # through the `kedro run` command, not in this process


CASES = [
    # ---- the applicant file -------------------------------------------------------------
    Case("zero-byte csv", write_bytes(b""), FIRST_STAGES,
         f"{RAW} is empty (0 bytes)", cli=True),
    Case("semicolon-separated csv", german_as(sep=";"), FIRST_STAGES,
         "looks ';'-separated, not ','-separated"),
    Case("latin-1 csv", german_as(encoding="latin-1"), FIRST_STAGES,
         "is not utf-8-encoded (it holds byte 0xf6): give the file's encoding, e.g. encoding: latin-1"),
    Case("header only", edit_raw(lambda t: t.iloc[0:0]), FIRST_STAGES,
         "The applicant table is empty (0 rows)"),
    Case("missing target column", edit_raw(lambda t: t.drop(columns="creditability")),
         FIRST_STAGES, "'creditability' (data_processing.target.column)"),
    Case("every absent declared column at once",
         both(edit_raw(lambda t: t.drop(columns=["creditability", "age_in_years"])),
              override("data_processing", {"columns": {"categorical": ["branch"]}})),
         FIRST_STAGES,
         "'creditability' (data_processing.target.column) - 'branch' "
         "(data_processing.columns.categorical) - 'age_in_years' (data_processing.valid_ranges)"),
    Case("non-binary target", edit_raw(set_cell("creditability", 3, "unknown")),
         FIRST_STAGES, "column 'creditability' target must be one of ['bad', 'good']"),
    Case("bad label never present", override("data_processing", {"target": {"bad_label": "default"}}),
         FIRST_STAGES, "never takes the bad label 'default'"),
    Case("missing target value", edit_raw(set_cell("creditability", 5, None)),
         FIRST_STAGES, "column 'creditability' has missing values"),
    Case("duplicate applicant ids",
         both(edit_raw(lambda t: t.assign(applicant_id=[*range(999), 0])),
              override("data_processing", {"id_column": "applicant_id"})),
         FIRST_STAGES, "column 'applicant_id' has duplicate values"),
    Case("text in a numeric column", edit_raw(set_cell("credit_amount", 7, "12k")),
         FIRST_STAGES, "column 'credit_amount': 1 value(s) are not numbers (e.g. ['12k'])"),
    Case("declared numeric column does not parse",
         both(edit_raw(set_cell("duration_in_month", 2, "two years")),
              override("data_processing", {"columns": {"numeric": ["duration_in_month"]}})),
         FIRST_STAGES, "column 'duration_in_month': 1 value(s) are not numbers"),
    Case("range rule on a text column", override("data_processing", {"valid_ranges": {"purpose": [0, 1]}}),
         FIRST_STAGES, "column 'purpose': 1000 value(s) are not numbers"),
    Case("too few bads for the CV folds",
         edit_raw(lambda t: t[(t["creditability"] == "good") | (t.index.isin([1, 4, 10]))]),
         FIRST_STAGES, "The training rows hold 2 bads and"),
    Case("duplicated column in the applicant file",
         edit_raw(lambda t: pd.concat([t, t[["age_in_years"]] + 1], axis=1)), FIRST_STAGES,
         "column 'age_in_years' appears 2 times in"),
    Case("reserved fold column", edit_raw(lambda t: t.assign(cv_fold=1)), FIRST_STAGES,
         "Column 'cv_fold' is reserved for the cross-validation fold id"),
    # issue 31: inf passed the range rule [1, null] and failed later inside scikit-learn
    Case("infinite amount", edit_raw(set_cell("credit_amount", 4, "inf")), FIRST_STAGES,
         "column 'credit_amount': 1 value(s) are infinite or too large to compute with "
         "(beyond 3.4e+38; e.g. [inf])"),
    Case("400-digit number", edit_raw(set_cell("duration_in_month", 2, "9" * 400)),
         FIRST_STAGES, "column 'duration_in_month': 1 value(s) are infinite or too large"),
    Case("constant and empty features are dropped with a note",
         edit_raw(lambda t: t.assign(branch="north", notes=None)), FIRST_STAGES,
         "Features dropped, nothing to learn from them: 'branch' constant: 'north' on every "
         "training row; 'notes' empty: no value in any training row", warns=True),
    # ---- related tables (the applicant's history) ------------------------------------------
    Case("related table without a recipe column",
         with_history(lambda t: t.rename(columns={"DAYS_CREDIT": "DAYS_CREDITED"})),
         FIRST_STAGES, "Related table 'bureau' has no column(s) ['DAYS_CREDIT'] that its recipe "
                       "uses", cli=True),
    Case("text in a related table's numeric column",
         with_history(lambda t: t.astype({"DAYS_CREDIT": object}).assign(
             DAYS_CREDIT=lambda d: d["DAYS_CREDIT"].where(d.index != 5, "last year"))),
         FIRST_STAGES, "Related table 'bureau', column 'DAYS_CREDIT': values that are not "
                       "numbers, e.g. ['last year']"),
    Case("unknown aggregate in the recipe",
         override("feature_engineering", {"tables": {"bureau": {
             "key": "SK_ID_CURR", "aggregates": {"all": {"DAYS_CREDIT": ["median"]}}}}}),
         FIRST_STAGES, "feature_engineering.tables.bureau.aggregates.all.DAYS_CREDIT.0: Input "
                       "should be 'count', 'sum', 'mean', 'min', 'max' or 'std'"),
    # ---- parameters: refused at start, before any fit -------------------------------------
    Case("negative cost", override("thresholding", {"costs": {"accept_bad": -5}}),
         ("thresholding",), "thresholding.costs.accept_bad: Input should be greater than 0, got -5",
         cli=True),
    Case("constraint outside [0, 1]", override("thresholding", {"constraints": {"min_approval_rate": 1.2}}),
         ("thresholding",), "thresholding.constraints.min_approval_rate: Input should be less than or equal to 1, got 1.2"),
    Case("unknown calibration method", override("thresholding", {"calibration": {"methods": ["sigmoid"]}}),
         ("thresholding",), "thresholding.calibration.methods.0: Input should be 'none', 'platt' or 'isotonic'"),
    Case("unknown selection metric", override("thresholding", {"champion": {"selection_metric": "accuracy"}}),
         ("thresholding",), "thresholding.champion.selection_metric: Input should be 'roc_auc'"),
    Case("misspelt key in a partial override", override("tuning", {"n_trails": 5}),
         ("tuning",), "tuning.n_trails: unknown key (misspelt?)"),
    Case("malformed search-space entry",
         override("tuning", {"search_spaces": {"random_forest": {"min_samples_split": {"low": 2, "high": 9}}}}),
         ("tuning",), "tuning.search_spaces.random_forest.min_samples_split: needs 'type: int | float | categorical'"),
    Case("unknown estimator import path",
         override("model_comparison", {"candidates": {"catboost": {"estimator": "catboost.CatBoostClassifer"}}}),
         ("baselines", "model_comparison"),
         "model_comparison.candidates.catboost.estimator: cannot import estimator 'catboost.CatBoostClassifer'"),
    Case("password in a parameter URL",
         override("tuning", {"storage": "postgresql://tuner:s3cret@db-host/optuna"}),
         ("tuning",), "Parameter(s) ['tuning.storage'] hold a URL with a password",
         secret="s3cret", cli=True),
    Case("a protected attribute as an expected effect",
         override("data_processing", {"expected_effects": {"decreasing": ["age_in_years"]}}),
         FIRST_STAGES, "data_processing: expected_effects names ['age_in_years'], protected "
                       "attributes or features derived from them"),
    Case("a protected attribute in a related-table recipe",
         both(with_history(lambda t: t), override("feature_engineering", {"tables": {"bureau": {
             "key": "applicant_id", "aggregates": {"all": {"foreign_worker": ["count"]}}}}})),
         FIRST_STAGES, "feature_engineering.tables.bureau reads ['foreign_worker'], protected "
                       "attributes (data_processing.protected_attributes) that policy 'exclude' "
                       "keeps out of the model"),
    Case("five reasons per decline", override("thresholding", {"reason_codes": 5}),
         ("thresholding",), "thresholding.reason_codes: Input should be less than or equal to 4"),
    Case("negative number of reason codes", override("thresholding", {"reason_codes": -1}),
         ("thresholding",), "thresholding.reason_codes: Input should be greater than or equal to 0"),
    Case("estimator of no known family",
         override("model_comparison", {"candidates": {"catboost": {
             "estimator": "sklearn.ensemble.HistGradientBoostingClassifier"}}}),
         ("model_comparison",),
         "'sklearn.ensemble.HistGradientBoostingClassifier' is not a known model family"),
    # ---- new applicants to score ------------------------------------------------------------
    Case("scoring file without a needed column", edit_raw(lambda t: t.drop(columns="purpose"), TO_SCORE),
         ("scoring",), "Columns ['purpose'] are missing from the applicants to score", cli=True),
    Case("text where training had numbers", edit_raw(set_cell("duration_in_month", 1, "forty"), TO_SCORE),
         ("scoring",), "column 'duration_in_month': 1 value(s) are not numbers (e.g. ['forty']); "
                       "they were numbers in training"),
    Case("duplicated column in the scoring file",
         edit_raw(lambda t: pd.concat([t, t[["credit_amount"]] * 2], axis=1), TO_SCORE),
         ("scoring",), "column 'credit_amount' appears 2 times in"),
    Case("zero-byte scoring file", write_bytes(b"", TO_SCORE), ("scoring",),
         f"{TO_SCORE} is empty (0 bytes)"),
    Case("number too large to score", edit_raw(set_cell("credit_amount", 3, 1e308), TO_SCORE),
         ("scoring",), "column 'credit_amount': 1 value(s) are infinite or too large to compute "
                       "with (beyond 3.4e+38; e.g. [1e+308])"),
    Case("category codes instead of labels",
         edit_raw(lambda t: t.assign(purpose=t["purpose"].astype("category").cat.codes + 1),
                  TO_SCORE),
         ("scoring",), "column 'purpose': 100% of its 250 values were never seen in training "
                       "(e.g. ["),
    # ---- documented warnings: the run completes, the champion stays -------------------------
    Case("unseen category is scored and counted", edit_raw(set_cell("purpose", 0, "yacht"), TO_SCORE),
         ("scoring",), "purpose='yacht'", warns=True, cli=True),
    Case("a 10,000-character value is cut short in the log",
         edit_raw(set_cell("purpose", 0, "y" * 10_000), TO_SCORE), ("scoring",),
         "purpose='yyyyy", warns=True, secret="y" * 200),
    Case("worse challenger on a changed selection metric",
         override("thresholding", {"calibration": {"methods": ["none"]},
                                   "champion": {"selection_metric": "brier"}}),
         ("thresholding",), "not promoted, champion unchanged: cv_brier_mean", warns=True),
]


# ---- the trained project each case starts from ------------------------------------------
def files(project: Path, folders=GUARDED) -> dict[str, str]:
    return {
        str(path.relative_to(project)): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in folders for path in sorted((project / folder).rglob("*")) if path.is_file()
    }


def champion_version(project: Path) -> str | None:
    try:
        return tracking_client(project).get_model_version_by_alias("credit_scoring_pd", "champion").version
    except MlflowException:
        return None


def running_runs(project: Path) -> list[str]:
    client = tracking_client(project)
    return [run.info.run_id for experiment in client.search_experiments()
            for run in client.search_runs([experiment.experiment_id], "attributes.status = 'RUNNING'")]


def run_case(project: Path, case: Case, caplog: pytest.LogCaptureFixture) -> str:
    """Apply the case, run it, and assert what every case promises; return the output
    (the console's, or the exception and log of an in-process run)."""
    guarded = files(project, (CHAMPION_RECORD,) if case.warns else GUARDED)
    champion = champion_version(project)
    case.setup(project)
    if case.cli:
        result = kedro_run(project, *case.pipelines, check=False)
        output, failed = result.stdout + result.stderr, result.returncode != 0
    else:
        caplog.clear()
        error = kedro_run_in_process(project, *case.pipelines)
        output = "".join(traceback.format_exception(error)) if error else ""
        output, failed = output + caplog.text, error is not None
    assert failed != case.warns, output[-3000:]
    # the console wraps long lines anywhere, even inside a path: compare without whitespace
    assert "".join(case.message.split()) in "".join(output.split()), output[-3000:]
    assert running_runs(project) == []
    if case.secret:
        assert case.secret not in output
        client = tracking_client(project)
        logged = [run.data.params for experiment in client.search_experiments()
                  for run in client.search_runs([experiment.experiment_id])]
        assert not any(case.secret in str(params) for params in logged)
    assert champion_version(project) == champion
    assert files(project, (CHAMPION_RECORD,) if case.warns else GUARDED) == guarded
    return output


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_named_and_nothing_is_lost(case, default_run, tmp_path, caplog):
    run_case(trained_copy(default_run, tmp_path / "project"), case, caplog)


def test_there_are_at_least_25_cases():
    assert len(CASES) >= 25


@pytest.mark.parametrize(
    ("pipeline", "message"),
    [
        ("scoring", "'applicants_to_score' (data/05_model_input/holdout_applicants.csv) does not "
                    "exist yet: run `kedro run --pipelines data_processing`"),
        ("tuning", "'selected_family' (data/06_models/selected_family.json) does not exist yet: "
                   "run `kedro run --pipelines model_comparison`"),
    ],
)
def test_a_stage_run_before_the_one_it_reads_from_says_which_to_run(pipeline, message, project_copy,
                                                                   caplog):
    run_case(project_copy, Case(pipeline, lambda project: None, (pipeline,), message), caplog)


def test_before_any_training_scoring_says_there_is_no_champion(project_copy, caplog):
    assert kedro_run_in_process(project_copy, *FIRST_STAGES) is None
    run_case(project_copy, Case("no champion", lambda project: None, ("scoring",),
                                "'scoring_model' (credit_scoring_pd alias champion) does not "
                                "exist yet: run "
                                "`kedro run --pipelines thresholding`"), caplog)


def test_a_partial_override_changes_one_key_and_keeps_the_rest(tmp_path):
    project = make_project_copy(tmp_path / "project")
    override("data_processing", {"split": {"test_size": 0.2}})(project)
    assert kedro_run_in_process(project, *FIRST_STAGES) is None
    train = pd.read_parquet(project / "data/05_model_input/model_input_train.parquet")
    assert len(train) == 800  # the override applied ...
    assert sorted(train["cv_fold"].unique()) == [0, 1, 2, 3, 4]  # ... and the base kept the rest
    assert "monthly_instalment" in train.columns


# ---- the tracking store and the environment (issue 31) ---------------------------------
STORE = "mlruns/mlflow.db"


@pytest.mark.parametrize(("damage", "message", "cli"), [
    (lambda db: db.write_bytes(b""), "mlruns/mlflow.db is empty (0 bytes), but", True),
    (lambda db: db.write_bytes(db.read_bytes()[: db.stat().st_size // 2]),
     "mlruns/mlflow.db cannot be read (database disk image is malformed)", False),
], ids=["zero-byte store", "truncated store"])
def test_a_damaged_tracking_store_stops_the_run_and_is_left_as_found(damage, message, cli,
                                                                     default_run, tmp_path,
                                                                     caplog):
    """MLflow used to fill a zero-byte store with new tables: a silent, empty registry."""
    project = trained_copy(default_run, tmp_path / "project")
    guarded = files(project)
    damage(project / STORE)
    damaged = (project / STORE).read_bytes()
    if cli:
        result = kedro_run(project, "scoring", check=False)
        output, failed = result.stdout + result.stderr, result.returncode != 0
    else:
        error = kedro_run_in_process(project, "scoring")
        output, failed = str(error), error is not None
    output = "".join(output.split())  # the console wraps lines anywhere, even in a path
    assert failed and "".join(message.split()) in output, output[-3000:]
    assert "Restoremlruns/mlflow.dbfromabackup" in output and "conf/local/mlflow.yml" in output
    assert (project / STORE).read_bytes() == damaged  # untouched: a backup can still go back
    assert files(project) == guarded


def test_a_misspelt_environment_names_the_folder_and_the_ones_that_exist(default_run, tmp_path):
    project = trained_copy(default_run, tmp_path / "project")
    guarded, store = files(project), (project / STORE).read_bytes()
    result = kedro_run(project, "scoring", env="prodd", check=False)
    output = "".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "--envprodd:thereisnoconfigurationfolder" in output, output[-3000:]
    assert "environmentsofthisprojectare['base','local']" in output
    assert files(project) == guarded and (project / STORE).read_bytes() == store


def test_a_formula_in_a_category_reaches_the_scored_csv_as_text(default_run, tmp_path, caplog):
    """Issue 31, defect 5: `=HYPERLINK(...)` as a category value was written as a live
    formula into scored_applicants.csv, as a reason's value."""
    project = trained_copy(default_run, tmp_path / "project")
    formula = '=HYPERLINK("http://evil.example","click")'
    table = pd.read_csv(project / TO_SCORE)
    # a quarter of the rows: a whole column of unseen values is refused as a change of coding
    table.loc[::4, "status_of_existing_checking_account"] = formula
    table.to_csv(project / TO_SCORE, index=False)
    assert kedro_run_in_process(project, "scoring") is None
    scored_file = project / "data/07_model_output/scoring/scored_applicants.csv"
    with open(scored_file, newline="") as file:
        cells = [cell for row in csv.reader(file) for cell in row]
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    assert cells.count("'" + formula) > 0  # cited as a reason, inert in a spreadsheet
    typed = pd.read_parquet(scored_file.with_suffix(".parquet"))
    assert (typed.filter(like="_value") == formula).any().any()  # the data keeps the value


def test_a_registration_killed_midway_is_tagged_incomplete_by_the_next_run(
        default_run, tmp_path, monkeypatch, caplog):
    """Issue 31, defect 7: `kill -9` right after a version was created left it without its
    decision tag, and no later run noticed. The fault-injection point kills the process there."""
    project = trained_copy(default_run, tmp_path / "project")
    guarded, champion = files(project), champion_version(project)
    monkeypatch.setenv("CREDIT_SCORING_FAULT_INJECTION", "after_registration")
    killed = kedro_run(project, "thresholding", check=False)
    assert killed.returncode == -9, killed.stdout[-2000:]
    monkeypatch.delenv("CREDIT_SCORING_FAULT_INJECTION")
    client = tracking_client(project)
    newest = max(client.search_model_versions("name = 'credit_scoring_pd'"),
                 key=lambda v: int(v.version))
    assert newest.tags["credit_scoring.registration"] == "in progress"
    assert "champion_decision" not in newest.tags

    assert kedro_run_in_process(project, "scoring") is None  # the next run, whichever it is
    tagged = client.get_model_version("credit_scoring_pd", newest.version)
    assert tagged.tags["credit_scoring.registration"] == "incomplete"
    assert tagged.description.startswith("**Incomplete**")
    assert f"credit_scoring_pd version {newest.version}: its registration was interrupted" in \
        caplog.text
    assert running_runs(project) == [] and champion_version(project) == champion
    assert files(project, (CHAMPION_RECORD,)) == {k: v for k, v in guarded.items()
                                                   if k.startswith(CHAMPION_RECORD)}
    finished = client.get_model_version("credit_scoring_pd", champion)
    assert finished.tags.get("credit_scoring.registration") != "incomplete"
