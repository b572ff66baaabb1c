"""feature_engineering: applicants_raw + related_tables -> applicant_features.

The recipe is `params:feature_engineering` (conf/<env>/parameters_feature_engineering.yml).
Scoring runs the same node on new applicants with the recipe stored in the champion
(`features_to_score`), so a model always gets the features it was trained on.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import build_applicant_features, feature_build_metrics, stored_feature_build


def _build(applicants: str, tables: str, recipe: str, preparation: str, features: str
           ) -> list[Node]:
    return [
        Node(
            build_applicant_features,
            inputs=[applicants, tables, recipe, preparation],
            outputs=[features, "feature_build_report"],
            name="build_applicant_features",
        ),
        Node(
            feature_build_metrics,
            inputs="feature_build_report",
            outputs="feature_build_metrics",
            name="feature_build_metrics",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        _build("applicants_raw", "related_tables", "params:feature_engineering",
               "params:data_processing", "applicant_features"),
        tags=["training"],
    )


def features_to_score() -> Pipeline:
    """New applicants + their related tables -> the features the scoring model expects."""
    return Pipeline(
        [
            Node(
                stored_feature_build,
                inputs="scoring_model",
                outputs=["feature_recipe", "preparation"],
                name="stored_feature_build",
            ),
            *_build("applicants_to_score", "related_tables_to_score", "feature_recipe",
                    "preparation", "applicant_features_to_score"),
        ],
        namespace="scoring",
        inputs={"applicants_to_score", "related_tables_to_score", "scoring_model"},
        outputs={"applicant_features_to_score"},
        tags=["scoring"],
    )
