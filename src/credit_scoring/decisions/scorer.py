"""The PD model as one fitted object: raw applicant rows in, PD, score, band, decision, reasons out.

``PDScorer`` is the inference pipeline, in order: validation against the training
contract, cleaning (types, valid ranges), feature recipes, encoding, the estimator, the
calibrator, the cut-off, scorecard points, score bands and reason codes. Training builds
it (thresholding), MLflow stores it (``io.model_store.log_pd_model``: native estimator file, skops
preprocessing and calibrator, everything else as plain configuration) and everything that
scores loads it: ``kedro run --pipelines scoring``, ``mlflow models serve``,
``mlflow.pyfunc.spark_udf`` and a Hub download. One path from raw row to decision.

``PDModel`` is the MLflow pyfunc around it; ``load_code_free`` rebuilds that pyfunc from a
model folder with the installed package, running nothing from the folder.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import Model
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PyFuncModel, PythonModel, PythonModelContext
from mlflow.pyfunc.model import _PythonModelPyfuncWrapper
from pydantic import ValidationError

from credit_scoring import __version__
from credit_scoring.data.preparation import prepare_for_model
from credit_scoring.data.schema import ApplicantDataError, not_cited
from credit_scoring.decisions.policy import DecisionPolicy
from credit_scoring.decisions.reasons import MAX_REASONS, adverse_action_reasons
from credit_scoring.models import families
from credit_scoring.models.estimators import predict_pd
from credit_scoring.models.model_files import inside, load_skops, mlmodel

logger = logging.getLogger(__name__)

INPUT_ROW = "input_row"
"""Id column of scored applicants when the data has no id: the row's index in the input."""
CHUNK_ROWS = 100_000
"""Rows prepared and scored at a time: memory stays flat however large the batch."""
MAX_ROWS_PER_REQUEST = 10_000
"""Rows one pyfunc ``predict`` call scores at most, so one HTTP request is bounded work (Spark's
Arrow batches hold 10,000 rows).
The model carries it in its configuration (``max_rows_per_request``); batch scoring
(``kedro run --pipelines scoring``) calls ``PDScorer.score`` and has no such limit."""
MAX_ROWS_ENV = "CREDIT_SCORING_MAX_ROWS_PER_REQUEST"
"""Overrides the model's limit where it is served, e.g. ``mlflow models serve``'s environment."""


class PDScorer:
    """A fitted PD model with its contract and, for a champion, its decision policy.

    Args:
        family: the estimator's key in ``families.FAMILIES``.
        preprocess: fitted encoding (model input columns -> estimator input).
        estimator: fitted estimator with ``predict_proba``.
        calibrator: fitted PD calibrator (``predict``), or None.
        feature_schema: the training contract (``schema.build_feature_schema``): which raw
            columns the model needs, how they were cleaned and which features it was fitted
            on. None: the input is already the model input table (a candidate's run).
        policy: the ``DecisionPolicy`` (cut-off, costs, score scaling and bands, number of
            reasons). None: the model returns the PD alone.
        baselines: training distributions of the score and of every feature, for PSI;
            ``encoded_mean``, the training mean of the estimator inputs, which a linear
            model's contributions are measured from; and ``reasons``, the approved
            applicants' average contributions, which reasons are measured against
            (``reasons.reference_contributions``).
    """

    def __init__(self, family: str, preprocess, estimator, calibrator=None,
                 feature_schema: dict[str, Any] | None = None,
                 policy: DecisionPolicy | None = None,
                 baselines: dict[str, Any] | None = None) -> None:
        self.family = family
        self.preprocess = preprocess
        self.estimator = estimator
        self.calibrator = calibrator
        self.feature_schema = feature_schema
        self.policy = policy
        self.baselines = baselines

    @property
    def features(self) -> list[str]:
        return list(self.preprocess.feature_names_in_)

    def prepare(self, applicants: pd.DataFrame) -> pd.DataFrame:
        """Raw applicant rows -> model input columns, validated and cleaned as in training."""
        if self.feature_schema is None:
            return applicants[self.features]
        return prepare_for_model(applicants, self.feature_schema)

    def pd(self, model_input: pd.DataFrame) -> np.ndarray:
        """Calibrated PD of prepared rows."""
        return np.asarray(predict_pd(self.preprocess, self.estimator, self.calibrator,
                                     model_input), dtype=float)

    def uncalibrated_pd(self, model_input: pd.DataFrame) -> np.ndarray:
        """The estimator's PD of prepared rows before the calibrator (what a recalibration
        refits)."""
        return np.asarray(predict_pd(self.preprocess, self.estimator, None, model_input),
                          dtype=float)

    def contributions(self, model_input: pd.DataFrame) -> pd.DataFrame | None:
        """Each row's contribution per model input column (positive = pushes the PD up).

        Encoded columns (one-hot levels, missing flags) are summed back to the attribute
        they encode. None for a family without contributions (the prior-only benchmark).
        """
        return families.attribute_contributions(self.family, self.preprocess, self.estimator,
                                                model_input,
                                                (self.baselines or {}).get("encoded_mean"))

    def reasons(self, model_input: pd.DataFrame, n_reasons: int) -> dict[str, np.ndarray]:
        """Up to ``n_reasons`` factors that raised each row's risk against the approved
        applicants, as code, statement and value (``reasons.adverse_action_reasons``)."""
        contribution = self.contributions(model_input) if len(model_input) else None
        return adverse_action_reasons(
            contribution, model_input, n_reasons, (self.baselines or {}).get("reasons"),
            self.policy.statements, not_cited(self.feature_schema))

    def _reason_count(self, n_reasons) -> int:
        """The number of reasons asked for, refused unless a whole number from 0 to
        ``MAX_REASONS`` or the attributes the model can name, whichever is fewer (a caller's
        number sizes the reason table)."""
        if n_reasons is None:
            return self.policy.reason_codes
        if isinstance(n_reasons, bool) or not isinstance(n_reasons, int | np.integer):
            raise ApplicantDataError(
                f"reason_codes must be a whole number, not {str(n_reasons)[:40]!r}.")
        most = min(MAX_REASONS, len(self.features))
        if not 0 <= n_reasons <= most:
            raise ApplicantDataError(
                f"reason_codes must be from 0 to {most} (a decline cites at most "
                f"{MAX_REASONS} reasons), not {n_reasons}.")
        return int(n_reasons)

    def score(self, applicants: pd.DataFrame, n_reasons: int | None = None) -> pd.DataFrame:
        """Raw rows -> id, pd, score, band, decision and the top reasons of each decline.

        The id is the contract's ``id_column`` when the rows carry it, else ``input_row``
        (the row's index label in ``applicants``). Reasons are given for declined
        applicants, null for accepted ones.
        """
        if self.policy is None:
            raise ValueError("This PD model has no decision policy (not a champion): use pd().")
        n_reasons = self._reason_count(n_reasons)
        if len(applicants) > CHUNK_ROWS:
            return pd.concat([self.score(applicants.iloc[start:start + CHUNK_ROWS], n_reasons)
                              for start in range(0, len(applicants), CHUNK_ROWS)])
        model_input = self.prepare(applicants)
        pd_scores = self.pd(model_input)
        points = self.policy.points(pd_scores)
        declined = self.policy.declines(pd_scores)
        id_column = (self.feature_schema or {}).get("id_column")
        ids = applicants[id_column] if id_column in applicants.columns else applicants.index
        table = pd.DataFrame(
            {
                id_column if id_column in applicants.columns else INPUT_ROW: np.asarray(ids),
                "pd": pd_scores,
                "score": points,
                "band": self.policy.bands(points),
                "decision": np.where(declined, "decline", "accept").astype(object),
            },
            index=applicants.index,
        )
        if n_reasons == 0:
            return table
        for name, values in self.reasons(model_input[declined], n_reasons).items():
            column = np.full(len(table), None, dtype=object)
            column[declined] = values
            # object, not pandas' text dtype: an absent reason stays None (JSON null, not NaN)
            table[name] = pd.Series(column, index=table.index, dtype=object)
        return table


class PDModel(PythonModel):
    """MLflow pyfunc: a ``PDScorer`` read from the model's artifacts and configuration.

    ``predict`` returns the ``PDScorer.score`` table for a champion, the PD for a
    candidate. ``params={"reason_codes": n}`` overrides the champion's default number of
    reasons. Input that breaks the training contract raises an ``MlflowException`` with
    the column and the fix, which ``mlflow models serve`` answers with HTTP 400; any other
    failure is logged and answered with HTTP 500, never with a stack trace.
    """

    max_rows = MAX_ROWS_PER_REQUEST  # load_context sets the model's own or the server's

    def load_context(self, context) -> None:
        config = context.model_config
        family = families.family_key(config["family"])
        if family not in families.FAMILIES:
            raise families.UnknownFamilyError(families.unknown_family_message(family))
        if config.get("credit_scoring_version") not in (None, __version__):
            logger.warning(
                "This model was built by credit_scoring %s and is read by %s: install the "
                "version it was built with if its cleaning or reasons must match exactly.",
                config["credit_scoring_version"], __version__)
        self.max_rows = served_row_limit(config)
        calibrator = context.artifacts.get("calibrator")
        self.scorer = PDScorer(
            family,
            load_skops(context.artifacts["preprocessing"]),
            families.native_format(family).load(context.artifacts["estimator"]),
            load_skops(calibrator) if calibrator else None,
            config.get("feature_schema"),
            _policy(config),
            config.get("baselines"),
        )

    def predict(self, context, model_input: pd.DataFrame, params=None):
        limit = self.max_rows
        if len(model_input) > limit:
            raise MlflowException(
                f"{len(model_input)} rows in one call: this model scores at most {limit} rows "
                f"per request. Send smaller batches (or, where it is served, set {MAX_ROWS_ENV}).",
                error_code=INVALID_PARAMETER_VALUE)
        try:
            if self.scorer.policy is None:
                return self.scorer.pd(self.scorer.prepare(model_input))
            return self.scorer.score(model_input, (params or {}).get("reason_codes"))
        except ApplicantDataError as error:
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from error
        except Exception as error:
            # MLflow's server would answer with its stack trace in the body: the trace goes
            # to the server's log, the caller gets what failed and where to look
            logger.exception("Scoring %d rows failed.", len(model_input))
            raise MlflowException(
                f"The model could not score these rows ({type(error).__name__}); the "
                "server's log has the details. Check them against the model's input "
                "(its signature, or docs/champion.md).", error_code=INTERNAL_ERROR) from error


def served_row_limit(config: dict[str, Any]) -> int:
    """Rows per ``predict`` call: the server's environment, else the model's own limit."""
    value = os.environ.get(MAX_ROWS_ENV) or config.get("max_rows_per_request", MAX_ROWS_PER_REQUEST)
    if not str(value).isdigit() or int(value) < 1:
        raise ValueError(f"{MAX_ROWS_ENV} must be a whole number of rows of at least 1, "
                         f"not {str(value)[:40]!r}.")
    return int(value)


def _policy(config: dict[str, Any]) -> DecisionPolicy | None:
    """The model's decision policy, or why this version of the package cannot read it."""
    if not config.get("policy"):
        return None
    try:
        return DecisionPolicy.from_config(config["policy"])
    except ValidationError as error:
        raise ValueError(
            f"The decision policy of this model (built by credit_scoring "
            f"{config.get('credit_scoring_version', '?')}) does not read with credit_scoring "
            f"{__version__}: {error}. Load it with the version it was built with."
        ) from error


def scorer_of(model: PyFuncModel) -> PDScorer:
    """The ``PDScorer`` inside a loaded PD pyfunc (registry, Hub or code-free load)."""
    return model.unwrap_python_model().scorer


def load_code_free(folder: Path) -> PyFuncModel:
    """The pyfunc MLflow would load from ``folder``, built by the installed ``PDModel``.

    Reads only the artifacts and configuration ``MLmodel`` lists; runs nothing from the folder.
    """
    meta = Model.from_dict(mlmodel(folder))
    flavour = meta.flavors["python_function"]
    artifacts = {name: str(inside(folder, info["path"]))
                 for name, info in flavour["artifacts"].items()}
    context = PythonModelContext(artifacts=artifacts, model_config=flavour.get("config") or {})
    model = PDModel()
    model.load_context(context)
    # the wrapper mlflow.pyfunc.load_model puts around a PythonModel (schema, params)
    return PyFuncModel(model_meta=meta,
                       model_impl=_PythonModelPyfuncWrapper(model, context, meta.signature))
