"""Raw applicant table -> validated, cleaned, engineered, split model input."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
