"""The rules that choose a model, as pure functions.

- ``rank_candidates``: candidates best first by the mean CV value of the selection metric
  (the simpler candidate, listed first, ranks first on a tie).
- ``choose_candidate``: which candidate of a run wins. ``best``: the first of the ranking.
  ``one_standard_error`` (the default): the simplest candidate (``families.COMPLEXITY``)
  whose mean CV value lies within one standard error (the best candidate's sample SD over
  the folds / the square root of the number of folds) of the best: a more complex model
  must earn its place by more than the noise of the folds.
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
from credit_scoring.models.families import COMPLEXITY as COMPLEXITY_NAMES


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


def standard_error(fold_sd: float, n_folds: int) -> float:
    """The standard error of a mean over ``n_folds`` folds, from the folds' SD as the CV
    metrics report it (population SD, ``np.std``): the sample SD / sqrt(folds)."""
    return fold_sd / math.sqrt(n_folds - 1) if n_folds > 1 else float("nan")


def choose_candidate(ranking: pd.DataFrame, selection_metric: str, rule: str,
                     complexity: dict[str, int], n_folds: int) -> tuple[pd.DataFrame, str]:
    """The winner of a ranked table (``rank_candidates``) under ``rule``, and why.

    Returns:
        The ranking with ``complexity``, ``within_one_se`` (a bool per candidate) and
        ``chosen`` columns; a sentence naming the winner, the rule, and each runner-up with
        why it lost.
    """
    column = f"cv_{selection_metric}_mean"
    higher = HIGHER_IS_BETTER[selection_metric]
    best = ranking.iloc[0]
    se = standard_error(float(best[f"cv_{selection_metric}_std"]), n_folds)
    bound = best[column] - se if higher else best[column] + se
    table = ranking.assign(
        complexity=ranking["candidate"].map(complexity).astype(int),
        within_one_se=(ranking[column] >= bound) if higher else (ranking[column] <= bound))
    if rule == "best" or not table["within_one_se"].any():  # best undefined (NaN): no rule
        chosen = table.index[0]
        why = f"the best {column} ({best[column]:.4f}; thresholding.selection: best)"
    else:
        eligible = table[table["within_one_se"]]
        chosen = eligible["complexity"].idxmin()  # first of the simplest: the best of them
        why = (f"the simplest candidate ({COMPLEXITY_NAMES[table.loc[chosen, 'complexity']]}) "
               f"within one standard error ({se:.4f}) of the best {column} {best[column]:.4f}"
               f" ({best['candidate']})")
    table["chosen"] = table.index == chosen
    winner = table.loc[chosen]

    def lost(row) -> str:
        if rule == "best" or not row.within_one_se:
            return f"{row.candidate} {getattr(row, column):.4f} (" + (
                "ranked lower" if rule == "best" else
                f"beyond one standard error: {'below' if higher else 'above'} {bound:.4f}") + ")"
        if row.complexity > winner["complexity"]:
            return f"{row.candidate} {getattr(row, column):.4f} (within it, but more complex)"
        return f"{row.candidate} {getattr(row, column):.4f} (as simple, ranked lower)"

    runners_up = [lost(row) for row in table[~table["chosen"]].itertuples()]
    reason = (f"{winner['candidate']} ({column} {winner[column]:.4f}): {why}. Runners-up: "
              + ("; ".join(runners_up) or "none") + ".")
    return table, reason


CHALLENGER_SIDES = {"simpler": ((2,), (1,)), "complex": ((3, 4),)}
"""The validator's challenger of a champion, by the champion's complexity: a complex one
(a forest, boosting, a blend) is set against the best *simpler* candidate (a scorecard,
else a logistic regression); a scorecard or simpler one against the best *complex* one
(single or blend). Each side: groups of complexity levels, in order of preference."""


def challengers(table: pd.DataFrame) -> dict[str, str | None]:
    """The best candidate of each challenger side of a ranked table with ``complexity``
    (``choose_candidate``'s): side -> candidate name, or None when no candidate is of it.
    The prior-only benchmark is nobody's challenger."""
    found: dict[str, str | None] = {}
    for side, groups in CHALLENGER_SIDES.items():
        names = [table.loc[table["complexity"].isin(group), "candidate"] for group in groups]
        found[side] = next((str(name.iloc[0]) for name in names if len(name)), None)
    return found


def challenger_side(champion_complexity: int) -> str:
    """Which side of ``CHALLENGER_SIDES`` challenges a champion of this complexity."""
    return "simpler" if champion_complexity > 2 else "complex"


@dataclass(frozen=True)
class RegisteredChampion:
    """What the registry says of the model version that holds the alias."""

    version: str
    folds_fingerprint: str | None
    cv_value: Callable[[], float | None]
    """Reads its CV value of the candidate's selection metric (None when it can be neither
    read nor computed); called only when the two are compared, on the same folds."""
    complexity: int | None = None
    """Its place in ``families.COMPLEXITY`` (None: registered before versions carried it)."""
    candidate: str | None = None
    """Its name in the candidate ranking (tag ``candidate``)."""


@dataclass(frozen=True)
class ChampionRule:
    """How a candidate is judged against the champion (``thresholding.champion``)."""

    selection_metric: str
    min_improvement: float = 0.0
    on_other_folds: str = "keep"  # keep | promote
    alias: str = "champion"
    selection: str = "best"  # one_standard_error: a simpler candidate may be within 1 SE
    eligible: tuple[str, ...] | None = None  # thresholding.eligible; None: every candidate


VALUE_REFUSAL = "refused on value"
"""``_refusal``'s mark on a refusal by value alone, which the one-standard-error rule may overturn."""


def _one_standard_error(rule: ChampionRule, metric: str, score: float,
                        champion: RegisteredChampion, complexity: int, standard_error: float,
                        refusal: str | None, replaced: str) -> tuple[str | None, str]:
    """The run's own rule across runs, on the same folds: a simpler candidate may replace
    the champion within one standard error below it; a more complex one must beat it by
    one standard error; one as complex must not be worse (``refusal`` as it stands)."""
    if complexity == champion.complexity:
        return refusal, replaced
    held = champion.cv_value()
    higher = HIGHER_IS_BETTER[rule.selection_metric]
    simpler = complexity < champion.complexity
    bound = (held - standard_error if simpler else held + standard_error) if higher else (
        held + standard_error if simpler else held - standard_error)
    passes = score >= bound if higher else score <= bound
    names = (f"{COMPLEXITY_NAMES[complexity]} against "
             f"{COMPLEXITY_NAMES[champion.complexity]}")
    if passes:
        return None, (f"replaces version {champion.version} ({held:.4f}): "
                      + (f"simpler ({names}) and within one standard error "
                         f"({standard_error:.4f})" if simpler else
                         f"more complex ({names}) and better by more than one standard "
                         f"error ({standard_error:.4f})"))
    return (f"{metric} {score:.4f} " + (
        f"is more than one standard error ({standard_error:.4f}) below version "
        f"{champion.version}'s {held:.4f}" if simpler else
        f"does not beat version {champion.version}'s {held:.4f} by one standard error "
        f"({standard_error:.4f}), as a more complex model must ({names})")), ""


@dataclass(frozen=True)
class Promotion:
    """The verdict: whether the alias moves, and why, in a sentence a reviewer reads."""

    promoted: bool
    verdict: str


def promotion(rule: ChampionRule, cv_value: float, folds_fingerprint: str,
              champion: RegisteredChampion | None, complexity: int | None = None,
              standard_error: float = 0.0) -> Promotion:
    """Move the alias to the candidate unless it cannot be shown not worse; say why.

    Both models are compared on the same metric, direction and CV folds. A candidate whose
    metric is undefined (NaN, e.g. a fold without a single bad) is never promoted, nor,
    unless ``on_other_folds`` is ``promote``, one validated on other folds than the champion.
    The two rules combine: a candidate must not be worse than the champion (by
    ``min_improvement``); under ``one_standard_error``, on the same folds, the run's own
    trade applies instead when the two differ in complexity: a *simpler* candidate may lie
    within one ``standard_error`` below the champion, a *more complex* one must beat it by
    one standard error.
    """
    metric = f"cv_{rule.selection_metric}_mean"
    if (champion is not None and rule.eligible is not None and not math.isnan(cv_value)
            and champion.candidate not in rule.eligible):
        # policy, not a contest: the champion is of a kind policy no longer allows
        return Promotion(True, f"promoted to {rule.alias}: {metric} {cv_value:.4f}; replaces "
                               f"version {champion.version} ({champion.candidate}), which "
                               "thresholding.eligible no longer allows")
    refusal, replaced = _refusal(rule, metric, cv_value, folds_fingerprint, champion)
    compared_on_value = refusal is None or replaced == VALUE_REFUSAL
    if (compared_on_value and champion is not None and champion.folds_fingerprint ==
            folds_fingerprint and rule.selection == "one_standard_error"
            and None not in (complexity, champion.complexity)):
        refusal, replaced = _one_standard_error(rule, metric, cv_value, champion, complexity,
                                                standard_error, refusal, replaced)
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
                f"{required}"), VALUE_REFUSAL
    return None, f"replaces version {champion.version} ({held:.4f})"


@dataclass(frozen=True)
class GateDecision:
    """What validation does with the version it validated: the alias it takes (``champion``,
    ``challenger``, or None: aliases unchanged), why, and whether to say it in red."""

    alias: str | None
    message: str
    alarm: bool = False


def gate(verdict: str, awaiting: bool | None, holds_champion: bool, champion_exists: bool,
         mode: str, champion_changed: bool = False, comparison: str = "") -> GateDecision:
    """The registry gate (``validation.gate``): a version takes ``champion`` only after its
    validation, and under ``enforce`` never with the verdict ``not fit``.

    Args:
        verdict: the validation's verdict of this version.
        awaiting: True when thresholding found it not worse than the champion on the same
            folds (``promotion``) and registered it awaiting validation; False when that
            comparison refused it; None when it does not await validation (not registered
            so, or gated already).
        champion_changed: the champion is no longer the version it was compared with.
        comparison: what thresholding's comparison said (its ``champion_decision``).
        holds_champion: the version already holds ``champion`` (a re-validation).
        champion_exists: some version holds ``champion``.
        mode: ``enforce`` or ``warn``.
    """
    not_fit = verdict == "not fit"
    if holds_champion:
        return GateDecision(None, f"already the champion; verdict {verdict}", alarm=not_fit)
    if not awaiting:
        return GateDecision(None, "not awaiting validation: aliases unchanged" if awaiting is None
                            else f"registered, aliases unchanged ({comparison})")
    if champion_changed:
        return GateDecision(None, "the champion changed since this version was compared with "
                                  "it: aliases unchanged; rerun thresholding")
    if not champion_exists:
        return GateDecision("champion", (
            "takes champion as the first version although its verdict is not fit: a fresh "
            "registry must end with a champion; fix the findings before any use") if not_fit
            else f"takes champion as the first version; verdict {verdict}", alarm=not_fit)
    if not_fit and mode == "enforce":
        return GateDecision("challenger", "verdict not fit: the champion stays "
                                          "(validation.gate: enforce); registered as challenger",
                            alarm=True)
    return GateDecision("champion", "takes champion although its verdict is not fit "
                                    "(validation.gate: warn)" if not_fit
                        else f"takes champion; verdict {verdict}", alarm=not_fit)
