"""Nodes of the validation pipeline's front page: the findings and verdict, the model card.

The rules are ``validation.findings`` (one per check: threshold and severity); the checks
themselves are pure functions in ``credit_scoring.validation.findings``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from credit_scoring.io import provenance
from credit_scoring.models.selection import gate
from credit_scoring.validation import findings as rules_of
from credit_scoring.validation import model_card as cards
from credit_scoring.validation.stability import population_checks

from .reasons_fairness import reason_counts, statements_table


def data_quality_checks(model_version: dict[str, Any], model_input_train: pd.DataFrame,
                        model_input_test: pd.DataFrame, feature_schema: dict[str, Any]
                        ) -> pd.DataFrame:
    """Per feature of the version's model: the test sample's missing share against
    training, its values outside the training range, its categories never seen in
    training."""
    used = model_version["model"].features
    return population_checks(model_input_train[used], model_input_test[used],
                             feature_schema.get("categories") or {})


def conclusions(
    model_version: dict[str, Any],
    discrimination_table: pd.DataFrame,
    calibration_table: pd.DataFrame,
    band_table: pd.DataFrame,
    stability_table: pd.DataFrame,
    challenger_table: pd.DataFrame,
    cost_scenarios: pd.DataFrame,
    effects_table: pd.DataFrame,
    population_table: pd.DataFrame,
    data_quality: dict[str, Any],
    fairness_table: pd.DataFrame,
    vintage_table: pd.DataFrame,
    test_scores: pd.DataFrame,
    feature_schema: dict[str, Any],
    params: dict[str, Any],
) -> dict[str, Any]:
    """Every check against its rule; the findings ranked by severity and the verdict.

    Returns:
        ``verdict`` (``fit for use``, ``fit with findings`` or ``not fit``) and ``findings``
        (a table: severity, title, evidence, action, section, check).
    """
    rules = rules_of.FindingRules.model_validate(params["findings"])
    scorer = model_version["model"]
    protected = feature_schema.get("protected_attributes") or {}
    in_model = [c for c in protected.get("columns", []) if c in scorer.features]
    found = [
        *rules_of.discrimination_findings(discrimination_table, rules,
                                          f"{params['confidence_level']:.0%}"),
        *rules_of.calibration_findings(calibration_table, band_table, rules),
        *rules_of.stability_findings(stability_table, rules, params["psi"]["watch"],
                                     params["psi"]["alarm"]),
        *rules_of.effect_findings(effects_table, rules),
        *rules_of.challenger_findings(challenger_table, rules),
        *rules_of.decision_findings(cost_scenarios, test_scores, rules),
        *rules_of.fairness_findings(fairness_table, in_model, rules),
        *rules_of.data_quality_findings(population_table,
                                        data_quality["test_rows_seen_in_training"],
                                        data_quality["test_rows"], rules),
        *rules_of.reason_statement_findings(**reason_counts(
            scorer, statements_table(scorer), test_scores), rules=rules),
        *rules_of.out_of_time_findings(vintage_table, discrimination_table, rules),
    ]
    ranked = rules_of.ranked(found)
    return {"verdict": rules_of.verdict(ranked), "findings": rules_of.findings_table(ranked)}


def model_card(
    model_version: dict[str, Any],
    feature_schema: dict[str, Any],
    discrimination_table: pd.DataFrame,
    band_table: pd.DataFrame,
    data_quality: dict[str, Any],
    feature_build_report: dict[str, Any],
    parameters: dict[str, Any],
) -> dict[str, Any]:
    """Page one: the model and data card, provenance, limitations, overrides, sign-off."""
    card = parameters["validation"]["model_card"]
    # the version's own training contract describes it (this run's schema may be newer)
    feature_schema = model_version["model"].feature_schema or feature_schema
    return {
        "card": cards.model_card(model_version, feature_schema, discrimination_table,
                                 data_quality, card),
        "provenance": cards.provenance(
            model_version, provenance.code_version(), provenance.package_versions(),
            _sources(model_version, feature_build_report), cards.seeds_of(parameters),
            datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        "limitations": cards.limitations(feature_schema, band_table, card),
        "overrides": cards.overrides_table(card.get("overrides") or []),
        "sign_off": cards.sign_off_table(),
        "data_card": card.get("data_card"),
    }


def registry_gate(model_version: dict[str, Any], conclusions: dict[str, Any],
                  params: dict[str, Any]) -> dict[str, Any]:
    """What the registry does with this version now that it is validated
    (``models.selection.gate`` under ``validation.gate``): ``alias`` it takes (or None),
    ``message`` and ``alarm`` (said in red). The report dataset applies it once the report
    is filed."""
    decision = gate(conclusions["verdict"], model_version["awaiting"],
                    model_version["holds_champion"], model_version["champion_exists"],
                    params["gate"], model_version["champion_changed"],
                    model_version["tags"].get("champion_decision", ""))
    return {"alias": decision.alias, "message": decision.message, "alarm": decision.alarm}


def _sources(model_version: dict[str, Any], feature_build_report: dict[str, Any]
             ) -> dict[str, Any]:
    """The raw files the version was developed on (its tag ``data_fingerprints``); for a
    version registered before it carried them, this run's, named as such."""
    recorded = model_version["tags"].get("data_fingerprints")
    if recorded is not None:
        return json.loads(recorded)
    return {f"{name} (this run's data, not recorded with the version)": source
            for name, source in (feature_build_report.get("sources") or {}).items()}
