"""data_processing: applicant_features -> model_input_train / model_input_test + feature_schema."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    add_domain_features,
    clean_applicants,
    data_quality_metrics,
    holdout_applicants,
    split_train_test,
    validate_applicants,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                validate_applicants,
                inputs=["applicant_features", "params:data_processing"],
                outputs="applicants_validated",
                name="validate_applicants",
            ),
            Node(
                clean_applicants,
                inputs=["applicants_validated", "params:data_processing"],
                outputs="applicants_clean",
                name="clean_applicants",
            ),
            Node(
                add_domain_features,
                inputs=["applicants_clean", "params:data_processing.feature_recipes"],
                outputs="model_input",
                name="add_domain_features",
            ),
            Node(
                split_train_test,
                inputs=["model_input", "params:data_processing", "feature_build_report"],
                outputs=["model_input_train", "model_input_test", "model_input_in_time",
                         "feature_schema", "data_quality"],
                name="split_train_test",
            ),
            Node(
                data_quality_metrics,
                inputs="data_quality",
                outputs="data_quality_metrics",
                name="data_quality_metrics",
            ),
            Node(
                holdout_applicants,
                inputs=["applicant_features", "model_input_test", "params:data_processing"],
                outputs="holdout_applicants",
                name="holdout_applicants",
            ),
        ],
        tags=["training"],
    )
