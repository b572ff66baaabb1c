"""train: one XGBoost with sensible defaults on the persisted model input, tracked in MLflow.

The lightweight path from raw data to a tracked model: ``kedro run --pipelines train``
runs data_processing first (composed in pipeline_registry.py), then this stage, which is
the shared candidate-evaluation template with a single candidate.
"""

from kedro.pipeline import Pipeline

from credit_scoring.models.candidates import candidate_evaluation


def create_pipeline(**kwargs) -> Pipeline:
    return candidate_evaluation("train")
