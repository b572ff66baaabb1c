"""The two rules that choose a model, as pure functions.

- ``rank_candidates``: which candidate of a run wins (best mean CV value of the selection
  metric; the simpler candidate, listed first, wins a tie).
- ``promotion``: whether that winner replaces the registered champion. It must be
  measurable, validated on the same CV folds as the champion (unless the user says
  otherwise), and not worse by the configured margin.

``io.registry.MlflowChampionDataset`` reads the registry, calls ``promotion`` and writes its
verdict; it decides nothing itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from credit_scoring.models.evaluation import HIGHER_IS_BETTER, METRICS


def rank_candidates(metrics: pd.DataFrame, selection_metric: str) -> pd.DataFrame:
    """Order candidates best first by the mean CV value of ``selection_metric``."""
    if selection_metric not in METRICS:
        raise ValueError(
            f"Unknown selection metric '{selection_metric}'; choose one of {list(METRICS)}."
        )
    column = f"cv_{selection_metric}_mean"
    # stable: candidates listed first (the simpler ones) win ties
    ranked = metrics.sort_values(column, ascending=not HIGHER_IS_BETTER[selection_metric],
                                 kind="stable")
    return ranked.assign(rank=range(1, len(ranked) + 1))


@dataclass(frozen=True)
class RegisteredChampion:
    """What the registry says of the model version that holds the alias."""

    version: str
    folds_fingerprint: str | None
    cv_value: Callable[[], float | None]
    """Reads its CV value of the candidate's selection metric (None when it can be neither
    read nor computed); called only when the two are compared, on the same folds."""


@dataclass(frozen=True)
class ChampionRule:
    """How a candidate is judged against the champion (``thresholding.champion``)."""

    selection_metric: str
    min_improvement: float = 0.0
    on_other_folds: str = "keep"  # keep | promote
    alias: str = "champion"


@dataclass(frozen=True)
class Promotion:
    """The verdict: whether the alias moves, and why, in a sentence a reviewer reads."""

    promoted: bool
    verdict: str


def promotion(rule: ChampionRule, cv_value: float, folds_fingerprint: str,
              champion: RegisteredChampion | None) -> Promotion:
    """Move the alias to the candidate unless it cannot be shown not worse; say why.

    Both models are compared on the same metric, direction and CV folds. A candidate whose
    metric is undefined (NaN, e.g. a fold without a single bad) is never promoted, nor,
    unless ``on_other_folds`` is ``promote``, one validated on other folds than the champion.
    """
    metric = f"cv_{rule.selection_metric}_mean"
    refusal, replaced = _refusal(rule, metric, cv_value, folds_fingerprint, champion)
    if refusal:
        return Promotion(False, f"not promoted, {rule.alias} unchanged: {refusal}")
    return Promotion(True, f"promoted to {rule.alias}: {metric} {cv_value:.4f}; {replaced}")


def _refusal(rule: ChampionRule, metric: str, score: float, folds_fingerprint: str,
             champion: RegisteredChampion | None) -> tuple[str | None, str]:
    """(why the candidate may not take the alias or None, what it replaces)."""
    if math.isnan(score):
        return (f"{metric} is undefined (NaN) for this candidate, e.g. a CV fold without "
                "any bad; a model that cannot be measured is never promoted. Use more data "
                "or fewer folds (data_processing.split)."), ""
    if champion is None:
        return None, f"no previous {rule.alias}"
    if champion.folds_fingerprint != folds_fingerprint:
        refusal = None if rule.on_other_folds == "promote" else (
            f"version {champion.version} was validated on other training rows or CV folds, "
            f"so {metric} values are not comparable. Compare the two versions' reports; to "
            "switch, rerun `kedro run --pipelines thresholding` with "
            "thresholding.champion.on_other_folds: promote in conf/local.")
        return refusal, (f"replaces version {champion.version}, validated on other folds "
                         "(thresholding.champion.on_other_folds: promote)")
    held = champion.cv_value()
    if held is None:
        return (f"version {champion.version} has no {metric} and no stored out-of-fold PDs "
                "to compute it from; compare them by hand."), ""
    margin = rule.min_improvement
    higher = HIGHER_IS_BETTER[rule.selection_metric]
    if (score < held + margin) if higher else (score > held - margin):
        required = "" if margin == 0 else (
            f" by thresholding.champion.min_improvement = {margin} (needs "
            f"{held + margin if higher else held - margin:.4f})")
        verb = "is worse than" if margin == 0 else "does not improve on"
        return (f"{metric} {score:.4f} {verb} version {champion.version}'s {held:.4f}"
                f"{required}"), ""
    return None, f"replaces version {champion.version} ({held:.4f})"
