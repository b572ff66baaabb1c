"""Optuna search for the selected family: persisted, resumable, parallelisable, tracked."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
