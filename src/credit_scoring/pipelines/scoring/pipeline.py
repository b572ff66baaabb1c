"""scoring: raw applicant rows -> PD, score, band, decision, reason codes, and a drift check.

`kedro run --pipelines scoring` reads `applicants_to_score` (by default the held-out test
applicants that data_processing writes, without their target) and `scoring_model` (by
default the registry's champion; see conf/base/catalog.yml for the Hugging Face Hub
alternative). The registry puts feature_engineering's `features_to_score` in front: the
applicants' related tables become `applicant_features_to_score` with the recipe stored in
the model. The model does all the rest, as when it is served: this pipeline needs no other
output of the training run. Each batch is recorded in the monitoring history
(`monitoring_history`, read by `kedro run --pipelines monitoring`). Not part of the default
`kedro run`.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    count_bins,
    population_stability,
    prepare_applicants,
    record_batch,
    score_applicants,
    store_batch,
    unseen_categories,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                score_applicants,
                inputs=["scoring_model", "applicant_features_to_score"],
                outputs=["scored_applicants", "scored_applicants_csv"],
                name="score_applicants",
            ),
            Node(
                prepare_applicants,
                inputs=["scoring_model", "applicant_features_to_score"],
                outputs="applicants_prepared",
                name="prepare_applicants",
            ),
            Node(
                unseen_categories,
                inputs=["scoring_model", "applicants_prepared"],
                outputs="unseen_categories_report",
                name="unseen_categories",
            ),
            Node(
                count_bins,
                inputs=["scoring_model", "applicants_prepared"],
                outputs="batch_bins",
                name="count_bins",
            ),
            Node(
                population_stability,
                inputs=["scoring_model", "batch_bins", "scored_applicants", "params:scoring"],
                outputs=["population_stability_report", "psi_metrics"],
                name="population_stability",
            ),
            Node(
                record_batch,
                inputs=dict(
                    scoring_model="scoring_model",
                    applicant_features_to_score="applicant_features_to_score",
                    applicants_prepared="applicants_prepared",
                    batch_bins="batch_bins",
                    scored_applicants="scored_applicants",
                    population_stability_report="population_stability_report",
                    params="params:scoring",
                ),
                outputs=["batch_record", "batch_metrics", "batch_summary"],
                name="record_batch",
            ),
            Node(store_batch, inputs="batch_record", outputs="monitoring_history",
                 name="store_batch"),
        ],
        namespace="scoring",
        inputs={"applicant_features_to_score", "scoring_model"},
        outputs={"scored_applicants", "scored_applicants_csv", "monitoring_history"},
        parameters={"params:scoring"},
        tags=["scoring"],
    )
