"""Nodes of the tuning pipeline: an Optuna study on the shared folds, then one honest refit."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import optuna
import pandas as pd
from matplotlib.figure import Figure
from optuna.storages import BaseStorage
from optuna.study import MaxTrialsCallback
from optuna.trial import TrialState
from optuna.visualization import matplotlib as optuna_plots

from credit_scoring.data.schema import features, target
from credit_scoring.io.processes import process_alive, this_process
from credit_scoring.models.candidates import candidate_record
from credit_scoring.models.estimators import build_estimator, with_params
from credit_scoring.models.evaluation import (
    HIGHER_IS_BETTER,
    METRICS,
    balanced_sample_weight,
    cross_validate_pd,
    fit_and_evaluate,
    fold_models,
    frame_fingerprint,
    scored_folds,
)
from credit_scoring.models.plots import candidate_plots, feature_importance
from credit_scoring.models.progress import Progress, duration

logger = logging.getLogger(__name__)

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
"""What the budget ``n_trials`` counts; FAIL trials (crashed, killed, surplus) do not count."""


class BudgetSpent(Exception):
    """A trial that started after the study's budget was taken by earlier trials."""


class TimeBudget:
    """The wall-clock budget of one tuning run (``tuning.timeout_s``; None = no limit).

    Optuna's own ``timeout`` only stops *starting* trials: a trial started just before it
    runs every fold. Here a trial also stops (as pruned, with the reason as a user
    attribute) before a fold that would not end in time, judging by the slowest fold so far,
    so the study ends within the budget plus at most one fold's overrun of that estimate.
    The untuned configuration (the study's first trial) is the exception: it is what the
    search must beat and what thresholding ranks, so it always runs every fold; when it
    alone overruns the budget, a warning says so and no other trial starts.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.started = self.last = time.monotonic()
        self.slowest_fold = 0.0

    def fold_done(self) -> None:
        now = time.monotonic()
        self.slowest_fold = max(self.slowest_fold, now - self.last)
        self.last = now

    def room_for_fold(self) -> bool:
        if self.seconds is None:
            return True
        self.last = now = time.monotonic()
        return now + self.slowest_fold <= self.started + self.seconds


def family_to_tune(selected_family: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The family named in ``tuning.family``, else the one model_comparison selected."""
    name = params.get("family") or selected_family["candidate"]
    if name not in params["search_spaces"]:
        raise ValueError(
            f"No search space for '{name}' in parameters_tuning.yml (tuning.search_spaces has "
            f"{list(params['search_spaces'])}); add one or set tuning.family."
        )
    if name == selected_family["candidate"]:
        spec = selected_family["spec"]
    else:
        spec = params["candidates"][name]
    return {"candidate": name, "spec": spec}


def suggest_params(trial: optuna.Trial, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Sample one configuration from a YAML search space (type: int | float | categorical)."""
    suggest = {
        "int": trial.suggest_int,
        "float": trial.suggest_float,
        "categorical": trial.suggest_categorical,
    }
    sampled = {}
    for name, spec in space.items():
        options = {k: v for k, v in spec.items() if k != "type"}
        sampled[name] = suggest[spec["type"]](name, **options)
    return sampled


def params_on_bounds(best: dict[str, Any], space: dict[str, dict[str, Any]],
                     tolerance: float = 0.02) -> list[str]:
    """Numeric parameters whose best value lies within ``tolerance`` of the range (on the
    log scale for a log dimension) from a bound: the search space may be cutting off the
    optimum, so widen it there."""
    on_bound = []
    for name, spec in space.items():
        if spec["type"] == "categorical" or name not in best:
            continue
        scale = np.log if spec.get("log") else float
        low, high, value = scale(spec["low"]), scale(spec["high"]), scale(best[name])
        if high > low and min(value - low, high - value) <= tolerance * (high - low):
            on_bound.append(name)
    return on_bound


def untuned_point(spec: dict[str, Any], space: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The untuned configuration as a point of the search space, if it is one.

    None when the spec leaves a searched parameter at the library's default (unknown here)
    or sets it off the space (outside the range, off the step, not a choice).
    """
    params = spec.get("params") or {}
    point = {}
    for name, dimension in space.items():
        value = params.get(name)
        if dimension["type"] == "categorical":
            inside = name in params and value in dimension["choices"]
        else:
            step = dimension.get("step") or (1 if dimension["type"] == "int" else None)
            inside = (isinstance(value, int | float) and not isinstance(value, bool)
                      and dimension["low"] <= value <= dimension["high"]
                      and (step is None or (value - dimension["low"]) % step == 0))
        if not inside:
            return None
        point[name] = value
    return point


def study_fingerprint(
    model_input_train: pd.DataFrame,
    feature_schema: dict[str, Any],
    family: dict[str, Any],
    params: dict[str, Any],
) -> dict[str, str]:
    """What a trial's CV score depends on, one short hash per part.

    Stored on the study when it is created: a study may only be resumed by a run that
    would score the same configuration the same way, or its old trials would compete
    with new ones on different terms.
    """
    fold_column = feature_schema["fold_column"]
    return {
        "model_input_train": frame_fingerprint(model_input_train)[:16],
        "folds": frame_fingerprint(model_input_train[[fold_column]])[:16],
        "feature_schema": _digest(feature_schema),
        "family": _digest(family),
        "search_space": _digest(params["search_spaces"][family["candidate"]]),
        "objective": _digest({key: params[key] for key in
                              ("objective_metric", "class_weighting", "random_state")}),
    }


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def open_study(study_name: str, storage: BaseStorage, params: dict[str, Any]) -> optuna.Study:
    """Create the study, or load it when it already exists in the storage (resume).

    The direction follows the objective metric: Brier score and log loss are minimised.
    """
    metric = params["objective_metric"]
    sampler = getattr(optuna.samplers, params["sampler"]["class"])(**params["sampler"]["kwargs"])
    pruner = getattr(optuna.pruners, params["pruner"]["class"])(**params["pruner"]["kwargs"])
    return optuna.create_study(
        study_name=study_name, storage=storage, sampler=sampler, pruner=pruner,
        direction="maximize" if HIGHER_IS_BETTER[metric] else "minimize", load_if_exists=True,
    )


def claim_study(study: optuna.Study, fingerprint: dict[str, str]) -> None:
    """Stamp a new study with its fingerprint; refuse to resume one fitted to something else."""
    # trials before attributes: a worker stamps a study before its first trial, so a study
    # seen without trials and then without a stamp is new, even with a second worker racing
    has_trials = bool(study.get_trials(deepcopy=False))
    stored = study.user_attrs.get("fingerprint")
    if stored is None and not has_trials:
        study.set_user_attr("fingerprint", fingerprint)
        return
    if stored is None:
        problem = "has trials but no record of what they were fitted to"
    else:
        changed = [part for part in fingerprint if stored.get(part) != fingerprint[part]]
        if not changed:
            return
        problem = f"was run on a different {', '.join(changed)} than this run's"
    raise ValueError(
        f"Study '{study.study_name}' {problem}, so its trials are not comparable with new "
        "ones. Start a fresh study: set tuning.study_name to a new name (e.g. in "
        "conf/local/parameters_tuning.yml), or delete the study's storage (by default "
        "data/06_models/optuna/journal.log)."
    )


def fail_trials_of_dead_workers(study: optuna.Study) -> None:
    """Mark FAIL the RUNNING trials whose process on this machine is gone (e.g. ``kill -9``).

    Such a trial would otherwise stay RUNNING forever and hold a place in the budget.
    Database storages also fail trials that stopped beating on other machines
    (``OptunaStorageDataset.heartbeat_interval``); a journal file has no heartbeats.
    """
    host = this_process()["host"]
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker", {})
        if worker.get("host") == host and not process_alive(worker["pid"]):
            study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
            logger.warning(
                "Trial %d of study %s was left RUNNING by process %d, which is gone: marked FAIL.",
                trial.number, study.study_name, worker["pid"],
            )


def _claim_budget(study: optuna.Study, trial: optuna.Trial, n_trials: int) -> None:
    """Run ``trial`` only if fewer than ``n_trials`` earlier trials are finished or running.

    First the trial records its host and process id, so that a later run can tell a trial
    whose process was killed from one still at work (``fail_trials_of_dead_workers``).
    Trial numbers are handed out by the storage, so counting the trials numbered before
    this one gives every worker the same answer: the study never finishes more than
    ``n_trials`` trials, whatever the number of workers. A surplus trial stops its worker
    and ends FAIL (which the budget does not count), with the reason as a user attribute.
    """
    trial.set_user_attr("worker", this_process())
    ahead = study.get_trials(deepcopy=False, states=(*FINISHED, TrialState.RUNNING))
    if sum(t.number < trial.number for t in ahead) >= n_trials:
        reason = (f"not run: tuning.n_trials={n_trials} trials were already finished or "
                  "running (taken by another worker)")
        trial.set_user_attr("not_run", reason)
        study.stop()
        raise BudgetSpent(reason)


class Objective:
    """A trial: one sampled configuration, cross-validated fold by fold on the persisted folds.

    After every fold it reports the running mean (the pruner may stop it there) and checks
    the time budget; it keeps the out-of-fold PDs of this process's best trial, and logs
    progress after every trial.
    """

    def __init__(self, study: optuna.Study, family: dict[str, Any], X: pd.DataFrame,
                 y: pd.Series, folds: pd.Series, feature_schema: dict[str, Any],
                 params: dict[str, Any], remaining: int) -> None:
        self.study, self.family, self.params = study, family, params
        self.X, self.y, self.folds, self.feature_schema = X, y, folds, feature_schema
        self.weights = balanced_sample_weight(y, params["class_weighting"])
        self.metric = params["objective_metric"]
        self.deadline = TimeBudget(params["timeout_s"])
        self.progress = Progress(f"Tuning {family['candidate']}: trials", max(remaining, 0))
        self.best_oof: dict[str, pd.Series] = {}

    def __call__(self, trial: optuna.Trial) -> float:
        _claim_budget(self.study, trial, self.params["n_trials"])
        space = self.params["search_spaces"][self.family["candidate"]]
        spec = with_params(self.family["spec"], suggest_params(trial, space))
        estimator = build_estimator(spec, self.feature_schema, self.params["random_state"])
        n_folds = len(scored_folds(self.folds))
        untuned = trial.user_attrs.get("untuned", False)
        scores = []
        oof_pd = pd.Series(np.nan, index=self.X.index, name="pd")
        for fold, (model, held_out, _) in enumerate(
                fold_models(estimator, self.X, self.y, self.folds, self.weights)):
            oof_pd.iloc[held_out] = model.predict_proba(self.X.iloc[held_out])[:, 1]
            scores.append(METRICS[self.metric](self.y.iloc[held_out], oof_pd.iloc[held_out]))
            self.deadline.fold_done()
            trial.report(float(np.mean(scores)), step=fold + 1)  # step = folds scored
            if trial.should_prune():
                raise optuna.TrialPruned()
            if fold + 1 < n_folds and not self.deadline.room_for_fold() and not untuned:
                trial.set_user_attr("stopped", "tuning.timeout_s reached")
                raise optuna.TrialPruned()
        if untuned and not self.deadline.room_for_fold():
            logger.warning(
                "The untuned %s alone took %s of the %s budget (tuning.timeout_s): no other "
                "trial fits. Raise timeout_s, or rank on fewer rows, to search at all.",
                self.family["candidate"], duration(time.monotonic() - self.deadline.started),
                duration(self.params["timeout_s"]))
        value = float(np.mean(scores))
        self._keep_if_best(trial.number, value, oof_pd)
        return value

    def _keep_if_best(self, number: int, value: float, oof_pd: pd.Series) -> None:
        previous = [t.value for t in
                    self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
        better = max if HIGHER_IS_BETTER[self.metric] else min
        if not previous or better(value, *previous) == value:
            self.best_oof = {f"trial_{number}": oof_pd}

    def after_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        self.progress.step(f"best CV {self.metric} "
                           f"{study.best_value if completed else float('nan'):.4f}")
        if not self.deadline.room_for_fold():
            study.stop()  # the time budget cannot hold another fold: stop starting trials


def tune_hyperparameters(
    model_input_train: pd.DataFrame,
    feature_schema: dict[str, Any],
    selected_family: dict[str, Any],
    optuna_storage: BaseStorage,
    params: dict[str, Any],
) -> tuple[optuna.Study, dict[str, Any], pd.DataFrame]:
    """Run (or resume) the study until it holds ``n_trials`` finished trials.

    Each trial cross-validates one configuration on the persisted folds and reports the
    running mean after every fold, so the pruner stops hopeless trials early. The budget
    counts finished trials across every process sharing the storage, so a rerun picks up
    where an interrupted one stopped and parallel workers split the work.

    Returns:
        The study; a summary: family, base spec, best trial, parameters and CV score, and
        the parameters on a bound of the search space; and the best trial's out-of-fold
        PDs (column ``trial_<number>``) when this process ran it, so the refit does not
        cross-validate it again (no column otherwise: another worker or run found it).
    """
    family = family_to_tune(selected_family, params)
    space = params["search_spaces"][family["candidate"]]
    study = open_study(f"{params['study_name']}.{family['candidate']}", optuna_storage, params)
    claim_study(study, study_fingerprint(model_input_train, feature_schema, family, params))
    fail_trials_of_dead_workers(study)
    untuned = untuned_point(family["spec"], space)
    if untuned is not None and not study.get_trials(deepcopy=False):
        # the first trial is the untuned configuration: the never-worse check needs no CV of its own
        study.enqueue_trial(untuned, user_attrs={"untuned": True})
    X, y = features(model_input_train, feature_schema), target(model_input_train, feature_schema)
    folds = model_input_train[feature_schema["fold_column"]]
    taken = (*FINISHED, TrialState.RUNNING)
    remaining = params["n_trials"] - len(study.get_trials(deepcopy=False, states=taken))
    objective = Objective(study, family, X, y, folds, feature_schema, params, remaining)
    if remaining > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.optimize(
                objective, n_trials=remaining, timeout=params["timeout_s"], catch=(BudgetSpent,),
                # stops a worker as soon as the budget is taken, which saves most surplus trials
                callbacks=[MaxTrialsCallback(params["n_trials"], states=taken),
                           objective.after_trial],
            )
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not completed:
        raise RuntimeError(
            f"Study '{study.study_name}' has no completed trial; raise tuning.n_trials or "
            "tuning.timeout_s."
        )
    logger.info(
        "Study %s: %d complete, %d pruned trials; best CV %s %.4f.",
        study.study_name, len(completed),
        len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))),
        params["objective_metric"], study.best_value,
    )
    on_bounds = params_on_bounds(study.best_params, space)
    if on_bounds:
        logger.warning(
            "Best %s parameters %s lie on a bound of tuning.search_spaces.%s: the optimum may "
            "be outside the range; widen it there.", family["candidate"], on_bounds,
            family["candidate"])
    untuned_trial = next((t for t in study.get_trials(deepcopy=False, states=FINISHED)
                          if t.user_attrs.get("untuned") and "stopped" not in t.user_attrs), None)
    return study, {
        "study_name": study.study_name,
        "candidate": family["candidate"],
        "spec": family["spec"],
        # None: no untuned trial (the refit cross-validates it); PRUNED: it lost to trials
        # that went further on the same folds
        "untuned_trial": None if untuned_trial is None else {
            "number": untuned_trial.number, "state": untuned_trial.state.name,
            "value": untuned_trial.value},
        "best_trial": study.best_trial.number,
        "best_params": study.best_params,
        "best_cv_score": study.best_value,
        "best_params_on_bounds": on_bounds,
    }, pd.DataFrame(objective.best_oof, index=X.index)


def trials_table(study: optuna.Study, params: dict[str, Any]) -> pd.DataFrame:
    """The finished trials this process ran: number, state, CV objective, times, parameters.

    A complete trial's objective is ``cv_<objective_metric>_mean``; a pruned trial's is the
    mean over the folds it scored before it was stopped, ``partial_cv_<objective_metric>_mean``,
    so that sorting trials by the CV metric never ranks a partial score among full ones.
    ``folds_scored`` says how many folds each mean covers. Each trial is logged as a run nested
    under the tuned candidate's run (``with_study``), so the MLflow UI lists trials with their
    parameters as columns and draws parallel-coordinate plots. Trials of other workers sharing
    the study, or of earlier runs, belong to their own tuning runs; surplus trials that never
    ran are FAIL and left out.
    """
    worker = this_process()
    objective = f"cv_{params['objective_metric']}_mean"
    rows = [
        {"study_name": study.study_name, "trial": trial.number, "state": trial.state.name,
         (objective if trial.state == TrialState.COMPLETE else f"partial_{objective}"):
             trial.value,
         "folds_scored": trial.last_step or 0,
         # Optuna's times are naive local times: made aware, so pandas does not take them for UTC
         "started": trial.datetime_start.astimezone(),
         "completed": trial.datetime_complete.astimezone(),
         "duration_s": trial.duration.total_seconds() if trial.duration else None,
         **{f"param.{name}": value for name, value in trial.params.items()}}
        for trial in study.get_trials(deepcopy=False, states=FINISHED)
        if trial.user_attrs.get("worker") == worker
    ]
    return pd.DataFrame(rows)


def refit_best(
    model_input_train: pd.DataFrame,
    model_input_test: pd.DataFrame,
    feature_schema: dict[str, Any],
    study_summary: dict[str, Any],
    best_trial_oof: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], pd.DataFrame]:
    """Refit the best configuration on all of train and score test, unless it is worse.

    The untuned configuration is measured on the same folds: as the study's first trial
    when it is a point of the search space (every searched parameter set in its spec),
    else cross-validated here. If the best trial does not beat it, the untuned
    configuration is kept, logged as such and tagged in MLflow, so a worse model is never
    shipped silently. The kept configuration's out-of-fold PDs are those already computed
    (its trial's, when this process ran it): then the only new fit is the one on all of train.

    Returns:
        The chosen model as a candidate for ``MlflowCandidateRunsDataset``, the
        specification later stages refit (``tuned_model_spec``) and its out-of-fold
        training PDs with target and fold, which thresholding calibrates and cuts.
    """
    base = study_summary["spec"]
    metric = params["objective_metric"]
    best = study_summary["best_cv_score"]
    X = features(model_input_train, feature_schema)
    untuned_cv, untuned_oof = _untuned_result(study_summary, best_trial_oof, model_input_train,
                                              feature_schema, params)
    if study_summary.get("untuned_trial") is not None:
        kept_tuned = study_summary["untuned_trial"]["number"] != study_summary["best_trial"]
    else:
        kept_tuned = best >= untuned_cv if HIGHER_IS_BETTER[metric] else best <= untuned_cv
    spec = with_params(base, study_summary["best_params"]) if kept_tuned else base
    if not kept_tuned:
        logger.warning(
            "Tuning did not beat the untuned %s (best trial CV %s %.4f, untuned %.4f, %s is "
            "better): keeping the untuned configuration.",
            study_summary["candidate"], metric, best, untuned_cv,
            "higher" if HIGHER_IS_BETTER[metric] else "lower",
        )
    estimator = build_estimator(spec, feature_schema, params["random_state"])
    name = f"{study_summary['candidate']}_tuned" if kept_tuned else study_summary["candidate"]
    known_oof = (best_trial_oof.get(f"trial_{study_summary['best_trial']}")
                 if kept_tuned or untuned_oof is None else untuned_oof)
    model, metrics, oof_pd = fit_and_evaluate(
        estimator, model_input_train, model_input_test, feature_schema, params["class_weighting"],
        name, known_oof,
    )
    metrics.update({f"best_trial_cv_{metric}_mean": best,
                    f"untuned_cv_{metric}_mean": untuned_cv,
                    "best_params_on_bounds": len(study_summary["best_params_on_bounds"])})
    candidate = candidate_record(
        spec, model, metrics, X.head(5), class_weighting=params["class_weighting"],
        kept="tuned" if kept_tuned else "untuned", study_name=study_summary["study_name"],
    )
    oof = model_input_train[[feature_schema["target"], feature_schema["fold_column"]]].assign(
        **{name: oof_pd})
    candidate["figures"] = candidate_plots(name, oof, feature_schema["target"],
                                           feature_importance(model))
    return {name: candidate}, {
        "candidate": name,
        "family": study_summary["candidate"],
        "kept": candidate["params"]["kept"],
        "spec": spec,
        # what a refit needs to reproduce this model and its out-of-fold PDs
        "random_state": params["random_state"],
        "class_weighting": params["class_weighting"],
        f"cv_{metric}_mean": metrics[f"cv_{metric}_mean"],
        f"untuned_cv_{metric}_mean": untuned_cv,
    }, oof


def _untuned_result(study_summary: dict[str, Any], best_trial_oof: pd.DataFrame,
                    model_input_train: pd.DataFrame, feature_schema: dict[str, Any],
                    params: dict[str, Any]) -> tuple[float, pd.Series | None]:
    """The untuned configuration's CV score (NaN when the pruner stopped it) and out-of-fold
    PDs (None when not at hand): from its trial when the study ran one, else cross-validated."""
    trial = study_summary.get("untuned_trial")
    if trial is not None:
        value = trial["value"] if trial["state"] == "COMPLETE" else float("nan")
        return value, best_trial_oof.get(f"trial_{trial['number']}")
    X, y = features(model_input_train, feature_schema), target(model_input_train, feature_schema)
    metrics, oof = cross_validate_pd(
        build_estimator(study_summary["spec"], feature_schema, params["random_state"]), X, y,
        model_input_train[feature_schema["fold_column"]],
        balanced_sample_weight(y, params["class_weighting"]),
        f"{study_summary['candidate']} untuned")
    return metrics[f"cv_{params['objective_metric']}_mean"], oof


def study_plots(study: optuna.Study, params: dict[str, Any]) -> dict[str, Figure]:
    """Optuna's optimisation history, parameter importance and slice plots, their objective
    named as the metric it is (e.g. "CV roc_auc, mean over folds")."""
    objective = f"CV {params['objective_metric']}, mean over folds"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        plots = {"optimization_history": optuna_plots.plot_optimization_history(
                     study, target_name=objective),
                 "param_importances": optuna_plots.plot_param_importances(
                     study, target_name=objective),
                 "slice": optuna_plots.plot_slice(study, target_name=objective)}
    return {name: _figure(axes) for name, axes in plots.items()}


def with_study(candidates: dict[str, dict[str, Any]], trials: pd.DataFrame,
               plots: dict[str, Figure]) -> dict[str, dict[str, Any]]:
    """The tuned candidate with its study: the trials become runs nested under its MLflow run
    and the study's plots join its own, so the UI shows one study per tuned candidate."""
    return {name: {**record, "trials": trials, "figures": {**record["figures"], **plots}}
            for name, record in candidates.items()}


def _figure(axes) -> Figure:
    first = axes.flat[0] if isinstance(axes, np.ndarray) else axes
    figure = first.figure
    # constrained, not tight_layout: the slice plot's colour bar is an axes tight_layout
    # cannot place (it warned on every run)
    figure.set_layout_engine("constrained")
    plt.close(figure)
    return figure
