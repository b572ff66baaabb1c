"""Where a model and its report come from: the code version, the packages, the data files.

Read from the working copy and the installed environment; nothing here decides anything.
"""

from __future__ import annotations

import glob
import hashlib
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PACKAGES = ("kedro", "kedro-mlflow", "mlflow", "scikit-learn", "xgboost", "lightgbm",
            "catboost", "optbinning", "optuna", "pandas", "numpy")
"""The packages whose versions change what a model computes."""


def code_version(folder: str | Path = ".") -> str:
    """The git commit of ``folder``'s checkout, with ``+dirty`` when files differ from it;
    ``not a git checkout`` otherwise."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return commit + ("+dirty" if dirty else "")


def package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(path: str) -> dict[str, object]:
    """SHA-256 and size of a data file (a glob or folder of parts: of their hashes, in
    name order); a remote path (``s3://``...) is named, not read."""
    if "://" in path:
        return {"path": path, "sha256": None, "bytes": None}
    files = sorted(glob.glob(f"{path}/**/*", recursive=True) if Path(path).is_dir()
                   else glob.glob(path))
    files = [f for f in files if Path(f).is_file()]
    if not files:
        return {"path": path, "sha256": None, "bytes": None}
    if len(files) == 1:
        return {"path": path, "sha256": file_sha256(files[0]),
                "bytes": Path(files[0]).stat().st_size}
    combined = hashlib.sha256("".join(file_sha256(f) for f in files).encode()).hexdigest()
    return {"path": path, "sha256": combined, "bytes": sum(Path(f).stat().st_size for f in files)}
