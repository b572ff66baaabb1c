"""The model validation report a model-risk reviewer reads: one HTML page and its JSON."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
