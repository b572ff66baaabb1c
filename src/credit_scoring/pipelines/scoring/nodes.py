"""Nodes of the scoring pipeline: validate and prepare new applicants, score, check drift."""

from __future__ import annotations

import logging
import re
from typing import Any

import pandas as pd
from mlflow.pyfunc import PyFuncModel

from credit_scoring.monitoring import psi_from_baseline, stability_report, stability_status
from credit_scoring.preparation import add_domain_features, clean_applicants
from credit_scoring.schema import features, validate_scoring

logger = logging.getLogger(__name__)

INPUT_ROW = "input_row"
"""Id column of scored applicants when the data has no id: 0-based row of applicants_to_score."""


def prepare_applicants(
    applicants_to_score: pd.DataFrame,
    feature_schema: dict[str, Any],
    data_processing: dict[str, Any],
) -> pd.DataFrame:
    """Validate new applicants against the training schema, then clean them as in training.

    Column types come from the training schema, not from this batch: a categorical
    column that happens to be blank in every new row must not turn numeric.
    """
    validate_scoring(applicants_to_score, feature_schema, data_processing)
    columns = data_processing["columns"]
    as_trained = {**data_processing, "columns": {
        **columns,
        "categorical": [*columns.get("categorical", []), *feature_schema["categorical"]],
        "numeric": [*columns.get("numeric", []), *feature_schema["numeric"]],
    }}
    clean = clean_applicants(applicants_to_score, as_trained)
    return add_domain_features(clean, data_processing["feature_recipes"])


def score_applicants(
    scoring_model: PyFuncModel,
    applicants: pd.DataFrame,
    feature_schema: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PD, score, decision and the top reasons of each declined applicant.

    The first column is the applicant id (``id_column``) or, without one, ``input_row``:
    the 0-based row number in ``applicants_to_score``. Returns the same table twice: for
    Parquet (typed) and CSV (for spreadsheets).
    """
    scored = scoring_model.predict(
        features(applicants, feature_schema), params={"reason_codes": params["reason_codes"]}
    )
    # every scored row joins back to its input: by the applicant id, else the row number
    id_column = feature_schema.get("id_column")
    if id_column and id_column in applicants.columns:
        scored.insert(0, id_column, applicants[id_column])
    else:
        if id_column:
            logger.warning("The applicants to score have no id column '%s': rows are "
                           "identified by %s instead.", id_column, INPUT_ROW)
        scored.insert(0, INPUT_ROW, applicants.index)
    declined = scored["decision"] == "decline"
    logger.info("Scored %d applicants: %d declined (%.1f%%).", len(scored), declined.sum(),
                100 * declined.mean())
    return scored, scored


def unseen_categories(applicants: pd.DataFrame, feature_schema: dict[str, Any]) -> pd.DataFrame:
    """Category values never seen in training, with how many applicants have each.

    The model scores them as it was trained to (one-hot: no level; native categorical:
    the missing level); counting them tells whether the data source changed.
    """
    rows = []
    for column in feature_schema["categorical"]:
        values = applicants[column].dropna().astype(str)
        unseen = values[~values.isin(feature_schema["categories"][column])]
        for value, count in unseen.value_counts().items():
            rows.append({"column": column, "value": value, "applicants": int(count)})
    table = pd.DataFrame(rows, columns=["column", "value", "applicants"])
    if not table.empty:
        logger.warning(
            "%d applicant values were never seen in training (%s); scored as the model "
            "treats unknown categories.", table["applicants"].sum(),
            ", ".join(f"{r.column}={r.value!r}" for r in table.head(5).itertuples()),
        )
    return table


def population_stability(
    scoring_model: PyFuncModel,
    model_input_train: pd.DataFrame,
    applicants: pd.DataFrame,
    scored_applicants: pd.DataFrame,
    feature_schema: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """PSI of the score and of every feature, new applicants against the development sample.

    The score is compared with the baseline stored inside the scoring model (its score
    bands on held-out test applicants), so the reference always belongs to the model that
    scores; features are compared with the training applicants. Returns the report
    (variable, PSI, status) and the PSIs as MLflow metrics; a warning names every
    variable above ``psi.alarm``.
    """
    columns = [*feature_schema["numeric"], *feature_schema["categorical"]]
    psi = params["psi"]
    score_baseline = scoring_model.model_config["monitoring"]["score_baseline"]
    score = pd.DataFrame(
        [{"variable": "score", "psi": psi_from_baseline(score_baseline, scored_applicants["score"])}]
    )
    attributes = stability_report(
        features(model_input_train, feature_schema)[columns],
        features(applicants, feature_schema)[columns], feature_schema, psi["n_bins"],
    )
    report = pd.concat([score, attributes], ignore_index=True)
    report["status"] = stability_status(report["psi"], psi["watch"], psi["alarm"])
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
