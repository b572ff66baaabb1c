"""validation: one report on a registered model version, for an independent reviewer.

`kedro run --pipelines validation` validates the registry's champion (or the version
given by ``--params validation.model_version=<n>``) on what data_processing persisted: its
stored out-of-fold PDs, the test rows (scored from their raw form by the model itself) and
its stored development distributions. Part of the default `kedro run`, after thresholding
registered a model. Writes data/08_reporting/validation/validation_report.html and .json
and logs both to the model version's MLflow run.
"""

from kedro.pipeline import Node, Pipeline

from .conclusions import conclusions, data_quality_checks, model_card, registry_gate
from .nodes import (
    calibration,
    challenger,
    decision_sensitivity,
    discrimination,
    feature_effects,
    score_test_applicants,
    stability,
)
from .over_time import over_time, score_in_time_applicants
from .reasons_fairness import fairness
from .report_page import validation_report


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                score_test_applicants,
                inputs=["model_version", "holdout_applicants", "model_input_test",
                        "feature_schema"],
                outputs="test_scores",
                name="score_test_applicants",
            ),
            Node(
                score_in_time_applicants,
                inputs=["model_version", "applicant_features", "model_input_in_time",
                        "feature_schema"],
                outputs="in_time_scores",
                name="score_in_time_applicants",
            ),
            Node(
                discrimination,
                inputs=["model_version", "test_scores", "in_time_scores", "params:validation"],
                outputs=["discrimination_table", "curves", "gains_table"],
                name="discrimination",
            ),
            Node(
                over_time,
                inputs=dict(
                    model_version="model_version",
                    test_scores="test_scores",
                    in_time_scores="in_time_scores",
                    model_input_train="model_input_train",
                    model_input_test="model_input_test",
                    model_input_in_time="model_input_in_time",
                    feature_schema="feature_schema",
                    params="params:validation",
                ),
                outputs="vintage_table",
                name="over_time",
            ),
            Node(
                calibration,
                inputs=["model_version", "test_scores", "in_time_scores", "params:validation"],
                outputs=["calibration_table", "score_band_table", "reliability"],
                name="calibration",
            ),
            Node(
                stability,
                inputs=dict(
                    model_version="model_version",
                    model_input_test="model_input_test",
                    test_scores="test_scores",
                    feature_schema="feature_schema",
                    latest_batch="latest_batch_stability",
                    params="params:validation",
                ),
                outputs=["stability_table", "latest_batch_note"],
                name="stability",
            ),
            Node(
                feature_effects,
                inputs=["model_version", "model_input_test", "feature_schema",
                        "params:validation"],
                outputs=["effects_table", "dependence"],
                name="feature_effects",
            ),
            Node(
                challenger,
                inputs=dict(
                    model_version="model_version",
                    challengers="challengers",
                    challenger_oof="challenger_oof",
                    model_input_train="model_input_train",
                    model_input_test="model_input_test",
                    test_scores="test_scores",
                    feature_schema="feature_schema",
                    params="params:validation",
                ),
                outputs=["challenger_table", "challenger_scorecard", "challenger_curves"],
                name="challenger",
            ),
            Node(
                decision_sensitivity,
                inputs=["model_version", "test_scores", "params:validation"],
                outputs=["cost_scenarios", "principal_reasons", "cost_curve"],
                name="decision_sensitivity",
            ),
            Node(
                fairness,
                inputs=dict(
                    model_version="model_version",
                    test_scores="test_scores",
                    model_input_test="model_input_test",
                    model_input_train="model_input_train",
                    feature_schema="feature_schema",
                    params="params:validation",
                ),
                outputs="fairness_table",
                name="fairness",
            ),
            Node(
                data_quality_checks,
                inputs=["model_version", "model_input_train", "model_input_test",
                         "feature_schema"],
                outputs="population_checks",
                name="data_quality_checks",
            ),
            Node(
                conclusions,
                inputs=dict(
                    model_version="model_version",
                    discrimination_table="discrimination_table",
                    calibration_table="calibration_table",
                    band_table="score_band_table",
                    stability_table="stability_table",
                    challenger_table="challenger_table",
                    cost_scenarios="cost_scenarios",
                    effects_table="effects_table",
                    population_table="population_checks",
                    data_quality="data_quality",
                    fairness_table="fairness_table",
                    vintage_table="vintage_table",
                    test_scores="test_scores",
                    feature_schema="feature_schema",
                    params="params:validation",
                ),
                outputs="conclusions",
                name="conclusions",
            ),
            Node(
                registry_gate,
                inputs=["model_version", "conclusions", "params:validation"],
                outputs="gate",
                name="registry_gate",
            ),
            Node(
                model_card,
                inputs=dict(
                    model_version="model_version",
                    feature_schema="feature_schema",
                    discrimination_table="discrimination_table",
                    band_table="score_band_table",
                    data_quality="data_quality",
                    feature_build_report="feature_build_report",
                    parameters="parameters",
                ),
                outputs="model_card",
                name="model_card",
            ),
            Node(
                validation_report,
                inputs=dict(
                    model_version="model_version",
                    discrimination_table="discrimination_table",
                    curves="curves",
                    gains="gains_table",
                    calibration_table="calibration_table",
                    band_table="score_band_table",
                    reliability="reliability",
                    stability_table="stability_table",
                    latest_batch_note="latest_batch_note",
                    cost_scenarios="cost_scenarios",
                    reason_table="principal_reasons",
                    cost_curve="cost_curve",
                    challenger_table="challenger_table",
                    challenger_scorecard="challenger_scorecard",
                    challenger_curves="challenger_curves",
                    effects_table="effects_table",
                    dependence="dependence",
                    data_quality="data_quality",
                    fairness_table="fairness_table",
                    population_table="population_checks",
                    vintage_table="vintage_table",
                    test_scores="test_scores",
                    conclusions="conclusions",
                    gate="gate",
                    card="model_card",
                    params="params:validation",
                ),
                outputs="report",
                name="validation_report",
            ),
        ],
        namespace="validation",
        inputs={**{name: name for name in ("holdout_applicants", "model_input_train",
                                           "model_input_test", "model_input_in_time",
                                           "applicant_features", "feature_schema",
                                           "latest_batch_stability", "data_quality",
                                           "feature_build_report", "challengers",
                                           "challenger_oof")},
                "model_version": "champion@version"},
        parameters={"params:validation", "parameters"},
        tags=["validation"],
    )
