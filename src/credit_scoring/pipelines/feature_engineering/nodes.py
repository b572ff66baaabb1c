"""Nodes of the feature_engineering pipeline: build applicant features, report the build."""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.pyfunc import PyFuncModel

from credit_scoring.data.feature_build import build_features
from credit_scoring.decisions.scorer import scorer_of


def build_applicant_features(
    applicants: pd.DataFrame, related_tables: dict[str, Any], recipe: dict[str, Any],
    preparation: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per applicant: the application columns plus the recipe's aggregates.

    ``preparation`` is data_processing's settings (training) or the model's copy of them
    (scoring); its ``id_column`` links the related tables. With no related tables configured
    the application table passes through unchanged, so a single-table data set (the German
    Credit default) needs no recipe. The report names the source files with their SHA-256
    (what the datasets read them as), so a model's data can be traced to the bytes.
    """
    sources = {"applicants": applicants.attrs.get("source"),
               **getattr(related_tables, "sources", {})}
    tables = recipe.get("tables") or {}
    if not tables:
        return applicants, {"applicants": len(applicants), "tables": {}, "features": 0,
                            "recipe": recipe, "sources": sources}
    features, report = build_features(applicants, related_tables, tables,
                                      preparation.get("id_column"))
    return features, report | {"recipe": recipe, "sources": sources}


def stored_feature_build(scoring_model: PyFuncModel) -> tuple[dict[str, Any], dict[str, Any]]:
    """The recipe and data_processing settings the model was trained with: scoring rebuilds
    exactly those features, whatever this environment's parameters say."""
    schema = scorer_of(scoring_model).feature_schema
    return schema.get("feature_build") or {"tables": {}}, schema["preparation"]


def feature_build_metrics(feature_build_report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Row, orphan and feature counts per table and the build time, as MLflow metrics."""
    metrics = {"seconds": feature_build_report.get("seconds", 0.0),
               "features": feature_build_report["features"],
               "applicants": feature_build_report["applicants"]}
    for table, stats in feature_build_report["tables"].items():
        metrics |= {f"{table}.{key}": value for key, value in stats.items()}
    return {name: {"value": float(value), "step": 0} for name, value in metrics.items()}
