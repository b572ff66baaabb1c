"""The applicant table: its contract and its preparation, before any model.

``schema`` (the raw-data contract and the feature schema every stage shares),
``preparation`` (cleaning and feature recipes, the same in training and scoring),
``periods`` (application dates, vintages, the out-of-time window, time-ordered folds),
``feature_build`` (related tables aggregated per applicant, on DuckDB or Spark), ``woe``
(weight of evidence and information value) and ``synth`` (the Home Credit-like generator).
Imports nothing else of the project.
"""

from credit_scoring import public_face

_HOMES = {
    "add_domain_features": "preparation",
    "ApplicantDataError": "schema",
    "build_feature_schema": "schema",
    "build_features": "feature_build",
    "clean_applicants": "preparation",
    "features": "schema",
    "FeatureSourceError": "feature_build",
    "float32_exact": "preparation",
    "information_value": "woe",
    "iv": "woe",
    "needed_columns": "schema",
    "prepare_for_model": "preparation",
    "target": "schema",
    "validate_raw": "schema",
    "validate_scoring": "schema",
    "woe_table": "woe",
}
__all__ = [
    "ApplicantDataError",
    "FeatureSourceError",
    "add_domain_features",
    "build_feature_schema",
    "build_features",
    "clean_applicants",
    "features",
    "float32_exact",
    "information_value",
    "iv",
    "needed_columns",
    "prepare_for_model",
    "target",
    "validate_raw",
    "validate_scoring",
    "woe_table",
]
__getattr__, __dir__ = public_face(__name__, _HOMES)
