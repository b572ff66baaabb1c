"""model_comparison: tree-model families against each other on the baselines' folds.

The shared candidate-evaluation template under the ``model_comparison`` namespace,
followed by the selection tuning reads and the comparison report.
"""

from kedro.pipeline import Node, Pipeline

from credit_scoring.models.candidates import candidate_evaluation

from .nodes import (
    best_feature_importance,
    comparison_curves,
    comparison_table,
    ranking_sample,
    select_family,
)


def create_pipeline(**kwargs) -> Pipeline:
    sample = Pipeline(
        [
            Node(
                ranking_sample,
                inputs=["model_input_train", "feature_schema", "params:sample_rows",
                        "params:random_state"],
                outputs="ranking_train",
                name="ranking_sample",
            )
        ],
        namespace="model_comparison",
        inputs={"model_input_train", "feature_schema"},
        tags=["training"],
    )
    report = Pipeline(
        [
            Node(
                select_family,
                inputs=["metrics", "params:candidates", "params:selection_metric"],
                outputs="selected_family",
                name="select_family",
            ),
            Node(comparison_table, "metrics", "metrics_markdown", name="comparison_table"),
            Node(
                comparison_curves,
                inputs=["oof_predictions", "metrics", "feature_schema"],
                outputs=["roc_curves_plot", "precision_recall_curves_plot"],
                name="comparison_curves",
            ),
            Node(
                best_feature_importance,
                inputs=["feature_importance", "metrics"],
                outputs="best_feature_importance_plot",
                name="best_feature_importance",
            ),
        ],
        namespace="model_comparison",
        inputs={"feature_schema"},
        outputs={"selected_family"},  # read by tuning, outside the namespace
        tags=["reporting"],
    )
    return sample + candidate_evaluation("model_comparison", "model_comparison.ranking_train") + report
