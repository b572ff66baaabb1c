"""A batch's record for the monitoring history, on cases small enough to compute by hand."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from credit_scoring.validation.monitoring import (
    MEASURE_COLUMNS,
    SCORE_COLUMNS,
    batch_period,
    batch_record,
    content_hash,
    data_quality,
    development_reference,
    reason_shares,
)
from credit_scoring.validation.stability import bin_counts

BASELINES = {
    # numeric: cut at 5, shares below / above / missing; seen from 1 to 9
    "income": {"edges": [5.0], "shares": [0.4, 0.4, 0.2], "range": [1.0, 9.0]},
    "region": {"levels": ["north", "south", "__missing__", "__other__"],
               "shares": [0.5, 0.4, 0.1, 0.0]},
}


def test_the_development_reference_holds_approval_mean_pd_and_both_aucs():
    y = pd.Series([1, 0, 1, 0, 0])
    pd_scores = pd.Series([0.9, 0.1, 0.3, 0.2, 0.4])
    reference = development_reference(y, pd_scores, cutoff=0.35)
    assert reference["approval_rate"] == pytest.approx(0.6)    # 0.1, 0.3, 0.2
    assert reference["mean_pd"] == pytest.approx(0.38)
    assert reference["default_rate"] == pytest.approx(0.4)
    assert reference["auc"] == pytest.approx(5 / 6)            # 0.9 beats all, 0.3 beats 2 of 3
    assert reference["auc_approved"] == pytest.approx(1.0)     # approved: bad 0.3 > 0.1, 0.2


def test_the_same_rows_hash_the_same_whatever_their_index_and_others_differ():
    rows = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert content_hash(rows) == content_hash(rows.set_axis([10, 11]))
    assert content_hash(rows) != content_hash(rows.assign(a=[1, 3]))
    assert content_hash(rows) != content_hash(rows.rename(columns={"a": "c"}))


def test_a_batch_period_comes_from_its_dates_else_the_parameter_else_the_run_date():
    dates = pd.Series(pd.to_datetime(["2024-03-05", "2024-03-28"]))
    assert batch_period(dates, date(2025, 1, 1), date(2026, 12, 7)) == (
        pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-28"), "application dates")
    assert batch_period(None, date(2025, 1, 31), date(2026, 12, 7))[::2] == (
        pd.Timestamp("2025-01-31"), "scoring.batch_date")
    assert batch_period(None, None, date(2026, 12, 7))[::2] == (
        pd.Timestamp("2026-12-07"), "run date")


def test_data_quality_counts_missing_unseen_and_out_of_range_values():
    prepared = pd.DataFrame({"income": [0.5, 3.0, 12.0, np.nan, 4.0],
                             "region": ["north", "west", "west", None, "south"]})
    rows, counts = bin_counts(prepared, BASELINES)
    table = data_quality(rows, counts, BASELINES).set_index(["measure", "variable"])
    assert table.loc[("missing_share", "income"), "value"] == pytest.approx(0.2)
    assert table.loc[("missing_share", "income"), "reference"] == pytest.approx(0.2)
    assert table.loc[("missing_share", "region"), "reference"] == pytest.approx(0.1)
    assert table.loc[("unseen_share", "region"), ["value", "count"]].tolist() == [0.4, 2]
    assert table.loc[("unseen_share", "income"), "value"] == 0
    # 0.5 below 1 and 12 above 9, of 5 rows (the missing one counts in the denominator)
    assert table.loc[("out_of_range_share", "income"), "value"] == pytest.approx(0.4)
    assert np.isnan(table.loc[("out_of_range_share", "region"), "value"])


def test_a_model_stored_without_ranges_has_no_out_of_range_share():
    old = {"income": {"edges": [5.0], "shares": [0.4, 0.4, 0.2]}}
    rows, counts = bin_counts(pd.DataFrame({"income": [100.0]}), old)
    table = data_quality(rows, counts, old)
    assert np.isnan(table.set_index("measure").loc["out_of_range_share", "value"])


def scored() -> pd.DataFrame:
    return pd.DataFrame({
        "loan_id": [7, 8, 9, 10], "pd": [0.1, 0.5, 0.6, 0.2], "score": [600, 500, 480, 580],
        "band": ["A", "C", "C", "B"], "decision": ["accept", "decline", "decline", "accept"],
        "reason_1_code": [None, "R01", "R02", None]})


def test_reason_shares_count_each_declines_principal_reason():
    table = reason_shares(scored().assign(reason_1_code=[None, "R01", "R01", None]))
    assert table[["variable", "value", "count"]].values.tolist() == [["R01", 1.0, 2]]


def test_a_batch_record_holds_its_figures_measures_and_each_applicants_pd():
    stability = pd.DataFrame({"variable": ["score", "income"], "psi": [0.05, 0.3]})
    quality = pd.DataFrame([("missing_share", "income", 0.25, 1, 0.2)],
                           columns=MEASURE_COLUMNS[1:])
    model = {"name": "pd", "version": "3", "run_id": "abc"}
    period = (pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-31"), "application dates")
    development = {"approval_rate": 0.8, "mean_pd": 0.3, "auc": 0.75, "auc_approved": 0.7}
    record = batch_record("b1", model, period, scored(), stability, quality, development,
                          pd.Series(pd.to_datetime(["2024-03-01"] * 4)), "loan_id",
                          np.array([0.2, 0.4, 0.5, 0.25]))
    batch = record["batch"].iloc[0]
    assert (batch["rows"], batch["approval_rate"], batch["mean_pd"]) == (4, 0.5, 0.35)
    assert (batch["score_psi"], batch["model_version"], batch["id_column"]) == (0.05, "3", "loan_id")
    assert batch["approval_rate_development"] == 0.8 and batch["auc_approved_development"] == 0.7
    measures = record["measures"]
    assert measures.columns.tolist() == MEASURE_COLUMNS
    assert set(measures["measure"]) == {"psi", "missing_share", "reason_share"}
    assert (measures["batch_id"] == "b1").all()
    scores = record["scores"]
    assert scores.columns.tolist() == SCORE_COLUMNS
    assert scores["applicant"].tolist() == ["7", "8", "9", "10"]
    assert scores["pd_uncalibrated"].tolist() == [0.2, 0.4, 0.5, 0.25]
    assert scores["reason"].tolist()[1:3] == ["R01", "R02"]


def test_without_an_id_column_the_applicants_are_recorded_without_ids():
    record = batch_record("b1", {"name": "pd", "version": "3", "run_id": "abc"},
                          (pd.Timestamp("2024-03-01"),) * 2 + ("run date",), scored(),
                          pd.DataFrame({"variable": ["score"], "psi": [0.0]}),
                          pd.DataFrame(columns=MEASURE_COLUMNS[1:]), None, None, None,
                          np.zeros(4))
    assert record["scores"]["applicant"].isna().all()
    assert np.isnan(record["batch"].iloc[0]["mean_pd_development"])
