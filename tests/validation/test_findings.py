"""Every rule of validation.findings on a hand-built case that trips it and one that does not;
the monotonicity test and the population checks with values computed by hand; the verdict."""

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import norm

from credit_scoring.validation import findings as f
from credit_scoring.validation.stability import population_checks
from credit_scoring.validation.statistics import band_monotonicity
from tests.conftest import PROJECT_ROOT

RULES = f.FindingRules.model_validate(yaml.safe_load(
    (PROJECT_ROOT / "conf/base/parameters_validation.yml").read_text())["validation"]["findings"])


def checks(found: list[f.Finding]) -> list[str]:
    return [finding.check for finding in found]


def discrimination(auc_low: float, oof_gini: float, test_gini: float) -> pd.DataFrame:
    return pd.DataFrame([
        {"sample": "train (out-of-fold)", "auc": 0.8, "auc_low": 0.75, "auc_high": 0.85,
         "gini": oof_gini},
        {"sample": "test", "auc": 0.78, "auc_low": auc_low, "auc_high": 0.9, "gini": test_gini}])


@pytest.mark.parametrize(("auc_low", "test_gini", "expected"), [
    (0.64, 0.55, ["auc_lower_bound"]),      # 0.64 < 0.65
    (0.66, 0.55, []),
    (0.70, 0.49, ["gini_drop"]),            # 0.60 - 0.49 = 0.11 > 0.10
    (0.70, 0.51, []),                       # a drop of 0.09
])
def test_discrimination_rules(auc_low, test_gini, expected):
    assert checks(f.discrimination_findings(discrimination(auc_low, 0.60, test_gini), RULES,
                                            "95%")) == expected


def bands(lights: list[str], applicants=(100, 100, 100), bads=(40, 25, 10),
          mean_pd=(0.4, 0.25, 0.1)) -> pd.DataFrame:
    rows = len(lights)
    return pd.DataFrame({"sample": "test", "band": range(1, rows + 1),
                         "applicants": applicants[:rows], "bads": bads[:rows],
                         "mean_pd": mean_pd[:rows],
                         "default_rate": np.divide(bads[:rows], applicants[:rows]),
                         "jeffreys_p_value": [0.5] * rows, "light": lights})


def calibration(p_value: float) -> pd.DataFrame:
    return pd.DataFrame([{"sample": "train (out-of-fold)", "statistic": 5.0, "dof": 8,
                          "p_value": 0.7},
                         {"sample": "test", "statistic": 21.0, "dof": 10, "p_value": p_value}])


def test_jeffreys_lights_and_hosmer_lemeshow():
    found = f.calibration_findings(calibration(0.04), bands(["red", "amber", "green"]), RULES)
    assert checks(found) == ["jeffreys_red", "jeffreys_amber", "hosmer_lemeshow"]
    assert [x.severity for x in found] == ["medium", "medium", "medium"]
    assert "band 1: 40 of 100 defaulted (40.0%) against a mean PD of 40.0%" in found[0].evidence
    assert f.calibration_findings(calibration(0.06), bands(["green"] * 3), RULES) == []


def test_band_monotonicity_by_hand():
    # band 2: 0 of 18, band 3: 8 of 33. Fisher's one-sided p of "band 3 defaults more":
    # P(X >= 8) for X ~ hypergeometric(51 applicants, 8 bads, 33 drawn) = C(33,8)/C(51,8)
    table = band_monotonicity([21, 18, 33], [15, 0, 8], [0.6, 0.4, 0.3])
    assert table["reversed"].tolist() == [False, True]
    assert table.loc[1, "p_value"] == pytest.approx(math.comb(33, 8) / math.comb(51, 8))
    # power of a one-sided 5 % z-test to tell PDs 0.4 and 0.3 apart with 18 and 33 applicants
    spread = math.sqrt(0.4 * 0.6 / 18 + 0.3 * 0.7 / 33)
    assert table.loc[1, "power"] == pytest.approx(norm.cdf(0.1 / spread - norm.ppf(0.95)))


def test_monotonicity_rules():
    # a significant reversal in big bands: 10 % then 30 % of 200 applicants each
    reversed_bands = bands(["green"] * 3, applicants=(200, 200, 200), bads=(80, 20, 60),
                           mean_pd=(0.4, 0.25, 0.1))
    found = f.monotonicity_findings(reversed_bands, RULES)
    assert checks(found) == ["monotonicity"]
    assert "band 2 10% then band 3 30%" in found[0].evidence
    # monotone and large: nothing
    assert f.monotonicity_findings(bands(["green"] * 3, applicants=(400, 400, 400),
                                         bads=(160, 100, 40)), RULES) == []
    # small bands: a reversal that no test could confirm is flagged as too small to test
    small = bands(["green"] * 3, applicants=(20, 20, 20), bads=(8, 3, 4),
                  mean_pd=(0.4, 0.3, 0.25))
    found = f.monotonicity_findings(small, RULES)
    assert checks(found) == ["monotonicity_power"]
    assert found[0].title == "2 of 2 adjacent band pairs have power below 50%"
    assert "reversed but not significant: band 2 15% then band 3 20%" in found[0].evidence


def stability(score: float, csi: float) -> pd.DataFrame:
    return pd.DataFrame({"variable": ["score", "age", "income"], "kind": ["PSI", "CSI", "CSI"],
                         "index": [score, csi, 0.01]})


def test_psi_and_csi_rules_in_their_two_bands():
    found = f.stability_findings(stability(0.3, 0.12), RULES, 0.1, 0.25)
    assert checks(found) == ["score_psi_shift", "feature_csi"]
    assert [x.severity for x in found] == ["high", "low"]
    assert "age 0.120" in found[1].evidence
    found = f.stability_findings(stability(0.2, 0.3), RULES, 0.1, 0.25)
    assert checks(found) == ["score_psi", "feature_csi_shift"]
    assert [x.severity for x in found] == ["medium", "medium"]
    assert f.stability_findings(stability(0.09, 0.1), RULES, 0.1, 0.25) == []


def challenger(difference: float, p_value: float, champion: int = 3, challenger: int = 2
               ) -> pd.DataFrame:
    """The test rows of a challenger table: a champion of complexity ``champion`` (3: a
    forest) against a challenger of complexity ``challenger`` (2: the scorecard)."""
    return pd.DataFrame([
        {"sample": "test", "model": "champion", "candidate": "tuning.xgboost",
         "complexity": champion, "auc": 0.803},
        {"sample": "test", "model": "challenger", "candidate": "baselines.scorecard",
         "complexity": challenger, "auc": 0.803 - difference},
        {"sample": "test", "model": "champion - challenger", "auc": difference,
         "low": difference - 0.03, "high": difference + 0.03, "p_value": p_value}])


def test_a_simpler_model_that_ties_or_beats_the_champion():
    found = f.challenger_findings(challenger(-0.001, 0.94), RULES)
    assert checks(found) == ["challenger_tie"]
    assert found[0].title == "No significant difference from a simpler model"
    assert ("test AUC: champion 0.803, baselines.scorecard 0.804; difference -0.001 "
            "[-0.031, +0.029], paired DeLong p = 0.94") in found[0].evidence
    assert "choose baselines.scorecard" in found[0].action
    found = f.challenger_findings(challenger(-0.04, 0.01), RULES)  # the scorecard is better
    assert checks(found) == ["challenger_better"] and found[0].severity == "high"
    assert f.challenger_findings(challenger(0.04, 0.01), RULES) == []  # the champion is
    assert f.challenger_findings(challenger(-0.001, 0.94, 2, 2), RULES) == []  # as simple
    assert f.challenger_findings(challenger(-0.001, 0.94).iloc[:0], RULES) == []  # none


def test_a_more_complex_model_significantly_better_than_a_scorecard_champion():
    found = f.challenger_findings(challenger(-0.04, 0.01, 2, 3), RULES)
    assert checks(found) == ["complex_better"] and found[0].severity == "medium"
    assert found[0].title == "A more complex model performs significantly better"
    # a tie with a more complex model is the simpler champion's justification: no finding
    assert f.challenger_findings(challenger(-0.001, 0.94, 2, 3), RULES) == []
    assert f.challenger_findings(challenger(-0.04, 0.06, 2, 3), RULES) == []  # not significant


def scenarios(approvals: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"scenario": ["model's costs", "accept-bad cost -50%",
                                      "accept-bad cost +50%"],
                         "cutoff": [0.14, 0.32, 0.12], "approval_rate": approvals})


def decisions(declined: int) -> pd.DataFrame:
    return pd.DataFrame({"decision": ["decline"] * declined + ["accept"] * (100 - declined)})


def test_cutoff_sensitivity_and_decline_share():
    found = f.decision_findings(scenarios([0.32, 0.58, 0.32]), decisions(68), RULES)
    assert checks(found) == ["cutoff_sensitivity", "decline_share"]
    assert "The policy declines 68% of applicants" == found[1].title
    assert f.decision_findings(scenarios([0.32, 0.46, 0.30]), decisions(50), RULES) == []


def test_effect_rules():
    table = pd.DataFrame({"feature": ["term", "amount", "rate"],
                          "expected": ["increasing"] * 3, "rho": [-0.4, 0.05, 0.6],
                          "status": ["reversed", "flat", "as expected"]})
    assert checks(f.effect_findings(table, RULES)) == ["effects_reversed", "effects_flat"]
    assert f.effect_findings(table.iloc[[2]], RULES) == []


def test_data_quality_rules():
    table = pd.DataFrame({"feature": ["a", "b"], "missing_increase": [0.06, 0.0],
                          "out_of_range_share": [0.0, 0.02], "unseen_share": [0.001, 0.0]})
    assert checks(f.data_quality_findings(table, 3, 250, RULES)) == [
        "missing_share", "out_of_range", "unseen_categories", "test_rows_seen"]
    clean = table.assign(missing_increase=0.05, out_of_range_share=0.01, unseen_share=0.0)
    assert f.data_quality_findings(clean, 0, 250, RULES) == []


def test_fairness_rules():
    table = pd.DataFrame({"sample": ["test", "test"], "attribute": ["age", "age"],
                          "group": ["< 25", "25 and over"],
                          "status": ["adverse impact", "within the four-fifths rule"],
                          "approval_rate": [0.19, 0.44], "adverse_impact_ratio": [0.43, 1.0]})
    found = f.fairness_findings(table, ["sex"], RULES)
    assert checks(found) == ["adverse_impact", "protected_in_model"]
    assert "age = < 25 (test): approval 19%, impact ratio 0.43" in found[0].evidence
    assert f.fairness_findings(table.iloc[[1]], [], RULES) == []


def test_reason_statement_rules():
    found = f.reason_statement_findings(100, 6, ["AMT_X", "flag_y"], "NSF", RULES)
    assert checks(found) == ["reasons_no_single_factor", "reasons_unwritten"]
    assert found[0].evidence.startswith("6 of 100 declined test applicants (6.0%) get code NSF")
    assert "AMT_X, flag_y" in found[1].evidence
    assert f.reason_statement_findings(100, 5, [], "NSF", RULES) == []   # 5 % is not above
    assert f.reason_statement_findings(0, 0, [], "NSF", RULES) == []     # nobody declined


def vintages(*lights: str) -> pd.DataFrame:
    return pd.DataFrame({"sample": ["train (out-of-fold)"] + ["test"] * len(lights),
                         "vintage": ["2024-01"] + [f"2024-{m:02d}" for m in range(7, 7 + len(lights))],
                         "light": ["red", *lights], "default_rate": 0.15, "mean_pd": 0.07,
                         "jeffreys_p_value": 0.001})


@pytest.mark.parametrize(("test_auc", "lights", "expected"), [
    (0.76, ["green", "green"], ["out_of_time_auc_drop"]),       # 0.80 - 0.76 = 0.04 > 0.03
    (0.78, ["green", "green"], []),                             # a drop of 0.02
    (0.78, ["amber", "red"], ["vintage_calibration"]),          # an out-of-time red vintage
])
def test_out_of_time_rules(test_auc, lights, expected):
    table = discrimination(0.7, 0.6, 0.5).assign(auc=[0.8, test_auc])
    found = f.out_of_time_findings(vintages(*lights), table, RULES)
    assert checks(found) == expected
    if expected == ["vintage_calibration"]:   # the in-time red vintage is not counted
        assert found[0].title == "Calibration fails in 1 out-of-time vintage"
        assert found[0].evidence == ("2024-08: default rate 15% against mean PD 7.0% "
                                     "(Jeffreys p 0.001)")


def test_without_dates_there_is_no_out_of_time_sample():
    found = f.out_of_time_findings(pd.DataFrame(), discrimination(0.7, 0.6, 0.5), RULES)
    assert checks(found) == ["out_of_time"]


def test_the_verdict_follows_the_most_severe_finding():
    def finding(severity):
        return f.Finding("x", severity, "t", "e", "a", "s")
    assert f.verdict([]) == "fit for use"
    assert f.verdict([finding("low")]) == "fit for use"
    assert f.verdict([finding("low"), finding("medium")]) == "fit with findings"
    assert f.verdict([finding("medium"), finding("high")]) == "not fit"
    assert [x.severity for x in f.ranked([finding("low"), finding("high"), finding("medium")])
            ] == ["high", "medium", "low"]


def test_a_threshold_is_required_where_the_check_has_one_and_refused_where_not():
    config = RULES.model_dump()
    with pytest.raises(ValueError, match="gini_drop: needs a threshold"):
        f.FindingRules.model_validate({**config, "gini_drop": {"severity": "medium"}})
    with pytest.raises(ValueError, match="score_psi: takes no threshold"):
        f.FindingRules.model_validate({**config, "score_psi": {"threshold": 0.2,
                                                               "severity": "medium"}})


def test_a_rule_without_its_severity_is_refused():
    with pytest.raises(ValueError, match="severity"):
        f.Rule.model_validate({"threshold": 0.1})
    with pytest.raises(ValueError, match="severity"):
        f.Rule.model_validate({"threshold": 0.1, "severity": "urgent"})


def test_population_checks_by_hand():
    train = pd.DataFrame({"amount": [1.0, 5.0, np.nan, 3.0], "purpose": ["car", "tv", "car", None]})
    test = pd.DataFrame({"amount": [0.5, 6.0, np.nan, np.nan], "purpose": ["car", "boat", None, None]})
    table = population_checks(train, test, {"purpose": ["car", "tv"]}).set_index("feature")
    assert table.loc["amount", "missing_increase"] == pytest.approx(0.5 - 0.25)
    assert table.loc["amount", "out_of_range_share"] == pytest.approx(2 / 4)  # 0.5 and 6.0
    assert table.loc["purpose", "unseen_share"] == pytest.approx(1 / 4)       # boat
    assert table.loc["purpose", "out_of_range_share"] == 0
