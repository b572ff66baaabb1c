"""Monitoring alerts: each batch of the history against its rules (``monitoring.alerts``).

Rules, each with its severity:
- ``score_psi``: the score's PSI above ``alarm``, or above ``watch`` in ``in_a_row``
  consecutive batches of the same model;
- ``feature_csi``: the same, for any feature's CSI;
- ``approval_rate``: the approval rate moved more than ``max_change`` from development's;
- ``mean_pd``: the mean PD moved more than ``max_relative_change`` from development's;
- ``missing_share``: a feature's missing share above its development share by more than
  ``max_increase``, and significantly so (one-sided binomial test, p below
  ``p_value_below``: a few hundred applicants move a half-missing feature by 5 points by
  chance);
- ``unseen_categories``: more than ``max_share`` of the applicants at a category the model
  never saw;
- ``reason_mix``: the principal reasons of the declines differ from those of the earlier
  batches of the same model (chi-square test, p below ``p_value_below``; both sides need
  ``min_declines``).
Every alert names its drivers: the features (or reasons) behind it. A pure function of the
history (``io.monitoring_store``); the monitoring pipeline reports it.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.stats import binom, chi2_contingency

ALERT_COLUMNS = ["batch_id", "batch_start", "rule", "severity", "value", "threshold",
                 "drivers", "message"]
Severity = Literal["high", "medium", "low"]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    severity: Severity


class StabilityRule(_Rule):
    alarm: float = Field(gt=0)
    watch: float = Field(gt=0)
    in_a_row: int = Field(ge=2)

    @model_validator(mode="after")
    def _ordered(self) -> StabilityRule:
        if self.watch > self.alarm:
            raise ValueError(f"watch ({self.watch}) must not exceed alarm ({self.alarm})")
        return self


class ChangeRule(_Rule):
    max_change: float = Field(gt=0, le=1)


class RelativeChangeRule(_Rule):
    max_relative_change: float = Field(gt=0)


class IncreaseRule(_Rule):
    max_increase: float = Field(gt=0, le=1)
    p_value_below: float = Field(gt=0, lt=1)


class ShareRule(_Rule):
    max_share: float = Field(ge=0, le=1)


class MixRule(_Rule):
    p_value_below: float = Field(gt=0, lt=1)
    min_declines: int = Field(ge=1)


class AlertRules(BaseModel):
    """``monitoring.alerts``: every rule is configured."""

    model_config = ConfigDict(extra="forbid")
    score_psi: StabilityRule
    feature_csi: StabilityRule
    approval_rate: ChangeRule
    mean_pd: RelativeChangeRule
    missing_share: IncreaseRule
    unseen_categories: ShareRule
    reason_mix: MixRule
    drivers: int = Field(ge=1)


def _named(values: pd.Series, top: int, digits: int = 2) -> str:
    """``AMT_CREDIT 0.52, EXT_SOURCE_2 0.31``: the largest values first."""
    shown = values.sort_values(ascending=False).head(top)
    return ", ".join(f"{name} {value:.{digits}f}" for name, value in shown.items())


def _stability(rule: StabilityRule, name: str, now: pd.Series, before: list[pd.Series],
               top: int) -> dict | None:
    """An alert when a value is above ``alarm`` now, or above ``watch`` now and in the
    ``in_a_row - 1`` batches before (all of the same model); None otherwise."""
    above = now[now > rule.alarm]
    if len(above):
        return {"value": float(above.max()), "threshold": rule.alarm,
                "drivers": _named(above, top),
                "message": f"{name} above {rule.alarm:g} in {len(above)} variable(s)"}
    if len(before) < rule.in_a_row - 1:
        return None
    kept = now[now > rule.watch]
    for earlier in before[-(rule.in_a_row - 1):]:
        kept = kept[kept.index.isin(earlier[earlier > rule.watch].index)]
    if not len(kept):
        return None
    return {"value": float(kept.max()), "threshold": rule.watch, "drivers": _named(kept, top),
            "message": f"{name} above {rule.watch:g} in {rule.in_a_row} batches in a row"}


def _binomial_p(counts: pd.Series, rows: int, shares: pd.Series) -> pd.Series:
    """P(at least ``counts`` of ``rows`` | the development ``shares``), per feature."""
    return pd.Series(binom.sf(counts.astype(float) - 1, rows, shares.astype(float).clip(0, 1)),
                     index=counts.index)


def _reason_test(rule: MixRule, now: pd.Series, earlier: pd.Series, top: int) -> dict | None:
    """Chi-square test of this batch's principal-reason counts against the earlier ones."""
    if now.sum() < rule.min_declines or earlier.sum() < rule.min_declines:
        return None
    table = pd.concat([now, earlier], axis=1).fillna(0)
    p_value = float(chi2_contingency(table.T.to_numpy())[1]) if len(table) > 1 else 1.0
    if p_value >= rule.p_value_below:
        return None
    change = table.iloc[:, 0] / now.sum() - table.iloc[:, 1] / earlier.sum()
    return {"value": p_value, "threshold": rule.p_value_below,
            "drivers": _named(change.abs(), top),
            "message": f"principal reasons of {int(now.sum())} declines differ from the "
                       f"{int(earlier.sum())} before (chi-square p = {p_value:.2g})"}


def raise_alerts(batches: pd.DataFrame, measures: pd.DataFrame, rules: AlertRules | dict
                 ) -> pd.DataFrame:
    """Every rule on every batch of the history.

    Args:
        batches: one row per batch (``validation.monitoring.batch_record``'s ``batch``).
        measures: their long table of statistics (``MEASURE_COLUMNS``).
        rules: ``monitoring.alerts``.

    Returns:
        ``ALERT_COLUMNS``, one row per batch and rule that fired, in batch order;
        ``drivers`` names the features (reason codes for ``reason_mix``) behind the alert,
        with their values: CSI, missing or unseen share, change in share.
    """
    rules = rules if isinstance(rules, AlertRules) else AlertRules.model_validate(rules)
    top, rows = rules.drivers, []
    by_batch = {key: group for key, group in measures.groupby("batch_id")}
    ordered = batches.sort_values("batch_start", kind="stable")
    for _, lineage in ordered.groupby(["model_name", "model_version"], sort=False):
        history: list[pd.DataFrame] = []
        for batch in lineage.itertuples():
            m = by_batch.get(batch.batch_id, pd.DataFrame(columns=measures.columns))
            per = {name: part.set_index("variable") for name, part in m.groupby("measure")}
            psi = per.get("psi", pd.DataFrame(columns=["value"]))["value"].astype(float)
            csi = psi.drop("score", errors="ignore")
            drivers = _named(csi[csi > rules.feature_csi.watch], top) or "none above watch"
            fired = {
                "score_psi": _stability(rules.score_psi, "score PSI", psi.loc[["score"]]
                                        if "score" in psi else psi.iloc[:0],
                                        [h["psi"].loc[h["psi"].index == "score"]
                                         for h in history], top),
                "feature_csi": _stability(rules.feature_csi, "feature CSI", csi,
                                          [h["psi"].drop("score", errors="ignore")
                                           for h in history], top),
            }
            if fired["score_psi"]:
                fired["score_psi"]["drivers"] = drivers
            change = batch.approval_rate - batch.approval_rate_development
            if abs(change) > rules.approval_rate.max_change:
                fired["approval_rate"] = {
                    "value": float(batch.approval_rate), "threshold": rules.approval_rate.max_change,
                    "drivers": drivers,
                    "message": f"approval rate {batch.approval_rate:.1%} against "
                               f"{batch.approval_rate_development:.1%} in development"}
            relative = batch.mean_pd / batch.mean_pd_development - 1
            if abs(relative) > rules.mean_pd.max_relative_change:
                fired["mean_pd"] = {
                    "value": float(batch.mean_pd), "threshold": rules.mean_pd.max_relative_change,
                    "drivers": drivers,
                    "message": f"mean PD {batch.mean_pd:.4f} against "
                               f"{batch.mean_pd_development:.4f} in development ({relative:+.0%})"}
            missing = per.get("missing_share")
            if missing is not None:
                increase = (missing["value"] - missing["reference"]).astype(float)
                jumped = increase[(increase > rules.missing_share.max_increase) & (
                    _binomial_p(missing["count"], batch.rows, missing["reference"])
                    < rules.missing_share.p_value_below)]
                if len(jumped):
                    fired["missing_share"] = {
                        "value": float(jumped.max()), "threshold": rules.missing_share.max_increase,
                        "drivers": _named(jumped, top),
                        "message": f"missing share up by more than "
                                   f"{rules.missing_share.max_increase:.0%} in {len(jumped)} feature(s)"}
            unseen = per.get("unseen_share")
            if unseen is not None:
                many = unseen["value"].astype(float)
                many = many[many > rules.unseen_categories.max_share]
                if len(many):
                    fired["unseen_categories"] = {
                        "value": float(many.max()), "threshold": rules.unseen_categories.max_share,
                        "drivers": _named(many, top, 3),
                        "message": f"categories never seen in training in {len(many)} feature(s)"}
            reasons = per.get("reason_share", pd.DataFrame(columns=["count"]))["count"].astype(float)
            earlier = (pd.concat([h["reasons"] for h in history], axis=1).sum(axis=1)
                       if history else pd.Series(dtype=float))
            fired["reason_mix"] = _reason_test(rules.reason_mix, reasons, earlier, top)
            for rule, alert in fired.items():
                if alert:
                    rows.append({"batch_id": batch.batch_id, "batch_start": batch.batch_start,
                                 "rule": rule, "severity": getattr(rules, rule).severity,
                                 **alert})
            history.append({"psi": psi, "reasons": reasons})
    table = pd.DataFrame(rows, columns=ALERT_COLUMNS)
    return table.sort_values("batch_start", kind="stable").reset_index(drop=True)


def batch_status(batches: pd.DataFrame, alerts: pd.DataFrame) -> pd.Series:
    """Per batch id: ``alert`` (a high-severity alert), ``watch`` (others only) or ``ok``."""
    worst = alerts.groupby("batch_id")["severity"].agg(
        lambda s: "alert" if (s == "high").any() else "watch")
    return batches["batch_id"].map(worst).fillna("ok").set_axis(batches["batch_id"])


def fitness(batches: pd.DataFrame, alerts: pd.DataFrame, recommendation: dict | None
            ) -> tuple[str, str]:
    """Whether the model is still fit to use, and why, in one line.

    ``not fit``: a high-severity alert on the latest batch, or backtesting recommends
    redeveloping; ``fit with findings``: other alerts on the latest batch, or backtesting
    recommends recalibrating; ``fit for use`` otherwise.
    """
    latest = batches.sort_values("batch_start", kind="stable").iloc[-1]
    on_latest = alerts[alerts["batch_id"] == latest["batch_id"]]
    period = (f"the latest batch ({pd.Timestamp(latest['batch_start']).date()} to "
              f"{pd.Timestamp(latest['batch_end']).date()}, {int(latest['rows'])} applicants)")
    action = (recommendation or {}).get("action", "keep")
    parts = [f"{period} raised {'; '.join(on_latest['message'] + ' (' + on_latest['drivers'] + ')')}"
             if len(on_latest) else f"{period} raised no alert"]
    if recommendation:
        parts.append(f"backtesting recommends {action} ({recommendation['batch_start']}: "
                     f"{recommendation['why']})")
    if (on_latest["severity"] == "high").any() or action == "redevelop":
        verdict = "not fit"
    elif len(on_latest) or action == "recalibrate":
        verdict = "fit with findings"
    else:
        verdict = "fit for use"
    return verdict, f"{verdict.capitalize()}: " + "; ".join(parts) + "."
