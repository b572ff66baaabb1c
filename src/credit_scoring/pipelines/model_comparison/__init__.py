"""RandomForest, XGBoost, LightGBM and CatBoost under the shared CV, compared and reported."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
