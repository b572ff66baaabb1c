"""The challenger a validator sets next to any machine-learned PD: a WoE-logistic scorecard.

Developed the way a credit-risk analyst builds one, in two steps:

- **fine classing** screens every feature: quantile classes (categories as they are, missing
  values a class of their own) and the information value (IV) of each feature
  (``credit_scoring.data.woe``, the same IV notebook 01 shows). Cheap, so a table of hundreds
  of features costs a second;
- **coarse classing** of the ``max_variables`` strongest features (IV >= ``min_iv``) with
  optbinning's optimal binning: monotonic classes of at least ``min_bin_size`` of the
  applicants, the weight of evidence (WoE) of each, a logistic regression on the WoE values,
  and points on the champion's own scale (base score at base odds, points to double the odds).

Why optbinning: it is the maintained reference for optimal binning under constraints
(monotonic trend, minimum class size; solved exactly as a constraint program) and gives the
binning tables a reviewer reads. Optimal binning costs about 0.05 s per feature and fit at
50,000 rows, which is why fine classing chooses the features first, and why each fit sees at
most ``sample_rows`` training rows (a stratified sample: plenty to class 30 features).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from optbinning import OptimalBinning
from sklearn.linear_model import LogisticRegression

from credit_scoring.data.schema import features, target
from credit_scoring.data.woe import iv
from credit_scoring.models.evaluation import stratified_sample

TABLE_COLUMNS = ["Variable", "Bin", "Count", "Count (%)", "Event rate", "WoE", "IV",
                 "Coefficient", "Points"]
"""The scorecard table as exported: one row per class of every feature in the scorecard."""


@contextmanager
def _optbinning_quiet() -> Iterator[None]:
    """optbinning 1.0 uses pandas calls that pandas 3 deprecates: nothing a user can act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="optbinning")
        warnings.filterwarnings("ignore", category=FutureWarning, module="optbinning")
        yield


def fine_classing(X: pd.DataFrame, y, fine_classes: int) -> pd.Series:
    """Information value of every feature on ``fine_classes`` quantile classes, strongest first."""
    y = np.asarray(y, dtype=float)
    return pd.Series({column: iv(X[column], y, fine_classes) for column in X.columns},
                     name="iv").sort_values(ascending=False)


@dataclass(frozen=True)
class WoEScorecard:
    """A fitted scorecard: the optimal binning of each feature, the regression on their WoE
    and the points scale (``base_score``, ``base_odds``, ``pdo``)."""

    binnings: dict[str, OptimalBinning]
    regression: LogisticRegression
    scale: Any  # the champion's decisions.ScoreScaling: its factor and offset

    def woe(self, X: pd.DataFrame) -> np.ndarray:
        """Each applicant's WoE per feature (its features by name, other columns ignored)."""
        with _optbinning_quiet():
            # missing values get their class's own WoE (missingness is evidence), not 0
            return np.column_stack([binning.transform(X[name].to_numpy(), metric="woe",
                                                      metric_missing="empirical",
                                                      metric_special="empirical")
                                    for name, binning in self.binnings.items()])


def fit_scorecard(
    X: pd.DataFrame, y, categorical: list[str], scale: Any, params: dict[str, Any]
) -> WoEScorecard:
    """Fine classing, coarse classing of the strongest features and the logistic regression.

    Each feature is binned by optbinning's ``OptimalBinning`` directly: its
    ``BinningProcess`` would add a full statistical analysis of every binning on every fit
    (a third of the time) that the scorecard does not use.

    Args:
        scale: the champion's points scale (``decisions.ScoreScaling``: ``base_score``,
            ``base_odds``, ``pdo``)
            (thresholding.scorecard), so both scorecards' points read the same.
        params: ``validation.challenger``.
    """
    strength = fine_classing(X, y, params["fine_classes"])
    chosen = strength[strength >= params["min_iv"]].head(params["max_variables"]).index.tolist()
    if not chosen:
        raise ValueError(
            f"No feature reaches the challenger's validation.challenger.min_iv = "
            f"{params['min_iv']}: the strongest is '{strength.index[0]}' with IV "
            f"{strength.iloc[0]:.4f}. Lower min_iv, or check the target.")
    y = np.asarray(y)
    with _optbinning_quiet():
        binnings = {
            name: OptimalBinning(
                name=name, max_n_prebins=params["max_n_prebins"],
                min_bin_size=params["min_bin_size"],
                **({"dtype": "categorical"} if name in categorical
                   else {"dtype": "numerical", "monotonic_trend": "auto_asc_desc"}),
            ).fit(X[name].to_numpy(), y)
            for name in chosen}
    card = WoEScorecard(binnings, LogisticRegression(max_iter=1000), scale)
    card.regression.fit(card.woe(X), y)
    return card


def scorecard_pd(scorecard: WoEScorecard, X: pd.DataFrame) -> np.ndarray:
    """The scorecard's PD of each applicant (its features by name, any other column ignored)."""
    return scorecard.regression.predict_proba(scorecard.woe(X))[:, 1]


def _class_label(value: Any) -> str:
    """A class as a reader writes it: an interval, 'Missing', or its categories joined."""
    if isinstance(value, str):
        return value
    return ", ".join(map(str, value))


def scorecard_table(scorecard: WoEScorecard) -> pd.DataFrame:
    """Per feature and class: count, event (bad) rate, WoE, IV, coefficient and points.

    Points: score = base_score + pdo / ln 2 * (ln(good:bad odds) - ln base_odds), the
    champion's formula (``decisions.ScoreScaling.points``), split over the features: a class
    gets -pdo / ln 2 * coefficient * WoE plus an equal share of the constant, so an
    applicant's points add up to the score of the scorecard's PD.
    """
    factor = scorecard.scale.factor
    constant = (scorecard.scale.offset
                - factor * scorecard.regression.intercept_[0]) / len(scorecard.binnings)
    tables = []
    with _optbinning_quiet():
        for (name, binning), coefficient in zip(scorecard.binnings.items(),
                                                scorecard.regression.coef_[0], strict=True):
            table = binning.binning_table.build().drop(index="Totals")
            tables.append(table[table["Count"] > 0].assign(  # empty Special / Missing classes
                Variable=name, Bin=lambda t: t["Bin"].map(_class_label), Coefficient=coefficient,
                Points=lambda t, c=coefficient: constant - factor * c * t["WoE"].astype(float)))
    return pd.concat(tables, ignore_index=True)[TABLE_COLUMNS]


def cross_fitted_challenger(
    model_input_train: pd.DataFrame,
    model_input_test: pd.DataFrame,
    feature_schema: dict[str, Any],
    scale: Any,
    params: dict[str, Any],
) -> tuple[pd.Series, np.ndarray, WoEScorecard]:
    """The challenger on the persisted folds and on all training rows.

    For each fold a scorecard is developed (features chosen, classed and weighted) on the
    other folds' rows and scores the fold's; the final one is developed on every training
    row and scores test. Each fit sees a stratified sample of at most ``sample_rows`` rows.

    Returns:
        The out-of-fold PDs (training index), the test PDs and the final scorecard.
    """
    categorical = feature_schema["categorical"]
    folds = model_input_train[feature_schema["fold_column"]]

    def developed(rows: pd.DataFrame) -> WoEScorecard:
        sample = stratified_sample(rows, [feature_schema["target"]], params["sample_rows"],
                                   params["seed"])
        return fit_scorecard(features(sample, feature_schema), target(sample, feature_schema),
                             categorical, scale, params)

    oof = pd.Series(np.nan, index=model_input_train.index, name="pd")
    X = features(model_input_train, feature_schema)
    for fold in np.unique(folds):
        held_out = (folds == fold).to_numpy()
        oof[held_out] = scorecard_pd(developed(model_input_train[~held_out]), X[held_out])
    final = developed(model_input_train)
    return oof, scorecard_pd(final, features(model_input_test, feature_schema)), final
