"""Nodes of the validation pipeline that know what time it is: the in-time holdout scored,
and every sample read vintage by vintage (``validation.vintages``).

With ``data_processing.split.date_column`` the test set is the out-of-time window; the
out-of-fold PDs of the development rows are the in-time reference, beside the in-time
holdout when one is configured. Without a date column these nodes return empty tables and
the report says there is no out-of-time sample.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from credit_scoring.data.periods import application_dates, vintages
from credit_scoring.models.evaluation import scored_rows
from credit_scoring.validation.vintages import VINTAGE_COLUMNS, vintage_table

from .nodes import SAMPLES, score_test_applicants

logger = logging.getLogger(__name__)


def score_in_time_applicants(
    model_version: dict[str, Any],
    applicant_features: pd.DataFrame,
    model_input_in_time: pd.DataFrame | None,
    feature_schema: dict[str, Any],
) -> pd.DataFrame:
    """The in-time holdout scored from its rows as the feature build wrote them (the same
    path as test); empty when the split holds none out (None: data_processing ran before
    there was one)."""
    if model_input_in_time is None or model_input_in_time.empty:
        return pd.DataFrame(columns=["bad", "pd", "score", "decision"])
    return score_test_applicants(model_version, applicant_features.loc[model_input_in_time.index],
                                 model_input_in_time, feature_schema)


def _development_scores(model_version: dict[str, Any], model_input_train: pd.DataFrame,
                        feature_schema: dict[str, Any]) -> pd.DataFrame | None:
    """The version's stored out-of-fold PDs of these development rows, or None when it was
    developed on other rows."""
    oof = model_version["oof_predictions"]
    development = scored_rows(model_input_train, feature_schema["fold_column"])
    if not (oof.index.equals(development.index)
            and oof["bad"].to_numpy().tolist()
            == development[feature_schema["target"]].to_numpy().tolist()):
        logger.warning("The out-of-fold PDs of %s version %s are not of the current training "
                       "rows: the vintage table has no in-time development rows.",
                       model_version["name"], model_version["version"])
        return None
    return oof.assign(score=model_version["model"].policy.points(oof["pd"]))


def over_time(
    model_version: dict[str, Any],
    test_scores: pd.DataFrame,
    in_time_scores: pd.DataFrame,
    model_input_train: pd.DataFrame,
    model_input_test: pd.DataFrame,
    model_input_in_time: pd.DataFrame | None,
    feature_schema: dict[str, Any],
    params: dict[str, Any],
) -> pd.DataFrame:
    """Per sample and vintage: AUC, default rate against mean PD (Jeffreys), approval rate
    at the cut-off, score PSI against development (``vintages.vintage_table``).

    Returns:
        The vintage table, in-time samples first; empty without a date column.
    """
    column = feature_schema.get("date_column")
    if not column:
        return pd.DataFrame(columns=VINTAGE_COLUMNS)
    period = (feature_schema.get("time") or {}).get("vintage", "month")
    parts = []
    for sample, scores, rows in (
            (SAMPLES["oof"], _development_scores(model_version, model_input_train,
                                                 feature_schema), model_input_train),
            (SAMPLES["in_time"], in_time_scores, model_input_in_time),
            (SAMPLES["test"], test_scores, model_input_test)):
        if scores is None or scores.empty:
            continue
        labels = vintages(application_dates(rows.loc[scores.index], column), period)
        parts.append(scores[["bad", "pd", "score"]].assign(sample=sample, vintage=labels))
    scorer = model_version["model"]
    return vintage_table(pd.concat(parts), scorer.policy.cutoff, scorer.baselines["score"],
                         params)
