"""The registered champion used as a deployer would: a clean environment, HTTP, Spark.

All three start from the champion the default `kedro run` registered and feed it raw rows of
data/01_raw, exactly as a lender's file holds them.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from credit_scoring.decisions import scorer_of
from credit_scoring.decisions.scorer import load_code_free
from credit_scoring.io.hub import MANIFEST, build_release, file_sha256
from credit_scoring.models.model_files import unsafe_files
from credit_scoring.validation.stability import bin_counts

from .conftest import cache_folder, free_port, load_in_fresh_process, tracking_uri

CHAMPION = "models:/credit_scoring_pd@champion"
OUTPUT = ["input_row", "pd", "score", "band", "decision",
          *[f"reason_{k}_{part}" for k in range(1, 5) for part in ("code", "text", "value")]]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def champion(default_run):
    """(tracking URI of the default run, its raw applicants without target, pandas scores)."""
    uri = tracking_uri(default_run)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    raw = pd.read_csv(default_run / "data" / "01_raw" / "germancredit.csv")
    raw = raw.drop(columns="creditability").head(200)
    scored = mlflow.pyfunc.load_model(CHAMPION).predict(raw)
    yield uri, raw, scored
    mlflow.set_tracking_uri(previous)


def make_env(root: Path, requirements: str) -> Path:
    """A virtual environment at ``root/env`` made from nothing but a model's requirements."""
    # uv: the same venv and pinned installs as venv + pip, in seconds instead of minutes
    uv = str(Path(sys.executable).with_name("uv"))
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(root / "env")],
                   check=True)
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(root / "env/bin/python"),
                    "-r", requirements], check=True, cwd=root)
    return root


@pytest.fixture(scope="module")
def clean_env(champion, tmp_path_factory):
    """A virtual environment made from nothing but the champion's own requirements.txt."""
    return make_env(tmp_path_factory.mktemp("clean_env"),
                    mlflow.pyfunc.get_model_dependencies(CHAMPION))


def in_env(env: Path, uri: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    return subprocess.run([str(env / "env/bin/python"), *args], check=False, cwd=env,
                          capture_output=True,
                          text=True, env={**environment, "MLFLOW_TRACKING_URI": uri}, **kwargs)


def test_the_champion_loads_in_a_clean_environment_and_scores_raw_rows(champion, clean_env):
    uri, raw, expected = champion
    assert in_env(clean_env, uri, "-c", "import credit_scoring").returncode != 0  # not installed
    raw.to_csv(clean_env / "raw.csv", index=False)
    script = (f"import mlflow, pandas as pd; model = mlflow.pyfunc.load_model({CHAMPION!r}); "
              "model.predict(pd.read_csv('raw.csv')).to_json('scored.json', orient='split', double_precision=15)")
    result = in_env(clean_env, uri, "-c", script)
    assert result.returncode == 0, result.stderr[-3000:]
    scored = pd.read_json(clean_env / "scored.json", orient="split")
    assert list(scored.columns) == OUTPUT
    np.testing.assert_allclose(scored["pd"], expected["pd"], rtol=1e-9)
    assert (scored["decision"] == expected["decision"]).all()
    # the README's command line: a CSV file in, a JSON file out
    cli = subprocess.run(
        [str(clean_env / "env/bin/mlflow"), "models", "predict", "-m", CHAMPION, "-i", "raw.csv",
         "-t", "csv", "-o", "cli.json", "--env-manager", "local"],
        check=False, cwd=clean_env, capture_output=True, text=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": uri})
    assert cli.returncode == 0, cli.stderr[-3000:]
    predictions = pd.DataFrame(strict_json((clean_env / "cli.json").read_text())["predictions"])
    np.testing.assert_allclose(predictions["pd"], expected["pd"], rtol=1e-9)


def test_a_hub_release_loads_in_a_clean_environment_and_scores_raw_rows(champion, clean_env):
    uri, raw, expected = champion
    version = mlflow.MlflowClient().get_model_version_by_alias("credit_scoring_pd", "champion")
    card = {"license": "cc-by-4.0", "project_url": "https://example.org", "intended_use": "Tests.",
            "training_data": "German Credit.", "limitations": "None known."}
    release = build_release(f"models:/credit_scoring_pd/{version.version}",
                            clean_env / "release", "someone/credit-pd", {}, card)
    raw.to_csv(clean_env / "raw.csv", index=False)
    script = ("import mlflow, pandas as pd; model = mlflow.pyfunc.load_model('release/model'); "
              "model.predict(pd.read_csv('raw.csv')).to_json('release.json', orient='split', double_precision=15)")
    result = in_env(clean_env, uri, "-c", script)
    assert result.returncode == 0, result.stderr[-3000:]
    scored = pd.read_json(clean_env / "release.json", orient="split")
    np.testing.assert_allclose(scored["pd"], expected["pd"], rtol=1e-9)
    assert release.joinpath("SHA256SUMS").exists()


def post(port: int, rows: pd.DataFrame, params: dict | None = None) -> tuple[int, str]:
    return post_body(port, json.dumps({
        "dataframe_split": json.loads(rows.to_json(orient="split", index=False)),
        **({"params": params} if params else {})}))


def post_body(port: int, body: str) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body.encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


SERVED_ROWS = 100
"""The operator's limit of rows per request, set where the champion is served."""


def served_memory_gb(server_pid: int) -> float:
    """Resident memory of the server and its workers (its process group), in GB."""
    sizes = subprocess.run(["ps", "-o", "rss=", "-g", str(server_pid)], capture_output=True,
                           text=True, check=False).stdout.split()
    return sum(int(size) for size in sizes) / 1e6


@dataclass(frozen=True)
class Served:
    port: int
    pid: int  # the server's process group: it and its workers


@pytest.fixture(scope="module")
def server(champion, clean_env):
    """`mlflow models serve` of the champion, from the clean environment, on 127.0.0.1, with
    the documented request timeout and an operator's row limit."""
    uri, _, _ = champion
    port = free_port()
    process = subprocess.Popen(
        [str(clean_env / "env/bin/mlflow"), "models", "serve", "-m", CHAMPION, "--env-manager",
         "local", "--host", "127.0.0.1", "--port", str(port)],
        # the server runs `uvicorn` from PATH: the environment's bin, as an activated venv has it
        cwd=clean_env, env={**os.environ, "MLFLOW_TRACKING_URI": uri,
                            "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT": "30",
                            "CREDIT_SCORING_MAX_ROWS_PER_REQUEST": str(SERVED_ROWS),
                            "PATH": f"{clean_env / 'env/bin'}:{os.environ['PATH']}"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                break
        except OSError:
            assert process.poll() is None, "mlflow models serve exited"
            time.sleep(1)
    yield Served(port, process.pid)
    os.killpg(process.pid, 15)
    process.wait(timeout=30)


def strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_the_served_champion_answers_raw_rows_with_strict_json(champion, server):
    _, raw, expected = champion
    status, body = post(server.port, raw.head(50))
    assert status == 200, body
    predictions = pd.DataFrame(strict_json(body)["predictions"])
    assert list(predictions.columns) == OUTPUT
    np.testing.assert_allclose(predictions["pd"], expected["pd"].head(50), rtol=1e-9)
    accepted = predictions["decision"] == "accept"
    assert predictions.loc[accepted, "reason_1_code"].isna().all()  # null, not NaN
    assert predictions.loc[~accepted, "reason_1_code"].notna().all()


def test_the_documented_curl_example_is_answered(server):
    readme = (Path(__file__).resolve().parents[1] / "docs" / "champion.md").read_text()
    body = readme.split("/invocations -H 'Content-Type: application/json' -d '")[1].split("'\n")[0]
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/invocations", data=body.encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        (prediction,) = strict_json(response.read().decode())["predictions"]
    assert prediction["decision"] in {"accept", "decline"} and 0 < prediction["pd"] < 1


def test_every_served_decline_cites_in_words_only_factors_that_raised_its_risk(
        default_run, champion, server):
    """Issue 32: over every declined test applicant, through the served champion: no reason
    names a protected attribute or a feature built from one, every reason has a code and a
    statement, and every cited factor raised the PD against the approved applicants."""
    holdout = pd.read_csv(default_run / "data/05_model_input/holdout_applicants.csv")
    answers = []
    for start in range(0, len(holdout), SERVED_ROWS):
        status, body = post(server.port, holdout.iloc[start:start + SERVED_ROWS])
        assert status == 200, body
        answers.append(pd.DataFrame(strict_json(body)["predictions"]))
    served = pd.concat(answers, ignore_index=True)
    declined = served["decision"] == "decline"
    assert declined.sum() > 30
    scorer = scorer_of(mlflow.pyfunc.load_model(CHAMPION))
    statements = scorer.policy.statements
    attribute_of = {s.code: name for name, s in statements.attributes.items()}
    protected = scorer.feature_schema["protected_attributes"]
    assert protected["policy"] == "exclude"
    assert not set(protected["sources"]) & set(scorer.features)  # not even in the model
    rows = scorer.prepare(holdout[declined.to_numpy()])
    raised = scorer.contributions(rows) - pd.Series(scorer.baselines["reasons"]["contribution"])
    cited = 0
    for position, (_, row) in enumerate(served[declined].iterrows()):
        codes = [row[f"reason_{k}_code"] for k in range(1, 5) if row[f"reason_{k}_code"]]
        assert codes, row
        for k, code in enumerate(codes, start=1):
            assert row[f"reason_{k}_text"] and row[f"reason_{k}_text"][0].isupper()
            if code == statements.no_single_factor.code:
                assert k == 1 and len(codes) == 1
                assert (raised.iloc[position] <= 0).all()
                continue
            attribute = attribute_of[code]
            assert attribute not in protected["sources"]
            assert raised.iloc[position][attribute] > 0 and row[f"reason_{k}_value"]
            assert statements.attributes[attribute].source != "readable name"
            cited += 1
    assert cited > declined.sum()  # most declines have more than one reason


def test_a_served_row_with_a_bad_value_gets_400_naming_the_column(champion, server):
    _, raw, _ = champion
    bad = raw.head(3).astype({"duration_in_month": object})
    bad.iloc[1, bad.columns.get_loc("duration_in_month")] = "forty"
    status, body = post(server.port, bad)
    assert status == 400
    assert "duration_in_month" in strict_json(body)["message"]
    status, body = post(server.port, raw.head(3).drop(columns="purpose"))
    assert status == 400 and "purpose" in strict_json(body)["message"]
    # a column sent twice is never scored: MLflow's own schema check refuses it before the
    # model's (with its own wording; the model's message is tested in test_bad_inputs)
    twice = pd.concat([raw.head(3), raw.head(3)[["credit_amount"]] * 2], axis=1)
    status, body = post(server.port, twice)
    assert status == 400 and "predictions" not in strict_json(body)
    assert "credit_amount" in strict_json(body)["message"]


@pytest.mark.parametrize(("reason_codes", "message"), [
    (1_000_000_000, "reason_codes must be from 0 to"),  # once grew the worker by 120 MB/s
    (-1, "reason_codes must be from 0 to"),
    ("many", "reason_codes"),
])
def test_an_absurd_number_of_reasons_is_refused_at_once_and_the_server_stays_small(
        reason_codes, message, champion, server):
    _, raw, _ = champion
    started = time.monotonic()
    status, body = post(server.port, raw.head(1), {"reason_codes": reason_codes})
    assert 400 <= status < 500 and time.monotonic() - started < 5, body
    assert message in strict_json(body)["message"] and "Traceback" not in body
    assert served_memory_gb(server.pid) < 2
    assert post(server.port, raw.head(2))[0] == 200  # still answering


def test_more_rows_than_the_operator_allows_are_refused_naming_the_limit(champion, server):
    _, raw, _ = champion
    rows = pd.concat([raw] * (SERVED_ROWS // len(raw) + 1)).head(SERVED_ROWS + 1)
    status, body = post(server.port, rows)
    assert status == 400
    assert (f"{SERVED_ROWS + 1} rows in one call: this model scores at most {SERVED_ROWS} rows "
            "per request") in strict_json(body)["message"]
    assert post(server.port, rows.head(SERVED_ROWS))[0] == 200


@pytest.mark.parametrize("number", ["Infinity", "1e308", "9" * 400])
def test_a_number_no_model_can_compute_with_gets_400_naming_the_column_and_no_trace(
        number, champion, server):
    """Issue 31: these once answered "Encountered an unexpected error" with the server's stack
    trace in the body."""
    _, raw, _ = champion
    rows = json.loads(raw.head(3).to_json(orient="split", index=False))
    rows["data"][1][rows["columns"].index("credit_amount")] = "<number>"
    body = json.dumps({"dataframe_split": rows}).replace('"<number>"', number)
    status, answer = post_body(server.port, body)
    assert status == 400, answer
    message = strict_json(answer)["message"]
    assert "credit_amount" in message and "Traceback" not in answer, answer
    assert "stack_trace" not in strict_json(answer)
    assert served_memory_gb(server.pid) < 2 and post(server.port, raw.head(2))[0] == 200


def test_a_category_sent_as_codes_is_refused_not_scored_as_unseen(champion, server):
    _, raw, _ = champion
    rows = pd.concat([raw] * 3).head(30)
    codes = rows.assign(purpose=rows["purpose"].astype("category").cat.codes + 1)
    status, body = post(server.port, codes)
    assert status == 400
    assert "column 'purpose': 100% of its 30 values were never seen in training" in \
        strict_json(body)["message"]
    one = codes.head(1)  # one new value in one row: scored as unseen, as documented
    assert post(server.port, one)[0] == 200


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession  # noqa: PLC0415  (only this test needs Spark)

    os.environ["PYSPARK_PYTHON"] = sys.executable  # workers use this interpreter
    session = (SparkSession.builder.master("local[1]").appName("credit_scoring-tests")
               .config("spark.sql.shuffle.partitions", "1").config("spark.ui.enabled", "false")
               .getOrCreate())
    yield session
    session.stop()


def test_spark_scores_raw_rows_like_pandas(champion, spark):
    _, raw, expected = champion
    udf = mlflow.pyfunc.spark_udf(
        spark, CHAMPION, env_manager="local",
        result_type="input_row long, pd double, score long, band long, decision string",
    )
    frame = spark.createDataFrame(raw)
    scored = frame.select(udf(*raw.columns).alias("scored")).select("scored.*").toPandas()
    np.testing.assert_allclose(scored["pd"], expected["pd"], rtol=0, atol=1e-9)
    assert (scored["decision"] == expected["decision"]).all()
    assert (scored["band"] == expected["band"]).all()


def test_a_batch_held_in_spark_is_counted_for_monitoring_there_as_in_duckdb(champion, spark):
    """Monitoring's per-feature counts (PSI bins, missing, unseen, out of range) run as one
    Spark SQL aggregation on a batch that lives in Spark, and match DuckDB's on pandas."""
    scorer = scorer_of(mlflow.pyfunc.load_model(CHAMPION))
    _, raw, _ = champion
    prepared = scorer.prepare(raw)
    baselines = scorer.baselines["features"]
    # a Spark table holds categories as text, as pandas' categorical dtype has no Spark type
    text = prepared.select_dtypes("category").columns
    on_spark = bin_counts(spark.createDataFrame(
        prepared.astype(dict.fromkeys(text, object)).astype(object).where(prepared.notna(), None)
    ), baselines)
    on_duckdb = bin_counts(prepared, baselines)
    assert on_spark[0] == on_duckdb[0] == len(raw)
    for column, found in on_duckdb[1].items():
        np.testing.assert_array_equal(on_spark[1][column]["counts"], found["counts"])
        assert on_spark[1][column].get("outside") == found.get("outside")


@dataclass(frozen=True)
class Scorecard:
    folder: Path  # the registered version's model folder, downloaded
    raw: pd.DataFrame
    scored: pd.DataFrame  # by MLflow's own loader, in this process
    env: Path  # a clean environment from the scorecard's own requirements


@pytest.fixture(scope="module")
def scorecard(scorecard_champion, tmp_path_factory):
    """The WoE scorecard registered by thresholding (policy: thresholding.eligible), as a
    deployer receives it: its model folder from the registry and raw rows of the data."""
    project, _, folder = scorecard_champion
    root = tmp_path_factory.mktemp("scorecard_deployment")
    raw = pd.read_csv(project / "data/01_raw/germancredit.csv").drop(
        columns="creditability").head(200)
    scored = mlflow.pyfunc.load_model(str(folder)).predict(raw)
    return Scorecard(folder, raw, scored, make_env(root, str(folder / "requirements.txt")))


def test_a_scorecard_champion_is_its_table_and_needs_nothing_beyond_the_inference_stack(
        scorecard):
    files = {p.relative_to(scorecard.folder).as_posix()
             for p in scorecard.folder.rglob("*") if p.is_file()}
    assert "artifacts/estimator.json" in files
    table = json.loads((scorecard.folder / "artifacts/estimator.json").read_text())
    assert table["format"] == "credit_scoring.woe_scorecard/1"
    assert {"dtype", "count", "bads", "woe", "coefficient"} <= set(table["attributes"][0])
    assert unsafe_files(scorecard.folder / "artifacts") == {}  # data only, no pickle
    packages = {line.split("==")[0] for line in
                (scorecard.folder / "requirements.txt").read_text().split()}
    assert not packages & {"optbinning", "shap", "xgboost", "lightgbm", "catboost"}
    # the code-free loader (the installed package, nothing run from the folder) agrees
    again = load_code_free(scorecard.folder).predict(scorecard.raw)
    pd.testing.assert_frame_equal(again, scorecard.scored)
    assert (scorecard.scored["decision"] == "decline").any()


def test_a_scorecard_champion_scores_raw_rows_in_a_clean_environment_and_from_a_release(
        scorecard):
    env = scorecard.env
    scorecard.raw.to_csv(env / "raw.csv", index=False)
    assert in_env(env, "", "-c", "import optbinning").returncode != 0  # not installed
    release = build_release(str(scorecard.folder), env / "release", "someone/credit-scorecard",
                            {}, {"license": "cc-by-4.0", "project_url": "https://example.org",
                                 "intended_use": "Tests.", "training_data": "German Credit.",
                                 "limitations": "None known."})
    for source, out in ((str(scorecard.folder), "scored.json"), ("release/model", "hub.json")):
        script = (f"import mlflow, pandas as pd; model = mlflow.pyfunc.load_model({source!r}); "
                  f"model.predict(pd.read_csv('raw.csv')).to_json({out!r}, orient='split', "
                  "double_precision=15)")
        result = in_env(env, "", "-c", script)
        assert result.returncode == 0, result.stderr[-3000:]
        scored = pd.read_json(env / out, orient="split")
        np.testing.assert_allclose(scored["pd"], scorecard.scored["pd"], rtol=1e-9)
        assert (scored["decision"] == scorecard.scored["decision"]).all()
        assert (scored["reason_1_code"].fillna("-") == scorecard.scored["reason_1_code"]
                .fillna("-")).all()
    assert release.joinpath("SHA256SUMS").exists()
    # the project's own safe path: HubModelDataset (trust off, hash checked) reads the cache
    cache = env / "hf_cache"
    cache_folder(cache, "someone/credit-scorecard", release)
    code, output = load_in_fresh_process(
        cache, "someone/credit-scorecard", file_sha256(release / MANIFEST), cwd=env,
        then="import pandas as pd; print(model.predict(pd.read_csv('raw.csv'))['pd'].sum())")
    assert code == 0, output
    assert float(output.split()[-1]) == pytest.approx(scorecard.scored["pd"].sum(), rel=1e-9)


def test_spark_scores_raw_rows_with_a_scorecard_champion_like_pandas(scorecard, spark):
    udf = mlflow.pyfunc.spark_udf(
        spark, str(scorecard.folder), env_manager="local",
        result_type="input_row long, pd double, score long, band long, decision string",
    )
    frame = spark.createDataFrame(scorecard.raw)
    scored = frame.select(udf(*scorecard.raw.columns).alias("scored")).select(
        "scored.*").toPandas()
    np.testing.assert_allclose(scored["pd"], scorecard.scored["pd"], rtol=0, atol=1e-9)
    assert (scored["decision"] == scorecard.scored["decision"]).all()
