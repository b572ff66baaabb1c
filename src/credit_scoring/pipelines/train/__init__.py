"""The fastest path from raw data to a tracked model: data_processing + one XGBoost."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
