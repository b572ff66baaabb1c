"""tuning: Optuna study for the selected family -> refit of the best configuration.

`kedro run --pipelines tuning` reads what model_comparison persisted
(data/06_models/selected_family.json) and the model input; several such processes
against one storage (catalog: tuning.optuna_storage) cooperate on one study.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import refit_best, study_plots, trials_table, tune_hyperparameters, with_study


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                tune_hyperparameters,
                inputs=["model_input_train", "feature_schema", "selected_family", "optuna_storage",
                        "params:tuning"],
                outputs=["study", "study_summary", "best_trial_oof"],
                name="tune_hyperparameters",
            ),
            Node(
                refit_best,
                inputs=dict(
                    model_input_train="model_input_train",
                    model_input_test="model_input_test",
                    feature_schema="feature_schema",
                    study_summary="study_summary",
                    best_trial_oof="best_trial_oof",
                    params="params:tuning",
                ),
                outputs=["tuned_candidate", "tuned_model_spec", "oof_predictions"],
                name="refit_best",
            ),
            Node(
                trials_table,
                inputs=["study", "params:tuning"],
                outputs="trials",
                name="trials_table",
                tags=["reporting"],
            ),
            Node(
                study_plots,
                inputs=["study", "params:tuning"],
                outputs="study_plots",
                name="study_plots",
                tags=["reporting"],
            ),
            Node(
                with_study,
                inputs=["tuned_candidate", "trials", "study_plots"],
                outputs="candidates",
                name="log_tuned_candidate",
            ),
        ],
        namespace="tuning",
        inputs={"model_input_train", "model_input_test", "feature_schema", "selected_family"},
        # read by thresholding, outside the namespace
        outputs={"tuned_model_spec": "tuned_model_spec", "oof_predictions": "tuned_oof_predictions"},
        parameters={"params:tuning"},
        tags=["training"],
    )
