"""PD calibration: none, Platt scaling on logit(PD) or isotonic, chosen on out-of-fold PDs.

Calibration maps a model's PD to one whose average matches the observed default rate in
every score region. Which map is best depends on the model and the data (boosted trees
are often well calibrated already; a random forest's PDs are squeezed towards the middle;
isotonic regression needs thousands of rows), so the project does not fix one: every
configured method is *cross-fitted* on the candidate's out-of-fold PDs (fitted on the
other folds, scored on each persisted fold) and the method with the lowest out-of-fold
log loss (or Brier score) is chosen. ``none`` is always a method, so calibration can never
make the PDs worse on the development sample. Nothing is refitted: out-of-fold PDs exist.

Platt scaling is a logistic regression on logit(PD), not on the PD itself: the identity
map is one of its solutions (slope 1, intercept 0), and it puts no floor or ceiling under
the PDs, where the classic sigmoid on the raw PD maps PD 0 to sigmoid(intercept) > 0.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from credit_scoring.models.evaluation import METRICS

logger = logging.getLogger(__name__)

METHODS = ("none", "platt", "isotonic")
CRITERIA = ("log_loss", "brier")
PD_CLIP = 1e-9
"""PDs are clipped to [PD_CLIP, 1 - PD_CLIP] before logit: a tree can output exactly 0."""


class PDCalibrator:
    """A fitted PD -> calibrated PD map: Platt on logit(PD), or isotonic (stored as its steps).

    Holds only floats and arrays, so the skops file that stores it rebuilds nothing but
    this class and numpy arrays.

    Args:
        method: ``platt`` or ``isotonic``.
    """

    def __init__(self, method: str) -> None:
        if method not in ("platt", "isotonic"):
            raise ValueError(f"Unknown calibration method {method!r}: platt or isotonic.")
        self.method = method

    def fit(self, pd_scores, y) -> PDCalibrator:
        pd_scores, y = np.asarray(pd_scores, dtype=float), np.asarray(y)
        if self.method == "platt":
            # C large: an (almost) unpenalised fit, as in Platt's method
            fitted = LogisticRegression(C=1e6, tol=1e-10, max_iter=1000).fit(
                log_odds(pd_scores)[:, None], y)
            self.slope_, self.intercept_ = float(fitted.coef_[0, 0]), float(fitted.intercept_[0])
        else:
            fitted = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(
                pd_scores, y)
            self.thresholds_ = np.asarray(fitted.X_thresholds_, dtype=float)
            self.values_ = np.asarray(fitted.y_thresholds_, dtype=float)
        return self

    def predict(self, pd_scores) -> np.ndarray:
        pd_scores = np.asarray(pd_scores, dtype=float)
        if self.method == "platt":
            return expit(self.slope_ * log_odds(pd_scores) + self.intercept_)
        return np.interp(pd_scores, self.thresholds_, self.values_)


def log_odds(pd_scores) -> np.ndarray:
    """logit(PD), with PDs clipped to [PD_CLIP, 1 - PD_CLIP] (a tree can output exactly 0)."""
    return logit(np.clip(np.asarray(pd_scores, dtype=float), PD_CLIP, 1 - PD_CLIP))


def _fit(method: str, pd_scores, y) -> PDCalibrator | None:
    return None if method == "none" else PDCalibrator(method).fit(pd_scores, y)


def _apply(calibrator: PDCalibrator | None, pd_scores) -> np.ndarray:
    return np.asarray(pd_scores, dtype=float) if calibrator is None else calibrator.predict(
        pd_scores)


def cross_fitted(method: str, oof_pd: pd.Series, y: pd.Series, folds: pd.Series) -> np.ndarray:
    """Each row's PD after ``method``, fitted on the out-of-fold PDs of the other folds."""
    calibrated = np.empty(len(y))
    for fold in np.unique(folds):
        held_out = (folds == fold).to_numpy()
        calibrator = _fit(method, oof_pd[~held_out], y[~held_out])
        calibrated[held_out] = _apply(calibrator, oof_pd[held_out])
    return calibrated


def choose_calibration(
    oof_pd: pd.Series, y: pd.Series, folds: pd.Series, methods: list[str], criterion: str
) -> tuple[PDCalibrator | None, np.ndarray, pd.DataFrame]:
    """The method with the lowest cross-fitted ``criterion``, fitted on every out-of-fold PD.

    Returns:
        The calibrator (None for ``none``), the calibrated out-of-fold PDs (the final
        calibrator applied, as scoring will) and one row per method with its cross-fitted
        log loss and Brier score, ``chosen`` marking the winner. A tie goes to the method
        listed first (``none`` before ``platt`` before ``isotonic``: the simpler).
    """
    rows = []
    for method in sorted(methods, key=METHODS.index):
        calibrated = cross_fitted(method, oof_pd, y, folds)
        rows.append({"method": method,
                     **{name: float(METRICS[name](y, calibrated)) for name in CRITERIA}})
    table = pd.DataFrame(rows)
    best = table.loc[table[criterion].idxmin(), "method"]
    table["chosen"] = table["method"] == best
    calibrator = _fit(best, oof_pd, y)
    logger.info("Calibration: %s (cross-fitted out-of-fold %s: %s).", best, criterion,
                ", ".join(f"{m} {v:.4f}" for m, v in zip(table["method"], table[criterion],
                                                          strict=True)))
    return calibrator, _apply(calibrator, oof_pd), table
