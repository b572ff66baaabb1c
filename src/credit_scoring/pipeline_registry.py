"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from credit_scoring.pipelines import data_processing, feature_engineering

QUICK_PATHS = {"train", "scoring", "monitoring", "recalibrate"}
"""Pipelines run by name only, not part of the default workflow."""


def register_pipelines() -> dict[str, Pipeline]:
    """Every folder under ``pipelines/`` by name; ``__default__`` runs the whole workflow.

    Kedro 1.7 imports only the pipelines a ``kedro run --pipelines ...`` asks for, so
    this registry never assumes that any other one is present.
    """
    pipelines = find_pipelines(raise_errors=True)
    if "__default__" in pipelines:
        workflow = [p for name, p in pipelines.items() if name not in {"__default__", *QUICK_PATHS}]
        # `start=` keeps sum() working once a kedro-mlflow PipelineML joins the registry.
        pipelines["__default__"] = sum(workflow, start=Pipeline([]))
    if "train" in pipelines:
        # the quick path goes from raw data, so it carries its own feature build and preparation
        pipelines["train"] = (feature_engineering.create_pipeline()
                              + data_processing.create_pipeline() + pipelines["train"])
    if "scoring" in pipelines:
        # new applicants get the features the scoring model was built on, from their history
        pipelines["scoring"] = feature_engineering.features_to_score() + pipelines["scoring"]
    return pipelines
