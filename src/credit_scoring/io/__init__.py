"""Everything that moves data in and out: catalog datasets, MLflow, Optuna, the Hub.

``datasets`` (applicant and related tables), ``tracking`` (one MLflow run per candidate
and trial), ``registry`` (the champion, a registered version, its validation report),
``model_store`` (a scorer as an MLflow model), ``optuna_storage``, ``hub`` and
``processes``. Datasets and hooks only move data: the rules they apply live in ``models``
and ``decisions``. May import every layer below the pipelines.
"""

from credit_scoring import public_face

_HOMES = {
    "ApplicantCSVDataset": "datasets",
    "HubModelDataset": "hub",
    "log_pd_model": "model_store",
    "MlflowCandidateRunsDataset": "tracking",
    "MlflowChampionDataset": "registry",
    "MlflowModelVersionDataset": "registry",
    "OptionalDataset": "datasets",
    "OptunaStorageDataset": "optuna_storage",
    "RelatedTablesDataset": "datasets",
    "ValidationReportDataset": "registry",
}
__all__ = [
    "ApplicantCSVDataset",
    "HubModelDataset",
    "MlflowCandidateRunsDataset",
    "MlflowChampionDataset",
    "MlflowModelVersionDataset",
    "OptionalDataset",
    "OptunaStorageDataset",
    "RelatedTablesDataset",
    "ValidationReportDataset",
    "log_pd_model",
]
__getattr__ = public_face(__name__, _HOMES)
