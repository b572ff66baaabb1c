"""Nodes of the validation pipeline: the evidence a model-risk reviewer asks for, per section.

Every node reads the registered model version under validation (its contract, decision
policy and stored out-of-fold PDs) and the development data, and returns plain tables and
figure data; ``validation_report`` renders them into one HTML page and one JSON file.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import brier_score_loss, roc_curve

from credit_scoring import decisions
from credit_scoring.data.schema import features, target
from credit_scoring.models import families
from credit_scoring.models.blend import CANDIDATE as BLEND_CANDIDATE
from credit_scoring.models.blend import fit_blend
from credit_scoring.models.estimators import fit_candidate, predict_pd
from credit_scoring.models.evaluation import scored_rows
from credit_scoring.models.scorecard import TABLE_COLUMNS, WoEScorecard, points_table
from credit_scoring.models.selection import challenger_side
from credit_scoring.validation.stability import psi_from_baseline, stability_status
from credit_scoring.validation.statistics import (
    auc_confidence,
    auc_difference,
    gains_table,
    hosmer_lemeshow,
    jeffreys,
    ks_confidence,
    pd_groups,
    traffic_light,
)

logger = logging.getLogger(__name__)

CHALLENGER_COLUMNS = ["sample", "model", "candidate", "complexity", "auc", "low", "high",
                      "p_value"]
SAMPLES = {"oof": "train (out-of-fold)", "in_time": "in-time holdout", "test": "test"}
"""The samples' names, as every table of the report writes them (test is the out-of-time
window when the split is dated; the in-time holdout exists only when configured)."""
CURVE_POINTS = 200
"""Points kept per curve in the JSON: enough to draw it, small at any sample size."""


def score_test_applicants(
    model_version: dict[str, Any],
    holdout_applicants: pd.DataFrame,
    model_input_test: pd.DataFrame,
    feature_schema: dict[str, Any],
) -> pd.DataFrame:
    """The test applicants scored from their raw rows by the model under validation.

    Returns:
        Per applicant: the observed default flag, PD, score, band, decision and reasons.
    """
    scorer = model_version["model"]
    scored = scorer.score(holdout_applicants.set_axis(model_input_test.index))
    return scored.assign(bad=target(model_input_test, feature_schema).to_numpy())


def _thinned(**columns: np.ndarray) -> dict[str, list[float]]:
    """At most ``CURVE_POINTS`` evenly spaced points of equally long columns, first and last kept."""
    length = len(next(iter(columns.values())))
    keep = np.unique(np.linspace(0, length - 1, min(length, CURVE_POINTS)).astype(int))
    return {name: np.round(np.asarray(values, dtype=float)[keep], 6).tolist()
            for name, values in columns.items()}


def _roc(y, pd_scores) -> dict[str, list[float]]:
    fpr, tpr, _ = roc_curve(y, pd_scores)
    return _thinned(x=fpr, y=tpr)


def _samples(model_version: dict[str, Any], test_scores: pd.DataFrame,
             in_time_scores: pd.DataFrame) -> dict[str, pd.DataFrame]:
    oof = model_version["oof_predictions"]
    samples = {SAMPLES["oof"]: oof[["bad", "pd"]], SAMPLES["in_time"]: in_time_scores,
               SAMPLES["test"]: test_scores}
    return {name: sample[["bad", "pd"]].astype({"bad": int, "pd": float})
            for name, sample in samples.items() if len(sample)}


def discrimination(
    model_version: dict[str, Any], test_scores: pd.DataFrame, in_time_scores: pd.DataFrame,
    params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """AUC, Gini and KS with confidence intervals; ROC, CAP and KS curves; gains by decile.

    Returns:
        One row per sample (out-of-fold train, the in-time holdout when there is one, test)
        with each statistic and its interval; the curves (thinned to ``CURVE_POINTS``); the
        test gains table.
    """
    level, bootstrap = params["confidence_level"], params["bootstrap"]
    rows, curves = [], {}
    for name, sample in _samples(model_version, test_scores, in_time_scores).items():
        y, pd_scores = sample["bad"].to_numpy(), sample["pd"].to_numpy()
        auc = auc_confidence(y, pd_scores, level)
        ks = ks_confidence(y, pd_scores, bootstrap["resamples"], bootstrap["seed"], level)
        rows.append({"sample": name, "applicants": len(y), "bads": int(y.sum()),
                     **{k: auc[k] for k in ("auc", "auc_low", "auc_high")},
                     "gini": 2 * auc["auc"] - 1, "gini_low": 2 * auc["auc_low"] - 1,
                     "gini_high": 2 * auc["auc_high"] - 1, **ks})
        fpr, tpr, thresholds = roc_curve(y, pd_scores)
        order = np.argsort(-pd_scores, kind="stable")
        captured = np.r_[0, np.cumsum(y[order]) / y.sum()]
        share = np.arange(len(y) + 1) / len(y)
        finite = np.isfinite(thresholds)
        curves[name] = {
            "roc": _thinned(x=fpr, y=tpr),
            "cap": _thinned(x=share, y=captured),
            "ks": _thinned(pd=thresholds[finite], bads_above=tpr[finite],
                           goods_above=fpr[finite]),
            "bad_rate": float(y.mean()),
        }
    gains = gains_table(test_scores["bad"], test_scores["pd"], params["gains_groups"])
    return pd.DataFrame(rows), curves, gains


def calibration(
    model_version: dict[str, Any], test_scores: pd.DataFrame, in_time_scores: pd.DataFrame,
    params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Brier and Hosmer-Lemeshow per sample; per score band the Jeffreys test with its light.

    Returns:
        Per sample: Brier score, HL statistic, degrees of freedom and p-value; per score band
        (the model's own bands, out-of-fold train and test): applicants, bads, mean PD,
        observed default rate, Jeffreys interval and p-value, traffic light; the
        reliability curves (mean PD and default rate per PD group).
    """
    policy = model_version["model"].policy
    lights = params["jeffreys"]
    summary, bands, reliability = [], [], {}
    for name, sample in _samples(model_version, test_scores, in_time_scores).items():
        y, pd_scores = sample["bad"].to_numpy(), sample["pd"].to_numpy()
        summary.append({"sample": name, "brier": brier_score_loss(y, pd_scores),
                        **hosmer_lemeshow(y, pd_scores, params["hosmer_lemeshow_groups"],
                                          holdout=name != SAMPLES["oof"])})
        table = pd.DataFrame({"band": policy.bands(policy.points(pd_scores)),
                              "bad": y, "pd": pd_scores}).groupby("band").agg(
            applicants=("bad", "size"), bads=("bad", "sum"), mean_pd=("pd", "mean"))
        table["default_rate"] = table["bads"] / table["applicants"]
        test = jeffreys(table["bads"], table["applicants"], table["mean_pd"],
                        params["confidence_level"])
        table = table.assign(dr_low=test["low"], dr_high=test["high"],
                             jeffreys_p_value=test["p_value"],
                             light=traffic_light(test["p_value"], lights["amber_below"],
                                                 lights["red_below"]),
                             # the light tests underestimation only (EBA): say when the
                             # interval lies below the PD too (a conservative band)
                             pd_vs_interval=np.select(
                                 [table["mean_pd"] > test["high"], table["mean_pd"] < test["low"]],
                                 ["PD above (conservative)", "PD below"], default="within"))
        bands.append(table.reset_index().assign(sample=name))
        groups = pd.DataFrame({"bad": y, "pd": pd_scores}).groupby(
            pd_groups(pd_scores, params["hosmer_lemeshow_groups"]))
        reliability[name] = {"mean_pd": groups["pd"].mean().round(6).tolist(),
                             "default_rate": groups["bad"].mean().round(6).tolist()}
    band_table = pd.concat(bands, ignore_index=True)
    band_table.insert(1, "scores", band_table["band"].map(_band_scores(policy.band_edges)))
    return pd.DataFrame(summary), band_table[["sample", *band_table.columns[:-1]]], reliability


def _band_scores(edges: list[float]) -> dict[int, str]:
    """The score range of each band (band 1: the lowest scores, riskiest), in whole points
    as every score is shown."""
    bounds = [f"{edge:.0f}" for edge in edges]
    ranges = [f"< {bounds[0]}",
              *[f"{low} to < {high}" for low, high in zip(bounds[:-1], bounds[1:], strict=True)],
              f">= {bounds[-1]}"]
    return dict(enumerate(ranges, start=1))


def stability(
    model_version: dict[str, Any],
    model_input_test: pd.DataFrame,
    test_scores: pd.DataFrame,
    feature_schema: dict[str, Any],
    latest_batch: pd.DataFrame | None,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, str]:
    """PSI of the score and CSI of every feature: test, and the latest scoring batch, against
    the development sample.

    The reference is the distribution the model carries (its training baselines), so the
    same numbers come out wherever the model is validated. The latest scoring batch
    (``kedro run --pipelines scoring`` writes its stability) joins as two more columns when
    this model version scored it.

    Returns:
        Per variable: kind (PSI / CSI), index and status on test (and on the latest batch);
        a sentence saying which batch was compared, or why none.
    """
    baselines = model_version["model"].baselines
    X = features(model_input_test, feature_schema)
    rows = [{"variable": "score", "kind": "PSI",
             "index": psi_from_baseline(baselines["score"], test_scores["score"])}]
    rows += [{"variable": column, "kind": "CSI",
              "index": psi_from_baseline(baselines["features"][column], X[column])}
             for column in X.columns]
    table = pd.DataFrame(rows)
    table["status"] = stability_status(table["index"], params["psi"]["watch"],
                                       params["psi"]["alarm"])
    table = table.sort_values(["kind", "index"], ascending=[False, False], ignore_index=True)
    if latest_batch is None:
        return table, "No scoring batch yet (kedro run --pipelines scoring writes one)."
    scored_by = set(latest_batch["model_run_id"])
    if scored_by != {model_version["run_id"]}:
        return table, (f"The latest scoring batch was scored by another model (MLflow run "
                       f"{', '.join(map(str, scored_by))}): not compared.")
    batch = latest_batch.set_index("variable")
    table["latest_batch_index"] = table["variable"].map(batch["psi"])
    table["latest_batch_status"] = table["variable"].map(batch["status"])
    return table, "The latest scoring batch, scored by this version, is compared too."


def feature_effects(
    model_version: dict[str, Any],
    model_input_test: pd.DataFrame,
    feature_schema: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Does each feature with a declared direction move the PD the declared way?

    The model's effect of a feature is read from its contributions (log-odds; TreeSHAP for
    trees, the linear term for a logistic model) on a seeded sample of test applicants:
    the sign of the Spearman correlation between the feature's value and its contribution
    (missing values left out). Against data_processing.expected_effects: "as expected",
    "reversed" (a violation) or "flat" (|rho| below ``flat_below``: no clear effect).

    Returns:
        Per declared feature: expected and observed direction, rho, status, whether the
        model was constrained to it; the dependence points (value, contribution) per feature.
    """
    settings = params["feature_effects"]
    scorer = model_version["model"]
    directions = {column: sign for column, sign in feature_schema["expected_effects"].items()
                  if column in scorer.features}
    sample = model_input_test.sample(min(len(model_input_test), settings["sample_rows"]),
                                     random_state=settings["seed"])
    contributions = scorer.contributions(sample[scorer.features]) if directions else None
    # whether this version was fitted under constraints: its own training contract says
    constrained = bool((scorer.feature_schema or {}).get("monotone_constraints")
                       and families.FAMILIES[scorer.family].monotone)
    rows, dependence = [], {}
    for column, sign in directions.items():
        row = {"feature": column, "expected": "increasing" if sign > 0 else "decreasing",
               "constrained": constrained}
        if contributions is None:
            rows.append({**row, "rho": np.nan, "status": "not explainable"})
            continue
        values, effect = sample[column].to_numpy(dtype=float), contributions[column].to_numpy()
        known = ~np.isnan(values)
        rho = (float(spearmanr(values[known], effect[known]).statistic)
               if len(np.unique(values[known])) > 1 else np.nan)
        status = ("flat" if not abs(rho) >= settings["flat_below"]
                  else "as expected" if rho * sign > 0 else "reversed")
        rows.append({**row, "rho": rho, "status": status})
        order = np.argsort(values[known], kind="stable")
        dependence[column] = _thinned(value=values[known][order], contribution=effect[known][order])
    return (pd.DataFrame(rows, columns=["feature", "expected", "rho", "status", "constrained"]),
            dependence)


def _same_rows(oof: pd.DataFrame | None, model_input_train: pd.DataFrame,
               feature_schema: dict[str, Any]) -> bool:
    """Whether stored out-of-fold PDs are of these training rows, targets and folds."""
    columns = [feature_schema["target"], feature_schema["fold_column"]]
    development = scored_rows(model_input_train, feature_schema["fold_column"])
    return (oof is not None and oof.index.equals(development.index)
            and oof[columns].equals(development[columns]))


def _refitted_pd(spec: dict[str, Any], model_input_train: pd.DataFrame,
                 model_input_test: pd.DataFrame, feature_schema: dict[str, Any]
                 ) -> tuple[np.ndarray, Any]:
    """A candidate refitted once on all training rows (with its own seed and class
    weighting; a blend: each member): its test PDs and its fitted pipeline."""
    refit = fit_blend if spec["candidate"] == BLEND_CANDIDATE else fit_candidate
    model = refit(spec, features(model_input_train, feature_schema),
                  target(model_input_train, feature_schema), feature_schema)
    return predict_pd(model[:-1], model[-1], None,
                      features(model_input_test, feature_schema)), model


def challenger(
    model_version: dict[str, Any],
    challengers: dict[str, Any],
    challenger_oof: pd.DataFrame,
    model_input_train: pd.DataFrame,
    model_input_test: pd.DataFrame,
    test_scores: pd.DataFrame,
    feature_schema: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The challenger across the complexity divide, side by side with the model.

    A forest, boosting or blend champion meets the best simpler candidate thresholding
    ranked (a WoE scorecard, else a logistic regression); a scorecard or simpler champion
    meets the best complex one (``selection.challengers``). Its out-of-fold PDs are those it
    was ranked on (the same persisted folds; compared on test only when they are not of the
    current training rows); it is refitted once on the training rows (a scorecard on its
    stratified sample of them) to score test. Out of fold and on test, each model's AUC with its DeLong interval and
    DeLong's paired test of the difference (on the same applicants: the shared noise
    cancels). The out-of-fold comparison is paired only when the version's stored
    out-of-fold PDs are of these training rows and folds (a version trained on other data
    is compared unpaired).

    Returns:
        Per sample the AUC of each model (its candidate name and complexity) with its
        interval, and the difference with its interval and p-value; the scorecard's points
        table (the champion's when it is a scorecard, else the challenger's; every class of
        every feature on the model's points scale; empty when neither is one); both models'
        test ROC curves.
    """
    scorer = model_version["model"]
    level = params["confidence_level"]
    own = {"candidate": (model_version.get("tags") or {}).get("candidate") or scorer.family,
           "complexity": families.complexity(scorer.family)}
    spec = (challengers or {}).get(challenger_side(own["complexity"]))
    if spec is None:
        logger.warning("No challenger for %s version %s: %s.", model_version["name"],
                       model_version["version"],
                       "thresholding has not named challengers yet: rerun `kedro run "
                       "--pipelines thresholding`" if challengers is None else
                       f"thresholding ranked no {challenger_side(own['complexity'])} candidate")
        return (pd.DataFrame(columns=CHALLENGER_COLUMNS), pd.DataFrame(columns=TABLE_COLUMNS),
                {})
    if spec["spec"]["estimator"] not in families.FAMILIES and spec["candidate"] != BLEND_CANDIDATE:
        raise ValueError(f"challengers.json names {spec['spec']['estimator']!r}, not a model "
                         "family of the project: rerun `kedro run --pipelines thresholding`.")
    test_pd, model = _refitted_pd(spec, model_input_train, model_input_test, feature_schema)
    other = {"candidate": spec["candidate"], "complexity": spec["complexity"]}
    champion_oof = model_version["oof_predictions"]
    development = scored_rows(model_input_train, feature_schema["fold_column"])
    y_train = target(development, feature_schema)
    folds = development[feature_schema["fold_column"]]
    paired = champion_oof.index.equals(development.index) and np.array_equal(
        champion_oof["fold"].to_numpy(), folds.to_numpy())
    if not paired:
        logger.warning("The out-of-fold PDs of %s version %s are not of the current training "
                       "rows and folds: the challenger is compared with it unpaired out of fold.",
                       model_version["name"], model_version["version"])
    samples = {"test": (test_scores["bad"], test_scores["pd"], test_scores["bad"], test_pd)}
    if _same_rows(challenger_oof, model_input_train, feature_schema):
        samples = {"train (out-of-fold)": (champion_oof["bad"], champion_oof["pd"], y_train,
                                           challenger_oof[spec["candidate"]]), **samples}
    else:
        logger.warning("The challenger's out-of-fold PDs are not of the current training rows "
                       "and folds: it is compared on test only. Rerun `kedro run --pipelines "
                       "baselines,thresholding` to compare it out of fold too.")
    rows, curves = [], {}
    for name, (y_champion, champion_pd, y_challenger, challenger_pd) in samples.items():
        for model_name, who, y, pd_scores in (("champion", own, y_champion, champion_pd),
                                              ("challenger", other, y_challenger, challenger_pd)):
            auc = auc_confidence(y, pd_scores, level)
            rows.append({"sample": name, "model": model_name, **who, "auc": auc["auc"],
                         "low": auc["auc_low"], "high": auc["auc_high"], "p_value": np.nan})
            if name == "test":
                curves[f"{model_name} (test)"] = {"roc": _roc(y, pd_scores)}
        if name == "test" or paired:
            difference = auc_difference(y_challenger, champion_pd, challenger_pd, level)
            rows.append({"sample": name, "model": "champion - challenger",
                         "auc": difference["difference"], **difference})
    card = (points_table(scorer.estimator, scorer.policy.scaling, scorer.calibrator)
            if isinstance(scorer.estimator, WoEScorecard) else
            points_table(model[-1], scorer.policy.scaling)
            if isinstance(model[-1], WoEScorecard) else pd.DataFrame(columns=TABLE_COLUMNS))
    return (pd.DataFrame(rows)[CHALLENGER_COLUMNS].astype({"complexity": "Int64"}), card,
            curves)


def decision_sensitivity(
    model_version: dict[str, Any], test_scores: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """How the cut-off moves with the cost ratio, and why applicants are declined.

    The cut-off is re-chosen on the stored out-of-fold PDs for the cost of accepting a bad
    scaled by each ``cost_ratio_changes`` (e.g. -50 %, +50 %), under the model's own
    approval and bad-rate constraints, and each is applied to test.

    Returns:
        Per cost scenario: cut-off, approval rate and bad rate among approved on test; how
        often each reason is the principal one (reason_1) among declined test
        applicants, by code and statement (``NSF``: no single factor); the out-of-fold cost
        curve of the model's own costs.
    """
    policy = model_version["model"].policy
    oof = model_version["oof_predictions"]
    rows = []
    for change in [0.0, *params["cost_ratio_changes"]]:
        costs = policy.costs.model_copy(update={"accept_bad": policy.costs.accept_bad
                                                 * (1 + change)})
        curve = decisions.cost_curve(oof["bad"], oof["pd"], costs)
        cutoff = policy.cutoff if change == 0 else float(
            decisions.choose_cutoff(curve, policy.constraints)["cutoff"])
        outcome = decisions.decision_outcomes(test_scores["bad"], test_scores["pd"] >= cutoff,
                                              costs)
        rows.append({"scenario": "model's costs" if change == 0 else
                     f"accept-bad cost {change:+.0%}",
                     "accept_bad_cost_change": change, "accept_bad": costs.accept_bad,
                     "decline_good": costs.decline_good, "cutoff": cutoff,
                     "approval_rate": outcome["approval_rate"],
                     "bad_rate_approved": outcome["bad_rate_approved"]})
    declined = test_scores[test_scores["decision"] == "decline"]
    reasons = (declined.groupby("reason_1_code").agg(
        statement=("reason_1_text", lambda texts: texts.mode().iloc[0]),
        declined_applicants=("reason_1_text", "size"))
        .sort_values("declined_applicants", ascending=False, kind="stable")
        .rename_axis("principal_reason").reset_index())
    reasons["share_of_declined"] = reasons["declined_applicants"] / max(len(declined), 1)
    curve = decisions.cost_curve(oof["bad"], oof["pd"], policy.costs).sort_values("cutoff")
    return pd.DataFrame(rows), reasons, _thinned(cutoff=curve["cutoff"],
                                                 expected_cost=curve["expected_cost"])
