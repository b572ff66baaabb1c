"""Monitoring alerts: each rule on a history small enough to check by hand."""

import pandas as pd
import pytest
from pydantic import ValidationError

from credit_scoring.validation.alerts import AlertRules, batch_status, fitness, raise_alerts
from credit_scoring.validation.monitoring import MEASURE_COLUMNS

RULES = {
    "score_psi": {"alarm": 0.25, "watch": 0.1, "in_a_row": 2, "severity": "high"},
    "feature_csi": {"alarm": 0.25, "watch": 0.1, "in_a_row": 2, "severity": "high"},
    "approval_rate": {"max_change": 0.1, "severity": "high"},
    "mean_pd": {"max_relative_change": 0.25, "severity": "high"},
    "missing_share": {"max_increase": 0.1, "p_value_below": 0.001, "severity": "medium"},
    "unseen_categories": {"max_share": 0.01, "severity": "medium"},
    "reason_mix": {"p_value_below": 0.001, "min_declines": 50, "severity": "medium"},
    "drivers": 2,
}


def batch(batch_id: str, month: int, approval: float = 0.8, mean_pd: float = 0.1,
          rows: int = 1000, version: str = "1") -> dict:
    start = pd.Timestamp(2024, month, 1)
    return {"batch_id": batch_id, "batch_start": start, "batch_end": start + pd.offsets.MonthEnd(),
            "model_name": "pd", "model_version": version, "rows": rows,
            "approval_rate": approval, "approval_rate_development": 0.8,
            "mean_pd": mean_pd, "mean_pd_development": 0.1}


def measures(batch_id: str, psi: dict[str, float], missing: dict | None = None,
             unseen: dict | None = None, reasons: dict | None = None) -> pd.DataFrame:
    rows = [(batch_id, "psi", name, value, None, None) for name, value in psi.items()]
    rows += [(batch_id, "missing_share", name, count / 1000, count, reference)
             for name, (count, reference) in (missing or {}).items()]
    rows += [(batch_id, "unseen_share", name, value, None, 0.0)
             for name, value in (unseen or {}).items()]
    rows += [(batch_id, "reason_share", code, None, count, None)
             for code, count in (reasons or {}).items()]
    return pd.DataFrame(rows, columns=MEASURE_COLUMNS)


def alerts_of(batches: list[dict], parts: list[pd.DataFrame]) -> pd.DataFrame:
    return raise_alerts(pd.DataFrame(batches), pd.concat(parts, ignore_index=True), RULES)


def test_a_stable_history_raises_nothing():
    table = alerts_of([batch("a", 1), batch("b", 2)],
                      [measures("a", {"score": 0.02, "x": 0.05}),
                       measures("b", {"score": 0.03, "x": 0.09})])
    assert table.empty


def test_csi_above_alarm_fires_once_and_names_the_features_largest_first():
    table = alerts_of([batch("a", 1)], [measures("a", {"score": 0.05, "x": 0.3, "y": 0.6,
                                                       "z": 0.26, "w": 0.01})])
    assert table[["batch_id", "rule", "severity"]].values.tolist() == [["a", "feature_csi", "high"]]
    alert = table.iloc[0]
    assert alert["value"] == 0.6 and alert["threshold"] == 0.25
    assert alert["drivers"] == "y 0.60, x 0.30"   # drivers: 2, the largest first
    assert "3 variable(s)" in alert["message"]


def test_psi_above_watch_twice_in_a_row_fires_on_the_second_batch_only():
    table = alerts_of([batch("a", 1), batch("b", 2), batch("c", 3)],
                      [measures("a", {"score": 0.12, "x": 0.2}),
                       measures("b", {"score": 0.15, "x": 0.2}),
                       measures("c", {"score": 0.05, "x": 0.02})])
    fired = table.set_index("rule")
    assert table["batch_id"].tolist() == ["b", "b"]
    assert fired.loc["score_psi", "value"] == 0.15 and fired.loc["score_psi", "threshold"] == 0.1
    assert fired.loc["score_psi", "drivers"] == "x 0.20"   # the features behind the score's move
    assert "2 batches in a row" in fired.loc["feature_csi", "message"]


def test_watch_in_a_row_counts_within_one_model_version():
    table = alerts_of([batch("a", 1, version="1"), batch("b", 2, version="2")],
                      [measures("a", {"score": 0.15}), measures("b", {"score": 0.15})])
    assert table.empty


def test_approval_and_mean_pd_alerts_compare_with_development():
    table = alerts_of([batch("a", 1, approval=0.69, mean_pd=0.126), batch("b", 2, approval=0.71,
                                                                          mean_pd=0.124)],
                      [measures("a", {"score": 0.0}), measures("b", {"score": 0.0})])
    # 0.8 - 0.69 = 0.11 > 0.1; 0.126 / 0.1 - 1 = 26 % > 25 %; batch b is inside both
    assert table[["batch_id", "rule"]].values.tolist() == [["a", "approval_rate"], ["a", "mean_pd"]]
    assert "69.0% against 80.0%" in table.iloc[0]["message"]


def test_a_missing_share_jump_must_be_large_and_significant():
    # 150 of 1,000 missing where development had 4 %: +11 points, p ~ 1e-35: fires; 60 of
    # 1,000 against 5 %: +1 point: no. 4 of 20 against 8 %: +12 points, but P(X >= 4) =
    # 0.07 for 20 rows at 8 %: chance, no alert
    table = alerts_of([batch("a", 1), batch("b", 2, rows=20)],
                      [measures("a", {"score": 0.0}, missing={"x": (150, 0.04), "y": (60, 0.05)}),
                       measures("b", {"score": 0.0}, missing={"x": (4, 0.08)})])
    assert table[["batch_id", "rule", "drivers"]].values.tolist() == [
        ["a", "missing_share", "x 0.11"]]


def test_unseen_categories_above_their_share_fire():
    table = alerts_of([batch("a", 1)], [measures("a", {"score": 0.0},
                                                 unseen={"region": 0.02, "type": 0.005})])
    assert table[["rule", "drivers"]].values.tolist() == [["unseen_categories", "region 0.020"]]


def test_a_changed_reason_mix_fires_against_the_earlier_batches_of_the_model():
    earlier = measures("a", {"score": 0.0}, reasons={"R01": 60, "R02": 40})
    same = measures("b", {"score": 0.0}, reasons={"R01": 31, "R02": 19})
    changed = measures("c", {"score": 0.0}, reasons={"R01": 10, "R02": 70})
    table = alerts_of([batch("a", 1), batch("b", 2), batch("c", 3)], [earlier, same, changed])
    assert table[["batch_id", "rule"]].values.tolist() == [["c", "reason_mix"]]
    # c: R02 at 70/80 against (40 + 19)/150 before; R01 the same change, the other way
    assert table.iloc[0]["drivers"].startswith("R0")
    assert "80 declines differ from the 150 before" in table.iloc[0]["message"]


def test_too_few_declines_leave_the_reason_mix_untested():
    table = alerts_of([batch("a", 1), batch("b", 2)],
                      [measures("a", {"score": 0.0}, reasons={"R01": 60, "R02": 40}),
                       measures("b", {"score": 0.0}, reasons={"R02": 40})])
    assert table.empty


def test_status_and_fitness_read_the_latest_batch_and_the_backtest():
    batches = pd.DataFrame([batch("a", 1), batch("b", 2)])
    alerts = alerts_of([batch("a", 1), batch("b", 2)],
                       [measures("a", {"score": 0.3}), measures("b", {"score": 0.0})])
    assert batch_status(batches, alerts).to_dict() == {"a": "alert", "b": "ok"}
    verdict, line = fitness(batches, alerts, None)
    assert verdict == "fit for use"
    assert line == ("Fit for use: the latest batch (2024-02-01 to 2024-02-29, 1000 applicants) "
                    "raised no alert.")
    verdict, line = fitness(batches, alerts, {"action": "recalibrate", "batch_start": "2024-02-01",
                                              "why": "default rate 9% against mean PD 5%"})
    assert verdict == "fit with findings" and "backtesting recommends recalibrate" in line
    assert fitness(batches.iloc[:1], alerts, None)[0] == "not fit"


def test_rules_are_checked():
    with pytest.raises(ValidationError, match="watch"):
        AlertRules.model_validate({**RULES, "score_psi": {**RULES["score_psi"], "watch": 0.3}})
