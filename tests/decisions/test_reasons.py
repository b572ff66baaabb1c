"""Adverse-action reasons: factors that raised the risk against the approved, in words."""

import numpy as np
import pandas as pd
import pytest

from credit_scoring.decisions.reasons import (
    ReasonStatements,
    Statement,
    adverse_action_reasons,
    reference_contributions,
    resolve_statements,
)

STATEMENTS = ReasonStatements(attributes={
    "income": Statement(code="INC", text="Income", low="Income is low", unit="DM"),
    "term": Statement(code="TERM", text="Loan term", high="Loan term is long",
                      low="Loan term is short", unit="months"),
    "region": Statement(code="REG", text="Region of residence", labels={"north": "the north"}),
})
ROWS = pd.DataFrame({"income": [1250.0, 900.0, np.nan], "term": [48.0, 12.0, 24.0],
                     "region": ["north", "south", "north"], "age": [19.0, 70.0, 40.0]})
CONTRIBUTION = pd.DataFrame({"income": [0.5, -0.2, 0.0], "term": [0.1, 0.0, -0.1],
                             "region": [0.2, 0.05, 0.1], "age": [0.9, 0.3, 0.5]})
REFERENCE = {"contribution": {"income": 0.1, "term": -0.1, "region": 0.1, "age": 0.0},
             "value": {"income": 2000.0, "term": 24.0}}


def test_only_factors_that_raised_the_risk_against_the_approved_are_cited_largest_first():
    """Against the approved: row 0 raised income by 0.4, term by 0.2, region by 0.1; row 1
    only term (0.1); row 2 nothing (income 0 - 0.1, term -0.1 + 0.1 = 0, region 0)."""
    reasons = adverse_action_reasons(CONTRIBUTION, ROWS, 2, REFERENCE, STATEMENTS, ["age"])
    assert list(reasons["reason_1_code"]) == ["INC", "TERM", "NSF"]
    assert list(reasons["reason_2_code"]) == ["TERM", None, None]
    # income 1,250 is below the approved average of 2,000: the "low" wording, with the unit
    assert reasons["reason_1_text"][0] == "Income is low"
    assert reasons["reason_1_value"][0] == "1,250 DM"
    # 48 months is above the approved average of 24, 12 below it
    assert reasons["reason_2_text"][0] == "Loan term is long"
    assert (reasons["reason_1_text"][1], reasons["reason_1_value"][1]) == (
        "Loan term is short", "12 months")
    assert reasons["reason_1_text"][2].startswith("No single factor")
    assert reasons["reason_1_value"][2] is None


def test_a_protected_attribute_is_never_cited_however_much_it_raised_the_risk():
    reasons = adverse_action_reasons(CONTRIBUTION, ROWS, 4, REFERENCE, STATEMENTS, ["age"])
    cited = {code for k in range(1, 5) for code in reasons[f"reason_{k}_code"]}
    assert cited == {"INC", "TERM", "REG", "NSF", None}
    # without the rule, age (0.9) would have been the first reason of row 0
    unguarded = adverse_action_reasons(CONTRIBUTION, ROWS, 1, REFERENCE, STATEMENTS)
    assert unguarded["reason_1_code"][0] == "AGE"


def test_categories_read_as_labels_and_a_missing_value_as_not_provided():
    contribution = CONTRIBUTION.assign(region=[0.0, 0.0, 0.9], income=[0.0, 0.0, 0.8])
    reasons = adverse_action_reasons(contribution, ROWS, 2, REFERENCE, STATEMENTS, ["age"])
    assert (reasons["reason_1_code"][2], reasons["reason_1_value"][2]) == ("REG", "the north")
    assert (reasons["reason_2_code"][2], reasons["reason_2_value"][2]) == ("INC", "not provided")
    assert reasons["reason_2_text"][2] == "Income"  # no value to compare: the neutral wording


def test_the_reference_is_the_average_contribution_and_value_of_its_rows():
    reference = reference_contributions(CONTRIBUTION, ROWS)
    assert reference["contribution"]["income"] == pytest.approx(0.1)  # (0.5 - 0.2 + 0) / 3
    assert reference["value"] == {"income": 1075.0, "term": 28.0, "age": 43.0}


DICTIONARY = {
    "attributes": {"AMT_CREDIT": {"code": "AMT", "statement": "Amount of credit"},
                   "AMT_INCOME_TOTAL": {"code": "INC", "statement": "Income", "unit": "DM"}},
    "tables": {
        "bureau": {"name": "credit bureau records",
                   "columns": {"credit_day_overdue": {"statement": "Days overdue", "unit": "days"},
                               "credit_active": {"statement": "Credit status",
                                                 "labels": {"Bad debt": "sold as bad debt"}}},
                   "subsets": {"active": "active credits"}},
        "installments": {"name": "past instalment payments", "per": "previous loan",
                         "columns": {"dpd": {"statement": "Days past due", "unit": "days"}}},
    },
    "aggregates": {"max": "highest", "mean": "average", "count": "number"},
    "no_single_factor": {"code": "NONE", "statement": "No single factor"},
}


def test_statements_come_from_the_dictionary_the_feature_name_a_ratio_or_a_readable_name():
    ratios = {"credit_to_income": {"numerator": "AMT_CREDIT", "denominator": "AMT_INCOME_TOTAL"}}
    features = ["AMT_CREDIT", "bureau__credit_day_overdue__max", "bureau__count__active",
                "bureau__credit_active__share_bad_debt",
                "installments__dpd__max__mean_per_sk_id_prev", "bureau__amt_annuity__mean",
                "credit_to_income", "HOUR_APPR"]
    statements = resolve_statements(features, DICTIONARY, ratios)
    said = {name: (s.text, s.unit, s.source) for name, s in statements.attributes.items()}
    assert said == {
        "AMT_CREDIT": ("Amount of credit", None, "dictionary"),
        "bureau__credit_day_overdue__max": (
            "Days overdue on credit bureau records (highest)", "days", "generated"),
        "bureau__count__active": (
            "Number of credit bureau records (active credits)", "records", "generated"),
        "bureau__credit_active__share_bad_debt": (
            "Credit status on credit bureau records (share sold as bad debt)", "%", "generated"),
        "installments__dpd__max__mean_per_sk_id_prev": (
            "Days past due on past instalment payments (highest per previous loan, average)",
            "days", "generated"),
        "bureau__amt_annuity__mean": (
            "Amt annuity on credit bureau records (average)", None, "readable name"),
        "credit_to_income": ("Amount of credit relative to income", None, "derived"),
        "HOUR_APPR": ("Hour appr", None, "readable name"),
    }
    assert statements.attributes["AMT_CREDIT"].code == "AMT"
    switched_off = {**DICTIONARY, "attributes": {**DICTIONARY["attributes"], "AMT_CREDIT": None}}
    assert resolve_statements(["AMT_CREDIT"], switched_off, {}).attributes[
        "AMT_CREDIT"].source == "readable name"
    assert statements.attributes["bureau__count__active"].code == "BUREAU__COUNT__ACTIVE"
    assert statements.no_single_factor.code == "NONE"
    share = adverse_action_reasons(
        pd.DataFrame({"bureau__credit_active__share_bad_debt": [1.0]}),
        pd.DataFrame({"bureau__credit_active__share_bad_debt": [0.25]}), 1, None, statements)
    assert share["reason_1_value"][0] == "25%"


def test_two_attributes_with_one_code_are_refused_naming_both():
    clash = {**DICTIONARY, "attributes": {**DICTIONARY["attributes"],
                                          "AMT_GOODS_PRICE": {"code": "AMT", "statement": "Price"}}}
    with pytest.raises(ValueError, match="AMT_CREDIT.*AMT_GOODS_PRICE"):
        resolve_statements(["AMT_CREDIT", "AMT_GOODS_PRICE"], clash, {})


def test_a_ratio_whose_source_has_no_statement_is_a_readable_name_not_derived():
    ratios = {"credit_to_annuity": {"numerator": "AMT_CREDIT", "denominator": "AMT_ANNUITY"}}
    said = resolve_statements(["credit_to_annuity"], DICTIONARY, ratios).attributes
    assert (said["credit_to_annuity"].text, said["credit_to_annuity"].source) == (
        "Amount of credit relative to amt annuity", "readable name")
