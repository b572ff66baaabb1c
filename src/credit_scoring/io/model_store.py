"""How a ``PDScorer`` becomes an MLflow model that loads and serves outside this repository.

The logged model holds:

- ``artifacts/``: the estimator in its framework's native file (``families.FORMATS``; a
  blend: a folder of its members' native files and ``blend.json``), the preprocessing and
  the calibrator in skops;
- ``MLmodel`` configuration: the model family, the training contract (``feature_schema``:
  raw columns, cleaning settings, feature recipes), the decision policy and the drift
  baselines, as plain YAML;
- ``pd_model.py`` and ``code/credit_scoring``: the project's package, so no install of this
  repository is needed where the model runs;
- ``requirements.txt``: every package the inference path imports, pinned to the versions
  it was trained with;
- a signature on raw applicant columns (those the model needs are required, others
  optional; types are the contract's to check) and the output table, with
  ``reason_codes`` as a parameter.
"""

from __future__ import annotations

import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import skops.io
from mlflow.models import ModelSignature, infer_signature
from mlflow.models.model import ModelInfo
from mlflow.types import ColSpec, DataType, Schema
from mlflow.types.schema import AnyType

from credit_scoring import __version__
from credit_scoring.data.schema import needed_columns
from credit_scoring.decisions.scorer import INPUT_ROW, MAX_ROWS_PER_REQUEST, PDScorer
from credit_scoring.models import families
from credit_scoring.models.model_files import check_savable

PACKAGE_DIR = Path(__file__).parents[1]
PD_MODEL_CODE = str(PACKAGE_DIR / "decisions" / "pd_model.py")
INFERENCE_PACKAGES = ("mlflow", "pandas", "numpy", "scipy", "scikit-learn", "skops", "pyyaml")
"""What ``credit_scoring.decisions.scorer`` imports, whatever the family (see ``families.requirements``)."""


def requirements(family: str, estimator: Any = None) -> list[str]:
    """Pinned requirements of a deployed model of ``family`` (a blend: of its members)."""
    packages = dict.fromkeys([*INFERENCE_PACKAGES, *families.requirements(family, estimator)])
    return [f"{package}=={version(package)}" for package in packages]


def _model_config(scorer: PDScorer) -> dict[str, Any]:
    config: dict[str, Any] = {"family": scorer.family, "credit_scoring_version": __version__}
    if scorer.feature_schema is not None:
        config["feature_schema"] = scorer.feature_schema
    if scorer.policy is not None:
        config["policy"] = scorer.policy.as_config()
        config["max_rows_per_request"] = MAX_ROWS_PER_REQUEST
    if scorer.baselines is not None:
        config["baselines"] = scorer.baselines
    return config


def _output_schema(scorer: PDScorer, id_type: str) -> Schema:
    id_column = (scorer.feature_schema or {}).get("id_column") or INPUT_ROW
    columns = [ColSpec(id_type, id_column), ColSpec("double", "pd"), ColSpec("long", "score"),
               ColSpec("long", "band"), ColSpec("string", "decision")]
    for k in range(1, scorer.policy.reason_codes + 1):
        columns += [ColSpec("string", f"reason_{k}_{part}", required=False)
                    for part in ("code", "text", "value")]
    return Schema(columns)


def signature(scorer: PDScorer, input_example: pd.DataFrame) -> ModelSignature:
    """Input columns -> PD (a candidate), or raw applicant columns -> the decision table.

    A champion's raw columns are typed ``any``: the model checks them against its training
    contract itself, naming the column, the bad values and the fix, where MLflow's type
    enforcement would refuse an integer column for a float one. Columns the model needs
    are required, the others optional (an id is passed through).
    """
    if scorer.policy is None:
        inferred = infer_signature(input_example, scorer.pd(scorer.prepare(input_example)))
        # text columns typed any: model input holds them as pandas categories or as text
        inputs = Schema([ColSpec(AnyType() if c.type == DataType.string else c.type, c.name,
                                 required=c.required) for c in inferred.inputs.inputs])
        return ModelSignature(inputs, inferred.outputs)
    needed = set(needed_columns(scorer.feature_schema))
    inputs = Schema([ColSpec(AnyType(), column, required=column in needed)
                     for column in input_example.columns])
    id_column = scorer.feature_schema.get("id_column")
    id_type = ("long" if id_column not in input_example.columns else
               infer_signature(input_example[[id_column]]).inputs.inputs[0].type)
    return ModelSignature(inputs, _output_schema(scorer, id_type), infer_signature(
        input_example, params={"reason_codes": scorer.policy.reason_codes}).params)


def log_pd_model(
    scorer: PDScorer, input_example: pd.DataFrame, registered_model_name: str | None = None
) -> ModelInfo:
    """Log ``scorer`` to the active run as the pyfunc ``model`` (registered if named).

    Args:
        input_example: a few rows as the model receives them: raw applicant rows for a
            scorer with a contract, model input rows otherwise.
    """
    if scorer.policy is None:
        # integer columns as float in a candidate's typed signature: a missing value at
        # scoring time turns an integer column into floats, which an integer one would reject
        # (and categories as text, which is how a caller sends them)
        # (and 32-bit floats as 64-bit: a caller's numbers are, and MLflow refuses to narrow)
        input_example = input_example.astype(
            {**{c: "float64" for c in input_example.select_dtypes(["integer", "float32"]).columns},
             **{c: "str" for c in input_example.select_dtypes("category").columns}})
    native = families.native_format(scorer.family)
    # skops types are checked on load against model_files.SKOPS_TRUSTED_TYPES, not stored
    # with the model: refuse now what could not be loaded back, before anything is logged
    for what, part in (("preprocessing", scorer.preprocess), ("calibrator", scorer.calibrator)):
        if part is not None:
            check_savable(part, what)
    with tempfile.TemporaryDirectory() as tmp:
        artifacts = {"preprocessing": str(Path(tmp) / "preprocessing.skops"),
                     "estimator": str(Path(tmp) / f"estimator{native.suffixes[0]}")}
        skops.io.dump(scorer.preprocess, artifacts["preprocessing"])
        native.save(scorer.estimator, Path(artifacts["estimator"]))
        if scorer.calibrator is not None:
            artifacts["calibrator"] = str(Path(tmp) / "calibrator.skops")
            skops.io.dump(scorer.calibrator, artifacts["calibrator"])
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=PD_MODEL_CODE,
            code_paths=[str(PACKAGE_DIR)],
            artifacts=artifacts,
            model_config=_model_config(scorer),
            signature=signature(scorer, input_example),
            input_example=input_example,
            # declared, not inferred: inference would reload the model in a subprocess
            pip_requirements=requirements(scorer.family, scorer.estimator),
            registered_model_name=registered_model_name,
        )
