"""Prior-only and logistic-regression baselines, cross-validated and tracked in MLflow."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
