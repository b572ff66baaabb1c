"""scoring: new applicants -> PD, score, decision, reason codes, and a drift check.

`kedro run --pipelines scoring` reads `applicants_to_score` (by default the held-out test
applicants that data_processing writes, without their target) and `scoring_model` (by
default the registry's champion; see conf/base/catalog.yml for the Hugging Face Hub
alternative). Not part of the default `kedro run`.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import population_stability, prepare_applicants, score_applicants, unseen_categories


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                prepare_applicants,
                inputs=["applicants_to_score", "feature_schema", "params:data_processing"],
                outputs="applicants_prepared",
                name="prepare_applicants",
            ),
            Node(
                score_applicants,
                inputs=["scoring_model", "applicants_prepared", "feature_schema", "params:scoring"],
                outputs=["scored_applicants", "scored_applicants_csv"],
                name="score_applicants",
            ),
            Node(
                unseen_categories,
                inputs=["applicants_prepared", "feature_schema"],
                outputs="unseen_categories_report",
                name="unseen_categories",
            ),
            Node(
                population_stability,
                inputs=["scoring_model", "model_input_train", "applicants_prepared",
                        "scored_applicants", "feature_schema", "params:scoring"],
                outputs=["population_stability_report", "psi_metrics"],
                name="population_stability",
            ),
        ],
        namespace="scoring",
        inputs={"applicants_to_score", "scoring_model", "feature_schema", "model_input_train"},
        outputs={"scored_applicants", "scored_applicants_csv"},
        parameters={"params:data_processing", "params:scoring"},
        tags=["scoring"],
    )
