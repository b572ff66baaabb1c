"""The Optuna study's storage as a Kedro dataset, with its password from credentials.yml.

A database URL with a password must never reach the parameters: kedro-mlflow logs every
``params:`` input of a node as an MLflow parameter, and parameters are printed in errors.
As a catalog entry the storage gets its user and password from ``conf/local/credentials.yml``
like any other Kedro credential, and describes itself with the password masked.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from optuna.exceptions import ExperimentalWarning
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from sqlalchemy.engine import URL, make_url

# scheme://user:password@ -- the user part may be empty (scheme://:password@host)
_PASSWORD_IN_URL = re.compile(r"://[^/@:\s]*:[^/@\s]+@")


def password_in_urls(value: Any, where: str = "") -> list[str]:
    """Dotted names of every string in ``value`` (a parameter tree) holding a URL password."""
    if isinstance(value, dict):
        return [hit for key, item in value.items()
                for hit in password_in_urls(item, f"{where}.{key}" if where else str(key))]
    if isinstance(value, list | tuple):
        return [hit for i, item in enumerate(value) for hit in password_in_urls(item, f"{where}[{i}]")]
    return [where] if isinstance(value, str) and _PASSWORD_IN_URL.search(value) else []


def refuse_passwords_in(params: dict[str, Any], block: str) -> None:
    """Stop when a parameter holds ``scheme://user:password@...``, naming it but not the secret."""
    found = password_in_urls(params, block)
    if found:
        raise ValueError(
            f"Parameter(s) {found} hold a URL with a password, which would be logged to MLflow. "
            "Put the URL without user and password in the storage's catalog entry "
            "(tuning.optuna_storage: url) and the user and password in "
            "conf/local/credentials.yml, referenced by its `credentials:` key."
        )


class OptunaStorageDataset(AbstractDataset[None, BaseStorage]):
    """Loads an Optuna storage: a journal file, or a database (RDB) URL plus credentials.

    A journal file is safe for several processes on one machine or on a shared disk; a
    database URL (``postgresql://db-host/optuna``) lets workers on several machines share
    one study. Read-only: trials are written by Optuna itself.

    Args:
        filepath: Path of the Optuna journal file (relative paths start at the project).
        url: SQLAlchemy URL of an Optuna RDB storage, without user or password.
        credentials: ``{username, password}`` from credentials.yml, merged into ``url``.
        heartbeat_interval: Database storages only: seconds between a running trial's
            heartbeats; a trial silent for two intervals (its process was killed, on any
            machine) is marked FAIL when the next trial starts.
        metadata: Kedro-Viz and other plugin metadata.
    """

    def __init__(
        self,
        *,
        filepath: str | None = None,
        url: str | None = None,
        credentials: dict[str, str] | None = None,
        heartbeat_interval: int = 60,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if (filepath is None) == (url is None):
            raise DatasetError("OptunaStorageDataset takes exactly one of `filepath` or `url`.")
        if credentials and url is None:
            raise DatasetError("OptunaStorageDataset `credentials` apply to a `url` only.")
        self._filepath = filepath
        self._url = None if url is None else _with_credentials(url, credentials or {})
        self._heartbeat_interval = heartbeat_interval
        self.metadata = metadata

    def _load(self) -> BaseStorage:
        if self._url is None:
            Path(self._filepath).parent.mkdir(parents=True, exist_ok=True)
            return JournalStorage(JournalFileBackend(self._filepath))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)  # heartbeats are flagged experimental
            return RDBStorage(
                self._url.render_as_string(hide_password=False),
                heartbeat_interval=self._heartbeat_interval,
            )

    def _save(self, data: None) -> None:
        raise DatasetError("OptunaStorageDataset is read-only: Optuna writes the trials.")

    def _describe(self) -> dict[str, Any]:
        if self._url is None:
            return {"filepath": self._filepath}
        return {"url": self._url.render_as_string(hide_password=True),
                "heartbeat_interval": self._heartbeat_interval}


def _with_credentials(url: str, credentials: dict[str, str]) -> URL:
    if _PASSWORD_IN_URL.search(url):
        raise DatasetError(
            "The Optuna storage URL holds a password: remove it from the catalog entry and "
            "put it in conf/local/credentials.yml as {username: ..., password: ...} under the "
            "key the entry's `credentials:` names."
        )
    unknown = set(credentials) - {"username", "password"}
    if unknown:
        raise DatasetError(
            f"Optuna storage credentials take `username` and `password`, not {sorted(unknown)}."
        )
    return make_url(url).set(**credentials)
