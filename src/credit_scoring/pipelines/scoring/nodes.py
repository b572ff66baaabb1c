"""Nodes of the scoring pipeline: the champion scores raw applicants; drift is checked.

Every step goes through the loaded model (``scorer.PDScorer``): the same validation,
cleaning, features, PD, cut-off, bands and reasons that ``mlflow models serve`` and
``spark_udf`` run, and the training distributions it carries for PSI. Scoring needs
nothing from the training run's files.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

import pandas as pd
from mlflow.pyfunc import PyFuncModel

from credit_scoring.data.periods import application_dates
from credit_scoring.data.schema import shown
from credit_scoring.decisions.scorer import scorer_of
from credit_scoring.validation.monitoring import (
    batch_period,
    batch_record,
    content_hash,
    data_quality,
)
from credit_scoring.validation.stability import (
    bin_counts,
    psi_from_baseline,
    psi_from_counts,
    stability_status,
)

logger = logging.getLogger(__name__)


def score_applicants(
    scoring_model: PyFuncModel, applicant_features_to_score: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Id, PD, score, band, decision and the top reasons of each declined applicant.

    The first column is the applicant id (``id_column``) or, without one, ``input_row``:
    the 0-based row number in ``applicants_to_score``. The rows carry the features built
    from the applicants' related tables, if the model has any. Returns the same table twice: for
    Parquet (typed) and CSV (for spreadsheets).
    """
    # the scorer itself: a batch is not bounded like one request to a server
    scored = scorer_of(scoring_model).score(applicant_features_to_score)
    declined = scored["decision"] == "decline"
    logger.info("Scored %d applicants: %d declined (%.1f%%).", len(scored), declined.sum(),
                100 * declined.mean())
    return scored, scored


def prepare_applicants(
    scoring_model: PyFuncModel, applicant_features_to_score: pd.DataFrame
) -> pd.DataFrame:
    """The applicants as the model sees them (its own validation, cleaning and recipes),
    for the drift checks; scoring itself runs the whole model on the raw rows."""
    return scorer_of(scoring_model).prepare(applicant_features_to_score)


def unseen_categories(scoring_model: PyFuncModel, applicants_prepared: pd.DataFrame) -> pd.DataFrame:
    """Category values never seen in training, with how many applicants have each.

    The model scores them as it was trained to (one-hot: no level; native categorical:
    the missing level); counting them tells whether the data source changed.
    """
    scorer = scorer_of(scoring_model)
    prepared = applicants_prepared
    rows = []
    for column in scorer.feature_schema["categorical"]:
        values = prepared[column].dropna().astype(str)
        unseen = values[~values.isin(scorer.feature_schema["categories"][column])]
        for value, count in unseen.value_counts().items():
            rows.append({"column": column, "value": value, "applicants": int(count)})
    table = pd.DataFrame(rows, columns=["column", "value", "applicants"])
    if not table.empty:
        logger.warning(
            "%d applicant values were never seen in training (%s); scored as the model "
            "treats unknown categories.", table["applicants"].sum(),
            ", ".join(f"{r.column}={shown(r.value)}" for r in table.head(5).itertuples()),
        )
    return table


def count_bins(scoring_model: PyFuncModel, applicants_prepared: pd.DataFrame
               ) -> dict[str, Any]:
    """The batch's rows and, per feature, its counts in the model's PSI bins, its missing,
    unseen and out-of-range values: one aggregation in DuckDB (``stability.bin_counts``, which
    counts a batch held in Spark there)."""
    rows, counts = bin_counts(applicants_prepared, scorer_of(scoring_model).baselines["features"])
    return {"rows": rows, "counts": counts}


def population_stability(
    scoring_model: PyFuncModel,
    batch_bins: dict[str, Any],
    scored_applicants: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """PSI of the score and of every feature, new applicants against the development sample.

    The reference distributions travel inside the model (score and feature bins of its
    development sample), so drift is measured against the model that scores, wherever it
    was loaded from. Returns the report (variable, PSI, status and the scoring model's
    MLflow run) and the PSIs as MLflow metrics; a warning names every variable above
    ``psi.alarm``.
    """
    scorer = scorer_of(scoring_model)
    psi = params["psi"]
    score = pd.DataFrame([{"variable": "score", "psi": psi_from_baseline(
        scorer.baselines["score"], scored_applicants["score"])}])
    attributes = pd.DataFrame(
        [{"variable": column, "psi": psi_from_counts(scorer.baselines["features"][column],
                                                     found["counts"])}
         for column, found in batch_bins["counts"].items()], columns=["variable", "psi"])
    report = pd.concat([score, attributes], ignore_index=True)
    report["status"] = stability_status(report["psi"], psi["watch"], psi["alarm"])
    # which model's development sample the batch was measured against (validation reads it)
    report["model_run_id"] = scoring_model.metadata.run_id
    shifted = report[report["status"] == "shift"]
    if not shifted.empty:
        logger.warning(
            "Population shift (PSI > %.2f) in %s: the model may no longer fit these applicants.",
            psi["alarm"],
            ", ".join(f"{r.variable} {r.psi:.2f}" for r in shifted.itertuples()),
        )
    # MLflow metric names allow letters, digits and _-. /: a user's column names may not
    metrics = {re.sub(r"[^\w\-. /]", "_", row.variable): {"value": float(row.psi), "step": 0}
               for row in report.itertuples()}
    return report, metrics


def _model_identity(scoring_model: PyFuncModel) -> dict[str, str]:
    """Registered name and version of the model (the registry's datasets note them when
    they load it), else its MLflow run: what monitoring files a batch under."""
    run_id = scoring_model.metadata.run_id or "unknown"
    registered = (scoring_model.metadata.metadata or {}).get("registered_model") or {}
    return {"name": registered.get("name", "unregistered"),
            "version": str(registered.get("version", f"run {run_id[:8]}")), "run_id": run_id}


def record_batch(
    scoring_model: PyFuncModel,
    applicant_features_to_score: pd.DataFrame,
    applicants_prepared: pd.DataFrame,
    batch_bins: dict[str, Any],
    scored_applicants: pd.DataFrame,
    population_stability_report: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, float]], dict[str, Any]]:
    """The batch's record for the monitoring history (``validation.monitoring``), its
    figures as MLflow metrics and its summary as an MLflow artifact.

    The batch id is a hash of the rows scored and the model's version: the same batch scored
    again by the same model is recorded once. Its period comes from the date column the
    model was developed with, else ``scoring.batch_date``, else today.
    """
    scorer = scorer_of(scoring_model)
    schema = scorer.feature_schema or {}
    model = _model_identity(scoring_model)
    column = schema.get("date_column")
    dates = (application_dates(applicant_features_to_score, column)
             if column and column in applicant_features_to_score.columns else None)
    period = batch_period(dates, params.get("batch_date"), date.today())
    batch_id = (f"{content_hash(applicant_features_to_score)[:16]}-"
                f"{re.sub(r'[^0-9A-Za-z]+', '', model['version'])}")
    baselines = scorer.baselines or {}
    record = batch_record(
        batch_id, model, period, scored_applicants, population_stability_report,
        data_quality(batch_bins["rows"], batch_bins["counts"], baselines["features"]),
        baselines.get("development"),
        None if dates is None else dates.reset_index(drop=True), schema.get("id_column"),
        scorer.uncalibrated_pd(applicants_prepared))
    batch = record["batch"].iloc[0]
    logger.info("Monitoring batch %s: %s to %s (%s), %d applicants, approval %.1f%%, mean PD "
                "%.4f, score PSI %.3f.", batch_id, batch["batch_start"].date(),
                batch["batch_end"].date(), batch["period_from"], batch["rows"],
                100 * batch["approval_rate"], batch["mean_pd"], batch["score_psi"])
    metrics = {name: {"value": float(batch[name]), "step": 0}
               for name in ("rows", "approval_rate", "mean_pd", "score_psi")}
    summary = {key: (str(value.date()) if isinstance(value, pd.Timestamp)
                     else value.item() if hasattr(value, "item") else value)
               for key, value in batch.items()}
    return record, metrics, summary


def store_batch(batch_record: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The record, for the monitoring history: the pipeline's last step, so a batch whose
    scoring, checks or MLflow logging failed is not in the history."""
    return batch_record
