"""Nodes of the thresholding pipeline: choose, calibrate, cut, assemble, report, hand over.

The champion is chosen among every candidate the earlier stages cross-validated on the
persisted folds (baselines, compared families, the tuned model), calibrated, given its
cost-optimal cut-off and assembled into one ``PDScorer``: the object the registry stores
and everything downstream scores with. Reports read the decision policy from it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from credit_scoring import decisions
from credit_scoring.data.schema import features, target
from credit_scoring.decisions import DecisionPolicy, PDScorer
from credit_scoring.models import plots
from credit_scoring.models.blend import CANDIDATE as BLEND_CANDIDATE
from credit_scoring.models.blend import blend_candidate, blend_members, fit_blend
from credit_scoring.models.calibration import choose_calibration
from credit_scoring.models.estimators import fit_candidate
from credit_scoring.models.evaluation import (
    folds_fingerprint,
    out_of_fold_metrics,
    pd_metrics,
    scored_rows,
)
from credit_scoring.models.families import (
    FAMILIES,
    centring_reference,
    complexity,
    family_name,
)
from credit_scoring.models.scorecard import WoEScorecard, points_table
from credit_scoring.models.selection import challengers, choose_candidate, rank_candidates
from credit_scoring.parameters import Thresholding
from credit_scoring.validation.monitoring import development_reference
from credit_scoring.validation.stability import baseline, feature_baselines

logger = logging.getLogger(__name__)

NAIVE_CUTOFF = 0.5
STAGES = ("baselines", "model_comparison", "tuning")
"""Where champion candidates come from, simplest first: a tie goes to the simpler model."""


def rank_champion_candidates(
    model_input_train: pd.DataFrame,
    feature_schema: dict[str, Any],
    baselines_oof: pd.DataFrame,
    comparison_oof: pd.DataFrame,
    tuned_oof: pd.DataFrame,
    baselines: dict[str, Any],
    model_comparison: dict[str, Any],
    tuned_model_spec: dict[str, Any],
    params: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame, dict[str, Any], dict[str, Any],
           pd.DataFrame]:
    """Rank every cross-validated candidate on the same folds and metric; pick the best.

    Baselines, compared families and the tuned model each persisted their out-of-fold
    PDs on the folds data_processing wrote, so their CV metrics are directly comparable.
    The tuned model's CV value was also what its search maximised, so it is slightly
    optimistic; a simpler candidate wins ties. A blend of the ``blend.members`` best
    (``credit_scoring.models.blend``: a logistic stack, cross-fitted on the same folds) competes
    too, last, so it wins only by being strictly better.

    The winner follows ``thresholding.selection`` (``models.selection.choose_candidate``:
    by default the simplest candidate within one standard error of the best).

    Returns:
        The chosen candidate's specification (what ``calibrate_pd_model`` refits) with the
        reason it won, its out-of-fold PDs with target and fold, the ranking (one row per
        candidate: its CV metrics, complexity, whether within one standard error, chosen),
        the blend's own MLflow run (its members and CV metrics; none without a blend), and
        the validator's challengers (``selection.challengers``: the best simpler and the
        best complex candidate, each spec with its name and complexity, or None) with
        their out-of-fold PDs, which validation sets against the champion it validates.
    """
    tables = dict(zip(STAGES, (baselines_oof, comparison_oof, tuned_oof), strict=True))
    specs = {
        **{f"baselines.{name}": _stage_spec(name, spec, baselines)
           for name, spec in baselines["candidates"].items()},
        **{f"model_comparison.{name}": _stage_spec(name, spec, model_comparison)
           for name, spec in model_comparison["candidates"].items()},
        f"tuning.{tuned_model_spec['candidate']}": {
            key: tuned_model_spec[key]
            for key in ("candidate", "spec", "random_state", "class_weighting")},
    }
    target_column, fold_column = feature_schema["target"], feature_schema["fold_column"]
    development = scored_rows(model_input_train, fold_column)
    y, folds = development[target_column], development[fold_column]
    oof_pds = {}  # candidate -> out-of-fold PDs, in model_input_train's row order
    for stage, table in tables.items():
        if not _check_same_rows(table, model_input_train, target_column, fold_column, stage):
            logger.info("%s ranked its candidates on a sample of %d training rows: they do not "
                        "compete for champion.", stage, len(table))
            continue
        for name in specs:
            if name.startswith(f"{stage}.") and specs[name]["candidate"] in table:
                oof_pds[name] = table.loc[y.index, specs[name]["candidate"]]
    config = Thresholding.model_validate(params)
    metric = config.champion.selection_metric
    rows = [{"candidate": name, **out_of_fold_metrics(y, pds, folds)}
            for name, pds in oof_pds.items()]
    members = blend_members(rank_candidates(pd.DataFrame(rows), metric), specs,
                            config.blend.members)
    if members:
        specs[BLEND_CANDIDATE], blended = blend_candidate(pd.DataFrame({m: oof_pds[m] for m in members}),
                                                y, folds, specs)
        oof_pds[BLEND_CANDIDATE] = pd.Series(blended, index=y.index)
        rows.append({"candidate": BLEND_CANDIDATE, **out_of_fold_metrics(y, oof_pds[BLEND_CANDIDATE], folds)})
    ranking = rank_candidates(pd.DataFrame(rows), metric)
    ranking, reason = _choose(ranking[["rank", "candidate",
                                       *[c for c in ranking if c.startswith("cv_")]]],
                              config, {name: _complexity(specs[name]) for name in oof_pds},
                              folds.nunique())
    chosen = ranking.loc[ranking["chosen"], "candidate"].iloc[0]
    logger.info("Champion candidate out of %d: %s", len(ranking), reason)
    oof = development[[target_column, fold_column]].assign(pd_uncalibrated=oof_pds[chosen])
    blend_spec = specs.get(BLEND_CANDIDATE, {}).get("spec", {})
    runs = ({"blend": {"params": {"intercept": blend_spec["intercept"],
                                  "weights": {m["candidate"]: m["weight"]
                                              for m in blend_spec["members"]}},
                       "metrics": ranking.set_index("candidate").loc[
                           BLEND_CANDIDATE, [c for c in ranking if c.startswith("cv_")]].to_dict()}}
            if members else {})
    sides = challengers(ranking)
    challenger_oof = development[[target_column, fold_column]].assign(
        **{name: oof_pds[name] for name in sides.values() if name})
    sides = {side: name and {**specs[name], "candidate": name,
                             "complexity": _complexity(specs[name])}
             for side, name in sides.items()}
    return ({**specs[chosen], "candidate": chosen, "selection_reason": reason}, oof, ranking,
            runs, sides, challenger_oof)


def _choose(ranking: pd.DataFrame, config: Thresholding, complexity: dict[str, int],
            n_folds: int) -> tuple[pd.DataFrame, str]:
    """``choose_candidate`` among the ``eligible`` candidates (all when not set); the others
    stay in the ranking, marked not eligible, and remain challengers."""
    metric = config.champion.selection_metric
    if config.eligible is None:
        table, reason = choose_candidate(ranking, metric, config.selection, complexity, n_folds)
        return table.assign(eligible=True), reason
    unknown = sorted(set(config.eligible) - set(ranking["candidate"]))
    if unknown:
        raise ValueError(f"thresholding.eligible names {unknown}, which did not compete; the "
                         f"candidates are {ranking['candidate'].tolist()}.")
    allowed = ranking["candidate"].isin(config.eligible)
    table, reason = choose_candidate(ranking[allowed], metric, config.selection, complexity,
                                     n_folds)
    # not judged against the eligible best: within_one_se left empty
    others = ranking[~allowed].assign(complexity=ranking["candidate"].map(complexity),
                                      within_one_se=None, chosen=False)
    column = f"cv_{metric}_mean"
    reason = (reason.replace(": ", " among thresholding.eligible: ", 1)
              + " Not eligible (thresholding.eligible): "
              + "; ".join(f"{row.candidate} {getattr(row, column):.4f}"
                          for row in others.itertuples()) + ".")
    return (pd.concat([table.assign(eligible=True), others.assign(eligible=False)])
            .sort_values("rank").reset_index(drop=True)), reason


def _complexity(spec: dict[str, Any]) -> int:
    """A candidate's place in ``families.COMPLEXITY``."""
    return complexity(spec["spec"]["estimator"])


def _stage_spec(name: str, spec: dict[str, Any], stage_params: dict[str, Any]) -> dict[str, Any]:
    return {"candidate": name, "spec": spec, "random_state": stage_params["random_state"],
            "class_weighting": stage_params["class_weighting"]}


def _check_same_rows(table: pd.DataFrame, model_input_train: pd.DataFrame, target_column: str,
                     fold_column: str, stage: str) -> bool:
    """True if ``table`` covers every training row, False if a sample of them (same targets
    and folds); raises if its rows are not (a subset of) the current training rows."""
    same = table.index.isin(model_input_train.index).all() and all(
        table[c].equals(model_input_train.loc[table.index, c])
        for c in (target_column, fold_column))
    if not same:
        raise ValueError(
            f"The out-of-fold PDs of {stage} do not match model_input_train (rows, target or "
            f"folds changed since it ran); rerun `kedro run --pipelines {stage}` first."
        )
    return len(table) == len(model_input_train)


def calibrate_pd_model(
    model_input_train: pd.DataFrame,
    feature_schema: dict[str, Any],
    champion_spec: dict[str, Any],
    candidate_oof: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """Refit the chosen candidate once on all of train; choose and fit its calibration.

    The estimator is refitted with the seed and class weighting recorded in
    ``champion_spec`` (a blend: each member with its own). The calibration is chosen among ``calibration.methods`` on the
    candidate's persisted out-of-fold PDs (``calibration.choose_calibration``: each method
    cross-fitted over the persisted folds), so no model is refitted to calibrate and the
    cut-off is chosen on PDs each from a model that never saw that applicant.

    Returns:
        The PD model: ``model`` (the fitted pipeline) and ``calibrator`` (None when
        ``none`` won); the out-of-fold PDs before and after calibration and the score, with
        target and fold; and the cross-fitted log loss and Brier score of every method.
    """
    target_column, fold_column = feature_schema["target"], feature_schema["fold_column"]
    X, y = features(model_input_train, feature_schema), target(model_input_train, feature_schema)
    refit = fit_blend if champion_spec["candidate"] == BLEND_CANDIDATE else fit_candidate
    model = refit(champion_spec, X, y, feature_schema)
    config = Thresholding.model_validate(params)
    uncalibrated = candidate_oof["pd_uncalibrated"]
    development = scored_rows(model_input_train, fold_column)
    calibrator, calibrated, report = choose_calibration(
        uncalibrated, development[target_column], development[fold_column],
        config.calibration.methods, config.calibration.choose_by)
    oof = development[[target_column, fold_column]].assign(
        pd_uncalibrated=uncalibrated.to_numpy(), pd=calibrated,
        score=config.scaling.points(calibrated),
    )
    return {"model": model, "calibrator": calibrator}, oof, report


def select_cutoff(
    calibration_oof: pd.DataFrame, feature_schema: dict[str, Any], params: dict[str, Any]
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The cost-minimising cut-off on out-of-fold PDs, within the configured constraints.

    Returns:
        The cut-off (PD and scorecard points) with its out-of-fold expected cost,
        approval rate and bad rate, next to the naive 0.5 cut-off and the analytic
        optimum for perfectly calibrated PDs; and the whole cost curve.
    """
    config = Thresholding.model_validate(params)
    y = calibration_oof[feature_schema["target"]]
    curve = decisions.cost_curve(y, calibration_oof["pd"], config.costs)
    chosen = decisions.choose_cutoff(curve, config.constraints)
    naive = decisions.decision_outcomes(y, calibration_oof["pd"] >= NAIVE_CUTOFF, config.costs)
    cutoff = {
        "cutoff": float(chosen["cutoff"]),
        "cutoff_score": int(config.scaling.points([chosen["cutoff"]])[0]),
        "analytic_cutoff": decisions.analytic_cutoff(config.costs),
        "costs": config.costs.model_dump(),
        "constraints": config.constraints.model_dump(),
        "oof_expected_cost": float(chosen["expected_cost"]),
        "oof_approval_rate": float(chosen["approval_rate"]),
        "oof_bad_rate_approved": float(chosen["bad_rate_approved"]),
        "oof_expected_cost_at_0.5": naive["expected_cost"],
    }
    logger.info(
        "Cut-off PD %.3f (score %d): out-of-fold cost per applicant %.3f vs %.3f at 0.5, "
        "approval rate %.1f%%, bad rate among approved %.1f%%.",
        cutoff["cutoff"], cutoff["cutoff_score"], cutoff["oof_expected_cost"],
        naive["expected_cost"], 100 * cutoff["oof_approval_rate"],
        100 * cutoff["oof_bad_rate_approved"],
    )
    return cutoff, curve


def assemble_champion(
    pd_model: dict[str, Any],
    cutoff: dict[str, Any],
    calibration_oof: pd.DataFrame,
    model_input_train: pd.DataFrame,
    feature_schema: dict[str, Any],
    params: dict[str, Any],
    reasons: dict[str, Any],
) -> PDScorer:
    """The deployable champion: contract, model, calibrator and the whole decision policy.

    Score bands are fixed on the out-of-fold scores of the development sample, and the
    score and every feature keep their training distribution (PSI baselines), as does a
    linear model's average encoded input, so the model alone is enough to decide, explain
    and monitor. Reasons are measured against the development sample's approved applicants
    (out-of-fold PD below the cut-off): their average contribution per attribute is stored
    with the statements of the reason dictionary; a scorecard's against each attribute's
    best class (points below their maximum).
    """
    config = Thresholding.model_validate(params)
    model, calibrator = pd_model["model"], pd_model["calibrator"]
    X = features(model_input_train, feature_schema)
    ratios = feature_schema["preparation"]["feature_recipes"].get("ratios") or {}
    decision_policy = DecisionPolicy(
        cutoff=cutoff["cutoff"], cutoff_score=cutoff["cutoff_score"], costs=config.costs,
        constraints=config.constraints, scaling=config.scaling,
        band_edges=decisions.band_edges(calibration_oof["score"], config.score_bands),
        reason_codes=config.reason_codes,
        statements=decisions.resolve_statements(list(X.columns), reasons, ratios),
    )
    family = family_name(model[-1])
    reference = {
        "score": baseline(calibration_oof["score"], config.psi_bins),
        "features": feature_baselines(X, feature_schema, config.psi_bins),
        "development": development_reference(calibration_oof[feature_schema["target"]],
                                             calibration_oof["pd"], decision_policy.cutoff),
    }
    encoded_mean = centring_reference(family, model[:-1], X)
    if encoded_mean is not None:
        reference["encoded_mean"] = encoded_mean
    champion = PDScorer(family, model[:-1], model[-1], calibrator, feature_schema,
                        decision_policy, reference)
    approved = X[calibration_oof["pd"].reindex(X.index).to_numpy() < decision_policy.cutoff]
    if len(approved) > reasons["reference_rows"]:
        approved = approved.sample(reasons["reference_rows"], random_state=reasons["seed"])
    contribution = champion.contributions(approved) if len(approved) else None
    if contribution is not None:
        reference["reasons"] = decisions.reference_contributions(
            contribution, approved, from_best_class=FAMILIES[family].from_best_class)
    elif not len(approved):
        logger.warning("No development applicant is approved at the cut-off %.4f: reasons are "
                       "measured from the model's average applicant instead of the approved "
                       "ones. Check the costs and constraints (thresholding).",
                       decision_policy.cutoff)
    return champion


def evaluate_decisions(
    champion_model: PDScorer,
    model_input_test: pd.DataFrame,
    holdout_applicants: pd.DataFrame,
    feature_schema: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score the test applicants once, from their raw rows, and compare 0.5 with the cut-off.

    The test rows go through the deployed path (``PDScorer.score`` on the raw hold-out rows),
    and their PDs must equal those of the rows data_processing prepared: a difference would
    be training / serving skew, and stops the run before anything is registered.

    Returns:
        Per test applicant: target, PD before / after calibration, score, band and
        decision; and one row per cut-off with the confusion matrix in lending words,
        approval rate, bad rate among approved, expected cost per applicant and the saving
        in percent of the naive cost.
    """
    X, y = features(model_input_test, feature_schema), target(model_input_test, feature_schema)
    if len(holdout_applicants) != len(X):
        raise ValueError(
            f"holdout_applicants has {len(holdout_applicants)} rows, model_input_test {len(X)}: "
            "they come from different data_processing runs; rerun it first."
        )
    policy = champion_model.policy
    scored = champion_model.score(holdout_applicants.set_axis(X.index), n_reasons=0)
    pd_scores = scored["pd"].to_numpy()
    skew = np.abs(pd_scores - champion_model.pd(X)).max()
    if skew > 1e-9:
        raise ValueError(
            f"Raw test rows scored by the champion differ from the prepared ones (largest PD "
            f"difference {skew:.3g}): scoring prepares rows differently from data_processing."
        )
    scores = pd.concat([
        pd.DataFrame({feature_schema["target"]: y, "pd_uncalibrated": champion_model.estimator
                      .predict_proba(champion_model.preprocess.transform(X))[:, 1]}, index=X.index),
        scored[["pd", "score", "band", "decision"]],
    ], axis=1)
    rows = {
        name: {"cutoff": threshold,
               **decisions.decision_outcomes(y, pd_scores >= threshold, policy.costs)}
        for name, threshold in (("naive 0.5", NAIVE_CUTOFF), ("cost-optimal", policy.cutoff))
    }
    report = pd.DataFrame.from_dict(rows, orient="index").rename_axis("cut-off rule").reset_index()
    naive_cost = report["expected_cost"].iloc[0]
    report["cost_saving_pct"] = 100 * (naive_cost - report["expected_cost"]) / naive_cost
    logger.info(
        "Test set: expected cost per applicant %.3f at 0.5 vs %.3f at the cut-off (%.1f%% saved).",
        naive_cost, report["expected_cost"].iloc[1], report["cost_saving_pct"].iloc[1],
    )
    return scores, report


def score_band_report(
    test_scores: pd.DataFrame, feature_schema: dict[str, Any], champion_model: PDScorer
) -> pd.DataFrame:
    """The champion's score bands on the test set: count, bads, bad rate, decision."""
    return decisions.score_bands(
        test_scores[feature_schema["target"]], test_scores["score"].to_numpy(),
        (test_scores["decision"] == "decline").to_numpy(), champion_model.policy.band_edges,
    )


def decision_markdown(
    decision_report: pd.DataFrame, score_bands: pd.DataFrame, champion_model: PDScorer
) -> str:
    """One Markdown page for a credit committee: the cut-off, its effect, the score bands."""
    policy = champion_model.policy
    costs = policy.costs
    return "\n".join([
        f"# Cut-off decision: decline when PD >= {policy.cutoff:.4f} "
        f"(score {policy.cutoff_score})",
        "",
        f"Decline when PD >= **{policy.cutoff:.4f}** (about score **{policy.cutoff_score}**), "
        f"chosen on out-of-fold PDs of the training set for costs accept-bad = "
        f"{costs.accept_bad}, decline-good = {costs.decline_good} (analytic optimum for "
        f"calibrated PDs: {decisions.analytic_cutoff(costs):.4f}).",
        "",
        "## Test set: naive 0.5 versus the cost-optimal cut-off",
        "",
        plots.markdown_table(decision_report),
        "",
        "## Score bands (test set; bands fixed on the development sample)",
        "",
        plots.markdown_table(score_bands),
        "",
        *_points_section(champion_model),
    ])


def _points_section(champion_model: PDScorer) -> list[str]:
    """A scorecard champion's points table (every class of every feature), for the page."""
    if not isinstance(champion_model.estimator, WoEScorecard):
        return []
    table = points_table(champion_model.estimator, champion_model.policy.scaling,
                         champion_model.calibrator)
    return ["## Points table (a WoE scorecard: an applicant's points add up to the score)", "",
            plots.markdown_table(table.round({"Count (%)": 4, "Event rate": 4, "WoE": 4,
                                              "IV": 4, "Coefficient": 4, "Points": 1})), ""]


def registry_description(policy: DecisionPolicy, metrics: dict[str, float],
                         selection_metric: str) -> str:
    """The model version's description in the registry: plain text, numbers first, since the
    registry's list of versions shows its first line as written."""
    return (f"Declines when PD \u2265 {policy.cutoff:.4f}, score {policy.cutoff_score}. "
            f"Costs: accepting a bad {policy.costs.accept_bad:g}, declining a good "
            f"{policy.costs.decline_good:g}. On test: approves "
            f"{metrics['test_approval_rate']:.0%} of applicants, "
            f"{metrics['test_bad_rate_approved']:.1%} of them bad; expected cost "
            f"{metrics['test_expected_cost']:.3f} per applicant "
            f"({metrics['test_expected_cost_at_0.5']:.3f} at PD 0.5). "
            f"cv_{selection_metric}_mean {metrics[f'cv_{selection_metric}_mean']:.4f}. "
            "The cut-off decision and score "
            "bands: decision_report.md in the run's artifacts.")


def threshold_plots(
    calibration_oof: pd.DataFrame,
    test_scores: pd.DataFrame,
    cost_curve: pd.DataFrame,
    feature_schema: dict[str, Any],
    champion_model: PDScorer,
) -> dict[str, Figure]:
    """Cost curve, reliability curves (out-of-fold and test) and the score distribution at
    the champion's cut-off: the candidate's plots, logged on its MLflow run."""
    target_column = feature_schema["target"]
    policy = champion_model.policy
    return {
        "cost_curve": plots.cost_curve_plot(cost_curve, policy.cutoff, NAIVE_CUTOFF),
        "reliability_train": plots.reliability_plot(
            calibration_oof[target_column], calibration_oof["pd_uncalibrated"],
            calibration_oof["pd"], "Reliability, out-of-fold PDs on train",
        ),
        "reliability_test": plots.reliability_plot(
            test_scores[target_column], test_scores["pd_uncalibrated"], test_scores["pd"],
            "Reliability, test set",
        ),
        "score_distribution": plots.score_distribution_plot(
            test_scores[target_column], test_scores["score"], policy.cutoff_score
        ),
    }


def champion_metrics(
    calibration_oof: pd.DataFrame,
    test_scores: pd.DataFrame,
    decision_report: pd.DataFrame,
    cutoff: dict[str, Any],
    calibration_report: pd.DataFrame,
    feature_schema: dict[str, Any],
) -> dict[str, float]:
    """What the candidate is judged on, as MLflow metrics.

    CV (per persisted fold, calibrated out-of-fold PDs) and test PD metrics, Brier before
    / after calibration, the cross-fitted log loss and Brier score of every calibration
    method (``calibration_<method>_<loss>``), and the cut-off's cost, approval and bad
    rates at 0.5 and at the cut-off.
    """
    target_column = feature_schema["target"]
    y_oof, y_test = calibration_oof[target_column], test_scores[target_column]
    folds = calibration_oof[feature_schema["fold_column"]]
    metrics = out_of_fold_metrics(y_oof, calibration_oof["pd"], folds)
    metrics.update({f"test_{k}": v for k, v in pd_metrics(y_test, test_scores["pd"]).items()})
    metrics.update({
        "cv_brier_uncalibrated": out_of_fold_metrics(
            y_oof, calibration_oof["pd_uncalibrated"], folds
        )["cv_brier_mean"],
        "test_brier_uncalibrated": pd_metrics(y_test, test_scores["pd_uncalibrated"])["brier"],
        "cutoff": cutoff["cutoff"],
        "cutoff_score": cutoff["cutoff_score"],
        "cv_expected_cost": cutoff["oof_expected_cost"],
        "cv_expected_cost_at_0.5": cutoff["oof_expected_cost_at_0.5"],
    })
    for row in calibration_report.itertuples():
        metrics[f"calibration_{row.method}_log_loss"] = row.log_loss
        metrics[f"calibration_{row.method}_brier"] = row.brier
    by_rule = decision_report.set_index("cut-off rule")
    # named as cv_expected_cost / cv_expected_cost_at_0.5: the naive rule is a suffix
    for rule, suffix in (("naive 0.5", "_at_0.5"), ("cost-optimal", "")):
        for key in ("expected_cost", "approval_rate", "bad_rate_approved"):
            metrics[f"test_{key}{suffix}"] = float(by_rule.loc[rule, key])
    metrics["test_cost_saving_pct"] = float(by_rule.loc["cost-optimal", "cost_saving_pct"])
    return metrics


def champion_candidate(
    champion_model: PDScorer,
    metrics: dict[str, float],
    decision_summary: str,
    champion_spec: dict[str, Any],
    calibration_oof: pd.DataFrame,
    calibration_report: pd.DataFrame,
    holdout_applicants: pd.DataFrame,
    feature_schema: dict[str, Any],
    figures: dict[str, Figure],
    feature_build_report: dict[str, Any],
    params: dict[str, Any],
) -> dict[str, Any]:
    """Everything the champion's MLflow run and model version carry, its plots included.

    The version records the data it was developed on: the feature build's fingerprint of
    every raw file (path, SHA-256, bytes), as the tag ``data_fingerprints``.

    The version's description is plain text with the cut-off and its effect on test
    (``registry_description``); the Markdown decision summary, with the score bands, is
    the champion's local ``decision_report.md`` and an artifact of its run. The
    selection metric, compared on the same folds (their fingerprint and the out-of-fold
    PDs travel with the candidate), decides whether the registry alias moves.
    """
    config, policy = Thresholding.model_validate(params), champion_model.policy
    y_oof = calibration_oof[feature_schema["target"]]
    folds = calibration_oof[feature_schema["fold_column"]]
    calibration = calibration_report.loc[calibration_report["chosen"], "method"].iloc[0]
    return {
        "model": champion_model,
        "params": {
            "candidate": champion_spec["candidate"],
            "estimator": champion_spec["spec"]["estimator"],
            "class_weighting": champion_spec["class_weighting"],
            "calibration": calibration,
            "calibration_choose_by": config.calibration.choose_by,
            **({"blend": {m["candidate"]: m["weight"] for m in champion_spec["spec"]["members"]}}
               if champion_spec["candidate"] == BLEND_CANDIDATE else {}),
            # the registered policy, flat at the MLflow edge (scorecard: the score scaling)
            **{key: policy.as_config()[key] for key in ("costs", "constraints", "scorecard")},
        },
        "metrics": metrics,
        "tags": {"candidate": champion_spec["candidate"],
                 "calibration": calibration,
                 "complexity": _complexity(champion_spec),
                 "selection_reason": champion_spec["selection_reason"],
                 "data_fingerprints": json.dumps(feature_build_report.get("sources") or {})},
        "description": registry_description(policy, metrics,
                                            config.champion.selection_metric),
        "decision_report": decision_summary,
        # raw rows, as the model receives them: the signature and the serving example
        "input_example": unlinked_rows(holdout_applicants, 20, champion_spec["random_state"]),
        "selection_metric": config.champion.selection_metric,
        "min_improvement": config.champion.min_improvement,
        "on_other_folds": config.champion.on_other_folds,
        "selection": config.selection,
        "eligible": config.eligible,
        # what a later candidate is compared on: same folds, any metric
        "oof_predictions": pd.DataFrame({"bad": y_oof, "fold": folds, "pd": calibration_oof["pd"]}),
        "folds_fingerprint": folds_fingerprint(y_oof, folds),
        "figures": figures,
    }


def unlinked_rows(applicants: pd.DataFrame, n_rows: int, random_state: int) -> pd.DataFrame:
    """``n_rows`` rows whose every column is drawn from a different applicant.

    The model's input example travels with it (registry, Hub release): realistic values
    and types, but no real applicant's record.
    """
    rng = np.random.default_rng(random_state)
    return pd.DataFrame({column: applicants[column].to_numpy()[rng.integers(0, len(applicants),
                                                                            n_rows)]
                         for column in applicants.columns})
