"""Project settings; see https://docs.kedro.org/en/stable/configure/configuration_basics/."""

import os
import warnings
from pathlib import Path

from kedro.utils import find_kedro_project

HIDDEN_WARNINGS = {
    # Kedro 1.7's own config loader and kedro-mlflow call an OmegaConf API it deprecates
    r"register_new_resolver\(\) is deprecated": UserWarning,
    # dots in dataset names are Kedro namespaces (baselines.metrics): our design, not an error
    r"One or more dataset names contain '\.' characters": UserWarning,
    # the signature is inferred from raw rows, where a count is an integer; the model accepts
    # missing values in every column anyway (tests/test_deployment.py)
    r"Hint: Inferred schema contains integer column": UserWarning,
}
"""Third-party warnings nobody can act on (a pattern found anywhere in the message ->
category), kept off the console of every run; any other warning still shows."""
for pattern, category in HIDDEN_WARNINGS.items():
    warnings.filterwarnings("ignore", message=f".*{pattern}", category=category)
# MLflow draws a progress bar for every artifact it downloads (validation reads a model
# version's files): a dozen bars of small local files per run. Set it to true to see them.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

# after the filters, so that they cover everything the hooks import
from credit_scoring.hooks import (  # noqa: E402
    ParameterChecks,
    RunsTable,
    SetupChecks,
    StageTimings,
    StaleRuns,
)

# SetupChecks runs before kedro-mlflow opens the tracking store, ParameterChecks before it
# opens the run, StaleRuns and RunsTable after (see hooks.py).
HOOKS = (SetupChecks(), ParameterChecks(), StaleRuns(), RunsTable(), StageTimings())


def project_root() -> str:
    """The project directory, found from wherever Kedro was started (also notebooks/)."""
    return str(find_kedro_project(Path.cwd()) or Path.cwd())


CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # conf/local/mlflow.yml only needs the keys it changes (e.g. the tracking URI); the
    # rest of conf/base/mlflow.yml, such as flattened parameters, still applies.
    # Parameters likewise: conf/local/parameters_tuning.yml with `tuning: {n_trials: 10}`
    # changes that one key and keeps the rest of the block from conf/base.
    "merge_strategy": {"mlflow": "soft", "parameters": "soft"},
    # ${project_root:} in config: kedro-mlflow anchors relative file paths at the project,
    # but not a sqlite:/// URI, which would otherwise follow the working directory
    # (notebooks/ under `kedro jupyter`).
    "custom_resolvers": {"project_root": project_root},
}
