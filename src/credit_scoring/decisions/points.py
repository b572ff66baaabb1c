"""Score points and score bands: how a PD reads on the scale a credit officer uses.

Points rise as risk falls (``ScoreScaling``); bands are fixed once, on the development
sample, so band 1 (the riskiest) means the same score range on every later sample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from credit_scoring.decisions.costs import Number, Positive


class ScoreScaling(BaseModel):
    """How a PD becomes score points (``thresholding.scorecard`` in YAML and in stored models):
    ``base_score`` points at good:bad odds ``base_odds``, ``pdo`` more points per doubling."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_score: Number
    base_odds: Positive
    pdo: Positive

    @property
    def factor(self) -> float:
        """Points per unit of log good:bad odds: pdo / ln 2."""
        return self.pdo / np.log(2)

    @property
    def offset(self) -> float:
        """The points of even odds: score = offset + factor * ln(odds)."""
        return self.base_score - self.factor * np.log(self.base_odds)

    def points(self, pd_scores) -> np.ndarray:
        """Integer score points of each PD.

        score = base_score + pdo / ln 2 * ln(odds / base_odds), odds = (1 - PD) / PD; PDs
        are clipped to [1e-6, 1 - 1e-6] so certain PDs still get a finite score.
        """
        p = np.clip(np.asarray(pd_scores, dtype=float), 1e-6, 1 - 1e-6)
        points = self.base_score + self.factor * (np.log((1 - p) / p) - np.log(self.base_odds))
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
