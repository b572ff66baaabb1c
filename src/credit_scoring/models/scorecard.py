"""The WoE-logistic scorecard: a champion candidate, and the validator's simpler challenger.

Developed the way a credit-risk analyst builds one, in two steps:

- **fine classing** screens every feature: quantile classes (categories as they are, missing
  values a class of their own) and the information value (IV) of each feature
  (``credit_scoring.data.woe``, the same IV notebook 01 shows). Cheap, so a table of hundreds
  of features costs a second;
- **coarse classing** of the ``max_variables`` strongest features (IV >= ``min_iv``) with
  optbinning's optimal binning: monotonic classes of at least ``min_bin_size`` of the
  applicants, the weight of evidence (WoE) of each, and a logistic regression on the WoE
  values. A feature left with one class is dropped, and so is one whose coefficient comes out
  with the wrong sign (more points for a class the more bads it holds: collinear with
  stronger features), one at a time with a refit, as scorecard developers do. Points follow
  on the champion's own scale (``points_table``).

``WoEScorecard`` is a scikit-learn classifier, so it is a candidate like any other
(``parameters_baselines.yml``): cross-validated on the persisted folds, ranked, and champion
when it is the simplest adequate one. Once fitted it holds only its **scorecard table** (per
feature: the class edges or category lists, counts, bads, WoE, coefficient), and it scores
from that table: the table is its stored format (``save`` / ``load``, plain JSON), so a
deployed scorecard needs neither optbinning nor any pickle, and scores exactly as it did
when it was fitted.

Why optbinning: it is the maintained reference for optimal binning under constraints
(monotonic trend, minimum class size; solved exactly as a constraint program) and gives the
binning tables a reviewer reads. Optimal binning costs about 0.05 s per feature and fit at
50,000 rows, which is why fine classing chooses the features first, and why each fit sees at
most ``sample_rows`` rows (a stratified sample: plenty to class 30 features).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from credit_scoring.data.woe import iv

TABLE_COLUMNS = ["Variable", "Bin", "Count", "Count (%)", "Event rate", "WoE", "IV",
                 "Coefficient", "Points"]
"""The points table as exported: one row per class of every feature in the scorecard."""
FORMAT = "credit_scoring.woe_scorecard/1"
"""The stored table's format name and version, checked on load."""
MISSING = "Missing"
UNSEEN = "Other (not seen in development)"
"""The points table's row for a category never seen in fitting: WoE 0, the average applicant."""


def fine_classing(X: pd.DataFrame, y, fine_classes: int) -> pd.Series:
    """Information value of every feature on ``fine_classes`` quantile classes, strongest first."""
    y = np.asarray(y, dtype=float)
    return pd.Series({column: iv(X[column], y, fine_classes) for column in X.columns},
                     name="iv").sort_values(ascending=False)


def _woe(count: np.ndarray, bads: np.ndarray) -> np.ndarray:
    """ln(share of goods / share of bads) per class; 0 for a class without goods or bads
    (optbinning's rule, so the table scores exactly as the binning did)."""
    goods = count - bads
    woe = np.zeros(len(count))
    known = (goods > 0) & (bads > 0)
    woe[known] = np.log((goods[known] / goods.sum()) / (bads[known] / bads.sum()))
    return woe


def _text(values: pd.Series) -> pd.Series:
    """Categories as the labels they are classed and scored under: one rule at fitting and
    at scoring (a pandas category of integers with gaps reads '1', never '1.0')."""
    return values.astype("string")


def _classed(binning: Any, name: str) -> dict[str, Any]:
    """One feature's entry of the scorecard table, read from a fitted ``OptimalBinning``."""
    table = binning.binning_table.build().drop(index="Totals")
    classes, missing = table.iloc[:-2], table.iloc[-1]  # the classes, then Special, Missing
    entry: dict[str, Any] = {"name": name, "dtype": binning.dtype}
    if binning.dtype == "numerical":
        entry["splits"] = [float(s) for s in binning.splits]
    else:
        entry["categories"] = [[str(c) for c in level] for level in binning.splits]
    entry["count"] = [*map(float, classes["Count"]), float(missing["Count"])]
    entry["bads"] = [*map(float, classes["Event"]), float(missing["Event"])]
    return entry


class WoEScorecard(ClassifierMixin, BaseEstimator):
    """A WoE-logistic scorecard as a scikit-learn classifier.

    Numeric columns are classed into intervals, other columns (pandas categories, text) into
    groups of categories; a missing value is a class of its own (missingness is evidence), a
    category never seen in fitting scores WoE 0 (the average applicant).

    Args:
        fine_classes: quantile classes per numeric feature when screening by IV.
        min_iv: features below this IV are left out (below 0.02: not predictive).
        max_variables: the strongest features by IV that enter the scorecard.
        max_n_prebins: optbinning's classes before the optimal merge.
        min_bin_size: every coarse class holds at least this share of the applicants.
        sample_rows: each fit sees at most this many rows (stratified by target); None: all.
        random_state: seed of that sample.
        C: inverse L2 strength of the logistic regression on the WoE values.
    """

    def __init__(self, fine_classes: int = 20, min_iv: float = 0.02, max_variables: int = 30,
                 max_n_prebins: int = 20, min_bin_size: float = 0.05,
                 sample_rows: int | None = 50_000, random_state: int | None = None,
                 C: float = 1.0) -> None:
        self.fine_classes = fine_classes
        self.min_iv = min_iv
        self.max_variables = max_variables
        self.max_n_prebins = max_n_prebins
        self.min_bin_size = min_bin_size
        self.sample_rows = sample_rows
        self.random_state = random_state
        self.C = C

    def fit(self, X: pd.DataFrame, y, sample_weight=None) -> WoEScorecard:
        from optbinning import OptimalBinning  # noqa: PLC0415  (fitting only: scoring reads the table)

        y = np.asarray(y).astype(int)
        rows = np.arange(len(X))
        if self.sample_rows is not None and len(X) > self.sample_rows:
            rows, _ = train_test_split(rows, train_size=self.sample_rows, stratify=y,
                                       random_state=self.random_state)
            rows = np.sort(rows)
        X, y = X.iloc[rows], y[rows]
        weight = None if sample_weight is None else np.asarray(sample_weight)[rows]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.classes_ = np.array([0, 1])
        strength = fine_classing(X, y, self.fine_classes)
        chosen = strength[strength >= self.min_iv].head(self.max_variables).index.tolist()
        if not chosen:
            raise ValueError(
                f"No feature reaches the scorecard's min_iv = {self.min_iv}: the strongest is "
                f"'{strength.index[0]}' with IV {strength.iloc[0]:.4f}. Lower min_iv in the "
                "scorecard candidate's params (parameters_baselines.yml), or check the target.")
        with warnings.catch_warnings():
            # optbinning 1.0 uses pandas calls that pandas 3 deprecates: nothing to act on
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="optbinning")
            warnings.filterwarnings("ignore", category=FutureWarning, module="optbinning")
            self.attributes_ = [_classed(OptimalBinning(
                name=name, max_n_prebins=self.max_n_prebins, min_bin_size=self.min_bin_size,
                **({"dtype": "numerical", "monotonic_trend": "auto_asc_desc"}
                   if pd.api.types.is_numeric_dtype(X[name]) else {"dtype": "categorical"}),
            ).fit(X[name].to_numpy() if pd.api.types.is_numeric_dtype(X[name]) else
                  _text(X[name]).to_numpy(dtype=object, na_value=np.nan), y,
                  sample_weight=weight), name) for name in chosen]
        for entry in self.attributes_:
            entry["woe"] = _woe(np.asarray(entry["count"]), np.asarray(entry["bads"])).tolist()
        # one class only (optimal binning merged every value): it tells no one apart
        self.attributes_ = [entry for entry in self.attributes_ if _iv(entry) > 0]
        while self.attributes_:
            regression = LogisticRegression(C=self.C, max_iter=1000).fit(
                self.woe(X), y, sample_weight=weight)
            coefficients = regression.coef_[0]
            # WoE is ln(goods / bads): a positive coefficient gives a class more points the
            # more bads it holds (collinear with stronger features); drop it and refit
            if coefficients.max() <= 0:
                break
            del self.attributes_[int(np.argmax(coefficients))]
        if not self.attributes_:
            raise ValueError(
                f"No feature is left in the scorecard: of {chosen}, optimal binning left each "
                "with one class or a coefficient of the wrong sign. Lower min_bin_size or "
                "min_iv in the scorecard candidate's params (parameters_baselines.yml).")
        self.intercept_ = float(regression.intercept_[0])
        for entry, coefficient in zip(self.attributes_, coefficients, strict=True):
            entry["coefficient"] = float(coefficient)
        return self

    @property
    def feature_importances_(self) -> np.ndarray:
        """Each input column's information value in its coarse classes (0: not in the card)."""
        values = {entry["name"]: _iv(entry) for entry in self.attributes_}
        return np.array([values.get(name, 0.0) for name in self.feature_names_in_])

    def woe(self, X: pd.DataFrame) -> np.ndarray:
        """Each row's WoE per feature of the scorecard (in table order)."""
        return np.column_stack([np.asarray(entry["woe"] + [0.0])[_class_of(entry, X[entry["name"]])]
                                for entry in self.attributes_])

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds of default: intercept + sum of coefficient x WoE."""
        coefficients = np.array([entry["coefficient"] for entry in self.attributes_])
        return self.intercept_ + self.woe(X) @ coefficients

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        pd_scores = 1 / (1 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - pd_scores, pd_scores])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        """Per row and input column: log-odds above the column's best class (0 at its most
        points; 0 for a column outside the card). An applicant's reasons are the attributes
        where the most points were lost against their maximum."""
        values = np.zeros((len(X), len(self.feature_names_in_)))
        position = {name: j for j, name in enumerate(self.feature_names_in_)}
        woe = self.woe(X)
        for k, entry in enumerate(self.attributes_):
            effect = entry["coefficient"] * np.asarray(_populated(entry)[1])
            values[:, position[entry["name"]]] = entry["coefficient"] * woe[:, k] - effect.min()
        return values

    def to_table(self) -> dict[str, Any]:
        """The fitted scorecard as plain data: what ``save`` writes and ``from_table`` reads."""
        return {"format": FORMAT, "params": self.get_params(),
                "features": list(self.feature_names_in_), "intercept": self.intercept_,
                "attributes": self.attributes_}

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> WoEScorecard:
        """The scorecard a stored table describes, refused unless every part is what
        scoring reads: a damaged or edited file never scores wrongly in silence."""
        if table.get("format") != FORMAT:
            raise ValueError(f"Not a WoE scorecard table of format {FORMAT}: "
                             f"format {str(table.get('format'))[:60]!r}.")
        try:
            _check_table(table)
        except (KeyError, TypeError) as error:
            raise ValueError(f"The scorecard table is damaged: {error!r} is missing or of the "
                             "wrong type.") from error
        card = cls(**table["params"])
        card.feature_names_in_ = np.asarray(table["features"], dtype=object)
        card.classes_ = np.array([0, 1])
        card.intercept_ = float(table["intercept"])
        card.attributes_ = table["attributes"]
        return card


def _check_table(table: dict[str, Any]) -> None:
    """Raise a ValueError naming the first part of a stored table scoring cannot trust."""
    features = set(table["features"])
    if not np.isfinite(float(table["intercept"])):
        raise ValueError("The scorecard table's intercept is not a finite number.")
    for entry in table["attributes"]:
        name = entry["name"]
        if name not in features:
            raise ValueError(f"The scorecard table's attribute {name!r} is not one of its "
                             "features.")
        if entry["dtype"] == "numerical":
            splits = np.asarray(entry["splits"], dtype=float)
            if not (np.isfinite(splits).all() and (np.diff(splits) > 0).all()):
                raise ValueError(f"{name}: the class edges must be finite and strictly "
                                 "increasing.")
            classes = len(splits) + 1
        elif entry["dtype"] == "categorical":
            classes = len(entry["categories"])
        else:
            raise ValueError(f"{name}: dtype must be numerical or categorical, not "
                             f"{str(entry['dtype'])[:40]!r}.")
        for key in ("count", "bads", "woe"):
            values = np.asarray(entry[key], dtype=float)
            if len(values) != classes + 1 or not np.isfinite(values).all():
                raise ValueError(f"{name}: {key} must hold {classes + 1} finite numbers (one "
                                 "per class and the Missing class).")
        if not np.isfinite(float(entry["coefficient"])):
            raise ValueError(f"{name}: the coefficient is not a finite number.")


def _populated(entry: dict[str, Any]) -> tuple[list[str], list[float], list[int]]:
    """The classes that hold applicants: labels, WoE and position in the entry."""
    if entry["dtype"] == "numerical":
        edges = [-np.inf, *entry["splits"], np.inf]
        labels = [f"{'(' if low == -np.inf else '['}{low:.4g}, {high:.4g})"
                  for low, high in zip(edges[:-1], edges[1:], strict=True)]
    else:
        labels = [", ".join(level) for level in entry["categories"]]
    labels.append(MISSING)
    kept = [k for k, count in enumerate(entry["count"]) if count > 0]
    return [labels[k] for k in kept], [entry["woe"][k] for k in kept], kept


def _iv(entry: dict[str, Any]) -> float:
    count, bads = np.asarray(entry["count"]), np.asarray(entry["bads"])
    goods = count - bads
    good_share, bad_share = goods / goods.sum(), bads / bads.sum()
    return float(np.sum((good_share - bad_share) * np.asarray(entry["woe"])))


def _class_of(entry: dict[str, Any], values: pd.Series) -> np.ndarray:
    """Each value's class: its position in the entry, ``classes`` for a missing value and
    ``classes + 1`` for a category never seen in fitting (scored WoE 0)."""
    classes = len(entry["count"]) - 1
    if entry["dtype"] == "numerical":
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        return np.where(np.isnan(numbers), classes,
                        np.digitize(numbers, entry["splits"], right=False))
    lookup = {category: k for k, level in enumerate(entry["categories"]) for category in level}
    codes, distinct = pd.factorize(_text(values))
    position = np.array([lookup.get(str(d), classes + 1) for d in distinct] + [classes], dtype=int)
    return position[codes]  # code -1 (missing) takes the last entry


def points_table(card: WoEScorecard, scale: Any, calibrator: Any = None) -> pd.DataFrame:
    """Per feature and class: count, event (bad) rate, WoE, IV, coefficient and points.

    Points: score = offset - factor x logit(PD), the champion's formula
    (``decisions.ScoreScaling``), split over the features: a class gets -factor x slope x
    coefficient x WoE plus an equal share of the constant, so an applicant's points add up
    to the score of the scorecard's PD. A Platt calibrator (logit(PD) -> intercept + slope x
    logit(PD)) is folded in, so the points add up to the score the champion decides on; an
    isotonic one is not linear: the points are then those of the scorecard's own PD.
    """
    slope, shift = 1.0, 0.0
    if getattr(calibrator, "method", None) == "platt":
        slope, shift = calibrator.slope_, calibrator.intercept_
    factor = scale.factor * slope
    constant = (scale.offset - scale.factor * (shift + slope * card.intercept_)) \
        / len(card.attributes_)
    rows = []
    for entry in card.attributes_:
        labels, woe, kept = _populated(entry)
        # classes nobody in development fell in still score (WoE 0): a row each
        empty = ([MISSING] if MISSING not in labels else []) + (
            [UNSEEN] if entry["dtype"] == "categorical" else [])
        labels, woe, kept = labels + empty, woe + [0.0] * len(empty), kept + [None] * len(empty)
        count = np.array([entry["count"][k] if k is not None else 0.0 for k in kept])
        bads = np.array([entry["bads"][k] if k is not None else 0.0 for k in kept])
        goods_share = (count - bads) / (np.sum(entry["count"]) - np.sum(entry["bads"]))
        bads_share = bads / np.sum(entry["bads"])
        rows.append(pd.DataFrame({
            "Variable": entry["name"], "Bin": labels, "Count": count,
            "Count (%)": count / np.sum(entry["count"]),
            "Event rate": np.divide(bads, count, out=np.full(len(count), np.nan),
                                    where=count > 0),
            "WoE": woe, "IV": (goods_share - bads_share) * np.asarray(woe),
            "Coefficient": entry["coefficient"],
            "Points": constant - factor * entry["coefficient"] * np.asarray(woe)}))
    return pd.concat(rows, ignore_index=True)[TABLE_COLUMNS]


def save(card: WoEScorecard, path: Path) -> None:
    """The scorecard table as JSON: the code-free file a deployed scorecard is read from."""
    Path(path).write_text(json.dumps(card.to_table(), indent=1))


def load(path: Path) -> WoEScorecard:
    return WoEScorecard.from_table(json.loads(Path(path).read_text()))
