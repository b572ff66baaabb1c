"""Is the embedded tracking store the one the project's records describe? Asked before MLflow opens it.

MLflow meets an empty SQLite file (``truncate -s 0 mlruns/mlflow.db``, a failed copy) by
creating fresh tables in it: the runs and the registry are gone without a word, and the
next scoring run says "run thresholding" while ``data/06_models/champion/champion.json``
still names the champion. A damaged file fails deep inside SQLAlchemy with "database disk
image is malformed" and no path. ``check_tracking_store`` turns both, and a store that does
not hold the recorded champion (the wrong file), into an error naming the file and the fix,
before anything writes to it. Stores behind a server are the server's business.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse


class TrackingStoreError(RuntimeError):
    """The tracking store is unusable or is not the one the champion's record was made in."""


def sqlite_path(uri: str | None) -> Path | None:
    """``sqlite:////abs/mlflow.db`` or ``sqlite:///rel.db`` -> the file; None for any other store."""
    if not uri or not uri.startswith("sqlite:"):
        return None
    path = unquote(urlparse(uri).path)
    # sqlite:///rel.db parses to "/rel.db", sqlite:////abs.db to "//abs.db" (SQLAlchemy's rule)
    return Path(path[1:]) if path.startswith("/") else Path(path)


def champion_record(local_dir: Path) -> dict[str, Any] | None:
    """The champion's local record (``champion.json``) if one was written."""
    file = local_dir / "champion.json"
    if not file.is_file():
        return None
    try:
        return json.loads(file.read_text()) | {"file": str(_shown(file))}
    except (ValueError, OSError):
        return None  # unreadable records are not evidence of anything


def check_tracking_store(store: Path, records: list[dict[str, Any]], setting: str) -> None:
    """Refuse a store that is unreadable, or missing, empty or without the version a record
    names (a store without records may be missing or empty: a new project).

    Args:
        store: the SQLite file of the tracking (and registry) store.
        records: champion records (``champion_record``) of the project's registered models.
        setting: where the store is configured, for the fix (e.g. ``conf/base/mlflow.yml``).
    """
    store = _shown(store)
    fix = (f"Restore {store} from a backup, or point server.mlflow_tracking_uri ({setting}; "
           "conf/local/mlflow.yml overrides it) at the store that holds it.")
    state = ("does not exist" if not store.exists() else
             "is empty (0 bytes)" if store.stat().st_size == 0 else None)
    if state:
        if records:  # else a new project: MLflow creates the store
            raise TrackingStoreError(
                f"The MLflow tracking store {store} {state}, but {_names(records)}. MLflow "
                "would silently start a new, empty store: the runs and the registry would be "
                f"lost from view. {fix} To start a new registry on purpose, move "
                f"{records[0]['file']} away first.")
        return
    try:
        with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as connection:
            damage = connection.execute("PRAGMA quick_check(1)").fetchone()[0]
            if damage != "ok":
                raise sqlite3.DatabaseError(damage)
            for record in records:
                if not _holds(connection, record):
                    raise TrackingStoreError(
                        f"The MLflow tracking store {store} holds no version "
                        f"{record['version']} of '{record['registered_model_name']}', but "
                        f"{_names([record])}: it is not the store the champion was registered "
                        f"in. {fix} To start a new registry on purpose, move "
                        f"{record['file']} away first.")
    except sqlite3.DatabaseError as error:
        raise TrackingStoreError(
            f"The MLflow tracking store {store} cannot be read ({error}): the file is damaged "
            f"or is not an SQLite database. {fix} `sqlite3 {store} .recover` may save what is "
            "left of it into a new file.") from None


def _shown(path: Path) -> Path:
    """A path under the working directory (the project, for `kedro run`) as the config spells it."""
    path = Path(path)
    return path.relative_to(Path.cwd()) if path.is_absolute() and path.is_relative_to(
        Path.cwd()) else path


def _holds(connection: sqlite3.Connection, record: dict[str, Any]) -> bool:
    try:
        found = connection.execute(
            "SELECT 1 FROM model_versions WHERE name = ? AND version = ?",
            (record["registered_model_name"], int(record["version"]))).fetchone()
    except sqlite3.OperationalError:  # no registry tables: an empty or foreign database
        return False
    return found is not None


def _names(records: list[dict[str, Any]]) -> str:
    return "; ".join(f"{r['file']} says version {r['version']} of "
                     f"'{r['registered_model_name']}' is the champion" for r in records)
