"""Home-Credit-shaped data of any size: ``credit-scoring synth home-credit --applicants N --out DIR``.

The real Kaggle files ("Home Credit Default Risk") cannot be downloaded here, and tests and
benchmarks need sizes from a thousand to the full 307,511 applicants. This writes the same
layout (file names, column names, codes, value ranges): ``application_train.csv`` (with
``TARGET``), ``application_test.csv`` (new applicants, no target), ``bureau.csv`` (~5.5 rows
per applicant), ``previous_application.csv`` (~5.4) and ``installments_payments.csv`` (~44),
with the real data's kinds of missingness (building data, EXT_SOURCE_1, closed-credit
dates, 365243 "no date" codes).

Default risk has two independent parts: one the application shows (external scores, age,
income, loan size) and one only the history shows (bureau overdue and debt, refused
applications, late instalments). So the aggregates of the related tables measurably beat
the application table alone, as on the real data. Everything is drawn from one seeded
generator: the same seed writes the same files.

``--dates`` adds ``APPLICATION_DATE``: 24 monthly vintages, 2023-01 to 2024-12 (fixed, so
a seed writes the same files on any day). The related tables' day offsets still count from
each applicant's own application, and, as in a snapshot taken at the end of the window,
some bureau credits were opened *after* the application (positive ``DAYS_CREDIT``: what
the feature build's leakage guard drops). The first 15 months are stable; over the last
9 a drift is planted, growing linearly to its full size in the last month
(docs/over-time.md):

- population shift: loans grow (``AMT_CREDIT``, and the annuity and goods price with it,
  up to +80 %) and revolving loans go from 10 % to up to 40 % of applications;
- the default rate rises: +0.8 on the log-odds (8 % -> about 16 %), while the PDs of a model
  developed on the stable months do not;
- a relationship breaks: the external scores (``EXT_SOURCE_*``) carry less and less of the
  application risk, none by 2024-10, and then the sign turns (a provider's rescaling gone
  wrong: at full size the score carries 40 % of its old weight the wrong way), so a model
  leaning on them ranks worse out of time.

Without ``--dates`` nothing of this is drawn, and the files are as before.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet

FIRST_ID = 100_002
NO_DATE = 365243
BAD_RATE = 0.08
DATE_COLUMN = "APPLICATION_DATE"
FIRST_MONTH = "2023-01"
VINTAGES = 24
DRIFT_MONTHS = 9
DRIFT = {"credit": 0.8, "revolving": 0.3, "default_log_odds": 0.8, "ext_source_signal": 1.4}
"""Planted with ``--dates``, each at full size in the last month (see the module docstring)."""
AFTER_APPLICATION = 0.08
"""Share of a dated applicant's bureau credits opened after the application (leakage)."""
TEST_SHARE = 0.16  # application_test has 48,744 applicants for 307,511 in train
BUILDING = ["APARTMENTS", "BASEMENTAREA", "YEARS_BEGINEXPLUATATION", "YEARS_BUILD", "COMMONAREA",
            "ELEVATORS", "ENTRANCES", "FLOORSMAX", "FLOORSMIN", "LANDAREA", "LIVINGAPARTMENTS",
            "LIVINGAREA", "NONLIVINGAPARTMENTS", "NONLIVINGAREA"]


def _pick(rng: np.random.Generator, levels: dict[str, float], n: int) -> np.ndarray:
    names = np.array(list(levels), dtype=object)
    weights = np.array(list(levels.values()), dtype=float)
    return names[rng.choice(len(names), size=n, p=weights / weights.sum())]


def _missing(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    values = values.astype(float) if values.dtype.kind in "iub" else values.copy()
    values[rng.random(len(values)) < share] = np.nan if values.dtype.kind == "f" else None
    return values


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def applications(rng: np.random.Generator, ids: np.ndarray, app_risk: np.ndarray,
                 drift: np.ndarray | None = None) -> pd.DataFrame:
    """The application table (without TARGET): 121 columns as in application_train.csv;
    ``drift`` (0 to 1 per applicant, dated sets only) shifts loans and weakens the external
    scores."""
    n = len(ids)
    drift = np.zeros(n) if drift is None else drift
    female = rng.random(n) < 0.66
    pensioner = rng.random(n) < 0.18
    age_years = np.where(pensioner, rng.uniform(55, 69, n), rng.uniform(21, 64, n))
    age_years = np.clip(age_years - 3 * app_risk, 21, 69)  # the young default more
    income = np.round(np.exp(rng.normal(11.9, 0.5, n)) / 450) * 450
    credit = np.round(np.exp(rng.normal(13.1, 0.6, n) + 0.1 * app_risk)
                      * (1 + DRIFT["credit"] * drift), 1)
    annuity = np.round(credit * rng.uniform(0.03, 0.1, n), 1)
    children = np.minimum(rng.poisson(0.42, n), 19)
    married = rng.random(n) < 0.64
    car = rng.random(n) < 0.34
    signal = -0.9 * (1 - DRIFT["ext_source_signal"] * drift) * app_risk
    ext = {k: _sigmoid(signal + rng.normal(0, s, n) + 0.3)
           for k, s in (("1", 0.6), ("2", 0.5), ("3", 0.6))}
    frame = {
        "SK_ID_CURR": ids,
        "NAME_CONTRACT_TYPE": _pick(rng, {"Cash loans": 0.9, "Revolving loans": 0.1}, n),
        "CODE_GENDER": np.where(female, "F", "M"),
        "FLAG_OWN_CAR": np.where(car, "Y", "N"),
        "FLAG_OWN_REALTY": np.where(rng.random(n) < 0.69, "Y", "N"),
        "CNT_CHILDREN": children,
        "AMT_INCOME_TOTAL": income,
        "AMT_CREDIT": credit,
        "AMT_ANNUITY": _missing(rng, annuity, 0.00004),
        "AMT_GOODS_PRICE": _missing(rng, np.round(credit * rng.uniform(0.8, 1, n) / 450) * 450,
                                    0.001),
        "NAME_TYPE_SUITE": _missing(rng, _pick(rng, {
            "Unaccompanied": 81, "Family": 13, "Spouse, partner": 3.7, "Children": 1.1,
            "Other_B": 0.6, "Other_A": 0.3, "Group of people": 0.1}, n), 0.004),
        "NAME_INCOME_TYPE": np.where(pensioner, "Pensioner", _pick(rng, {
            "Working": 63, "Commercial associate": 28, "State servant": 9}, n)),
        "NAME_EDUCATION_TYPE": _pick(rng, {
            "Secondary / secondary special": 71, "Higher education": 24,
            "Incomplete higher": 3.3, "Lower secondary": 1.2, "Academic degree": 0.05}, n),
        "NAME_FAMILY_STATUS": np.where(married, "Married", _pick(rng, {
            "Single / not married": 15, "Civil marriage": 10, "Separated": 6, "Widow": 5}, n)),
        "NAME_HOUSING_TYPE": _pick(rng, {
            "House / apartment": 89, "With parents": 4.8, "Municipal apartment": 3.6,
            "Rented apartment": 1.6, "Office apartment": 0.9, "Co-op apartment": 0.4}, n),
        "REGION_POPULATION_RELATIVE": np.round(rng.uniform(0.0003, 0.072, n), 6),
        "DAYS_BIRTH": -np.round(age_years * 365.25).astype(int),
        "DAYS_EMPLOYED": np.where(pensioner, NO_DATE,
                                  -np.minimum(rng.exponential(2400, n), age_years * 365 - 6000)
                                  .clip(1).astype(int)),
        "DAYS_REGISTRATION": -np.round(rng.uniform(0, 20000, n), 0),
        "DAYS_ID_PUBLISH": -rng.integers(0, 7200, n),
        "OWN_CAR_AGE": np.where(car, rng.integers(0, 30, n).astype(float), np.nan),
        "FLAG_MOBIL": np.ones(n, dtype=int),
        "FLAG_EMP_PHONE": (~pensioner).astype(int),
        "FLAG_WORK_PHONE": (rng.random(n) < 0.2).astype(int),
        "FLAG_CONT_MOBILE": (rng.random(n) < 0.998).astype(int),
        "FLAG_PHONE": (rng.random(n) < 0.28).astype(int),
        "FLAG_EMAIL": (rng.random(n) < 0.06).astype(int),
        "OCCUPATION_TYPE": np.where(pensioner, None, _missing(rng, _pick(rng, {
            "Laborers": 26, "Sales staff": 15, "Core staff": 13, "Managers": 10, "Drivers": 9,
            "High skill tech staff": 5.4, "Accountants": 4.6, "Medicine staff": 4,
            "Security staff": 3.2, "Cooking staff": 2.8, "Cleaning staff": 2.2}, n), 0.2)),
        "CNT_FAM_MEMBERS": _missing(rng, 1 + married + children, 0.00001),
        "REGION_RATING_CLIENT": _pick(rng, {"1": 10, "2": 74, "3": 16}, n).astype(int),
        "REGION_RATING_CLIENT_W_CITY": _pick(rng, {"1": 11, "2": 75, "3": 14}, n).astype(int),
        "WEEKDAY_APPR_PROCESS_START": _pick(rng, {
            "TUESDAY": 17.5, "WEDNESDAY": 16.9, "MONDAY": 16.5, "THURSDAY": 16.4,
            "FRIDAY": 16.4, "SATURDAY": 11, "SUNDAY": 5.3}, n),
        "HOUR_APPR_PROCESS_START": np.clip(rng.normal(12, 3.3, n).round(), 0, 23).astype(int),
    }
    for flag, share in (("REG_REGION_NOT_LIVE_REGION", 0.015), ("REG_REGION_NOT_WORK_REGION", 0.05),
                        ("LIVE_REGION_NOT_WORK_REGION", 0.04), ("REG_CITY_NOT_LIVE_CITY", 0.08),
                        ("REG_CITY_NOT_WORK_CITY", 0.23), ("LIVE_CITY_NOT_WORK_CITY", 0.18)):
        frame[flag] = (rng.random(n) < share).astype(int)
    frame["ORGANIZATION_TYPE"] = np.where(pensioner, "XNA", _pick(rng, {
        "Business Entity Type 3": 27, "Self-employed": 15, "Other": 6.6, "Medicine": 4.4,
        "Business Entity Type 2": 4.2, "Government": 4, "School": 3.5, "Trade: type 7": 3,
        "Kindergarten": 2.7, "Construction": 2.6}, n))
    frame["EXT_SOURCE_1"] = _missing(rng, ext["1"], 0.56)
    frame["EXT_SOURCE_2"] = _missing(rng, ext["2"], 0.002)
    frame["EXT_SOURCE_3"] = _missing(rng, ext["3"], 0.2)
    has_building = rng.random(n) < 0.5  # half the applicants have no building record at all
    base = rng.beta(2, 8, n)
    for stat in ("AVG", "MODE", "MEDI"):
        for column in BUILDING:
            value = np.clip(base * rng.uniform(0.5, 1.5, n) + (0.9 if "YEARS" in column else 0),
                            0, 1).round(4)
            frame[f"{column}_{stat}"] = np.where(has_building & (rng.random(n) > 0.2), value,
                                                 np.nan)
        if stat == "MODE":
            frame["FONDKAPREMONT_MODE"] = np.where(has_building, _pick(rng, {
                "reg oper account": 72, "reg oper spec account": 12, "not specified": 6,
                "org spec account": 5}, n), None)
            frame["HOUSETYPE_MODE"] = np.where(has_building, _pick(rng, {
                "block of flats": 98, "specific housing": 1, "terraced house": 1}, n), None)
            frame["TOTALAREA_MODE"] = np.where(has_building, base.round(4), np.nan)
            frame["WALLSMATERIAL_MODE"] = np.where(has_building, _pick(rng, {
                "Panel": 43, "Stone, brick": 42, "Block": 6, "Wooden": 3, "Mixed": 1.5,
                "Monolithic": 1, "Others": 1}, n), None)
            frame["EMERGENCYSTATE_MODE"] = np.where(has_building, _pick(
                rng, {"No": 98.5, "Yes": 1.5}, n), None)
    social = rng.poisson(1.4, n).astype(float)
    frame["OBS_30_CNT_SOCIAL_CIRCLE"] = _missing(rng, social, 0.003)
    frame["DEF_30_CNT_SOCIAL_CIRCLE"] = _missing(rng, rng.binomial(social.astype(int), 0.1), 0.003)
    frame["OBS_60_CNT_SOCIAL_CIRCLE"] = frame["OBS_30_CNT_SOCIAL_CIRCLE"]
    frame["DEF_60_CNT_SOCIAL_CIRCLE"] = frame["DEF_30_CNT_SOCIAL_CIRCLE"]
    frame["DAYS_LAST_PHONE_CHANGE"] = -rng.integers(0, 4300, n).astype(float)
    for document in range(2, 22):
        share = 0.71 if document == 3 else 0.09 if document in (6, 8) else 0.005
        frame[f"FLAG_DOCUMENT_{document}"] = (rng.random(n) < share).astype(int)
    asked = rng.random(n) < 0.865
    for period, lam in (("HOUR", 0.006), ("DAY", 0.007), ("WEEK", 0.03), ("MON", 0.27),
                        ("QRT", 0.27), ("YEAR", 1.9)):
        frame[f"AMT_REQ_CREDIT_BUREAU_{period}"] = np.where(
            asked, rng.poisson(lam, n), np.nan)
    return pd.DataFrame(frame)


def bureau(rng: np.random.Generator, ids: np.ndarray, hist_risk: np.ndarray) -> pd.DataFrame:
    """Credits at other institutions: 14 % of applicants have none; ~5.5 rows per training
    applicant, as in the real files (which hold the test applicants' rows too)."""
    per = np.where(rng.random(len(ids)) < 0.14, 0, 1 + rng.negative_binomial(2, 2 / 6.55,
                                                                           len(ids)))
    owner = np.repeat(np.arange(len(ids)), per)
    n, risk = len(owner), hist_risk[owner]
    active = rng.random(n) < _sigmoid(-0.55 + 0.4 * risk)
    sold_or_bad = rng.random(n) < 0.005
    days_credit = -rng.integers(1, 2922, n)
    term = rng.integers(90, 3650, n)
    enddate = days_credit + term
    amount = np.round(np.exp(rng.normal(11.8, 1.1, n)), 2)
    debt = np.where(active, np.round(amount * rng.uniform(0.1, 1, n) * _sigmoid(risk), 2), 0.0)
    late = rng.random(n) < _sigmoid(-3.2 + 1.1 * risk)
    overdue_days = np.where(late & active, rng.integers(1, 120, n), 0)
    return pd.DataFrame({
        "SK_ID_CURR": ids[owner],
        "SK_ID_BUREAU": 5_000_000 + np.arange(n),
        "CREDIT_ACTIVE": np.where(sold_or_bad, _pick(rng, {"Sold": 0.99, "Bad debt": 0.01}, n),
                                  np.where(active, "Active", "Closed")),
        "CREDIT_CURRENCY": _pick(rng, {"currency 1": 99.9, "currency 2": 0.08,
                                       "currency 3": 0.01, "currency 4": 0.01}, n),
        "DAYS_CREDIT": days_credit,
        "CREDIT_DAY_OVERDUE": overdue_days,
        "DAYS_CREDIT_ENDDATE": _missing(rng, enddate, 0.06),
        "DAYS_ENDDATE_FACT": np.where(active, np.nan, np.clip(
            enddate + rng.integers(-400, 60, n), days_credit, -1)),
        "AMT_CREDIT_MAX_OVERDUE": np.where(rng.random(n) < 0.35,
                                           np.where(late, np.round(amount * 0.05, 2), 0.0),
                                           np.nan),
        "CNT_CREDIT_PROLONG": (rng.random(n) < 0.005).astype(int),
        "AMT_CREDIT_SUM": _missing(rng, amount, 0.00001),
        "AMT_CREDIT_SUM_DEBT": _missing(rng, debt, 0.15),
        "AMT_CREDIT_SUM_LIMIT": _missing(rng, np.where(rng.random(n) < 0.1, amount * 0.2, 0.0),
                                         0.34),
        "AMT_CREDIT_SUM_OVERDUE": np.where(overdue_days > 0, np.round(debt * 0.05, 2), 0.0),
        "CREDIT_TYPE": _pick(rng, {"Consumer credit": 73, "Credit card": 23.5, "Car loan": 1.6,
                                   "Mortgage": 1.1, "Microloan": 0.7}, n),
        "DAYS_CREDIT_UPDATE": np.maximum(days_credit, -rng.integers(0, 800, n)),
        "AMT_ANNUITY": np.where(rng.random(n) < 0.29, np.round(amount / 24, 2), np.nan),
    })


def previous_applications(rng: np.random.Generator, ids: np.ndarray, hist_risk: np.ndarray
                          ) -> pd.DataFrame:
    """Previous applications at Home Credit: 5 % of applicants have none; ~5.4 rows per
    training applicant."""
    per = np.where(rng.random(len(ids)) < 0.05, 0,
                   1 + rng.negative_binomial(1.5, 1.5 / 5.43, len(ids)))
    owner = np.repeat(np.arange(len(ids)), per)
    n, risk = len(owner), hist_risk[owner]
    refused = rng.random(n) < _sigmoid(-1.6 + 0.7 * risk)
    status = np.where(refused, "Refused", _pick(rng, {
        "Approved": 62, "Canceled": 19, "Unused offer": 1.6}, n))
    approved = status == "Approved"
    kind = _pick(rng, {"Cash loans": 45, "Consumer loans": 44, "Revolving loans": 11}, n)
    asked = np.round(np.exp(rng.normal(11.5, 1.1, n)), 1)
    credit = np.round(asked * np.where(refused, 0, rng.uniform(0.85, 1.2, n)), 1)
    payments = np.where(kind == "Revolving loans", 0, _pick(rng, {
        "6": 20, "12": 31, "24": 19, "10": 14, "18": 8, "36": 5, "48": 2, "60": 1}, n).astype(int))
    decision = -rng.integers(1, 2922, n)
    first_due = np.where(approved, decision + rng.integers(10, 60, n), np.nan)
    last_due = first_due + 30 * payments
    def no_date(days: np.ndarray, share: float) -> np.ndarray:
        """Future dates, and a share of the others, are coded 365243 as in the real file."""
        return np.where(approved & ((days > 0) | (rng.random(n) < share)), NO_DATE, days)

    down = np.where(kind == "Consumer loans", np.round(asked * rng.uniform(0, 0.3, n), 1), np.nan)
    return pd.DataFrame({
        "SK_ID_PREV": 1_000_000 + rng.permutation(n),
        "SK_ID_CURR": ids[owner],
        "NAME_CONTRACT_TYPE": kind,
        "AMT_ANNUITY": np.where(payments > 0, np.round(credit / np.maximum(payments, 1) * 1.1, 3),
                                np.nan),
        "AMT_APPLICATION": asked,
        "AMT_CREDIT": credit,
        "AMT_DOWN_PAYMENT": down,
        "AMT_GOODS_PRICE": np.where(kind == "Revolving loans", np.nan, asked),
        "WEEKDAY_APPR_PROCESS_START": _pick(rng, {
            "TUESDAY": 15, "WEDNESDAY": 15, "MONDAY": 15, "THURSDAY": 15, "FRIDAY": 15,
            "SATURDAY": 14, "SUNDAY": 11}, n),
        "HOUR_APPR_PROCESS_START": np.clip(rng.normal(12.5, 3.3, n).round(), 0, 23).astype(int),
        "FLAG_LAST_APPL_PER_CONTRACT": np.where(rng.random(n) < 0.995, "Y", "N"),
        "NFLAG_LAST_APPL_IN_DAY": (rng.random(n) < 0.996).astype(int),
        "RATE_DOWN_PAYMENT": np.round(down / asked, 6),
        "RATE_INTEREST_PRIMARY": np.where(rng.random(n) < 0.004, rng.uniform(0.03, 1, n), np.nan),
        "RATE_INTEREST_PRIVILEGED": np.where(rng.random(n) < 0.004, rng.uniform(0.37, 1, n),
                                             np.nan),
        "NAME_CASH_LOAN_PURPOSE": np.where(kind == "Cash loans", _pick(rng, {
            "XNA": 50, "XAP": 40, "Repairs": 4, "Other": 3, "Urgent needs": 3}, n), "XAP"),
        "NAME_CONTRACT_STATUS": status,
        "DAYS_DECISION": decision,
        "NAME_PAYMENT_TYPE": _pick(rng, {"Cash through the bank": 62, "XNA": 37.5,
                                         "Non-cash from your account": 0.5}, n),
        "CODE_REJECT_REASON": np.where(refused, _pick(rng, {
            "HC": 50, "LIMIT": 17, "SCO": 11, "SCOFR": 4, "VERIF": 10, "XNA": 8}, n), "XAP"),
        "NAME_TYPE_SUITE": _missing(rng, _pick(rng, {"Unaccompanied": 60, "Family": 25,
                                                     "Spouse, partner": 8, "Children": 4,
                                                     "Other_B": 3}, n), 0.49),
        "NAME_CLIENT_TYPE": _pick(rng, {"Repeater": 74, "New": 18, "Refreshed": 8}, n),
        "NAME_GOODS_CATEGORY": _pick(rng, {"XNA": 57, "Mobile": 13.5, "Consumer Electronics": 7.3,
                                           "Computers": 6.3, "Audio/Video": 6,
                                           "Furniture": 3.2, "Photo / Cinema Equipment": 1.5,
                                           "Construction Materials": 1.5, "Other": 3.7}, n),
        "NAME_PORTFOLIO": _pick(rng, {"POS": 41, "Cash": 28, "XNA": 22, "Cards": 9}, n),
        "NAME_PRODUCT_TYPE": _pick(rng, {"XNA": 64, "x-sell": 27, "walk-in": 9}, n),
        "CHANNEL_TYPE": _pick(rng, {"Credit and cash offices": 43, "Country-wide": 30,
                                    "Stone": 13, "Regional / Local": 6.5, "Contact center": 4.3,
                                    "AP+ (Cash loan)": 3.2}, n),
        "SELLERPLACE_AREA": np.where(rng.random(n) < 0.45, -1, rng.integers(0, 4000, n)),
        "NAME_SELLER_INDUSTRY": _pick(rng, {"XNA": 51, "Consumer electronics": 24,
                                            "Connectivity": 16, "Furniture": 3.5,
                                            "Construction": 1.8, "Clothing": 1.4, "Industry": 1.1,
                                            "Auto technology": 0.3, "Jewelry": 0.2}, n),
        "CNT_PAYMENT": np.where(approved | (rng.random(n) < 0.5), payments, np.nan),
        "NAME_YIELD_GROUP": np.where(refused & (rng.random(n) < 0.5), "XNA", _pick(rng, {
            "XNA": 31, "middle": 23, "high": 21, "low_normal": 19, "low_action": 6}, n)),
        "PRODUCT_COMBINATION": _pick(rng, {"Cash": 17, "POS household with interest": 16,
                                           "POS mobile with interest": 13, "Cash X-Sell: middle": 9,
                                           "Cash X-Sell: low": 8, "Card Street": 7,
                                           "POS industry with interest": 6,
                                           "POS household without interest": 5,
                                           "Card X-Sell": 5, "Cash Street: high": 4,
                                           "Cash X-Sell: high": 4, "Cash Street: middle": 2,
                                           "Cash Street: low": 2, "POS mobile without interest": 1.5,
                                           "POS other with interest": 1.5}, n),
        "DAYS_FIRST_DRAWING": no_date(np.maximum(first_due - 30, decision), 0.95),
        "DAYS_FIRST_DUE": no_date(first_due, 0.02),
        "DAYS_LAST_DUE_1ST_VERSION": no_date(last_due, 0.06),
        "DAYS_LAST_DUE": no_date(last_due, 0.5),
        "DAYS_TERMINATION": no_date(last_due + 3, 0.45),
        "NFLAG_INSURED_ON_APPROVAL": np.where(approved, (rng.random(n) < 0.33).astype(float),
                                              np.nan),
    })


def instalments(rng: np.random.Generator, previous: pd.DataFrame, hist_risk: pd.Series
                ) -> pd.DataFrame:
    """Instalments of the approved previous loans (~44 rows per training applicant): due
    date (monthly from the first due date), payment date and amounts."""
    loans = previous[(previous["NAME_CONTRACT_STATUS"] == "Approved")]
    count = np.where(loans["CNT_PAYMENT"].fillna(0) > 0, loans["CNT_PAYMENT"].fillna(0),
                     rng.integers(6, 30, len(loans))).astype(int)
    first_due = loans["DAYS_FIRST_DUE"].to_numpy()
    start = np.where(first_due == NO_DATE, loans["DAYS_DECISION"].to_numpy() + 30, first_due)
    # loans decided recently are still being repaid: only the instalments due by yesterday
    count = np.minimum(count, np.maximum((-1 - start) // 30 + 1, 0)).astype(int)
    loans, count, start = loans[count > 0], count[count > 0], start[count > 0]
    loan = np.repeat(np.arange(len(loans)), count)
    n = len(loan)
    number = np.arange(n) - np.repeat(np.cumsum(count) - count, count) + 1
    due = start[loan] + 30 * (number - 1)
    risk = hist_risk.loc[loans["SK_ID_CURR"]].to_numpy()[loan]
    late = rng.random(n) < _sigmoid(-2.6 + 0.9 * risk)
    delay = np.where(late, rng.gamma(1.5, 8 + 6 * np.clip(risk, 0, None), n).round() + 1,
                     -rng.integers(0, 25, n))
    amount = loans["AMT_ANNUITY"].fillna(loans["AMT_CREDIT"] / 12).to_numpy()[loan].round(3)
    amount = np.where(np.isfinite(amount) & (amount > 0), amount, 2250.0)
    short = rng.random(n) < _sigmoid(-3.5 + 0.8 * risk)
    paid = np.round(amount * np.where(short, rng.uniform(0.2, 0.95, n), 1), 3)
    unpaid = rng.random(n) < 0.0002
    return pd.DataFrame({
        "SK_ID_PREV": loans["SK_ID_PREV"].to_numpy()[loan],
        "SK_ID_CURR": loans["SK_ID_CURR"].to_numpy()[loan],
        "NUM_INSTALMENT_VERSION": np.where(rng.random(n) < 0.3, 0, 1),
        "NUM_INSTALMENT_NUMBER": number,
        "DAYS_INSTALMENT": due.astype(float),
        "DAYS_ENTRY_PAYMENT": np.where(unpaid, np.nan, np.minimum(due + delay, -1)),
        "AMT_INSTALMENT": amount,
        "AMT_PAYMENT": np.where(unpaid, np.nan, paid),
    })


def application_dates(rng: np.random.Generator, total: int) -> tuple[pd.Series, np.ndarray]:
    """An application date per applicant over ``VINTAGES`` months from ``FIRST_MONTH``, and
    the drift at that date: 0 over the stable months, rising to 1 in the last month."""
    month = rng.integers(0, VINTAGES, total)
    starts = pd.Period(FIRST_MONTH, "M") + month
    days = np.array([p.days_in_month for p in pd.period_range(FIRST_MONTH, periods=VINTAGES,
                                                              freq="M")])[month]
    dates = (starts.to_timestamp() if hasattr(starts, "to_timestamp") else
             pd.PeriodIndex(starts).to_timestamp()) + pd.to_timedelta(
        np.floor(rng.random(total) * days), unit="D")
    stable = VINTAGES - DRIFT_MONTHS
    return pd.Series(dates), np.clip((month - stable + 1) / DRIFT_MONTHS, 0, 1)


def _after_application(rng: np.random.Generator, credits: pd.DataFrame, dates: pd.Series,
                       ids: np.ndarray) -> pd.DataFrame:
    """Move a share of the credits to after their applicant's application, up to the end of
    the window (the snapshot date): leakage for the feature build's guard to drop."""
    applied = pd.Series(dates.to_numpy(), index=ids).loc[credits["SK_ID_CURR"]].to_numpy()
    room = (dates.max() - pd.DatetimeIndex(applied)).days.to_numpy()
    moved = (rng.random(len(credits)) < AFTER_APPLICATION) & (room > 1)
    shift = np.where(moved, np.floor(rng.random(len(credits)) * (room - 1)) + 1
                     - credits["DAYS_CREDIT"].to_numpy(), 0)
    return credits.assign(**{column: credits[column] + shift for column in (
        "DAYS_CREDIT", "DAYS_CREDIT_ENDDATE", "DAYS_ENDDATE_FACT", "DAYS_CREDIT_UPDATE")})


def home_credit(applicants: int, seed: int = 0, test_share: float = TEST_SHARE,
                dates: bool = False) -> dict[str, pd.DataFrame]:
    """The five Home Credit tables for ``applicants`` training applicants (+ test applicants).

    Default risk: logit = a + 0.9 * application risk + 1.1 * history risk, where the
    application risk shows in EXT_SOURCE_*, age and loan size, and the history risk only in
    the related tables; ``a`` gives a bad rate of about 8 %, as in the real data. ``dates``:
    an application date per applicant, with the drift the module docstring describes
    (drawn from a second generator, so the undated files stay as they are).
    """
    rng = np.random.default_rng(seed)
    total = applicants + round(applicants * test_share)
    ids = FIRST_ID + np.arange(total)
    app_risk, hist_risk = rng.normal(size=total), rng.normal(size=total)
    dated = np.random.default_rng([seed, 1]) if dates else None
    when, drift = application_dates(dated, total) if dated else (None, np.zeros(total))
    application = applications(rng, ids, app_risk, drift)
    logit = -3.2 + 0.9 * app_risk + 1.1 * hist_risk + DRIFT["default_log_odds"] * drift
    target = (rng.random(total) < _sigmoid(logit)).astype(int)
    application.insert(1, "TARGET", target)
    previous = previous_applications(rng, ids, hist_risk)
    credits = bureau(rng, ids, hist_risk)
    if dated:
        revolving = dated.random(total) < DRIFT["revolving"] * drift
        application.loc[revolving, "NAME_CONTRACT_TYPE"] = "Revolving loans"
        application.insert(2, DATE_COLUMN, when.dt.strftime("%Y-%m-%d"))
        credits = _after_application(dated, credits, when, ids)
    return {
        "application_train": application.iloc[:applicants].reset_index(drop=True),
        "application_test": application.iloc[applicants:].drop(columns="TARGET")
        .reset_index(drop=True),
        "bureau": credits,
        "previous_application": previous,
        "installments_payments": instalments(rng, previous, pd.Series(hist_risk, index=ids)),
    }


def write(tables: dict[str, pd.DataFrame], out: Path, file_format: str = "csv") -> dict[str, Path]:
    """Each table as ``<name>.csv`` (or ``.parquet``) in ``out``, written by Arrow (fast)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, table in tables.items():
        path = out / f"{name}.{file_format}"
        arrow = pa.Table.from_pandas(table, preserve_index=False)
        if file_format == "parquet":
            pyarrow.parquet.write_table(arrow, path)
        else:
            pyarrow.csv.write_csv(arrow, path)
        paths[name] = path
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="credit-scoring synth",
        description="Write Home-Credit-shaped tables (the Kaggle layout) of any size.")
    commands = parser.add_subparsers(dest="dataset", required=True)
    command = commands.add_parser("home-credit", help="application, bureau, previous "
                                  "application and instalment tables")
    command.add_argument("--applicants", type=int, required=True,
                         help="training applicants (application_train.csv rows)")
    command.add_argument("--out", type=Path, default=Path("data/01_raw/home_credit"))
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--test-share", type=float, default=TEST_SHARE,
                         help="new applicants (application_test.csv) per training applicant")
    command.add_argument("--format", choices=["csv", "parquet"], default="csv")
    command.add_argument("--dates", action="store_true",
                         help=f"add {DATE_COLUMN} (24 monthly vintages) and plant a drift over "
                         "its last 9 months (docs/over-time.md)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    tables = home_credit(args.applicants, args.seed, args.test_share, args.dates)
    for name, path in write(tables, args.out, args.format).items():
        print(f"{len(tables[name]):>12,} rows  {path}")  # noqa: T201
    print(f"written in {time.perf_counter() - start:.1f} s")  # noqa: T201
