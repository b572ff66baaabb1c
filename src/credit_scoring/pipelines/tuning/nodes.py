"""Nodes of the tuning pipeline: an Optuna study on the shared folds, then one honest refit."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import mlflow
import numpy as np
import optuna
import pandas as pd
from matplotlib.figure import Figure
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.study import MaxTrialsCallback
from optuna.trial import TrialState
from optuna.visualization import matplotlib as optuna_plots
from optuna_integration.mlflow import MLflowCallback

from credit_scoring.candidates import candidate_record
from credit_scoring.estimators import build_estimator, with_params
from credit_scoring.evaluation import (
    balanced_sample_weight,
    fit_and_evaluate,
    fold_scores,
)
from credit_scoring.schema import features, target
from credit_scoring.tracking import STAGE_TAG

logger = logging.getLogger(__name__)

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


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


def open_study(study_name: str, params: dict[str, Any]) -> optuna.Study:
    """Create the study, or load it when it already exists in the storage (resume).

    ``params.storage`` is either a file path, used as an Optuna journal file (safe for
    several processes on one machine or a shared disk), or any Optuna storage URL
    (``sqlite:///...``, ``postgresql://...``) for tuning across machines.
    """
    storage = params["storage"]
    if "://" not in storage:
        Path(storage).parent.mkdir(parents=True, exist_ok=True)
        storage = JournalStorage(JournalFileBackend(storage))
    sampler = getattr(optuna.samplers, params["sampler"]["class"])(**params["sampler"]["kwargs"])
    pruner = getattr(optuna.pruners, params["pruner"]["class"])(**params["pruner"]["kwargs"])
    return optuna.create_study(
        study_name=study_name, storage=storage, sampler=sampler, pruner=pruner,
        direction="maximize", load_if_exists=True,
    )


def tune_hyperparameters(
    model_input_train: pd.DataFrame,
    feature_schema: dict[str, Any],
    selected_family: dict[str, Any],
    params: dict[str, Any],
) -> tuple[optuna.Study, dict[str, Any]]:
    """Run (or resume) the study until it holds ``n_trials`` finished trials.

    Each trial cross-validates one configuration on the persisted folds and reports the
    running mean after every fold, so the pruner stops hopeless trials early. The budget
    counts finished trials across every process sharing the storage, so a rerun picks up
    where an interrupted one stopped and parallel workers split the work.

    Returns:
        The study, and a summary: family, base spec, best parameters and CV score.
    """
    family = family_to_tune(selected_family, params)
    space = params["search_spaces"][family["candidate"]]
    study = open_study(f"{params['study_name']}.{family['candidate']}", params)
    X, y = features(model_input_train, feature_schema), target(model_input_train, feature_schema)
    folds = model_input_train[feature_schema["fold_column"]]
    weights = balanced_sample_weight(y, params["class_weighting"])

    def objective(trial: optuna.Trial) -> float:
        spec = with_params(family["spec"], suggest_params(trial, space))
        estimator = build_estimator(spec, feature_schema, params["random_state"])
        scores = []
        for fold, score in enumerate(
            fold_scores(estimator, X, y, folds, params["objective_metric"], weights)
        ):
            scores.append(score)
            trial.report(float(np.mean(scores)), step=fold)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(np.mean(scores))

    remaining = params["n_trials"] - len(study.get_trials(deepcopy=False, states=FINISHED))
    if remaining > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.optimize(
                objective, n_trials=remaining, timeout=params["timeout_s"],
                callbacks=[MaxTrialsCallback(params["n_trials"], states=FINISHED),
                           _mlflow_trial_logger(params["objective_metric"])],
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
    return study, {
        "study_name": study.study_name,
        "candidate": family["candidate"],
        "spec": family["spec"],
        "best_params": study.best_params,
        "best_cv_score": study.best_value,
    }


def _mlflow_trial_logger(metric: str) -> MLflowCallback:
    """Optuna's own MLflow callback: each trial becomes a run nested under the tuning run.

    Nested runs rather than per-step metrics, because the MLflow UI then lists every
    trial with its parameters as columns, and its parallel-coordinates and
    scatter plots show which parameters drive the CV score.
    """
    active = mlflow.active_run()
    return MLflowCallback(
        metric_name=f"cv_{metric}_mean",
        create_experiment=False,
        mlflow_kwargs={
            "nested": active is not None,
            "experiment_id": active.info.experiment_id if active else None,
            "tags": {STAGE_TAG: "tuning.trial"},
        },
    )


def refit_best(
    model_input_train: pd.DataFrame,
    model_input_test: pd.DataFrame,
    feature_schema: dict[str, Any],
    study_summary: dict[str, Any],
    params: dict[str, Any],
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], pd.DataFrame]:
    """Refit the best configuration on all of train and score test, unless it is worse.

    The untuned family is cross-validated on the same folds; if the best trial does not
    reach its CV score, the untuned configuration is kept, logged as such and tagged in
    MLflow, so a worse model is never shipped silently.

    Returns:
        The chosen model as a candidate for ``MlflowCandidateRunsDataset``, the
        specification later stages refit (``tuned_model_spec``) and its out-of-fold
        training PDs with target and fold, which thresholding calibrates and cuts.
    """
    base = study_summary["spec"]
    metric = params["objective_metric"]
    X, y = features(model_input_train, feature_schema), target(model_input_train, feature_schema)
    untuned = build_estimator(base, feature_schema, params["random_state"])
    untuned_cv = float(np.mean(list(fold_scores(
        untuned, X, y, model_input_train[feature_schema["fold_column"]], metric,
        balanced_sample_weight(y, params["class_weighting"]),
    ))))
    kept_tuned = study_summary["best_cv_score"] >= untuned_cv
    spec = with_params(base, study_summary["best_params"]) if kept_tuned else base
    if not kept_tuned:
        logger.warning(
            "Tuning did not beat the untuned %s (best trial CV %s %.4f < untuned %.4f): "
            "keeping the untuned configuration.",
            study_summary["candidate"], metric, study_summary["best_cv_score"], untuned_cv,
        )
    estimator = build_estimator(spec, feature_schema, params["random_state"])
    model, metrics, oof_pd = fit_and_evaluate(
        estimator, model_input_train, model_input_test, feature_schema, params["class_weighting"]
    )
    metrics.update({f"best_trial_cv_{metric}_mean": study_summary["best_cv_score"],
                    f"untuned_cv_{metric}_mean": untuned_cv})
    name = f"{study_summary['candidate']}_tuned" if kept_tuned else study_summary["candidate"]
    candidate = candidate_record(
        spec, model, metrics, X.head(5), class_weighting=params["class_weighting"],
        kept="tuned" if kept_tuned else "untuned", study_name=study_summary["study_name"],
    )
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
    }, model_input_train[[feature_schema["target"], feature_schema["fold_column"]]].assign(
        **{name: oof_pd}
    )


def study_plots(study: optuna.Study) -> tuple[Figure, Figure, Figure]:
    """Optuna's optimisation history, parameter importance and slice plots."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        history = optuna_plots.plot_optimization_history(study)
        importance = optuna_plots.plot_param_importances(study)
        slices = optuna_plots.plot_slice(study)
    return tuple(_figure(ax) for ax in (history, importance, slices))


def _figure(axes) -> Figure:
    first = axes.flat[0] if isinstance(axes, np.ndarray) else axes
    figure = first.figure
    figure.tight_layout()
    plt.close(figure)
    return figure
