"""thresholding: calibrate the tuned model, choose the cost-optimal cut-off, register the champion.

`kedro run --pipelines thresholding` reads what tuning persisted (tuned_model_spec.json
and its out-of-fold PDs) and the model input. Parameters are checked at run start
(``credit_scoring.parameters``), so a bad cost matrix fails before any model is fitted; the champion is registered only after the
calibration, the cut-off and the test report it is judged on have succeeded.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    calibrate_pd_model,
    champion_candidate,
    decision_markdown,
    evaluate_decisions,
    score_band_report,
    select_cutoff,
    threshold_plots,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                calibrate_pd_model,
                inputs=["model_input_train", "feature_schema", "tuned_model_spec",
                        "tuned_oof_predictions", "params:thresholding"],
                outputs=["pd_model", "oof_predictions"],
                name="calibrate_pd_model",
                tags=["training"],
            ),
            Node(
                select_cutoff,
                inputs=["oof_predictions", "feature_schema", "params:thresholding"],
                outputs=["cutoff", "cost_curve_report"],
                name="select_cutoff",
            ),
            Node(
                evaluate_decisions,
                inputs=["pd_model", "model_input_test", "feature_schema", "cutoff",
                        "params:thresholding"],
                outputs=["test_scores", "decision_report"],
                name="evaluate_decisions",
            ),
            Node(
                score_band_report,
                inputs=["test_scores", "feature_schema", "params:thresholding"],
                outputs="score_band_report",
                name="score_band_report",
                tags=["reporting"],
            ),
            Node(
                decision_markdown,
                inputs=["decision_report", "score_band_report", "cutoff"],
                outputs="metrics_markdown",
                name="decision_markdown",
                tags=["reporting"],
            ),
            Node(
                threshold_plots,
                inputs=["oof_predictions", "test_scores", "cost_curve_report", "feature_schema",
                        "cutoff"],
                outputs=["cost_curve_plot", "reliability_train_plot", "reliability_test_plot",
                         "score_distribution_plot"],
                name="threshold_plots",
                tags=["reporting"],
            ),
            Node(
                champion_candidate,
                inputs=["pd_model", "cutoff", "oof_predictions", "test_scores",
                        "decision_report", "metrics_markdown", "tuned_model_spec",
                        "model_input_train",
                        "feature_schema", "params:thresholding"],
                outputs="champion",
                name="register_champion",
            ),
        ],
        namespace="thresholding",
        inputs={"model_input_train", "model_input_test", "feature_schema", "tuned_model_spec",
                "tuned_oof_predictions"},
        # read by scoring, outside the namespace
        outputs={"champion": "champion"},
        parameters={"params:thresholding"},
    )
