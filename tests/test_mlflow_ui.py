"""The MLflow UI a data scientist opens after the default run: looked at in headless Chromium."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zlib
from pathlib import Path

import mlflow
import pytest

from credit_scoring.hooks import runs_view_url, saved_view

from .conftest import candidate_runs, free_port, tracked_runs

pytestmark = pytest.mark.integration


def test_each_candidate_run_has_its_plots_and_a_tuned_one_holds_its_trials(default_run):
    runs = tracked_runs(default_run)
    client = mlflow.MlflowClient()
    for stage in ("baselines", "model_comparison"):
        candidates = candidate_runs(runs, stage)
        assert sorted(candidates["tags.mlflow.runName"]) == [
            f"{stage}/{name}" for name in sorted(candidates.index)]
        for run_id in candidates["run_id"]:
            plots = {a.path for a in client.list_artifacts(run_id, "plots")}
            assert {"plots/roc_curve.png", "plots/precision_recall_curve.png"} <= plots
    tuned = candidate_runs(runs, "tuning")
    trials = runs[runs["tags.credit_scoring.stage"] == "tuning.trial"]
    assert len(tuned) == 1 and len(trials) > 1
    assert (trials["tags.mlflow.parentRunId"] == tuned["run_id"].item()).all()
    # a pruned trial is KILLED, its mean over the folds it scored kept apart from the CV mean
    pruned = trials[trials["tags.state"] == "PRUNED"]
    assert len(pruned) > 0  # the default study prunes most trials (Hyperband)
    assert (pruned["status"] == "KILLED").all() and pruned["metrics.cv_roc_auc_mean"].isna().all()
    assert pruned["metrics.partial_cv_roc_auc_mean"].notna().all()
    complete = trials[trials["tags.state"] == "COMPLETE"]
    assert (complete["status"] == "FINISHED").all() and complete["metrics.cv_roc_auc_mean"].notna().all()
    assert {"plots/optimization_history.png", "plots/slice.png", "plots/roc_curve.png"} <= {
        a.path for a in client.list_artifacts(tuned["run_id"].item(), "plots")}
    # the registered candidate's run: named with its version, its cut-off plots on it and on disk
    champion = client.get_model_version_by_alias("credit_scoring_pd", "champion")
    champion_run = client.get_run(champion.run_id)
    workflow = client.get_run(champion_run.data.tags["mlflow.parentRunId"])
    assert workflow.info.run_name == "kedro run"
    assert workflow.data.tags["runner"] == "SequentialRunner"  # not its repr, <... at 0x7f...>
    assert champion_run.info.run_name == (
        f"thresholding/{champion.tags['candidate']} v{champion.version}")
    assert champion_run.data.tags["credit_scoring.candidate"] == champion.tags["candidate"]
    # the naive 0.5 cut-off's metrics are named alike on CV and test: a suffix
    assert {"cv_expected_cost_at_0.5", "test_expected_cost_at_0.5",
            "test_approval_rate_at_0.5"} <= set(champion_run.data.metrics)
    plots = {a.path for a in client.list_artifacts(champion.run_id, "plots")}
    for name in ("cost_curve", "reliability_train", "reliability_test", "score_distribution"):
        assert f"plots/{name}.png" in plots
        assert (default_run / f"data/08_reporting/thresholding/{name}.png").stat().st_size > 0


@pytest.fixture(scope="module")
def mlflow_ui(default_run):
    """`kedro mlflow ui` (what `make ui` starts) on the default run's store, on 127.0.0.1."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kedro", "mlflow", "ui", "--host", "127.0.0.1", "--port", str(port)],
        cwd=default_run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        # kedro-mlflow starts `mlflow ui` from PATH: the venv's bin, as `make ui` sets it
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
        start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                    break
            except OSError:
                assert process.poll() is None, "kedro mlflow ui exited"
                assert time.monotonic() < deadline, "kedro mlflow ui did not answer in 3 min"
                time.sleep(1)
        yield port
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def test_the_first_screen_shows_the_candidates_with_key_metrics_and_the_registry(
        default_run, mlflow_ui):
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    log = "".join((default_run / "kedro_run.log").read_text().split())
    assert "viewStateShareKey=candidates" in log  # the run tells where to look
    runs = tracked_runs(default_run)
    experiment = runs["experiment_id"].iloc[0]
    candidates = runs.loc[runs["tags.credit_scoring.candidate"].notna(), "tags.mlflow.runName"]
    url = runs_view_url("sqlite:///", "127.0.0.1", str(mlflow_ui), experiment, "candidates")
    chromium = shutil.which("chromium")
    assert chromium, "headless Chromium is needed: apt-get install -y chromium (.ci/run does it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1800, "height": 800})
        page.goto(url)
        page.get_by_text("Group: baselines").wait_for(timeout=60_000)
        page.get_by_role("button", name="Close").click()  # MLflow's assistant panel
        page.wait_for_timeout(500)
        page.screenshot(path=str(default_run / "mlflow-candidates.png"))
        text = page.inner_text("body")
        # candidates named by stage, grouped, with the key metrics as columns
        # tuning's candidate is <family>_tuned, or <family> when the search did not beat it
        tuned = [name for name in candidates if name.startswith("tuning/")]
        assert len(tuned) == 1
        for name in ("baselines/logistic_regression", "model_comparison/xgboost", *tuned,
                     "Group: tuning", "Group: thresholding"):
            assert name in text, name
        for column in ("cv_roc_auc_mean", "cv_roc_auc_std", "test_roc_auc", "test_expected_cost",
                       "champion_decision"):
            assert column in text, column
        # run names are read in full, not cut to "model_comparison/rand..."
        for name in candidates:
            link = page.get_by_role("link", name=name, exact=True).first
            text_width, box_width = link.evaluate(
                "e => { const r = document.createRange(); r.selectNodeContents(e);"
                " return [r.getBoundingClientRect().width, e.getBoundingClientRect().width] }")
            assert text_width <= box_width + 1, f"{name} is cut short in the runs table"
        assert "trial 0" not in text  # trials stay nested under their study's run
        assert "Model training" in text and "Traces" in text  # not the GenAI view
        # the registry is one click away: the registered version's link opens the model
        with page.context.expect_page() as opened:
            page.get_by_role("link", name="credit_scoring_pd").first.click()
        registry = opened.value
        # the view is also a saved view in the runs page's "Views" menu
        page.goto(url.replace("&viewStateShareKey=candidates", ""))
        page.get_by_role("button", name="Views").click()
        page.get_by_test_id("saved-views-item-candidates").click()
        page.get_by_text("Group: baselines").wait_for(timeout=60_000)
        registry.get_by_text("Version 1").wait_for(timeout=30_000)
        assert registry.url.endswith("#/models/credit_scoring_pd")
        versions = registry.inner_text("body")
        assert "Aliases" in versions and "champion" in versions and "cutoff" in versions
        assert "Probability-of-default (PD) model" in versions  # what it is, how to load it
        browser.close()


def test_a_shared_view_is_stored_as_a_saved_view_and_rewritten_only_when_it_changes():
    state = '{"searchFilter": "tags.`credit_scoring.candidate` LIKE \'%\'", "orderByAsc": false}'
    stored = saved_view("candidates", state)
    envelope = json.loads(stored)
    assert envelope["name"] == "candidates" and envelope["state"].startswith("deflate;")
    assert json.loads(zlib.decompress(base64.b64decode(envelope["state"][8:]))) == json.loads(state)
    same = json.dumps(json.loads(state), indent=2)  # the same view, written otherwise
    assert saved_view("candidates", same, stored) is stored
    assert saved_view("candidates", state, state) != state  # kedro-mlflow's plain JSON: rewritten
    changed = json.loads(saved_view("candidates", state.replace("false", "true"), stored))
    assert json.loads(zlib.decompress(base64.b64decode(changed["state"][8:])))["orderByAsc"]


def test_the_logged_link_opens_the_team_server_or_the_local_ui_in_model_training_mode():
    view = "/#/experiments/7/runs?workflowType=machine_learning&viewStateShareKey=candidates"
    assert runs_view_url("https://mlflow.bank.internal/", "127.0.0.1", "5000", "7",
                         "candidates") == "https://mlflow.bank.internal" + view
    assert runs_view_url("sqlite:////p/mlruns/mlflow.db", "127.0.0.1", "5000", "7",
                         "candidates") == "http://127.0.0.1:5000" + view
    assert runs_view_url("sqlite:///m.db", "0.0.0.0", "8080", "1", None) == (
        "http://0.0.0.0:8080/#/experiments/1/runs?workflowType=machine_learning")
