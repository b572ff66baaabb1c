"""Time in the applicant table: application dates, vintages, the out-of-time split and
time-ordered CV folds.

A bank validates a PD model on a later period than the one it was developed on and reads
it vintage by vintage (cohorts by application month or quarter). With
``data_processing.split.date_column`` set, the latest periods become the out-of-time test
window; the development window before it holds training (and an optional in-time holdout).

Time-ordered folds (``split.cv: time_series``) use one convention every fold loop reads
(``models.evaluation.cv_splits``): the development periods are cut into ``cv_folds + 1``
consecutive blocks; the first block has fold id ``-1`` (scikit-learn's ``PredefinedSplit``
code for "never held out": it only trains), and fold ``k`` is scored by a model trained on
the blocks before it, never on a later month.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from credit_scoring.data.schema import ApplicantDataError, examples

logger = logging.getLogger(__name__)

PERIODS = {"month": "M", "quarter": "Q"}
"""Vintage lengths: ``split.vintage`` -> pandas period code."""
TRAINING_ONLY = -1
"""Fold id of the first block of time-ordered folds: it trains every fold, is never scored."""
KEY = "data_processing.split"


def application_dates(table: pd.DataFrame, column: str) -> pd.Series:
    """The date column as dates; every value must parse, none may be missing or in the future.

    Raises:
        ApplicantDataError: naming the column, examples of the values and the fix.
    """
    raw = table[column]
    try:
        dates = raw if pd.api.types.is_datetime64_any_dtype(raw) else pd.to_datetime(
            raw.astype("string"), errors="coerce", format="ISO8601")
    except (ValueError, TypeError) as error:  # e.g. time zones mixed with plain dates
        raise ApplicantDataError(
            f"Date column '{column}' ({KEY}.date_column) cannot be read as dates ({error}), "
            f"e.g. {examples(raw.dropna(), 5)}. Write every date the same way, as an ISO date "
            "(2024-07-31) in one time zone.") from None
    dates = dates.dt.tz_localize(None) if getattr(dates.dt, "tz", None) else dates
    missing = raw.isna()
    if missing.any():
        raise ApplicantDataError(
            f"Date column '{column}' ({KEY}.date_column) is empty in {int(missing.sum())} of "
            f"{len(raw)} rows (e.g. rows {examples(raw.index[missing], 5)}): every applicant "
            "needs an application date to fall in the development or the out-of-time window. "
            "Fill the dates, or drop those rows.")
    unparsed = dates.isna()
    if unparsed.any():
        raise ApplicantDataError(
            f"Date column '{column}' ({KEY}.date_column) has {int(unparsed.sum())} values "
            f"that are not dates, e.g. {examples(raw[unparsed], 5)}. Write them as ISO dates "
            "(2024-07-31), or name the right column in data_processing.split.date_column.")
    today = pd.Timestamp.now().normalize() + pd.Timedelta(days=1)
    future = dates >= today
    if future.any():
        raise ApplicantDataError(
            f"Date column '{column}' ({KEY}.date_column) has {int(future.sum())} application "
            f"dates in the future, e.g. {examples(raw[future], 5)}: an application not yet "
            "made has no outcome. Check the column (is it a maturity or a due date?) or the "
            "file.")
    return dates


def vintages(dates: pd.Series, vintage: str) -> pd.Series:
    """Each date's vintage label, e.g. ``2024-07`` (month) or ``2024Q3`` (quarter)."""
    return dates.dt.to_period(PERIODS[vintage]).astype(str)


def out_of_time_window(dates: pd.Series, split: dict[str, Any]) -> np.ndarray:
    """Which rows fall in the out-of-time window: from ``out_of_time_start`` on, else the
    latest ``out_of_time_share`` of the vintages (at least one)."""
    start = split.get("out_of_time_start")
    if start is not None:
        later = (dates >= pd.Timestamp(start)).to_numpy()
        window = f"from {pd.Timestamp(start).date()} ({KEY}.out_of_time_start)"
        period = PERIODS[split.get("vintage", "month")]
        if pd.Timestamp(start) != pd.Period(pd.Timestamp(start), period).start_time:
            logger.warning("%s.out_of_time_start %s is not the first day of a %s: that "
                           "vintage is split between development and out of time.", KEY,
                           pd.Timestamp(start).date(), split.get("vintage", "month"))
    else:
        labels = vintages(dates, split.get("vintage", "month"))
        periods = np.sort(labels.unique())
        count = max(1, round(split.get("out_of_time_share", 0.25) * len(periods)))
        if count >= len(periods):
            raise ApplicantDataError(
                f"The dates in '{split['date_column']}' span {len(periods)} "
                f"{split.get('vintage', 'month')}s ({periods[0]} to {periods[-1]}): too few to "
                "keep a development window before the out-of-time one. Use more history, a "
                f"shorter vintage, or a smaller {KEY}.out_of_time_share.")
        later = labels.isin(periods[-count:]).to_numpy()
        window = f"the latest {count} of {len(periods)} {split.get('vintage', 'month')}s"
    first, last = dates.min().date(), dates.max().date()
    if later.all() or not later.any():
        raise ApplicantDataError(
            f"The out-of-time window {window} holds {'every' if later.all() else 'no'} "
            f"applicant: the dates run from {first} to {last}. Set {KEY}.out_of_time_start "
            "inside that range.")
    return later


def check_window(y: pd.Series, name: str, window: str) -> None:
    """A window needs bads and goods: no AUC, calibration or cut-off without both."""
    bads = int(y.sum())
    if bads == 0 or bads == len(y):
        raise ApplicantDataError(
            f"The {name} window ({window}) holds {len(y)} applicants and "
            f"{'no bads' if bads == 0 else 'only bads'}: its AUC and default rate say "
            f"nothing. Move {KEY}.out_of_time_start (or out_of_time_share) so that both "
            "windows hold defaults, or use more history.")


def time_ordered_folds(labels: pd.Series, n_folds: int) -> np.ndarray:
    """Fold ids of consecutive blocks of vintages: ``TRAINING_ONLY`` for the first, then
    ``0 .. n_folds - 1``; fold ``k`` is scored by a model of the blocks before it."""
    periods = np.sort(labels.unique())
    if len(periods) < n_folds + 1:
        raise ApplicantDataError(
            f"The development window holds {len(periods)} vintages ({', '.join(periods)}), "
            f"fewer than cv: time_series needs for {n_folds} folds (cv_folds + 1 = "
            f"{n_folds + 1}: the first block only trains). Lower {KEY}.cv_folds, use a "
            "shorter vintage (month), or cv: stratified.")
    block = {period: index - 1 for index, chunk in
             enumerate(np.array_split(periods, n_folds + 1)) for period in chunk}
    return labels.map(block).to_numpy(dtype="int8")


def describe(dates: pd.Series, split: dict[str, Any], out_of_time: np.ndarray) -> dict[str, Any]:
    """What the model's schema records of time: the column, the vintage, both windows."""
    development, later = dates[~out_of_time], dates[out_of_time]
    return {"date_column": split["date_column"], "vintage": split.get("vintage", "month"),
            "cv": split.get("cv", "stratified"),
            "development": [str(development.min().date()), str(development.max().date())],
            "out_of_time": [str(later.min().date()), str(later.max().date())]}
