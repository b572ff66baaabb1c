"""The validation pipeline's last node: every section's tables and figures, behind a front
page that concludes (verdict, findings, model card), as one HTML page and one JSON file."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from credit_scoring import decisions
from credit_scoring.io.datasets import spreadsheet_safe
from credit_scoring.validation import report

from .reasons_fairness import example_declines, fairness_blocks, reason_findings, statements_table

DATA_CARD = "data_card.md"
"""The data card's name beside the report (a copy of validation.model_card.data_card)."""


def _test_aucs(challenger_table: pd.DataFrame) -> pd.DataFrame:
    """The two models' test AUCs, as the ROC figure labels its curves."""
    test = challenger_table[(challenger_table["sample"] == "test")
                            & challenger_table["model"].isin(["champion", "challenger"])]
    return pd.DataFrame({"sample": test["model"] + " (test)", "auc": test["auc"],
                         "auc_low": test["low"], "auc_high": test["high"]})


def _per_feature(scorecard: pd.DataFrame) -> pd.DataFrame:
    """The scorecard per feature: classes, IV, coefficient and the range of its points."""
    return scorecard.groupby("Variable", sort=False).agg(
        classes=("Bin", "size"), iv=("IV", "sum"), coefficient=("Coefficient", "first"),
        lowest_points=("Points", "min"), highest_points=("Points", "max")).reset_index()


def _challenger_section(table: pd.DataFrame, scorecard: pd.DataFrame,
                        curves: dict[str, Any]) -> dict[str, Any]:
    """The challenger across the complexity divide; a scorecard champion's points table."""
    if table.empty:
        return {"id": "challenger", "title": "Challenger",
                "text": "No challenger: thresholding has named none across the complexity "
                        "divide (a scorecard or logistic regression for a complex champion, a "
                        "forest, boosting or blend for a simpler one). Rerun thresholding, or "
                        "add such a candidate to parameters_baselines.yml or "
                        "parameters_model_comparison.yml (the log says which).",
                "blocks": []}
    test = table[table["sample"] == "test"].set_index("model")
    champion, challenger = test.loc["champion"], test.loc["challenger"]
    simpler = challenger["complexity"] < champion["complexity"]
    text = (f"{challenger['candidate']}, the best "
            f"{'simpler' if simpler else 'more complex'} candidate on the same folds, against "
            f"the model: each AUC with its DeLong interval and DeLong's paired test of the "
            "difference (model minus challenger). Out of fold the challenger's PDs are those "
            "it was ranked on; to score test it is refitted on the training rows. Out of fold the "
            "comparison favours whichever was tuned and chosen on these folds; on test both "
            "are unbiased.")
    blocks: list[Any] = [table, report.svg(report.roc_figure(curves, _test_aucs(table)))]
    if not scorecard.empty and not simpler:
        text += (" The champion is a WoE scorecard: its points table follows, every class of "
                 "every feature (an applicant's points add up to the score under no or Platt "
                 "calibration; under isotonic, to the score of the scorecard's own PD); a "
                 "decline's reasons are the attributes where it lost most points against "
                 "their maximum. Also in challenger_scorecard.csv.")
        blocks.append(scorecard)
    elif not scorecard.empty:
        text += (" The challenger is a WoE scorecard: per feature here, every class in "
                 "challenger_scorecard.csv.")
        blocks.append(_per_feature(scorecard))
    return {"id": "challenger", "title": f"Challenger: {challenger['candidate']}",
            "text": text, "blocks": blocks}


def _over_time_section(vintage_table: pd.DataFrame, discrimination_table: pd.DataFrame,
                       schema: dict[str, Any], approval_rate: float,
                       params: dict[str, Any]) -> dict[str, Any]:
    """The out-of-time window against the in-time samples, vintage by vintage."""
    if vintage_table.empty:
        return {"id": "over-time", "title": "Over time",
                "text": "No out-of-time sample: the applicant table has no application date "
                        "(data_processing.split.date_column), so test is a random split of "
                        "the development period and nothing here shows the model holds on a "
                        "later one (docs/over-time.md).",
                "blocks": []}
    time = schema.get("time") or {}
    tolerance = params["findings"]["out_of_time_auc_drop"]["threshold"]
    in_time = discrimination_table.set_index("sample").loc["train (out-of-fold)", "auc"]
    windows = (f"development {' to '.join(time['development'])}, out of time "
               f"{' to '.join(time['out_of_time'])} (test); " if time else "")
    return {"id": "over-time", "title": "Over time",
            "text": f"The split is by application date ({time.get('date_column', 'dated')}: {windows}"
                    "CV folds " + ("time-ordered" if time.get("cv") == "time_series" else
                                   "stratified") + "). Test is the out-of-time window: no "
                    "model, calibration, cut-off or selection saw it. Per vintage: AUC with "
                    f"its DeLong interval (dashed: the in-time AUC {in_time:.3f} less the "
                    f"tolerance {tolerance}), the default rate against the mean PD with its "
                    "Jeffreys interval and light (red: the PD is significantly too low), the "
                    "approval rate at the cut-off (dashed: development's), and the score PSI "
                    f"against development (watch {params['psi']['watch']}, alarm "
                    f"{params['psi']['alarm']}). The dotted line marks where out of time "
                    "starts; the features that shifted are in Stability.",
            "blocks": [report.svg(report.vintage_figure(
                vintage_table, in_time - tolerance, approval_rate, params["psi"]["watch"],
                params["psi"]["alarm"])), vintage_table.drop(columns="start")]}


def data_quality_table(data_quality: dict[str, Any]) -> pd.DataFrame:
    """The split's findings as rows a reader scans: check, result, what it means."""
    seen, test_rows = data_quality["test_rows_seen_in_training"], data_quality["test_rows"]
    rows = [{"check": "test applicants identical to a training applicant",
             "result": f"{seen} of {test_rows} ({seen / max(test_rows, 1):.1%})",
             "meaning": "none: the test set is unseen" if not seen else
             "the test figures are optimistic: deduplicate the applicant table"}]
    dropped = data_quality["dropped_features"]
    rows.append({"check": "features dropped as empty or constant",
                 "result": str(len(dropped)),
                 "meaning": "; ".join(f"{c}: {why}" for c, why in dropped.items()) or "none"})
    return pd.DataFrame(rows)


def _finding_counts(findings: pd.DataFrame) -> str:
    counts = findings["severity"].value_counts()
    return ", ".join(f"{counts[s]} {s}" for s in ("high", "medium", "low") if s in counts) or "none"


def _notable(population: pd.DataFrame) -> pd.DataFrame:
    """The features where test differs from training in missing values, range or levels."""
    return population[(population["missing_increase"].abs() > 0)
                      | (population["out_of_range_share"] > 0) | (population["unseen_share"] > 0)]


def validation_report(
    model_version: dict[str, Any],
    discrimination_table: pd.DataFrame,
    curves: dict[str, Any],
    gains: pd.DataFrame,
    calibration_table: pd.DataFrame,
    band_table: pd.DataFrame,
    reliability: dict[str, Any],
    stability_table: pd.DataFrame,
    latest_batch_note: str,
    cost_scenarios: pd.DataFrame,
    reason_table: pd.DataFrame,
    cost_curve: dict[str, Any],
    challenger_table: pd.DataFrame,
    challenger_scorecard: pd.DataFrame,
    challenger_curves: dict[str, Any],
    effects_table: pd.DataFrame,
    dependence: dict[str, Any],
    data_quality: dict[str, Any],
    fairness_table: pd.DataFrame,
    population_table: pd.DataFrame,
    vintage_table: pd.DataFrame,
    test_scores: pd.DataFrame,
    conclusions: dict[str, Any],
    gate: dict[str, Any],
    card: dict[str, Any],
    params: dict[str, Any],
) -> dict[str, Any]:
    """One HTML page and one JSON file with every table and the data of every figure,
    opening with the verdict, the findings and the model card.

    Returns:
        The model version's ``run_id``, ``verdict``, ``files`` (name -> content) and
        ``attachments`` (name -> a file to copy beside them: the data card), which
        ``io.registry.ValidationReportDataset`` writes (and prints to PDF) and logs to
        that run.
    """
    scorer = model_version["model"]
    policy = scorer.policy
    findings = conclusions["findings"]
    summary = pd.DataFrame({"item": ["verdict", "registry", "findings", "model", "candidate",
                                     "family",
                                     "decline when", "costs (accept bad / decline good)",
                                     "declined (test)", "MLflow run"],
                            "value": [conclusions["verdict"], gate["message"],
                                      _finding_counts(findings),
                                      f"{model_version['name']} version {model_version['version']}",
                                      model_version["tags"].get("candidate", "?"), scorer.family,
                                      f"PD >= {policy.cutoff:.4f} (score {policy.cutoff_score})",
                                      f"{policy.costs.accept_bad:g} / {policy.costs.decline_good:g}",
                                      f"{(test_scores['decision'] == 'decline').mean():.0%} of "
                                      f"{len(test_scores):,} applicants",
                                      model_version["run_id"]]})
    level = f"{params['confidence_level']:.0%}"
    quality_table = data_quality_table(data_quality)
    statements = statements_table(scorer)
    reason_notes = reason_findings(scorer, statements, test_scores)
    examples = example_declines(test_scores)
    rules = params["fairness"]
    test = "test"
    data_card = ([report.Link("Data card: the source, licence and known limitations of the "
                              "data", DATA_CARD)] if card["data_card"] else [])
    sections = [
        {"id": "findings", "title": f"Verdict: {conclusions['verdict']}",
         "text": "The findings, most severe first: each with its evidence, what to do and the "
                 "section that holds the detail. Every check has its rule (threshold and "
                 "severity) in validation.findings; high makes the model not fit, medium fit "
                 "with findings, low is an observation.",
         "blocks": [report.Table(findings[["severity", "title", "evidence", "action",
                                           "section"]], links=("section",))
                    if len(findings) else pd.DataFrame({"finding": ["none"]})]},
        {"id": "model-card", "title": "Model and data card",
         "text": "What the model is, where it comes from, what this validation cannot show, "
                 "and the sign-off.",
         "blocks": [report.Table(card["card"], caption="The model"),
                    report.Table(card["provenance"], caption="Provenance"),
                    report.Items("Limitations", card["limitations"] or ["none generated"]),
                    report.Table(card["overrides"], caption="Overrides"), *data_card,
                    report.Table(card["sign_off"], caption="Sign-off")]},
        {"id": "discrimination", "title": "Discrimination",
         "text": f"AUC with DeLong's {level} interval (Gini = 2 AUC - 1, the same interval), KS "
                 f"with a stratified bootstrap interval ({params['bootstrap']['resamples']} "
                 "resamples, seeded), on out-of-fold PDs of the training rows and on the test set.",
         "blocks": [discrimination_table, report.svg(report.roc_figure(curves, discrimination_table)),
                    report.svg(report.cap_figure(curves, discrimination_table)),
                    report.svg(report.ks_figure(curves, discrimination_table)),
                    report.Table(gains, caption="Gains by PD decile (test): applicants, bads "
                                                "captured, bad rate and lift")]},
        {"id": "calibration", "title": "Calibration",
         "text": "Brier score and Hosmer-Lemeshow test per sample (g - 2 degrees of freedom out "
                 "of fold, g on test); per score band the Jeffreys test of the observed default "
                 "rate against the mean PD (red: the PD is significantly too low, p < "
                 f"{params['jeffreys']['red_below']}; amber: p < "
                 f"{params['jeffreys']['amber_below']}); the light tests underestimation only, "
                 "so pd_vs_interval also says when the PD lies above the band's interval "
                 "(conservative).",
         "blocks": [calibration_table, report.svg(report.reliability_figure(reliability)),
                    report.svg(report.band_figure(band_table, test)), band_table]},
        {"id": "stability", "title": "Stability",
         "text": "PSI of the score and CSI of every feature, test against the development "
                 f"sample the model stores: below {params['psi']['watch']} stable, up to "
                 f"{params['psi']['alarm']} watch, above it a shift. {latest_batch_note}",
         "blocks": [report.svg(report.stability_figure(stability_table, params["psi"]["watch"],
                                                params["psi"]["alarm"])), stability_table]},
        _over_time_section(vintage_table, discrimination_table, scorer.feature_schema or {},
                           float((model_version["oof_predictions"]["pd"] < policy.cutoff).mean()),
                           params),
        {"id": "feature-effects", "title": "Feature effects",
         "text": "For each feature with a declared direction (data_processing.expected_effects), "
                 "the sign of the model's effect: Spearman's rho between the feature's value and "
                 "its contribution to the log-odds on "
                 f"{params['feature_effects']['sample_rows']:,} test applicants. Reversed is a "
                 f"violation; |rho| below {params['feature_effects']['flat_below']} is flat (no "
                 "clear effect). 'constrained': the model was fitted with monotone constraints.",
         "blocks": [effects_table, *([report.svg(report.effects_figure(dependence, effects_table))]
                                     if dependence else [])]},
        _challenger_section(challenger_table, challenger_scorecard, challenger_curves),
        {"id": "decisions", "title": "Decisions",
         "text": "The cut-off re-chosen on out-of-fold PDs when the cost of accepting a bad "
                 "changes (under the model's approval and bad-rate constraints), its approval "
                 "and bad rates on test, and the principal reason of "
                 "each declined test applicant.",
         "blocks": [report.svg(report.cost_figure(cost_curve, cost_scenarios)), cost_scenarios,
                    report.svg(report.reasons_figure(reason_table)), reason_table]},
        {"id": "reasons", "title": "Reasons",
         "text": "A declined applicant is given at most "
                 f"{decisions.MAX_REASONS} reasons: the factors that raised the applicant's risk "
                 "against the development sample's approved applicants (contribution minus their "
                 "average contribution, above zero), largest first, each with a stable code, a "
                 "statement and the value with its unit. "
                 + " ".join(reason_notes) + " The first declined test applicants follow, as "
                 "they read their reasons.",
         "blocks": [statements, examples]},
        {"id": "fairness", "title": "Fairness screen",
         "text": "Per group of each protected attribute, on test and out of fold: approval "
                 "rate and the adverse impact ratio against the most-approved group (below "
                 f"{rules['adverse_impact_below']}: adverse impact, the four-fifths rule), bad "
                 f"rate, AUC with DeLong's {level} interval, mean PD against the default rate "
                 "with its Jeffreys interval and p-value (small: the PD is too low for the "
                 "group), and the principal reasons of its declines (test). Groups with fewer "
                 f"than {rules['min_applicants']} applicants or {rules['min_bads']} bads or "
                 "goods are too small to test. A screen, not a fairness audit: a flag calls for "
                 "a look at the drivers, not a conclusion.",
         "blocks": fairness_blocks(fairness_table)},
        {"id": "data-quality", "title": "Data quality",
         "text": "What data_processing found when it split the development sample: test "
                 "applicants identical, feature for feature, to a training applicant (they "
                 "flatter the test figures above), and features dropped as empty or constant; "
                 "per feature, test against training: the missing share, values outside the "
                 "training range and categories never seen in training (features with any "
                 "of these; every feature in the JSON).",
         "blocks": [quality_table, _notable(population_table)]},
    ]
    title = f"Model validation report: {model_version['name']} version {model_version['version']}"
    tables = {"summary": summary, "findings": findings, "model_card": card["card"],
              "provenance": card["provenance"], "overrides": card["overrides"],
              "data_quality": quality_table, "population_checks": population_table,
              "discrimination": discrimination_table, "gains": gains,
              "calibration": calibration_table, "score_bands": band_table,
              "stability": stability_table, "cost_scenarios": cost_scenarios,
              "principal_reasons": reason_table, "challenger": challenger_table,
              "challenger_scorecard": challenger_scorecard, "feature_effects": effects_table,
              "reason_statements": statements, "example_declines": examples,
              "fairness": fairness_table, "vintages": vintage_table.drop(columns="start")}
    figures = {"curves": curves, "reliability": reliability, "cost_curve": cost_curve,
               "challenger_curves": challenger_curves, "feature_dependence": dependence}
    content = {"title": title, "verdict": conclusions["verdict"], "registry": gate,
               # ranked: the verdict's findings (as tables.findings); reasons: the Reasons
               # section's notes on the reason statements
               "findings": {"ranked": json.loads(findings.to_json(orient="records")),
                            "reasons": reason_notes},
               "limitations": card["limitations"],
               "tables": {name: json.loads(table.to_json(orient="records"))
                                          for name, table in tables.items()},
               "figures": figures}
    return {"run_id": model_version["run_id"], "name": model_version["name"],
            "version": model_version["version"], "verdict": conclusions["verdict"],
            "gate": gate,
            "attachments": {DATA_CARD: card["data_card"]} if card["data_card"] else {},
            "files": {"validation_report.html": report.render(
                title, summary, sections, alarm=gate["message"] if gate["alarm"] else None),
                      "validation_report.json": json.dumps(content, indent=1),
                      "challenger_scorecard.csv":
                          spreadsheet_safe(challenger_scorecard).to_csv(index=False)}}
