"""Nodes of the validation pipeline's Reasons and Fairness screen sections: what each reason
says and for whom, and outcomes by protected group."""

from __future__ import annotations

from typing import Any

import pandas as pd

from credit_scoring import decisions
from credit_scoring.data.schema import not_cited
from credit_scoring.models.evaluation import scored_rows
from credit_scoring.validation.fairness import fairness_screen, group_labels, screen_bands


def fairness(
    model_version: dict[str, Any],
    test_scores: pd.DataFrame,
    model_input_test: pd.DataFrame,
    model_input_train: pd.DataFrame,
    feature_schema: dict[str, Any],
    params: dict[str, Any],
) -> pd.DataFrame:
    """The fairness screen (``validation.fairness``) per protected attribute and group, on
    test (with the principal reasons of the declines) and on the stored out-of-fold PDs
    when they are of these training rows (the decision: the model's own cut-off).

    Protected attributes travel beside the model input under either policy, so the screen
    runs whether or not the model uses them.
    """
    protected = feature_schema.get("protected_attributes") or {}
    policy, oof = model_version["model"].policy, model_version["oof_predictions"]
    samples = {"test": (model_input_test, test_scores["bad"], test_scores["pd"],
                        test_scores["decision"] == "decline", test_scores.get("reason_1_code"))}
    development = scored_rows(model_input_train, feature_schema["fold_column"])
    if oof.index.equals(development.index):
        samples["train (out-of-fold)"] = (development, oof["bad"], oof["pd"],
                                          policy.declines(oof["pd"]), None)
    tables = [
        fairness_screen(group_labels(rows[column], screen_bands(
                            model_input_train[column], protected.get("bands", {}).get(column))),
                        bad, pd_scores, declined, reasons, params["fairness"],
                        params["confidence_level"]).assign(sample=sample, attribute=column)
        for sample, (rows, bad, pd_scores, declined, reasons) in samples.items()
        for column in protected.get("columns", []) if column in rows.columns]
    if not tables:
        return pd.DataFrame(columns=["sample", "attribute", "group", "status"])
    table = pd.concat(tables, ignore_index=True)
    return table[["sample", "attribute", *table.columns[:-2]]]


def fairness_blocks(table: pd.DataFrame) -> list[pd.DataFrame]:
    """The screen as two tables a page shows without scrolling: outcomes, then statistics."""
    keys = ["sample", "attribute", "group"]
    outcomes = ["status", "applicants", "bads", "approval_rate", "adverse_impact_ratio",
                "bad_rate"]
    return [table.reindex(columns=keys + outcomes),
            table.reindex(columns=[*keys, *(c for c in table.columns
                                            if c not in keys + outcomes)])]


def statements_table(scorer: decisions.PDScorer) -> pd.DataFrame:
    """What each attribute's reason says, and whether it may be cited at all."""
    statements = scorer.policy.statements
    never = set(not_cited(scorer.feature_schema))
    rows = []
    for attribute in scorer.features:
        said = statements.attributes.get(attribute) if statements else None
        rows.append({"attribute": attribute, "code": said.code if said else None,
                     "statement": said.text if said else None,
                     "unit": said.unit if said else None,
                     "source": said.source if said else "readable name",
                     "cited": "never: protected" if attribute in never else "when it raised the risk"})
    return pd.DataFrame(rows)


def reason_counts(scorer: decisions.PDScorer, statements: pd.DataFrame,
                  test_scores: pd.DataFrame) -> dict[str, Any]:
    """Declined test applicants, those with no single factor (``nsf``: its code), and the
    attributes cited by a readable name for want of a statement (``unwritten``)."""
    declined = test_scores[test_scores["decision"] == "decline"]
    nsf = (scorer.policy.statements.no_single_factor if scorer.policy.statements
           else decisions.NO_SINGLE_FACTOR).code
    return {"declined": len(declined), "nsf": nsf,
            "no_factor": int((declined["reason_1_code"] == nsf).sum())
            if "reason_1_code" in declined else 0,
            "unwritten": statements.loc[statements["source"] == "readable name",
                                        "attribute"].tolist()}


def reason_findings(scorer: decisions.PDScorer, statements: pd.DataFrame,
                    test_scores: pd.DataFrame) -> list[str]:
    """What a compliance reviewer should read first about the model's reasons."""
    counts = reason_counts(scorer, statements, test_scores)
    nsf, no_factor, unwritten = counts["nsf"], counts["no_factor"], counts["unwritten"]
    declined = test_scores[test_scores["decision"] == "decline"]
    protected = (scorer.feature_schema or {}).get("protected_attributes")
    in_model = [c for c in not_cited(scorer.feature_schema) if c in scorer.features]
    findings = [f"{no_factor} of {len(declined)} declined test applicants have no single factor "
                f"that raised their risk against the approved applicants (code {nsf})."]
    findings.append(
        f"Finding: {len(unwritten)} attributes have no written statement and are cited by a "
        f"readable version of their name: {unwritten[:20]}. Add them to the reason dictionary "
        "(parameters_reasons.yml)." if unwritten else
        "Every attribute the model can cite has a written or generated statement.")
    if protected is None:
        findings.append("Finding: this model was built before protected attributes were "
                        "configured: it records none, so its reasons may cite any of its "
                        "features. Retrain it under data_processing.protected_attributes.")
    elif in_model:
        findings.append(f"Finding: protected attributes are model features "
                        f"(protected_attributes.policy allow): {in_model}. They are never cited "
                        "as a reason, but they shape every PD.")
    else:
        findings.append(f"No protected attribute, nor a feature built from one, is a model "
                        f"feature (policy {protected['policy']}: {protected['columns']}).")
    return findings


def example_declines(test_scores: pd.DataFrame, applicants: int = 5) -> pd.DataFrame:
    """The first declined test applicants as they read their reasons: one row per reason."""
    declined = test_scores[test_scores["decision"] == "decline"].head(applicants)
    rows = [{"applicant": position + 1, "pd": row["pd"], "score": row["score"], "reason": k,
             "code": row[f"reason_{k}_code"], "statement": row[f"reason_{k}_text"],
             "value": row[f"reason_{k}_value"]}
            for position, (_, row) in enumerate(declined.iterrows())
            for k in range(1, decisions.MAX_REASONS + 1)
            if row.get(f"reason_{k}_code") is not None]
    return pd.DataFrame(rows, columns=["applicant", "pd", "score", "reason", "code",
                                       "statement", "value"])
