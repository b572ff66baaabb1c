"""Application table + related tables (bureau, previous applications, ...) -> applicant_features."""

from .pipeline import create_pipeline, features_to_score

__all__ = ["create_pipeline", "features_to_score"]
