"""Code-free model files: read a PD model's parts without running code that came with them.

Pickle and cloudpickle run code on load, an MLflow "model from code" ships a Python file,
and a skops file rebuilds whatever classes it names once they are trusted. The readers
here open only formats that hold data, and take the classes skops may rebuild from this
module (``SKOPS_TRUSTED_TYPES``), never from the model's own configuration:

- ``load_skops``: a skops file whose every type is skops-default or on the allow-list;
- ``families.FORMATS``: each framework's native file (XGBoost UBJ, CatBoost ``.cbm``,
  LightGBM text, scikit-learn in skops), read without MLflow's loaders, which unpickle by
  default;
- ``unsafe_files``: every file of a folder that is not one of these code-free kinds.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import skops.io
import yaml

SKOPS_TRUSTED_TYPES = (
    "credit_scoring.calibration.PDCalibrator",
    "credit_scoring.estimators.CategoryOneHot",
    "credit_scoring.estimators.NativeCategories",
    "credit_scoring.models.calibration.PDCalibrator",
    "credit_scoring.models.encoders.CategoryOneHot",
    "credit_scoring.models.encoders.NativeCategories",
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
)
"""Types beyond skops' defaults that the project's saved objects hold (each project class
twice: where it lives, and the path a model registered before the package was regrouped names;
``credit_scoring.MOVED`` imports the old path as the same class): the preprocessing of
every ``encoders.PREPROCESSING`` recipe, the PD calibrator, and the
scikit-learn estimators of ``parameters_*.yml``. ``tests/models/test_model_files.py`` fails when a
project object needs a type missing here; add it only after reading what it rebuilds."""

CODE_FREE_NAMES = frozenset({"MLmodel", "registered_model_meta", "SHA256SUMS", ".gitattributes"})
CODE_FREE_SUFFIXES = frozenset(
    {".json", ".yaml", ".yml", ".txt", ".md", ".skops", ".ubj", ".cb", ".cbm", ".lgb"}
)
"""Plain text (requirements, model card), configuration and native model formats: no code."""

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
REFUSED_SUFFIXES = {
    ".py": "Python code, run on load",
    **dict.fromkeys(PICKLE_SUFFIXES, "a pickle, which runs its author's code"),
}
"""Why the usual code-carrying files are refused; any other unknown kind is refused too."""

class UnsafeModelError(RuntimeError):
    """Raised instead of opening a model file that could run code, or rebuild unvetted types."""


def not_skops(path: Path) -> str | None:
    """Why a file named ``.skops`` is not one (skops files are zip archives), or None."""
    if zipfile.is_zipfile(path):
        return None
    with open(path, "rb") as file:
        start = file.read(2)
    if start[:1] == b"\x80":  # the PROTO opcode every pickle since Python 3 starts with
        return ("a pickle renamed .skops (a skops file is a zip archive; unpickling runs its "
                "author's code)")
    return f"not a skops file (a skops file is a zip archive; this one starts with {start!r})"


def untrusted_skops_types(path: Path) -> list[str]:
    """Types in the skops file at ``path`` that neither skops nor ``SKOPS_TRUSTED_TYPES`` trusts.

    Reads the file's schema only; nothing in it is rebuilt.
    """
    return sorted(set(skops.io.get_untrusted_types(file=path)) - set(SKOPS_TRUSTED_TYPES))


def check_savable(obj: Any, what: str) -> None:
    """Refuse to save an object the project's own loaders would refuse to read back.

    Raises:
        UnsafeModelError: naming the types missing from ``SKOPS_TRUSTED_TYPES``, e.g. for
            a scikit-learn family added in YAML whose classes were never vetted.
    """
    unknown = sorted(set(skops.io.get_untrusted_types(data=skops.io.dumps(obj)))
                     - set(SKOPS_TRUSTED_TYPES))
    if unknown:
        raise UnsafeModelError(
            f"The {what} ({type(obj).__name__}) holds types off the project's skops "
            f"allow-list: {unknown}. Read what they rebuild, then add them to "
            "credit_scoring.models.model_files.SKOPS_TRUSTED_TYPES, or choose another estimator."
        )


def load_skops(path: Path) -> Any:
    """The object in the skops file at ``path``, refused if it holds a type off the allow-list."""
    why = not_skops(path)
    if why:
        raise UnsafeModelError(f"{Path(path).name} is {why}: refused.")
    unknown = untrusted_skops_types(path)
    if unknown:
        raise UnsafeModelError(
            f"{Path(path).name} holds types off the project's allow-list: {unknown}. Loading it "
            "would rebuild them; add a type to credit_scoring.models.model_files.SKOPS_TRUSTED_TYPES "
            "only after reading what it does."
        )
    return skops.io.load(path, trusted=list(SKOPS_TRUSTED_TYPES))


def inside(folder: Path, relative: str) -> Path:
    """``folder / relative``, refused when ``relative`` would leave ``folder``."""
    parts = PurePosixPath(relative)
    if parts.is_absolute() or ".." in parts.parts:
        raise UnsafeModelError(f"{relative!r} points outside the model folder {folder}.")
    return Path(folder, *parts.parts)


def mlmodel(folder: Path) -> dict[str, Any]:
    """The ``MLmodel`` file of an MLflow model folder, parsed as plain YAML."""
    return yaml.safe_load((Path(folder) / "MLmodel").read_text()) or {}


def _code_paths(folder: Path) -> str | None:
    try:
        flavors = mlmodel(folder).get("flavors", {})
    except yaml.YAMLError:
        return "an MLmodel file that is not plain YAML"
    shipped = {name: conf["code"] for name, conf in flavors.items()
               if isinstance(conf, dict) and conf.get("code")}
    return f"an MLmodel with code_paths {shipped}, run on load" if shipped else None


def _why_unsafe(file: Path) -> str | None:
    if file.name == "MLmodel":
        return _code_paths(file.parent)
    if file.suffix == ".skops":
        if why := not_skops(file):
            return why
        unknown = untrusted_skops_types(file)
        return f"a skops file with types off the allow-list: {unknown}" if unknown else None
    if file.name in CODE_FREE_NAMES or file.suffix in CODE_FREE_SUFFIXES:
        return None
    return REFUSED_SUFFIXES.get(file.suffix, "not a code-free format")


def links_leaving(folder: Path) -> dict[str, str]:
    """Links in ``folder`` (relative path -> target) that resolve outside it.

    A Hugging Face cache snapshot (``<repo>/snapshots/<commit>/``) links every file to the
    repository's ``blobs/``, which is the download itself and stays allowed.
    """
    folder = Path(folder)
    allowed = [folder.resolve()]
    if folder.parent.name == "snapshots":
        allowed.append((folder.parent.parent / "blobs").resolve())
    leaving = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            target = path.resolve()
            if not any(target.is_relative_to(root) for root in allowed):
                leaving[path.relative_to(folder).as_posix()] = str(target)
    return leaving


def check_no_links_leaving(folder: Path) -> None:
    """Refuse a model folder whose links reach files outside it (``/home/you/.ssh/...``):
    loading would read, and could publish, files that are not the model's."""
    leaving = links_leaving(folder)
    if leaving:
        named = "; ".join(f"{name} -> {target}" for name, target in leaving.items())
        raise UnsafeModelError(
            f"Not loading {folder}: links point outside the model folder ({named}). Copy the "
            "files into the folder if they belong to the model.")


def unsafe_files(folder: Path) -> dict[str, str]:
    """Files of ``folder`` (relative path -> why) that are not code-free; empty if all are.

    Opens only ``MLmodel`` (as YAML) and skops files' schemas, to check them.
    """
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): why
            for p in files if (why := _why_unsafe(p)) is not None}
