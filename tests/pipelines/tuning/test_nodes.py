"""tuning nodes: a tiny persisted study, resuming, pruning and the never-worse rule."""

import logging
import os
import subprocess
import time

import mlflow
import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import FixedTrial, TrialState
from sklearn.metrics import roc_auc_score

from credit_scoring.data.schema import features
from credit_scoring.io.optuna_storage import OptunaStorageDataset
from credit_scoring.io.processes import this_process
from credit_scoring.io.tracking import MlflowCandidateRunsDataset
from credit_scoring.pipelines.tuning.nodes import (
    FINISHED,
    family_to_tune,
    params_on_bounds,
    refit_best,
    study_plots,
    suggest_params,
    trials_table,
    tune_hyperparameters,
    untuned_point,
    with_study,
)
from tests.conftest import loan_book_model_input

XGBOOST = {
    "estimator": "xgboost.XGBClassifier",
    "params": {"n_estimators": 20, "max_depth": 2, "enable_categorical": True, "n_jobs": 1},
    "preprocessing": "native_categorical",
}
SELECTED = {"candidate": "xgboost", "spec": XGBOOST, "cv_score_mean": 0.7}


@pytest.fixture
def model_input(loan_book, loan_book_params):
    return loan_book_model_input(loan_book, loan_book_params)


@pytest.fixture
def journal(tmp_path):
    return str(tmp_path / "optuna" / "journal.log")


@pytest.fixture
def storage(journal):
    return OptunaStorageDataset(filepath=journal).load()


@pytest.fixture
def tuning_params():
    return {
        "family": None,
        "candidates": {"xgboost": XGBOOST},
        "objective_metric": "roc_auc",
        "random_state": 3,
        "class_weighting": None,
        "study_name": "test",
        "n_trials": 3,
        "timeout_s": None,
        "sampler": {"class": "TPESampler", "kwargs": {"seed": 1}},
        "pruner": {"class": "NopPruner", "kwargs": {}},
        "search_spaces": {
            "xgboost": {
                "max_depth": {"type": "int", "low": 1, "high": 3},
                "learning_rate": {"type": "float", "low": 0.05, "high": 0.3, "log": True},
            }
        },
    }


def test_search_space_yaml_maps_to_optuna_suggestions():
    space = {
        "depth": {"type": "int", "low": 2, "high": 8},
        "rate": {"type": "float", "low": 0.01, "high": 0.3, "log": True},
        "features": {"type": "categorical", "choices": ["sqrt", 0.5]},
    }
    trial = FixedTrial({"depth": 4, "rate": 0.1, "features": 0.5})
    assert suggest_params(trial, space) == {"depth": 4, "rate": 0.1, "features": 0.5}


def test_configured_family_overrides_the_selection_and_must_have_a_space(tuning_params):
    tuning_params["candidates"]["catboost"] = {"estimator": "catboost.CatBoostClassifier"}
    tuning_params["family"] = "catboost"
    with pytest.raises(ValueError, match="No search space for 'catboost'"):
        family_to_tune(SELECTED, tuning_params)
    tuning_params["search_spaces"]["catboost"] = {}
    assert family_to_tune(SELECTED, tuning_params)["spec"]["estimator"].startswith("catboost")


def test_study_is_persisted_and_a_rerun_resumes_it(model_input, tuning_params, journal, storage):
    train, _, schema = model_input
    study, summary, best_oof = tune_hyperparameters(train, schema, SELECTED, storage, tuning_params)
    assert len(study.trials) == 3
    assert summary["best_cv_score"] == pytest.approx(study.best_value)
    assert set(summary["best_params"]) == {"max_depth", "learning_rate"}
    # the best trial's out-of-fold PDs are kept for the refit: every training row, once
    assert list(best_oof.columns) == [f"trial_{study.best_trial.number}"]
    assert best_oof.index.equals(train.index) and best_oof.iloc[:, 0].between(0, 1).all()

    # same budget: nothing left to do; larger budget: the same study grows
    again, _, _ = tune_hyperparameters(train, schema, SELECTED, storage, tuning_params)
    assert len(again.trials) == 3
    tuning_params["n_trials"] = 5
    resumed, _, _ = tune_hyperparameters(train, schema, SELECTED, storage, tuning_params)
    assert len(resumed.trials) == 5
    reopened = OptunaStorageDataset(filepath=journal).load()
    assert [s.study_name for s in optuna.get_all_study_summaries(reopened)] == ["test.xgboost"]


def test_folds_report_so_a_hopeless_trial_stops_after_one_fold(
    model_input, tuning_params, storage
):
    train, _, schema = model_input
    tuning_params["pruner"] = {"class": "ThresholdPruner", "kwargs": {"lower": 0.999}}
    with pytest.raises(RuntimeError, match="no completed trial"):
        tune_hyperparameters(train, schema, SELECTED, storage, tuning_params)
    study = optuna.load_study(study_name="test.xgboost", storage=storage)
    assert {t.state for t in study.trials} == {TrialState.PRUNED}
    assert all(list(t.intermediate_values) == [1] for t in study.trials)  # one fold scored


def _other_data(train, schema):
    changed = train.copy()
    changed.iloc[0, changed.columns.get_loc(schema["numeric"][0])] += 1
    return changed


def _other_folds(train, schema):
    return train.assign(**{schema["fold_column"]: train[schema["fold_column"]].to_numpy()[::-1]})


@pytest.mark.parametrize(
    ("change", "part"),
    [
        (lambda train, schema, params: (_other_data(train, schema), params), "model_input_train"),
        (lambda train, schema, params: (_other_folds(train, schema), params), "folds"),
        (lambda train, schema, params: (train, {**params, "class_weighting": "balanced"}),
         "objective"),
        (lambda train, schema, params: (train, {**params, "search_spaces": {"xgboost": {
            "max_depth": {"type": "int", "low": 1, "high": 6}}}}), "search_space"),
    ],
    ids=["data", "folds", "class_weighting", "search_space"],
)
def test_a_study_is_not_resumed_on_anything_else_than_it_was_fitted_to(
    model_input, tuning_params, storage, change, part
):
    train, _, schema = model_input
    tuning_params["n_trials"] = 1
    tune_hyperparameters(train, schema, SELECTED, storage, tuning_params)

    other_train, other_params = change(train, schema, {**tuning_params, "n_trials": 2})
    with pytest.raises(ValueError, match=f"different .*{part}.*set tuning.study_name to a new name"):
        tune_hyperparameters(other_train, schema, SELECTED, storage, other_params)
    assert len(optuna.load_study(study_name="test.xgboost", storage=storage).trials) == 1

    # a new study name starts afresh on the new terms
    other_params["study_name"] = "fresh"
    study, _, _ = tune_hyperparameters(other_train, schema, SELECTED, storage, other_params)
    assert len(study.trials) == 2


@pytest.mark.parametrize("metric", ["brier", "log_loss"])
def test_lower_is_better_metrics_are_minimised(model_input, tuning_params, storage, metric):
    train, _, schema = model_input
    tuning_params.update(objective_metric=metric, n_trials=4)
    study, summary, _ = tune_hyperparameters(train, schema, SELECTED, storage, tuning_params)
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    assert summary["best_cv_score"] == min(t.value for t in study.trials)


def _dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


def test_a_trial_left_running_by_a_killed_process_is_failed_and_replaced(
    model_input, tuning_params, storage
):
    train, _, schema = model_input
    tuning_params["n_trials"] = 1
    study, _, _ = tune_hyperparameters(train, schema, SELECTED, storage, tuning_params)
    host = os.uname().nodename
    killed = study.ask()  # a worker killed mid-trial: RUNNING, its process gone
    killed.set_user_attr("worker", {"host": host, "pid": _dead_pid()})
    busy = study.ask()    # a worker still at work: left alone
    busy.set_user_attr("worker", {"host": host, "pid": os.getpid()})

    tuning_params["n_trials"] = 3
    study, _, _ = tune_hyperparameters(train, schema, SELECTED, storage, tuning_params)
    states = [t.state for t in study.trials]
    assert states[:3] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.RUNNING]
    # the busy worker's trial holds its place in the budget: one new trial, not two
    assert states[3:] == [TrialState.COMPLETE]


class RacingJournal(optuna.storages.JournalStorage):
    """A journal where another worker asks a trial just before this process's first one."""

    raced = False

    def create_new_trial(self, study_id, template_trial=None):
        if not self.raced:
            self.raced = True
            other = super().create_new_trial(study_id)
            self.set_trial_user_attr(other, "worker", {"host": "elsewhere", "pid": 1})
        return super().create_new_trial(study_id, template_trial)


def test_parallel_workers_never_finish_more_than_n_trials(model_input, tuning_params, tmp_path):
    train, _, schema = model_input
    storage = RacingJournal(optuna.storages.journal.JournalFileBackend(str(tmp_path / "j.log")))
    storage.raced = True
    tuning_params["n_trials"] = 1
    tune_hyperparameters(train, schema, SELECTED, storage, tuning_params)

    # budget 2: one trial complete, one left; the other worker takes it just before us
    storage.raced = False
    tuning_params["n_trials"] = 2
    study, _, _ = tune_hyperparameters(train, schema, SELECTED, storage, tuning_params)
    complete, other, surplus = study.trials
    assert (complete.state, other.state, surplus.state) == (
        TrialState.COMPLETE, TrialState.RUNNING, TrialState.FAIL)
    assert "tuning.n_trials=2" in surplus.user_attrs["not_run"]
    assert len(study.get_trials(states=(*FINISHED, TrialState.RUNNING))) == 2


def test_refit_keeps_the_untuned_model_when_tuning_did_not_beat_it(
    model_input, tuning_params, caplog
):
    train, test, schema = model_input
    summary = {"study_name": "test.xgboost", "candidate": "xgboost", "spec": XGBOOST,
               "best_trial": 0, "best_params": {"max_depth": 1}, "best_cv_score": 0.0,
               "best_params_on_bounds": []}
    with caplog.at_level(logging.WARNING):
        candidates, spec, oof = refit_best(train, test, schema, summary, pd.DataFrame(),
                                           tuning_params)
    assert spec["kept"] == "untuned" and spec["spec"] == XGBOOST
    assert "keeping the untuned configuration" in caplog.text
    assert list(candidates) == ["xgboost"] and list(oof.columns)[-1] == "xgboost"
    assert candidates["xgboost"]["params"]["kept"] == "untuned"


@pytest.mark.parametrize(("best_brier", "kept"), [(0.0, "tuned"), (1.0, "untuned")])
def test_refit_compares_a_lower_is_better_metric_the_right_way_round(
    model_input, tuning_params, best_brier, kept
):
    train, test, schema = model_input
    tuning_params["objective_metric"] = "brier"
    summary = {"study_name": "test.xgboost", "candidate": "xgboost", "spec": XGBOOST,
               "best_trial": 0, "best_params": {"max_depth": 1}, "best_cv_score": best_brier,
               "best_params_on_bounds": []}
    _, spec, _ = refit_best(train, test, schema, summary, pd.DataFrame(), tuning_params)
    assert spec["kept"] == kept


def test_refit_model_reloads_through_mlflow_with_identical_predictions(
    model_input, tuning_params, tracking_store
):
    train, test, schema = model_input
    summary = {"study_name": "test.xgboost", "candidate": "xgboost", "spec": XGBOOST,
               "best_trial": 0, "best_params": {"max_depth": 3, "learning_rate": 0.2},
               "best_cv_score": 1.0, "best_params_on_bounds": ["max_depth"]}
    candidates, spec, oof = refit_best(train, test, schema, summary, pd.DataFrame(),
                                       tuning_params)
    assert spec["kept"] == "tuned" and spec["spec"]["params"]["max_depth"] == 3
    # out-of-fold PDs for thresholding: every training row, scored by a model that did not see it
    assert list(oof.columns) == [schema["target"], schema["fold_column"], "xgboost_tuned"]
    assert oof.index.equals(train.index) and oof["xgboost_tuned"].between(0, 1).all()
    assert spec["cv_roc_auc_mean"] == candidates["xgboost_tuned"]["metrics"]["cv_roc_auc_mean"]
    assert candidates["xgboost_tuned"]["metrics"]["best_params_on_bounds"] == 1

    dataset = MlflowCandidateRunsDataset(stage="tuning")
    dataset.save(candidates)
    reloaded = mlflow.pyfunc.load_model(dataset.load()["xgboost_tuned"])
    X_test = features(test, schema)
    np.testing.assert_allclose(
        reloaded.predict(X_test),
        candidates["xgboost_tuned"]["model"].predict_proba(X_test)[:, 1],
        rtol=1e-6,
    )


def test_study_plots_are_figures_that_join_the_tuned_candidates_own(model_input, tuning_params,
                                                                     storage):
    train, test, schema = model_input
    study, summary, best_oof = tune_hyperparameters(train, schema, SELECTED, storage,
                                                    tuning_params)
    plots = study_plots(study, tuning_params)
    assert all(plots[name].axes for name in ("optimization_history", "param_importances", "slice"))
    # the objective is named as the metric it is, not Optuna's "Objective Value"
    assert plots["optimization_history"].axes[0].get_ylabel() == "CV roc_auc, mean over folds"
    candidates, _, _ = refit_best(train, test, schema, summary, best_oof, tuning_params)
    trials = trials_table(study, tuning_params)
    (tuned,) = with_study(candidates, trials, plots).values()
    assert tuned["trials"] is trials
    assert set(tuned["figures"]) == {"roc_curve", "precision_recall_curve", "feature_importance",
                                     "optimization_history", "param_importances", "slice"}


def test_a_pruned_trials_partial_cv_mean_is_kept_apart_from_the_complete_trials_objective(
        tuning_params):
    study = optuna.create_study(direction="maximize")
    for params, fold_means, state in [({"max_depth": 3}, [0.70, 0.72, 0.74], TrialState.COMPLETE),
                                      ({"max_depth": 5}, [0.60, 0.65], TrialState.PRUNED)]:
        study.enqueue_trial(params)
        trial = study.ask({"max_depth": optuna.distributions.IntDistribution(2, 6)})
        trial.set_user_attr("worker", this_process())
        for step, mean in enumerate(fold_means, start=1):
            trial.report(mean, step)
        study.tell(trial, fold_means[-1] if state == TrialState.COMPLETE else None, state=state)
    other_worker = study.ask()  # another process's trial is logged by that process's run
    study.tell(other_worker, 0.9)

    trials = trials_table(study, tuning_params).set_index("trial")

    assert list(trials.index) == [0, 1]
    assert list(trials["state"]) == ["COMPLETE", "PRUNED"]
    assert trials.loc[0, "cv_roc_auc_mean"] == 0.74 and pd.isna(trials.loc[1, "cv_roc_auc_mean"])
    assert trials.loc[1, "partial_cv_roc_auc_mean"] == 0.65
    assert pd.isna(trials.loc[0, "partial_cv_roc_auc_mean"])
    assert list(trials["folds_scored"]) == [3, 2]
    assert list(trials["param.max_depth"]) == [3, 5]
    # when each ran, as instants (Optuna's naive local times would be read as UTC by pandas)
    assert (trials["started"] <= trials["completed"]).all()
    assert str(trials["started"].dt.tz) != "None"


def test_the_refit_reuses_the_best_trials_out_of_fold_pds_instead_of_refitting_the_folds(
    model_input, tuning_params
):
    train, test, schema = model_input
    summary = {"study_name": "test.xgboost", "candidate": "xgboost", "spec": XGBOOST,
               "best_trial": 7, "best_params": {"max_depth": 2}, "best_cv_score": 1.0,
               "best_params_on_bounds": []}
    known = pd.Series(np.linspace(0.01, 0.99, len(train)), index=train.index)
    candidates, _, oof = refit_best(train, test, schema, summary,
                                    pd.DataFrame({"trial_7": known}), tuning_params)
    # what the trial measured is what the candidate reports: no second cross-validation
    assert oof["xgboost_tuned"].equals(known)
    assert candidates["xgboost_tuned"]["metrics"]["cv_roc_auc_mean"] == pytest.approx(
        np.mean([roc_auc_score(train.loc[f == train[schema["fold_column"]], schema["target"]],
                               known[f == train[schema["fold_column"]]])
                 for f in sorted(train[schema["fold_column"]].unique())]))


def test_best_values_on_a_bound_of_the_search_space_are_counted():
    space = {
        "depth": {"type": "int", "low": 2, "high": 12},                       # 2 % of 10 = 0.2
        "rate": {"type": "float", "low": 0.001, "high": 1.0, "log": True},   # log scale
        "leaf": {"type": "int", "low": 1, "high": 101},
        "kind": {"type": "categorical", "choices": ["a", "b"]},
    }
    best = {"depth": 12, "rate": 0.0011, "leaf": 50, "kind": "a"}
    # depth at its high bound; rate within 2 % of log(1000) of log(0.001); leaf mid-range
    assert params_on_bounds(best, space) == ["depth", "rate"]
    assert params_on_bounds({"depth": 7, "rate": 0.03, "leaf": 10}, space) == []


def test_the_time_budget_is_honoured_no_fold_starts_that_would_end_after_it(
    model_input, tuning_params, storage
):
    train, _, schema = model_input
    slow = {"estimator": "sklearn.ensemble.RandomForestClassifier", "preprocessing": "one_hot",
            "params": {"n_estimators": 150, "n_jobs": 1}}
    tuning_params.update(candidates={"random_forest": slow}, n_trials=1000, timeout_s=4.0,
                         search_spaces={"random_forest": {
                             "min_samples_leaf": {"type": "int", "low": 1, "high": 20}}})
    selected = {"candidate": "random_forest", "spec": slow}
    started = time.monotonic()
    study, _, _ = tune_hyperparameters(train, schema, selected, storage, tuning_params)
    elapsed = time.monotonic() - started
    fold_s = max(t.duration.total_seconds() for t in study.trials) / 5
    # Optuna's timeout alone lets the last trial run all its folds past the budget
    assert elapsed <= 4.0 + fold_s, (elapsed, fold_s)
    assert len(study.trials) < 1000
    stopped = [t for t in study.trials if "stopped" in t.user_attrs]
    assert all(t.state == TrialState.PRUNED for t in stopped)


def test_lightgbm_is_tuned_with_early_stopping_and_its_refit_reloads_from_mlflow(
    model_input, tuning_params, storage, tracking_store
):
    train, test, schema = model_input
    lightgbm = {"estimator": "lightgbm.LGBMClassifier", "preprocessing": "native_categorical",
                "params": {"n_estimators": 300, "verbose": -1, "n_jobs": 1},
                "early_stopping": {"rounds": 10, "validation_share": 0.2}}
    tuning_params.update(candidates={"lightgbm": lightgbm}, search_spaces={"lightgbm": {
        "learning_rate": {"type": "float", "low": 0.05, "high": 0.3, "log": True},
        "num_leaves": {"type": "int", "low": 4, "high": 31}}})
    selected = {"candidate": "lightgbm", "spec": lightgbm}
    study, summary, best_oof = tune_hyperparameters(train, schema, selected, storage,
                                                    tuning_params)
    candidates, spec, oof = refit_best(train, test, schema, summary, best_oof, tuning_params)
    name, = candidates
    model = candidates[name]["model"]
    assert model[-1].booster_.num_trees() < 300  # stopped early on the refit too
    assert spec["spec"]["early_stopping"] == lightgbm["early_stopping"]
    dataset = MlflowCandidateRunsDataset(stage="tuning")
    dataset.save(candidates)
    X_test = features(test, schema)
    np.testing.assert_allclose(mlflow.pyfunc.load_model(dataset.load()[name]).predict(X_test),
                               model.predict_proba(X_test)[:, 1], rtol=1e-6)


def test_the_untuned_configuration_is_a_point_of_the_space_only_if_every_searched_value_is_set():
    space = {"max_depth": {"type": "int", "low": 2, "high": 8, "step": 2},
             "learning_rate": {"type": "float", "low": 0.01, "high": 0.3, "log": True},
             "max_cat_to_onehot": {"type": "categorical", "choices": [4, 16, 64]}}
    spec = {"params": {"max_depth": 4, "learning_rate": 0.05, "max_cat_to_onehot": 64, "n_jobs": 1}}
    assert untuned_point(spec, space) == {"max_depth": 4, "learning_rate": 0.05,
                                          "max_cat_to_onehot": 64}
    for off in ({"max_depth": 5},            # off the step
                {"learning_rate": 0.5},      # outside the range
                {"max_cat_to_onehot": 1},    # not a choice
                {"max_depth": None}):        # the library's default: unknown here
        assert untuned_point({"params": {**spec["params"], **off}}, space) is None
    assert untuned_point({"params": {"max_depth": 4, "learning_rate": 0.05}}, space) is None


def test_the_untuned_configuration_is_the_first_trial_and_the_refit_reuses_it(
    model_input, tuning_params, storage
):
    train, test, schema = model_input
    spec = {**XGBOOST, "params": {**XGBOOST["params"], "learning_rate": 0.1}}
    study, summary, best_oof = tune_hyperparameters(
        train, schema, {"candidate": "xgboost", "spec": spec}, storage, tuning_params)
    first = study.trials[0]
    assert first.params == {"max_depth": 2, "learning_rate": 0.1}
    assert first.user_attrs["untuned"] is True
    assert summary["untuned_trial"] == {"number": 0, "state": "COMPLETE", "value": first.value}
    candidates, tuned_spec, _ = refit_best(train, test, schema, summary, best_oof, tuning_params)
    name, = candidates
    # measured once, in the study: the refit reports the trial's value, it does not re-run it
    assert candidates[name]["metrics"]["untuned_cv_roc_auc_mean"] == first.value
    assert tuned_spec["kept"] == ("untuned" if study.best_trial.number == 0 else "tuned")


def test_the_untuned_configuration_runs_every_fold_even_past_the_budget(
    model_input, tuning_params, storage, caplog
):
    # the budget cannot hold one full cross-validation: the untuned configuration still gets
    # all its folds (tuning must beat it, thresholding ranks it), then nothing else starts
    train, _, schema = model_input
    forest = {"estimator": "sklearn.ensemble.RandomForestClassifier", "preprocessing": "one_hot",
              "params": {"n_estimators": 100, "min_samples_leaf": 5, "n_jobs": 1}}
    tuning_params.update(candidates={"random_forest": forest}, n_trials=10, timeout_s=0.05,
                         search_spaces={"random_forest": {
                             "min_samples_leaf": {"type": "int", "low": 1, "high": 20}}})
    with caplog.at_level(logging.WARNING):
        study, summary, best_oof = tune_hyperparameters(
            train, schema, {"candidate": "random_forest", "spec": forest}, storage,
            tuning_params)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE]
    assert summary["untuned_trial"]["state"] == "COMPLETE" and summary["best_trial"] == 0
    assert best_oof["trial_0"].notna().all()
    assert "The untuned random_forest alone took" in caplog.text
