"""baselines: prior-only and logistic-regression benchmarks on the persisted model input.

The stage is the shared candidate-evaluation template (``credit_scoring.models.candidates``)
under the ``baselines`` namespace; its candidates live in parameters_baselines.yml.
"""

from kedro.pipeline import Pipeline

from credit_scoring.models.candidates import candidate_evaluation


def create_pipeline(**kwargs) -> Pipeline:
    return candidate_evaluation("baselines")
