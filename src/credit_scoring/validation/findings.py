"""From statistics to a conclusion: findings, each judged by a rule, and the verdict.

Every check is a pure function of the report's tables and its rule
(``validation.findings.<check>`` in parameters_validation.yml: a ``threshold`` where the
check has one, and a ``severity``). A finding names its check, its severity, the evidence
(the numbers that tripped the rule), what to do, and the report section that holds the
detail. The verdict follows from the most severe finding: ``high`` -> not fit, ``medium``
-> fit with findings, none or only ``low`` (observations) -> fit for use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from credit_scoring.validation.statistics import band_monotonicity

SEVERITIES = ("high", "medium", "low")
VERDICTS = {"high": "not fit", "medium": "fit with findings", "low": "fit for use",
            None: "fit for use"}


class Rule(BaseModel):
    """One check's rule: its threshold (the unit depends on the check) and severity."""

    model_config = ConfigDict(extra="forbid")
    severity: Literal["high", "medium", "low"]
    threshold: float | None = None


class FindingRules(BaseModel):
    """``validation.findings``: one rule per check (every check is configured)."""

    model_config = ConfigDict(extra="forbid")
    auc_lower_bound: Rule
    gini_drop: Rule
    jeffreys_red: Rule
    jeffreys_amber: Rule
    monotonicity: Rule
    monotonicity_power: Rule
    hosmer_lemeshow: Rule
    score_psi: Rule
    score_psi_shift: Rule
    feature_csi: Rule
    feature_csi_shift: Rule
    challenger_tie: Rule
    challenger_better: Rule
    complex_better: Rule
    cutoff_sensitivity: Rule
    decline_share: Rule
    effects_reversed: Rule
    effects_flat: Rule
    missing_share: Rule
    out_of_range: Rule
    unseen_categories: Rule
    test_rows_seen: Rule
    adverse_impact: Rule
    protected_in_model: Rule
    reasons_no_single_factor: Rule
    reasons_unwritten: Rule
    out_of_time: Rule
    out_of_time_auc_drop: Rule
    vintage_calibration: Rule

    @model_validator(mode="after")
    def _thresholds(self) -> FindingRules:
        for check, rule in self:
            if (rule.threshold is None) == (check in THRESHOLDED):
                raise ValueError(
                    f"{check}: " + ("needs a threshold" if check in THRESHOLDED else
                                    "takes no threshold (its level is set elsewhere)"))
        return self


THRESHOLDED = ("auc_lower_bound", "gini_drop", "monotonicity", "monotonicity_power",
               "hosmer_lemeshow", "challenger_tie", "challenger_better", "complex_better",
               "cutoff_sensitivity",
               "decline_share", "missing_share", "out_of_range", "unseen_categories",
               "test_rows_seen", "reasons_no_single_factor", "reasons_unwritten",
               "out_of_time_auc_drop")
"""The checks whose rule needs a threshold; the others have none (their level is set
elsewhere: the Jeffreys lights, the PSI bands, the fairness screen)."""


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    title: str
    evidence: str
    action: str
    section: str


def _pct(value: float) -> str:
    """A share as a reader compares it with its rule: whole percent, one decimal below 10 %."""
    return f"{value:.0%}" if abs(value) >= 0.1 or value == 0 else f"{value:.1%}"


def discrimination_findings(table: pd.DataFrame, rules: FindingRules, level: str
                            ) -> list[Finding]:
    """The test AUC's lower confidence bound; the Gini lost from out of fold to test."""
    by = table.set_index("sample")
    test, oof = by.loc["test"], by.loc["train (out-of-fold)"]
    found = []
    rule = rules.auc_lower_bound
    if test["auc_low"] < rule.threshold:
        found.append(Finding(
            "auc_lower_bound", rule.severity, "Discrimination may be too weak",
            f"test AUC {test['auc']:.3f}, {level} interval [{test['auc_low']:.3f}, "
            f"{test['auc_high']:.3f}]: the lower bound is below {rule.threshold}",
            "Find stronger features or more data before use; the model cannot be shown to "
            "rank applicants well enough.", "discrimination"))
    drop, rule = oof["gini"] - test["gini"], rules.gini_drop
    if drop > rule.threshold:
        found.append(Finding(
            "gini_drop", rule.severity, "Gini falls from development to test",
            f"Gini {oof['gini']:.3f} out of fold, {test['gini']:.3f} on test: a drop of "
            f"{drop:.3f} (rule: {rule.threshold})",
            "Look for overfitting or a test sample unlike the development sample (Stability "
            "section); simplify the model or regularise it.", "discrimination"))
    return found


def calibration_findings(calibration_table: pd.DataFrame, band_table: pd.DataFrame,
                         rules: FindingRules) -> list[Finding]:
    """Jeffreys lights per band, bad-rate monotonicity across bands, Hosmer-Lemeshow (test)."""
    found = []
    bands = band_table[band_table["sample"] == "test"].sort_values("band")
    for light, rule in (("red", rules.jeffreys_red), ("amber", rules.jeffreys_amber)):
        lit = bands[bands["light"] == light]
        if len(lit):
            found.append(Finding(
                f"jeffreys_{light}", rule.severity,
                f"PD too low in {len(lit)} score band{'s' * (len(lit) > 1)} ({light} light)",
                "; ".join(f"band {r.band}: {int(r.bads)} of {int(r.applicants)} defaulted "
                          f"({r.default_rate:.1%}) against a mean PD of {r.mean_pd:.1%}, "
                          f"Jeffreys p = {r.jeffreys_p_value:.3f}" for r in lit.itertuples()),
                "Recalibrate (thresholding.calibration) or add a margin of conservatism to "
                "these bands' PDs.", "calibration"))
    found += monotonicity_findings(bands, rules)
    test, rule = calibration_table.set_index("sample").loc["test"], rules.hosmer_lemeshow
    if test["p_value"] < rule.threshold:
        found.append(Finding(
            "hosmer_lemeshow", rule.severity, "PDs do not match default rates overall",
            f"Hosmer-Lemeshow on test: statistic {test['statistic']:.1f} on {int(test['dof'])} "
            f"degrees of freedom, p = {test['p_value']:.4f} (rule: p < {rule.threshold})",
            "Read the reliability curve for where PDs miss; recalibrate.", "calibration"))
    return found


def monotonicity_findings(bands: pd.DataFrame, rules: FindingRules) -> list[Finding]:
    """Default rates should fall from each band to the next safer one; say which pairs
    reverse significantly, and which pairs are too small to tell either way."""
    rule, power_rule = rules.monotonicity, rules.monotonicity_power
    pairs = band_monotonicity(bands["applicants"], bands["bads"], bands["mean_pd"],
                              rule.threshold)
    names = bands["band"].to_numpy()
    found = []

    def describe(rows) -> str:
        return "; ".join(
            f"band {names[r.band - 1]} {_pct(r.default_rate)} then band {names[r.next_band - 1]} "
            f"{_pct(r.next_default_rate)} (p = {r.p_value:.3f}, power {_pct(r.power)})"
            for r in rows.itertuples())

    significant = pairs[pairs["reversed"] & (pairs["p_value"] < rule.threshold)]
    if len(significant):
        found.append(Finding(
            "monotonicity", rule.severity, "Default rates are not monotone across score bands",
            f"{describe(significant)}: a safer band defaults significantly more (Fisher's "
            f"exact test, p < {rule.threshold})",
            "Check the score's ranking in that range (effects, interactions); merge the bands "
            "or constrain the model (data_processing.expected_effects, enforce).",
            "calibration"))
    weak = pairs[pairs["power"] < power_rule.threshold]
    if len(weak):
        reversed_weak = weak[weak["reversed"] & ~weak.index.isin(significant.index)]
        found.append(Finding(
            "monotonicity_power", power_rule.severity,
            f"{len(weak)} of {len(pairs)} adjacent band pairs have power below "
            f"{_pct(power_rule.threshold)}",
            "too few applicants to confirm the expected order at the bands' mean PDs (power "
            "of a one-sided test at the rule's level)"
            + (f"; reversed but not significant: {describe(reversed_weak)}"
               if len(reversed_weak) else ""),
            "Read these bands' rates as noise; validate on a larger or later sample, or use "
            "fewer bands (thresholding.score_bands).", "calibration"))
    return found


def stability_findings(table: pd.DataFrame, rules: FindingRules, watch: float, alarm: float
                       ) -> list[Finding]:
    """PSI of the score and CSI of the features against the development sample, in the
    industry's two bands: above ``watch`` worth a look, above ``alarm`` a shift."""
    found = []
    score = table[table["kind"] == "PSI"].iloc[0]
    if score["index"] > watch:
        shifted = score["index"] > alarm
        rule = rules.score_psi_shift if shifted else rules.score_psi
        found.append(Finding(
            "score_psi_shift" if shifted else "score_psi", rule.severity,
            "The score's distribution has shifted" if shifted
            else "The score's distribution has moved",
            f"score PSI {score['index']:.3f} on test (watch above {watch}, shift above {alarm})",
            "Compare the test population with the development sample; the PDs may not hold.",
            "stability"))
    features = table[(table["kind"] == "CSI") & (table["index"] > watch)]
    for shifted, check in ((True, "feature_csi_shift"), (False, "feature_csi")):
        rows = features[(features["index"] > alarm) == shifted]
        rule = getattr(rules, check)
        if len(rows):
            found.append(Finding(
                check, rule.severity,
                f"{len(rows)} feature distribution{'s' * (len(rows) > 1)} "
                + ("shifted" if shifted else "moved"),
                "; ".join(f"{r.variable} {r.index:.3f}" for r in rows.head(8).itertuples())
                + (" ..." if len(rows) > 8 else "")
                + (f" (CSI above {alarm})" if shifted else f" (CSI {watch} to {alarm})"),
                "Check the shifted features' sources and definitions.", "stability"))
    return found


def challenger_findings(table: pd.DataFrame, rules: FindingRules) -> list[Finding]:
    """The challenger against the champion on test (DeLong's paired test; not a test of
    equivalence, so the interval of the difference is given). A simpler challenger:
    significantly better, or no significant difference. A more complex challenger of a
    simpler champion: significantly better (what the simplicity costs).

    Args:
        table: the challenger table, with each model's ``candidate`` and ``complexity``.
    """
    test = table[table["sample"] == "test"].set_index("model")
    if "challenger" not in test.index:
        return []
    champion, challenger = test.loc["champion"], test.loc["challenger"]
    difference = test.loc["champion - challenger"]
    name = challenger["candidate"]
    evidence = (f"test AUC: champion {champion['auc']:.3f}, {name} {challenger['auc']:.3f}; "
                f"difference {difference['auc']:+.3f} [{difference['low']:+.3f}, "
                f"{difference['high']:+.3f}], paired DeLong p = {difference['p_value']:.2f}")
    simpler = challenger["complexity"] < champion["complexity"]
    check = "challenger_better" if simpler else "complex_better"
    rule = getattr(rules, check)
    if challenger["complexity"] != champion["complexity"] and difference["auc"] < 0 \
            and difference["p_value"] < rule.threshold:
        return [Finding(
            check, rule.severity,
            f"A {'simpler' if simpler else 'more complex'} model performs significantly better",
            f"{evidence} (rule: p < {rule.threshold})",
            f"Choose {name}, or find why the champion ranks worse." if simpler else
            "Weigh the discrimination the simpler champion gives up against its transparency; "
            "thresholding.selection: best chooses on CV alone.", "challenger")]
    tie = rules.challenger_tie
    if simpler and difference["p_value"] > tie.threshold:
        return [Finding("challenger_tie", tie.severity,
                        "No significant difference from a simpler model",
                        f"{evidence} (rule: p > {tie.threshold})",
                        f"Justify the more complex model, or choose {name} "
                        "(thresholding.selection).", "challenger")]
    return []


def decision_findings(cost_scenarios: pd.DataFrame, test_scores: pd.DataFrame,
                      rules: FindingRules) -> list[Finding]:
    """The cut-off's sensitivity to the cost of a bad; the share of applicants declined."""
    found = []
    base = cost_scenarios.iloc[0]
    others = cost_scenarios.iloc[1:]
    swings = (others["approval_rate"] - base["approval_rate"]).abs()
    rule = rules.cutoff_sensitivity
    if len(others) and swings.max() > rule.threshold:
        found.append(Finding(
            "cutoff_sensitivity", rule.severity, "The cut-off is sensitive to the cost of a bad",
            f"model's costs: cut-off {base['cutoff']:.3f}, approval {_pct(base['approval_rate'])}; "
            + "; ".join(f"{r.scenario}: cut-off {r.cutoff:.3f}, approval "
                        f"{_pct(r.approval_rate)}" for r in others.itertuples())
            + f" (rule: a swing above {rule.threshold * 100:.0f} percentage points)",
            "Confirm the costs (thresholding.costs) with the business; the cost curve shows "
            "where the cut-off could move.", "decisions"))
    declined, rule = (test_scores["decision"] == "decline").mean(), rules.decline_share
    if declined > rule.threshold:
        found.append(Finding(
            "decline_share", rule.severity, f"The policy declines {_pct(declined)} of applicants",
            f"{int((test_scores['decision'] == 'decline').sum())} of {len(test_scores)} test "
            f"applicants declined (rule: above {_pct(rule.threshold)})",
            "Confirm the decline rate with the business, or bound it "
            "(thresholding.constraints.min_approval_rate).", "decisions"))
    return found


def effect_findings(table: pd.DataFrame, rules: FindingRules) -> list[Finding]:
    """Effects against their declared directions, and declared effects the model lacks."""
    found = []
    for status, check, title in (("reversed", "effects_reversed",
                                  "Effects against their expected direction"),
                                 ("flat", "effects_flat", "Declared effects not visible")):
        rows, rule = table[table["status"] == status], getattr(rules, check)
        if len(rows):
            found.append(Finding(
                check, rule.severity, title,
                "; ".join(f"{r.feature}: expected {r.expected}, rho {r.rho:+.2f}"
                          for r in rows.itertuples()),
                "Enforce the direction (data_processing.expected_effects.enforce) or revisit "
                "the expectation.", "feature-effects"))
    return found


def data_quality_findings(checks: pd.DataFrame, seen: int, test_rows: int,
                          rules: FindingRules) -> list[Finding]:
    """Test features against training: missing shares, out-of-range values, unseen
    categories; test applicants seen in training."""
    found = []
    for check, column, title, action in (
            ("missing_share", "missing_increase", "Missing values rise on test",
             "Find why the source lost values; the model scores them as missing."),
            ("out_of_range", "out_of_range_share", "Test values outside the training range",
             "Check units and sources; trees treat them as the training extremes."),
            ("unseen_categories", "unseen_share", "Categories never seen in training",
             "Map them to known categories (data_processing.columns) or retrain.")):
        rule = getattr(rules, check)
        rows = checks[checks[column] > rule.threshold]
        if len(rows):
            found.append(Finding(
                check, rule.severity, title,
                "; ".join(f"{r.feature} {_pct(getattr(r, column))}"
                          for r in rows.head(8).itertuples())
                + (" ..." if len(rows) > 8 else "") + f" (rule: above {_pct(rule.threshold)})",
                action, "data-quality"))
    rule = rules.test_rows_seen
    if seen > rule.threshold * test_rows:
        found.append(Finding(
            "test_rows_seen", rule.severity, "Test applicants also in training",
            f"{seen} of {test_rows} test applicants are identical to a training applicant",
            "Deduplicate the applicant table; the test figures are optimistic.",
            "data-quality"))
    return found


def fairness_findings(table: pd.DataFrame, protected_in_model: list[str],
                      rules: FindingRules) -> list[Finding]:
    """Adverse impact on a protected group; protected attributes the model uses (allow)."""
    found = []
    flagged = table[table["status"] == "adverse impact"]
    rule = rules.adverse_impact
    if len(flagged):
        found.append(Finding(
            "adverse_impact", rule.severity, "Adverse impact on a protected group",
            "; ".join(f"{r.attribute} = {r.group} ({r.sample}): approval "
                      f"{_pct(r.approval_rate)}, impact ratio {r.adverse_impact_ratio:.2f}"
                      for r in flagged.itertuples()),
            "Find the features that carry the effect (proxies) and document the business "
            "justification, or remove them.", "fairness"))
    rule = rules.protected_in_model
    if protected_in_model:
        found.append(Finding(
            "protected_in_model", rule.severity, "Protected attributes are model features",
            f"{', '.join(protected_in_model)} (data_processing.protected_attributes.policy: "
            "allow); never cited as reasons",
            "Confirm the legal basis for using them, or set the policy to exclude.",
            "reasons"))
    return found


def reason_statement_findings(declined: int, no_factor: int, unwritten: list[str], nsf: str,
                              rules: FindingRules) -> list[Finding]:
    """Declines told of no single factor; attributes cited without a written statement."""
    found = []
    rule = rules.reasons_no_single_factor
    if declined and no_factor / declined > rule.threshold:
        found.append(Finding(
            "reasons_no_single_factor", rule.severity, "Declines without a principal reason",
            f"{no_factor} of {declined} declined test applicants ({no_factor / declined:.1%}) "
            f"get code {nsf}: no factor raised their risk against the approved applicants "
            f"(rule: above {_pct(rule.threshold)})",
            "Review the cut-off and the reason reference; an adverse-action notice needs "
            "specific reasons.", "reasons"))
    rule = rules.reasons_unwritten
    if len(unwritten) > rule.threshold:
        found.append(Finding(
            "reasons_unwritten", rule.severity, "Reasons without a written statement",
            f"{len(unwritten)} attributes are cited by a readable version of their name: "
            + ", ".join(unwritten[:8]) + (" ..." if len(unwritten) > 8 else ""),
            "Add them to the reason dictionary (parameters_reasons.yml).", "reasons"))
    return found


def out_of_time_findings(vintages: pd.DataFrame, discrimination: pd.DataFrame,
                         rules: FindingRules) -> list[Finding]:
    """No out-of-time sample; else the AUC lost from in time (out of fold) to out of time,
    and the out-of-time vintages whose default rate is significantly above their PD."""
    if vintages.empty:
        rule = rules.out_of_time
        return [Finding(
            "out_of_time", rule.severity, "No out-of-time sample",
            "the test set is a random split of the same period as the development sample",
            "Validate on a later period before relying on the PDs over time "
            "(data_processing.split.date_column).", "model-card")]
    found = []
    by = discrimination.set_index("sample")
    in_time, later = by.loc["train (out-of-fold)"], by.loc["test"]
    drop, rule = in_time["auc"] - later["auc"], rules.out_of_time_auc_drop
    if drop > rule.threshold:
        found.append(Finding(
            "out_of_time_auc_drop", rule.severity, "Discrimination falls out of time",
            f"AUC {in_time['auc']:.3f} in time (out of fold"
            + (f"; in-time holdout {by.loc['in-time holdout', 'auc']:.3f}"
               if "in-time holdout" in by.index else "")
            + f"), {later['auc']:.3f} out of time [{later['auc_low']:.3f}, "
            f"{later['auc_high']:.3f}]: a drop of {drop:.3f} (rule: {rule.threshold})",
            "Find what changed in the later vintages (Over time; Stability for the features "
            "that shifted) and redevelop on recent data if the relationship has moved.",
            "over-time"))
    failing = vintages[(vintages["sample"] == "test") & (vintages["light"] == "red")]
    if len(failing):
        rule = rules.vintage_calibration
        found.append(Finding(
            "vintage_calibration", rule.severity,
            f"Calibration fails in {len(failing)} out-of-time vintage"
            + ("s" if len(failing) > 1 else ""),
            "; ".join(f"{row.vintage}: default rate {_pct(row.default_rate)} against mean PD "
                      f"{_pct(row.mean_pd)} (Jeffreys p {row.jeffreys_p_value:.3f})"
                      for row in failing.itertuples()),
            "The PDs are too low for recent applicants: recalibrate on recent outcomes, and "
            "find the cause (population shift or a changed relationship).", "over-time"))
    return found


def ranked(findings: list[Finding]) -> list[Finding]:
    """Most severe first; within a severity, in the report's order."""
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))


def verdict(findings: list[Finding]) -> str:
    worst = min((SEVERITIES.index(f.severity) for f in findings), default=None)
    return VERDICTS[None if worst is None else SEVERITIES[worst]]


def findings_table(findings: list[Finding]) -> pd.DataFrame:
    return pd.DataFrame([asdict(f) for f in findings],
                        columns=["severity", "title", "evidence", "action", "section", "check"])
