"""The generator: undated files exactly as before the dates existed; dated ones with the
drift docs/over-time.md describes, measured on the files."""

import hashlib

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from credit_scoring.data import synth

UNDATED_SHA256 = "554094c2425a7a7737a8e0132ee1345e95eff4c40a2d8cc9ca3c9a338f51cdac"
"""Of synth.home_credit(3000, seed=7) written as CSV, before --dates existed: every full-size
figure quoted from undated files stays comparable."""


def test_without_dates_the_files_are_as_before_dates_existed():
    digest = hashlib.sha256()
    for name, frame in synth.home_credit(3000, 7).items():
        digest.update(name.encode())
        digest.update(frame.to_csv(index=False).encode())
    assert digest.hexdigest() == UNDATED_SHA256


@pytest.fixture(scope="module")
def dated() -> dict[str, pd.DataFrame]:
    return synth.home_credit(20_000, 3, dates=True)


def test_dated_files_span_24_monthly_vintages_new_applicants_too(dated):
    application = dated["application_train"]
    months = application[synth.DATE_COLUMN].str[:7]
    assert months.nunique() == 24 and (months.min(), months.max()) == ("2023-01", "2024-12")
    assert dated["application_test"][synth.DATE_COLUMN].notna().all()
    # only the date column is new: the undated layout is kept
    assert [c for c in application.columns if c != synth.DATE_COLUMN] == list(
        synth.home_credit(50, 3)["application_train"].columns)


def test_the_planted_drift_is_in_the_last_months(dated):
    application = dated["application_train"]
    month = application[synth.DATE_COLUMN].str[:7]
    stable, last = application[month < "2024-04"], application[month >= "2024-10"]
    # population shift: loans grow, revolving loans spread
    assert last["AMT_CREDIT"].median() > 1.5 * stable["AMT_CREDIT"].median()
    revolving = (last["NAME_CONTRACT_TYPE"] == "Revolving loans").mean()
    assert revolving > (stable["NAME_CONTRACT_TYPE"] == "Revolving loans").mean() + 0.15
    # the default rate rises
    assert last["TARGET"].mean() > 1.4 * stable["TARGET"].mean()

    # the external score no longer ranks
    def ranks(rows):
        known = rows["EXT_SOURCE_2"].notna()
        return roc_auc_score(rows.loc[known, "TARGET"], -rows.loc[known, "EXT_SOURCE_2"])

    assert ranks(stable) > 0.65 and ranks(last) < ranks(stable) - 0.08


def test_some_bureau_credits_were_opened_after_the_application(dated):
    bureau = dated["bureau"]
    after = bureau["DAYS_CREDIT"] > 0
    assert 0.02 < after.mean() < synth.AFTER_APPLICATION
    dates = pd.concat([dated["application_train"], dated["application_test"]]).set_index(
        "SK_ID_CURR")[synth.DATE_COLUMN]
    opened = pd.to_datetime(dates.loc[bureau.loc[after, "SK_ID_CURR"]].to_numpy()) + \
        pd.to_timedelta(bureau.loc[after, "DAYS_CREDIT"].to_numpy(), unit="D")
    assert opened.max() <= pd.Timestamp("2024-12-31")   # none after the snapshot
    assert (synth.home_credit(2000, 3)["bureau"]["DAYS_CREDIT"] <= 0).all()   # undated: none
