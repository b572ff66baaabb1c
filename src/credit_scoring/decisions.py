"""From PDs to lending decisions: cost of a cut-off, the cost-optimal cut-off, scorecard points.

Convention everywhere: an applicant is **declined when PD >= cut-off** (the rule of
scikit-learn's ``FixedThresholdClassifier``) and accepted otherwise. The two
misclassification costs are ``accept_bad`` (a defaulter was accepted) and
``decline_good`` (a good applicant was turned away). For calibrated PDs the cost-optimal
cut-off is ``decline_good / (decline_good + accept_bad)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, roc_curve


def analytic_cutoff(costs: dict[str, float]) -> float:
    """The Bayes-optimal cut-off for perfectly calibrated PDs."""
    return costs["decline_good"] / (costs["decline_good"] + costs["accept_bad"])


def cost_curve(y_true: pd.Series, pd_scores: pd.Series, costs: dict[str, float]) -> pd.DataFrame:
    """Expected cost per applicant, approval rate and bad rate among approved at every cut-off.

    One row per distinct PD (from ``roc_curve``), so the minimum over rows is the exact
    minimum over all cut-offs on this sample; the first row accepts everyone.
    """
    fpr, tpr, cutoffs = roc_curve(y_true, pd_scores, drop_intermediate=False)
    n_bad = float(np.sum(y_true))
    n_good = len(y_true) - n_bad
    accepted_bad = n_bad * (1 - tpr)
    declined_good = n_good * fpr
    accepted = accepted_bad + n_good - declined_good
    with np.errstate(invalid="ignore", divide="ignore"):
        bad_rate = np.where(accepted > 0, accepted_bad / accepted, np.nan)
    return pd.DataFrame(
        {
            # roc_curve's first cut-off is +inf (accept everyone): the next float above 1
            # keeps that meaning for a PD of exactly 1 and stays valid JSON
            "cutoff": np.minimum(cutoffs, np.nextafter(1.0, 2.0)),
            "expected_cost": (costs["accept_bad"] * accepted_bad
                              + costs["decline_good"] * declined_good) / len(y_true),
            "approval_rate": accepted / len(y_true),
            "bad_rate_approved": bad_rate,
        }
    )


def choose_cutoff(curve: pd.DataFrame, constraints: dict[str, float | None]) -> pd.Series:
    """The cheapest row of ``cost_curve`` that meets the approval and bad-rate constraints.

    Ties go to the higher approval rate. Raises a ValueError that states the best
    achievable rates when no cut-off meets the constraints.
    """
    feasible = pd.Series(True, index=curve.index)
    if constraints.get("min_approval_rate") is not None:
        feasible &= curve["approval_rate"] >= constraints["min_approval_rate"]
    if constraints.get("max_bad_rate") is not None:
        feasible &= curve["bad_rate_approved"] <= constraints["max_bad_rate"]
    if not feasible.any():
        raise ValueError(
            "No cut-off meets thresholding.constraints "
            f"(min_approval_rate={constraints.get('min_approval_rate')}, "
            f"max_bad_rate={constraints.get('max_bad_rate')}) on the out-of-fold PDs: "
            f"approving {curve['approval_rate'].min():.1%} to 100% of applicants gives a bad "
            f"rate among approved of {curve['bad_rate_approved'].min():.1%} to "
            f"{curve['bad_rate_approved'].max():.1%}. Relax one constraint."
        )
    ordered = curve[feasible].sort_values(["expected_cost", "approval_rate"],
                                          ascending=[True, False])
    return ordered.iloc[0]


def decision_outcomes(
    y_true: pd.Series, declined: np.ndarray, costs: dict[str, float]
) -> dict[str, float]:
    """Confusion matrix in lending words, approval rate, bad rate among approved, cost."""
    (accepted_good, declined_good), (accepted_bad, declined_bad) = confusion_matrix(
        y_true, declined, labels=[0, 1]
    )
    n = len(y_true)
    accepted = accepted_good + accepted_bad
    return {
        "accepted_good": int(accepted_good),
        "declined_good": int(declined_good),
        "accepted_bad": int(accepted_bad),
        "declined_bad": int(declined_bad),
        "approval_rate": accepted / n,
        "bad_rate_approved": accepted_bad / accepted if accepted else float("nan"),
        "expected_cost": (costs["accept_bad"] * accepted_bad
                          + costs["decline_good"] * declined_good) / n,
    }


def scorecard_points(pd_scores: np.ndarray, scorecard: dict[str, float]) -> np.ndarray:
    """Integer scorecard points: ``base_score`` at good:bad odds ``base_odds``, +``pdo`` per doubling.

    score = base_score + pdo / ln 2 * ln(odds / base_odds), odds = (1 - PD) / PD; PDs
    are clipped to [1e-6, 1 - 1e-6] so certain PDs still get a finite score.
    """
    p = np.clip(np.asarray(pd_scores, dtype=float), 1e-6, 1 - 1e-6)
    factor = scorecard["pdo"] / np.log(2)
    points = scorecard["base_score"] + factor * (np.log((1 - p) / p) - np.log(scorecard["base_odds"]))
    return np.round(points).astype(int)


def band_edges(points: np.ndarray, n_bands: int) -> list[float]:
    """Score-band boundaries: ``n_bands`` equal-population bands of the development scores.

    Fixed once, with the model, so a band means the same score range on every later sample.
    """
    inner = np.quantile(np.asarray(points, dtype=float), np.linspace(0, 1, n_bands + 1)[1:-1])
    return np.unique(inner).tolist()


def score_band(points: np.ndarray, edges: list[float]) -> np.ndarray:
    """Band of each score: 1 holds the lowest scores (riskiest), ``len(edges) + 1`` the highest."""
    return np.searchsorted(np.asarray(edges, dtype=float), points, side="right") + 1


def score_bands(
    target: pd.Series, points: np.ndarray, declined: np.ndarray, edges: list[float]
) -> pd.DataFrame:
    """Score-band table: count, bads, bad rate and decision per band of the model's ``edges``.

    A band is "decline" when every applicant in it was declined, "accept" when none was,
    and "split" otherwise (the cut-off falls inside it: scores are rounded, so applicants
    on the cut-off score itself can go either way).
    """
    scored = pd.DataFrame({"bad": np.asarray(target), "score": points,
                           "declined": np.asarray(declined, dtype=bool),
                           "band": score_band(points, edges)})
    table = scored.groupby("band").agg(
        score_min=("score", "min"), score_max=("score", "max"),
        applicants=("bad", "size"), bads=("bad", "sum"), declined=("declined", "mean"),
    )
    table["bad_rate"] = table["bads"] / table["applicants"]
    table["share"] = table["applicants"] / len(scored)
    table["decision"] = np.select(
        [table["declined"] == 1, table["declined"] == 0], ["decline", "accept"], default="split"
    )
    return table.drop(columns="declined").reset_index()
