"""Time in the applicant table: dates that parse or a clear error, vintages, the out-of-time
window, and time-ordered folds that never train on a later month than they score."""

import numpy as np
import pandas as pd
import pytest

from credit_scoring.data import periods
from credit_scoring.data.schema import ApplicantDataError
from credit_scoring.models.evaluation import cv_splits, scored_folds


def dated(*dates) -> pd.DataFrame:
    return pd.DataFrame({"applied_on": list(dates)})


def test_iso_dates_parse_and_give_month_and_quarter_vintages():
    dates = periods.application_dates(dated("2024-01-31", "2024-02-01", "2024-12-15"),
                                      "applied_on")
    assert periods.vintages(dates, "month").tolist() == ["2024-01", "2024-02", "2024-12"]
    assert periods.vintages(dates, "quarter").tolist() == ["2024Q1", "2024Q1", "2024Q4"]


def test_a_date_that_does_not_parse_is_named_with_the_column_and_the_fix():
    with pytest.raises(ApplicantDataError, match=r"Date column 'applied_on' .* 1 values that "
                       r"are not dates, e.g. \['31/02/2024'\].*ISO dates"):
        periods.application_dates(dated("2024-01-31", "31/02/2024"), "applied_on")


def test_dates_in_mixed_time_zones_are_named_not_a_library_error():
    with pytest.raises(ApplicantDataError, match=r"'applied_on' .* cannot be read as dates .*"
                       r"one time zone"):
        periods.application_dates(dated("2024-07-31T10:00+02:00", "2024-08-01"), "applied_on")


def test_a_missing_date_is_refused():
    with pytest.raises(ApplicantDataError, match=r"'applied_on' .* is empty in 1 of 2 rows"):
        periods.application_dates(dated("2024-01-31", None), "applied_on")


def test_an_application_dated_in_the_future_is_refused():
    tomorrow = (pd.Timestamp.now() + pd.Timedelta(days=2)).strftime("%Y-%m-%d")
    with pytest.raises(ApplicantDataError, match=rf"1 application dates in the future, e.g. "
                       rf"\['{tomorrow}'\].*maturity or a due date"):
        periods.application_dates(dated("2024-01-31", tomorrow), "applied_on")


def test_the_out_of_time_window_is_the_latest_share_of_vintages_or_starts_at_a_date():
    dates = pd.Series(pd.to_datetime([f"2024-{m:02d}-10" for m in range(1, 9)]))
    split = {"date_column": "d", "out_of_time_share": 0.25, "vintage": "month"}
    assert periods.out_of_time_window(dates, split).tolist() == [False] * 6 + [True] * 2
    split["out_of_time_start"] = "2024-03-10"
    assert periods.out_of_time_window(dates, split).tolist() == [False] * 2 + [True] * 6
    split["out_of_time_start"] = "2025-01-01"
    with pytest.raises(ApplicantDataError, match=r"window from 2025-01-01 .* holds no applicant: "
                       r"the dates run from 2024-01-10 to 2024-08-10"):
        periods.out_of_time_window(dates, split)


def test_a_window_without_bads_is_refused_naming_it():
    with pytest.raises(ApplicantDataError, match=r"out-of-time window \(2024-07 to 2024-08\) "
                       r"holds 3 applicants and no bads"):
        periods.check_window(pd.Series([0, 0, 0]), "out-of-time", "2024-07 to 2024-08")


def test_time_ordered_folds_never_train_on_a_later_month_than_they_score():
    months = pd.Series([f"2024-{m:02d}" for m in range(1, 13) for _ in range(10)])
    folds = pd.Series(periods.time_ordered_folds(months, 3))
    # 12 months in 4 blocks of 3: the first only trains
    assert folds.groupby(months).first().tolist() == [-1] * 3 + [0] * 3 + [1] * 3 + [2] * 3
    assert scored_folds(folds).tolist() == [0, 1, 2]
    splits = cv_splits(folds)
    assert len(splits) == 3
    for train, held_out in splits:
        assert months.iloc[train].max() < months.iloc[held_out].min()
    assert [len(train) for train, _ in splits] == [30, 60, 90]


def test_stratified_folds_train_on_every_other_fold():
    folds = pd.Series(np.repeat([0, 1, 2], 4))
    assert [sorted(set(folds.iloc[train])) for train, _ in cv_splits(folds)] == [
        [1, 2], [0, 2], [0, 1]]


def test_fewer_vintages_than_time_ordered_folds_need_is_refused():
    months = pd.Series(["2024-01", "2024-02", "2024-03"])
    with pytest.raises(ApplicantDataError, match=r"development window holds 3 vintages .*"
                       r"cv_folds \+ 1 = 4"):
        periods.time_ordered_folds(months, 3)
