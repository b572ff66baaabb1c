"""thresholding: choose the champion candidate, calibrate it, cut, assemble, report, register.

`kedro run --pipelines thresholding` reads what the earlier stages persisted: the
out-of-fold PDs of every baseline, compared family and the tuned model (all on the same
folds), tuning's tuned_model_spec.json, the model input and the raw hold-out rows.
Parameters are checked at run start (``credit_scoring.parameters``), so a bad cost matrix
fails before any model is fitted; the champion is registered only after the calibration,
the cut-off and the test report it is judged on have succeeded.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    assemble_champion,
    calibrate_pd_model,
    champion_candidate,
    champion_metrics,
    decision_markdown,
    evaluate_decisions,
    rank_champion_candidates,
    score_band_report,
    select_cutoff,
    threshold_plots,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                rank_champion_candidates,
                inputs=dict(
                    model_input_train="model_input_train",
                    feature_schema="feature_schema",
                    baselines_oof="baselines_oof",
                    comparison_oof="comparison_oof",
                    tuned_oof="tuned_oof_predictions",
                    baselines="params:baselines",
                    model_comparison="params:model_comparison",
                    tuned_model_spec="tuned_model_spec",
                    params="params:thresholding",
                ),
                outputs=["champion_spec", "candidate_oof", "candidate_ranking_report",
                         "candidates", "challengers", "challenger_oof"],
                name="rank_champion_candidates",
                tags=["training"],
            ),
            Node(
                calibrate_pd_model,
                inputs=["model_input_train", "feature_schema", "champion_spec", "candidate_oof",
                        "params:thresholding"],
                outputs=["pd_model", "oof_predictions", "calibration_report"],
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
                assemble_champion,
                inputs=dict(
                    pd_model="pd_model",
                    cutoff="cutoff",
                    calibration_oof="oof_predictions",
                    model_input_train="model_input_train",
                    feature_schema="feature_schema",
                    params="params:thresholding",
                    reasons="params:reasons",
                ),
                outputs="champion_model",
                name="assemble_champion",
            ),
            Node(
                evaluate_decisions,
                inputs=["champion_model", "model_input_test", "holdout_applicants",
                        "feature_schema"],
                outputs=["test_scores", "decision_report"],
                name="evaluate_decisions",
            ),
            Node(
                score_band_report,
                inputs=["test_scores", "feature_schema", "champion_model"],
                outputs="score_band_report",
                name="score_band_report",
                tags=["reporting"],
            ),
            Node(
                decision_markdown,
                inputs=["decision_report", "score_band_report", "champion_model"],
                outputs="decision_markdown",
                name="decision_markdown",
                tags=["reporting"],
            ),
            Node(
                threshold_plots,
                inputs=["oof_predictions", "test_scores", "cost_curve_report", "feature_schema",
                        "champion_model"],
                outputs="figures",
                name="threshold_plots",
                tags=["reporting"],
            ),
            Node(
                champion_metrics,
                inputs=dict(
                    calibration_oof="oof_predictions",
                    test_scores="test_scores",
                    decision_report="decision_report",
                    cutoff="cutoff",
                    calibration_report="calibration_report",
                    feature_schema="feature_schema",
                ),
                outputs="champion_metrics",
                name="champion_metrics",
            ),
            Node(
                champion_candidate,
                inputs=dict(
                    champion_model="champion_model",
                    metrics="champion_metrics",
                    decision_summary="decision_markdown",
                    champion_spec="champion_spec",
                    calibration_oof="oof_predictions",
                    calibration_report="calibration_report",
                    holdout_applicants="holdout_applicants",
                    feature_schema="feature_schema",
                    figures="figures",
                    feature_build_report="feature_build_report",
                    params="params:thresholding",
                ),
                outputs="champion@registry",
                name="register_champion",
            ),
        ],
        namespace="thresholding",
        inputs={
            **{name: name for name in ("model_input_train", "model_input_test", "feature_schema",
                                       "tuned_model_spec", "tuned_oof_predictions",
                                       "holdout_applicants", "feature_build_report")},
            # every candidate stage's out-of-fold PDs, on the same folds
            "baselines_oof": "baselines.oof_predictions",
            "comparison_oof": "model_comparison.oof_predictions",
        },
        # read by scoring and validation, outside the namespace
        outputs={"champion@registry": "champion@registry", "challengers": "challengers",
                 "challenger_oof": "challenger_oof"},
        parameters={"params:thresholding", "params:baselines", "params:model_comparison",
                    "params:reasons"},
    )
