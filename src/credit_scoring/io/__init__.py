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
    "build_release": "hub",
    "download": "hub",
    "HubModelDataset": "hub",
    "load_model": "hub",
    "log_pd_model": "model_store",
    "MlflowCandidateRunsDataset": "tracking",
    "MlflowChampionDataset": "registry",
    "MlflowModelVersionDataset": "registry",
    "OptionalDataset": "datasets",
    "OptunaStorageDataset": "optuna_storage",
    "process_alive": "processes",
    "publish": "hub",
    "RelatedTablesDataset": "datasets",
    "this_process": "processes",
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
    "build_release",
    "download",
    "load_model",
    "log_pd_model",
    "process_alive",
    "publish",
    "this_process",
]
__getattr__, __dir__ = public_face(__name__, _HOMES)
