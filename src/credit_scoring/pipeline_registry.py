"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Every folder under ``pipelines/`` by name; ``__default__`` runs the whole workflow."""
    pipelines = find_pipelines(raise_errors=True)
    # `start=` keeps sum() working once a kedro-mlflow PipelineML joins the registry.
    pipelines["__default__"] = sum(pipelines.values(), start=Pipeline([]))
    return pipelines
