"""The feature build on the real Home Credit sample: hand-computed aggregates, both engines,
and data-quality errors that name table, column and examples."""

import logging
import math
import os
import sys

import pandas as pd
import pytest
import yaml

from credit_scoring.data.feature_build import FeatureSourceError, build_features
from credit_scoring.io.datasets import RelatedTablesDataset
from credit_scoring.parameters import FeatureEngineering
from credit_scoring.pipelines.feature_engineering.nodes import (
    build_applicant_features,
    feature_build_metrics,
)
from tests.conftest import SHARED_FIXTURES

SAMPLE = SHARED_FIXTURES / "home_credit_sample"
FILES = {"bureau": "bureau.csv", "previous": "previous_application.csv",
         "installments": "installments_payments.csv"}
RECIPE = yaml.safe_load("""
bureau:
  key: SK_ID_CURR
  derived:
    debt_share: {op: ratio, of: [AMT_CREDIT_SUM_DEBT, AMT_CREDIT_SUM]}
  subsets:
    active: {CREDIT_ACTIVE: {in: [Active]}}
    last_730d: {DAYS_CREDIT: {min: -730}}
  aggregates:
    all: {DAYS_CREDIT: [mean, min, max, std], debt_share: [mean]}
    active: {rows: [count], AMT_CREDIT_SUM_DEBT: [sum]}
    last_730d: {rows: [count]}
  shares: {CREDIT_ACTIVE: [Active, Closed]}
  latest: {order_by: DAYS_CREDIT, columns: [CREDIT_TYPE, AMT_CREDIT_SUM]}
previous:
  key: SK_ID_CURR
  special_values: {DAYS_FIRST_DRAWING: [365243]}
  aggregates:
    all: {AMT_CREDIT: [mean, max], DAYS_FIRST_DRAWING: [max]}
installments:
  key: SK_ID_CURR
  derived:
    dpd: {op: difference, of: [DAYS_ENTRY_PAYMENT, DAYS_INSTALMENT], clip: [0, null]}
    paid_ratio: {op: ratio, of: [AMT_PAYMENT, AMT_INSTALMENT]}
  aggregates:
    all: {dpd: [max, mean], paid_ratio: [min]}
""")
NO_HISTORY = 999_999


@pytest.fixture(scope="module")
def applicants() -> pd.DataFrame:
    """Applicants with the sample's history, one without any, and one bureau applicant
    (215354, 7 bureau rows) left out so that its rows are orphans."""
    ids = set()
    for file in FILES.values():
        ids |= set(pd.read_csv(SAMPLE / file)["SK_ID_CURR"])
    ids = sorted(ids - {215354}) + [NO_HISTORY]
    return pd.DataFrame({"SK_ID_CURR": ids, "AMT_INCOME_TOTAL": 100_000.0})


def duckdb_tables(files=FILES, **kwargs) -> dict:
    return RelatedTablesDataset(tables={n: str(SAMPLE / f) for n, f in files.items()},
                                **kwargs).load()


@pytest.fixture(scope="module")
def built(applicants):
    return build_features(applicants, duckdb_tables(), RECIPE, "SK_ID_CURR")


def row(features: pd.DataFrame, applicant: int) -> pd.Series:
    return features.set_index("SK_ID_CURR").loc[applicant]


def test_aggregates_match_values_computed_by_hand(built):
    features, _ = built
    # bureau rows of 136226: DAYS_CREDIT -521 (Active, Credit card, 112 500), -559 (Closed)
    applicant = row(features, 136226)
    assert applicant["bureau__count"] == 2
    assert applicant["bureau__days_credit__mean"] == -540
    assert applicant["bureau__days_credit__std"] == pytest.approx(38 / math.sqrt(2))
    assert applicant["bureau__credit_active__share_active"] == 0.5
    assert applicant["bureau__credit_type__latest"] == "Credit card"
    assert applicant["bureau__amt_credit_sum__latest"] == 112_500
    # 435112: 11 bureau rows, 3 active with debts 0, 858 768.57 and 183 528; 2 within 730 days
    applicant = row(features, 435112)
    assert applicant["bureau__count__active"] == 3
    assert applicant["bureau__amt_credit_sum_debt__sum__active"] == pytest.approx(1_042_296.57)
    assert applicant["bureau__count__last_730d"] == 2
    # 167756 paid instalment 2 on day -1366, due on -1383: 17 days past due
    applicant = row(features, 167756)
    assert applicant["installments__dpd__max"] == 17
    assert applicant["installments__paid_ratio__min"] == pytest.approx(2160.585 / 2165.04)


def test_an_applicant_without_history_has_zero_counts_and_sums_and_missing_aggregates(built):
    applicant = row(built[0], NO_HISTORY)
    assert applicant["bureau__count"] == 0 and applicant["bureau__count__active"] == 0
    assert applicant["bureau__amt_credit_sum_debt__sum__active"] == 0  # no credits: no debt
    assert math.isnan(applicant["bureau__days_credit__mean"])
    assert applicant["AMT_INCOME_TOTAL"] == 100_000  # application columns kept as they were


def test_special_values_become_missing_before_aggregation(built):
    previous = pd.read_csv(SAMPLE / "previous_application.csv")
    coded = previous.loc[previous["DAYS_FIRST_DRAWING"] == 365243, "SK_ID_CURR"].iloc[0]
    assert pd.isna(row(built[0], coded)["previous__days_first_drawing__max"])


def test_orphan_rows_are_counted_and_logged_never_silent(applicants, caplog):
    with caplog.at_level(logging.WARNING):
        features, report = build_features(applicants, duckdb_tables(), RECIPE, "SK_ID_CURR")
    assert report["tables"]["bureau"]["orphan_rows"] == 7
    assert report["tables"]["bureau"]["orphan_keys"] == 1
    assert "215354" in caplog.text and "match no applicant" in caplog.text
    assert len(features) == len(applicants)  # one row per applicant, in the same order
    assert features["SK_ID_CURR"].tolist() == applicants["SK_ID_CURR"].tolist()


def test_the_report_becomes_mlflow_metrics_per_table(built):
    metrics = feature_build_metrics(built[1])
    assert metrics["bureau.orphan_rows"] == {"value": 7.0, "step": 0}
    assert metrics["bureau.rows"]["value"] == len(pd.read_csv(SAMPLE / "bureau.csv"))
    assert metrics["features"]["value"] == built[1]["features"] == 13 + 4 + 4


def test_spark_builds_the_same_features_as_duckdb(applicants, built):
    os.environ["PYSPARK_PYTHON"] = sys.executable
    tables = duckdb_tables(backend="pyspark", backend_args={
        "spark.master": "local[1]", "spark.sql.shuffle.partitions": "1",
        "spark.ui.enabled": "false"})
    try:
        on_spark, report = build_features(applicants, tables, RECIPE, "SK_ID_CURR")
    finally:
        from pyspark.sql import SparkSession  # noqa: PLC0415  (only this test needs Spark)

        SparkSession.getActiveSession().stop()
    pd.testing.assert_frame_equal(on_spark, built[0], check_exact=False, rtol=1e-9, atol=1e-9)
    assert report["tables"] == built[1]["tables"]


def test_two_level_aggregation_goes_through_the_parent_table(tmp_path):
    """Instalments -> previous application -> applicant: worst delay per previous loan,
    then the mean and max of those over the applicant's loans."""
    pd.DataFrame({"SK_ID_PREV": [1, 2, 3], "SK_ID_CURR": [10, 10, 20]}).to_csv(
        tmp_path / "previous.csv", index=False)
    pd.DataFrame({"SK_ID_PREV": [1, 1, 2, 3, 4],
                  "DAYS_INSTALMENT": [-100, -70, -40, -10, -5],
                  "DAYS_ENTRY_PAYMENT": [-90, -70, -44, -4, -1]}).to_csv(
        tmp_path / "installments.csv", index=False)
    recipe = yaml.safe_load("""
installments:
  parent: {table: previous, key: SK_ID_PREV, applicant_key: SK_ID_CURR}
  derived: {dpd: {op: difference, of: [DAYS_ENTRY_PAYMENT, DAYS_INSTALMENT], clip: [0, null]}}
  aggregates: {all: {dpd: [max]}}
  per: {key: SK_ID_PREV, aggregates: {dpd: [max]}, then: [mean, max]}
""")
    tables = RelatedTablesDataset(tables={t: str(tmp_path / f"{t}.csv")
                                          for t in ("previous", "installments")}).load()
    applicants = pd.DataFrame({"SK_ID_CURR": [10, 20, 30]})
    features, report = build_features(applicants, tables, recipe, "SK_ID_CURR")
    per_loan = "installments__dpd__max__mean_per_sk_id_prev"
    # applicant 10: loan 1 worst delay 10 days, loan 2 paid early (0) -> mean 5, max 10
    assert features[per_loan].tolist()[:2] == [5, 6]
    assert features["installments__dpd__max__max_per_sk_id_prev"].tolist()[:2] == [10, 6]
    assert features["installments__count"].tolist() == [3, 1, 0]
    assert report["tables"]["installments"]["unlinked_rows"] == 1  # loan 4 has no parent


def write_tables(folder, **frames) -> dict:
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return RelatedTablesDataset(tables={n: str(folder / f"{n}.csv") for n in frames}).load()


def test_latest_takes_the_largest_value_among_ties_on_every_engine(tmp_path):
    tables = write_tables(tmp_path, bureau=pd.DataFrame({
        "SK_ID_CURR": [1, 1, 1], "DAYS_CREDIT": [-10, -10, -50], "AMT": [300, 700, 900]}))
    recipe = {"bureau": {"key": "SK_ID_CURR",
                         "latest": {"order_by": "DAYS_CREDIT", "columns": ["AMT"]}}}
    features, _ = build_features(pd.DataFrame({"SK_ID_CURR": [1]}), tables, recipe, "SK_ID_CURR")
    assert features["bureau__amt__latest"].tolist() == [700]


def test_rows_without_applicant_key_are_counted_as_unlinked(tmp_path, caplog):
    tables = write_tables(tmp_path, bureau=pd.DataFrame({
        "SK_ID_CURR": [1, None, None], "DAYS_CREDIT": [-10, -20, -30]}))
    recipe = {"bureau": {"key": "SK_ID_CURR", "aggregates": {"all": {"DAYS_CREDIT": ["sum"]}}}}
    with caplog.at_level(logging.WARNING):
        features, report = build_features(pd.DataFrame({"SK_ID_CURR": [1, 2]}), tables, recipe,
                                          "SK_ID_CURR")
    assert report["tables"]["bureau"]["unlinked_rows"] == 2
    assert "2 rows have an empty 'SK_ID_CURR'" in caplog.text
    assert features["bureau__days_credit__sum"].tolist() == [-10, 0]


def test_rows_known_after_the_application_are_dropped_and_counted(tmp_path, caplog):
    """The leakage guard (known_at): a credit opened 5 days after the application is no
    history; a planned end date in the future is (DAYS_CREDIT_ENDDATE decides nothing); a
    payment without a date is kept."""
    tables = write_tables(tmp_path, bureau=pd.DataFrame({
        "SK_ID_CURR": [1, 1, 1, 2, 2], "DAYS_CREDIT": [-300, 5, 0, -20, 40],
        "DAYS_CREDIT_ENDDATE": [400, 900, 365, -5, 700], "AMT": [100, 200, 300, 400, 500]}),
        installments=pd.DataFrame({"SK_ID_CURR": [1, 2, 2], "DAYS_ENTRY_PAYMENT": [-3, 2, None],
                                   "AMT_PAYMENT": [10, 20, 30]}))
    recipe = {"bureau": {"key": "SK_ID_CURR", "known_at": "DAYS_CREDIT",
                         "aggregates": {"all": {"AMT": ["sum"], "DAYS_CREDIT_ENDDATE": ["max"]}}},
              "installments": {"key": "SK_ID_CURR", "known_at": "DAYS_ENTRY_PAYMENT",
                               "aggregates": {"all": {"AMT_PAYMENT": ["sum"]}}}}
    with caplog.at_level(logging.WARNING):
        features, report = build_features(pd.DataFrame({"SK_ID_CURR": [1, 2]}), tables, recipe,
                                          "SK_ID_CURR")
    assert report["tables"]["bureau"]["after_application_rows"] == 2       # +5 and +40 days
    assert report["tables"]["installments"]["after_application_rows"] == 1  # paid 2 days after
    assert features["bureau__amt__sum"].tolist() == [400, 400]
    assert features["bureau__days_credit_enddate__max"].tolist() == [400, -5]
    assert features["installments__amt_payment__sum"].tolist() == [10, 30]
    assert "'bureau': 2 rows became known after the application (DAYS_CREDIT > 0)" in caplog.text
    assert feature_build_metrics(report)["bureau.after_application_rows"]["value"] == 2


def test_a_parent_key_shared_by_two_applicants_stops_the_build(tmp_path):
    tables = write_tables(
        tmp_path, previous=pd.DataFrame({"SK_ID_PREV": [7, 7], "SK_ID_CURR": [1, 2]}),
        installments=pd.DataFrame({"SK_ID_PREV": [7], "AMT": [10.0]}))
    recipe = {"installments": {"parent": {"table": "previous", "key": "SK_ID_PREV",
                                          "applicant_key": "SK_ID_CURR"}}}
    with pytest.raises(FeatureSourceError, match=r"'SK_ID_PREV' values belong to more than one "
                                                 r"applicant \(e.g. \[7\]\)"):
        build_features(pd.DataFrame({"SK_ID_CURR": [1, 2]}), tables, recipe, "SK_ID_CURR")


def test_text_ids_against_numeric_keys_are_named(tmp_path):
    tables = write_tables(tmp_path, bureau=pd.DataFrame({"SK_ID_CURR": [1, 2]}))
    applicants = pd.DataFrame({"SK_ID_CURR": ["A-1", "A-2"]})
    with pytest.raises(FeatureSourceError, match="keys are int64.*ids are str"):
        build_features(applicants, tables, {"bureau": {"key": "SK_ID_CURR"}}, "SK_ID_CURR")


def test_without_related_tables_the_application_table_passes_through(applicants):
    features, report = build_applicant_features(applicants, {}, {"tables": {}},
                                                {"id_column": None})
    assert features is applicants and report["features"] == 0


def test_the_shipped_home_credit_recipe_is_valid_and_builds_over_100_features():
    conf = yaml.safe_load(open("conf/home_credit/parameters_feature_engineering.yml"))
    FeatureEngineering.model_validate(conf["feature_engineering"])
    catalog = yaml.safe_load(open("conf/home_credit/catalog.yml"))
    assert set(catalog["related_tables"]["tables"]) == set(FILES)
    app = pd.read_csv(SAMPLE / "application_train.csv")
    features, report = build_features(app, duckdb_tables(), conf["feature_engineering"]["tables"],
                                      "SK_ID_CURR")
    assert report["features"] >= 100
    assert features.shape == (len(app), app.shape[1] + report["features"])


# ---- data-quality errors ----------------------------------------------------------------
def bad_table(tmp_path, change, name="bureau") -> dict:
    table = change(pd.read_csv(SAMPLE / FILES[name]))
    table.to_csv(tmp_path / FILES[name], index=False)
    return RelatedTablesDataset(tables={name: str(tmp_path / FILES[name])}).load()


def test_a_missing_column_names_table_column_and_fix(applicants, tmp_path):
    tables = bad_table(tmp_path, lambda t: t.drop(columns="DAYS_CREDIT"))
    with pytest.raises(FeatureSourceError, match=r"'bureau' has no column\(s\) \['DAYS_CREDIT'\]"):
        build_features(applicants, tables, {"bureau": RECIPE["bureau"]}, "SK_ID_CURR")


def test_text_in_a_numeric_column_is_named_with_examples(applicants, tmp_path):
    def typo(table):
        table["DAYS_CREDIT"] = table["DAYS_CREDIT"].astype(str)
        table.loc[3, "DAYS_CREDIT"] = "about a year ago"
        return table

    tables = bad_table(tmp_path, typo)
    with pytest.raises(FeatureSourceError, match="'DAYS_CREDIT'.*'about a year ago'"):
        build_features(applicants, tables, {"bureau": RECIPE["bureau"]}, "SK_ID_CURR")


def test_duplicate_applicant_ids_stop_the_build(applicants):
    twice = pd.concat([applicants, applicants.head(2)])
    with pytest.raises(FeatureSourceError, match="2 ids occur more than once"):
        build_features(twice, duckdb_tables(), RECIPE, "SK_ID_CURR")


def test_a_table_with_no_rows_warns_and_leaves_its_features_missing(applicants, tmp_path,
                                                                    caplog):
    """An empty extract says nothing about the applicants: unknown history, not zero
    credits (an applicant absent from a table with rows does get 0 counts and sums)."""
    tables = bad_table(tmp_path, lambda t: t.head(0))
    with caplog.at_level(logging.WARNING):
        features, report = build_features(applicants, tables, {"bureau": RECIPE["bureau"]},
                                          "SK_ID_CURR")
    assert "'bureau' has no rows" in caplog.text
    assert features.filter(like="bureau__").isna().all().all()
    assert report["tables"]["bureau"]["rows"] == 0


def test_a_missing_file_is_named(tmp_path):
    from kedro.io import DatasetError  # noqa: PLC0415

    with pytest.raises(DatasetError, match="related_tables.tables.bureau: no file at"):
        RelatedTablesDataset(tables={"bureau": str(tmp_path / "bureau.csv")}).load()


# ---- rows delivered twice -----------------------------------------------------------------
BUREAU = {"key": "SK_ID_CURR", "row_key": "SK_ID_BUREAU",
          "aggregates": {"all": {"AMT_CREDIT_SUM": ["sum"]}}}


def test_a_bureau_file_appended_twice_gives_the_same_features_and_says_so(applicants, tmp_path,
                                                                          caplog):
    tables = bad_table(tmp_path, lambda t: pd.concat([t, t]))
    with caplog.at_level(logging.WARNING):
        features, report = build_features(applicants, tables, {"bureau": BUREAU}, "SK_ID_CURR")
    once, _ = build_features(applicants, duckdb_tables(), {"bureau": BUREAU}, "SK_ID_CURR")
    pd.testing.assert_frame_equal(features, once)
    rows = len(pd.read_csv(SAMPLE / FILES["bureau"]))
    stats = report["tables"]["bureau"]
    assert (stats["duplicate_rows"], stats["dropped_rows"], stats["rows"]) == (rows, rows, rows)
    assert f"'bureau': {rows} rows repeat a SK_ID_BUREAU already seen" in caplog.text
    assert feature_build_metrics(report)["bureau.dropped_rows"]["value"] == rows


def test_duplicates_are_refused_when_the_recipe_says_so(applicants, tmp_path):
    tables = bad_table(tmp_path, lambda t: pd.concat([t, t.head(3)]))
    with pytest.raises(FeatureSourceError, match=r"3 rows repeat a SK_ID_BUREAU.*'refuse'"):
        build_features(applicants, tables, {"bureau": BUREAU | {"duplicate_rows": "refuse"}},
                       "SK_ID_CURR")


def test_rows_sharing_a_row_key_but_differing_stop_the_build(applicants, tmp_path):
    def corrected(table):
        again = table.head(1).assign(AMT_CREDIT_SUM=1.0)
        return pd.concat([table, again])

    tables = bad_table(tmp_path, corrected)
    first = int(pd.read_csv(SAMPLE / FILES["bureau"])["SK_ID_BUREAU"].iloc[0])
    with pytest.raises(FeatureSourceError, match=rf"rows with the same key differ \(e.g. "
                                                 rf"\[{first}\]\)"):
        build_features(applicants, tables, {"bureau": BUREAU}, "SK_ID_CURR")


def test_identical_rows_without_a_row_key_are_counted_and_kept(tmp_path, caplog):
    """Instalments have no row id, and a payment split in two can repeat a row exactly."""
    tables = write_tables(tmp_path, installments=pd.DataFrame({
        "SK_ID_CURR": [1, 1, 1], "AMT_PAYMENT": [50.0, 50.0, 20.0]}))
    recipe = {"installments": {"key": "SK_ID_CURR",
                               "aggregates": {"all": {"AMT_PAYMENT": ["sum"]}}}}
    with caplog.at_level(logging.WARNING):
        features, report = build_features(pd.DataFrame({"SK_ID_CURR": [1]}), tables, recipe,
                                          "SK_ID_CURR")
    assert features["installments__amt_payment__sum"].tolist() == [120.0]
    assert report["tables"]["installments"]["identical_rows"] == 1
    assert "1 rows are identical in every column" in caplog.text
