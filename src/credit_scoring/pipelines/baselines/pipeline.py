"""baselines: prior-only and logistic-regression benchmarks on the persisted model input."""

from kedro.pipeline import Node, Pipeline

from .nodes import evaluate_candidates


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                evaluate_candidates,
                inputs=[
                    "model_input_train",
                    "model_input_test",
                    "feature_schema",
                    "params:baselines",
                ],
                outputs=["baseline_candidates", "baseline_metrics"],
                name="evaluate_baseline_candidates",
            ),
        ],
        tags=["training"],
    )
