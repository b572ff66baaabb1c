"""Project settings; see https://docs.kedro.org/en/stable/configure/configuration_basics/."""

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # conf/local/mlflow.yml only needs the keys it changes (e.g. the tracking URI); the
    # rest of conf/base/mlflow.yml, such as flattened parameters, still applies.
    "merge_strategy": {"mlflow": "soft"},
}
