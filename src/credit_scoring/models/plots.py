"""Figures and tables for model reports: shared by every pipeline that compares or explains models."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.calibration import CalibrationDisplay
from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay, brier_score_loss
from sklearn.pipeline import Pipeline

from credit_scoring.models.encoders import original_feature


def use_file_backend() -> None:
    """Draw figures for files (Agg): a run never opens a window. In a notebook the inline
    backend is kept, so a figure a cell returns is shown, not printed as ``<Figure ...>``."""
    # auto_select=False: the configured backend, without probing GUI toolkits at import
    if "inline" not in (matplotlib.get_backend(auto_select=False) or ""):
        matplotlib.use("Agg")


use_file_backend()


def _curves(predictions: pd.DataFrame, target: str, candidates: list[str], display,
            title: str, axis_labels: tuple[str, str]):
    """One curve per candidate, with the chance level (a PD that ranks no better than a coin),
    on the rows it has a PD for (time-ordered folds' first block has none)."""
    figure, ax = plt.subplots(figsize=(6, 5))
    for position, name in enumerate(candidates):
        scored = predictions[name].notna()
        display.from_predictions(predictions.loc[scored, target], predictions.loc[scored, name],
                                 name=name, ax=ax, plot_chance_level=position == 0)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_title(title)
    figure.tight_layout()
    plt.close(figure)
    return figure


def roc_curves(predictions: pd.DataFrame, target: str, candidates: list[str]) -> Figure:
    """ROC curves of several candidates' out-of-fold PDs on one figure (AUC in the legend)."""
    return _curves(predictions, target, candidates, RocCurveDisplay,
                   "ROC curves, out-of-fold predictions on train",
                   ("share of goods declined (false positive rate)",
                    "share of bads declined (true positive rate)"))


def precision_recall_curves(predictions: pd.DataFrame, target: str, candidates: list[str]) -> Figure:
    """Precision-recall curves (bad = positive class) of several candidates on one figure; the
    chance level is the bad rate."""
    return _curves(predictions, target, candidates, PrecisionRecallDisplay,
                   "Precision-recall curves, out-of-fold predictions on train",
                   ("share of bads declined (recall)", "bad rate among declined (precision)"))


def feature_importance(model: Pipeline) -> pd.Series:
    """The final estimator's own importance per model input column, largest first.

    Tree models report their native importance (split gain / prediction change); linear
    models the absolute coefficient on standardised inputs; a model with neither (the
    prior-only baseline) gets an empty series. One-hot columns are summed back to the
    original feature so the reader sees applicant attributes.
    """
    preprocess, estimator = model[:-1], model[-1]
    if hasattr(estimator, "feature_importances_"):
        values = estimator.feature_importances_
    elif hasattr(estimator, "coef_"):
        values = abs(estimator.coef_[0])
    else:
        return pd.Series(dtype=float)
    names = preprocess.get_feature_names_out()
    importance = pd.Series(values, index=names, dtype=float)
    original = [original_feature(n, list(model.feature_names_in_)) for n in names]
    return importance.groupby(original).sum().sort_values(ascending=False)


def candidate_plots(name: str, predictions: pd.DataFrame, target: str,
                    importance: pd.Series) -> dict[str, Figure]:
    """One candidate's own plots, for its MLflow run: ROC and precision-recall curves of its
    out-of-fold PDs (column ``name`` of ``predictions``) and, when the estimator has one,
    its feature importance."""
    plots = {"roc_curve": roc_curves(predictions, target, [name]),
             "precision_recall_curve": precision_recall_curves(predictions, target, [name])}
    if not importance.empty:
        plots["feature_importance"] = importance_plot(importance, f"{name}: feature importance")
    return plots


def importance_plot(importance: pd.Series, title: str, top: int = 20) -> Figure:
    """Horizontal bar chart of the ``top`` most important features."""
    shown = importance.head(top).iloc[::-1]
    figure, ax = plt.subplots(figsize=(7, 0.3 * len(shown) + 1.2))
    ax.barh(shown.index, shown.to_numpy())
    figure.suptitle(title)
    ax.set_xlabel("importance")
    figure.tight_layout()
    plt.close(figure)
    return figure


def markdown_table(table: pd.DataFrame, digits: int = 3) -> str:
    """A metrics table as Markdown, for reports people read in MLflow or a code review."""
    return table.to_markdown(index=False, floatfmt=f".{digits}f")


def _finish(figure: Figure) -> Figure:
    figure.tight_layout()
    plt.close(figure)
    return figure


def cost_curve_plot(curve: pd.DataFrame, cutoff: float, naive_cutoff: float = 0.5) -> Figure:
    """Expected cost per applicant against the PD cut-off, with the chosen and naive points."""
    figure, ax = plt.subplots(figsize=(7, 4.5))
    ordered = curve.sort_values("cutoff")
    ax.plot(ordered["cutoff"], ordered["expected_cost"], label="expected cost per applicant")
    for value, style, name in ((cutoff, "-", "chosen"), (naive_cutoff, ":", "naive")):
        # declining PD >= value is the curve's row at the smallest cut-off not below it
        at = ordered.loc[ordered["cutoff"] >= value, "expected_cost"].iloc[0]
        ax.axvline(value, color="grey", linestyle=style)
        ax.plot([value], [at], "o", label=f"{name} cut-off {value:.3f}: cost {at:.3f}")
    ax.set_xlabel("PD cut-off (decline when PD >= cut-off)")
    ax.set_ylabel("expected cost per applicant")
    ax.set_title("Misclassification cost by cut-off, out-of-fold PDs on train")
    ax.legend()
    return _finish(figure)


def reliability_plot(
    target: pd.Series, before: pd.Series, after: pd.Series, title: str, n_bins: int = 10
) -> Figure:
    """Calibration (reliability) curves of PDs before and after calibration, Brier in the legend."""
    figure, ax = plt.subplots(figsize=(6, 5))
    for name, pd_scores in (("before calibration", before), ("after calibration", after)):
        CalibrationDisplay.from_predictions(
            target, pd_scores, n_bins=n_bins, strategy="quantile", ax=ax,
            name=f"{name} (Brier {brier_score_loss(target, pd_scores):.4f})",
        )
    ax.set_xlabel("mean PD of the bin")
    ax.set_ylabel("observed bad rate of the bin")
    ax.set_title(title)
    return _finish(figure)


def score_distribution_plot(target: pd.Series, points: pd.Series, cutoff_points: int) -> Figure:
    """Histogram of scorecard points of goods and bads, with the cut-off score."""
    figure, ax = plt.subplots(figsize=(7, 4.5))
    bins = np.histogram_bin_edges(points, bins=30)
    for label, name, colour in ((0, "good", "tab:green"), (1, "bad", "tab:red")):
        ax.hist(points[target == label], bins=bins, alpha=0.6, density=True, label=name,
                color=colour)
    ax.axvline(cutoff_points, color="black", linestyle="--",
               label=f"cut-off, about score {cutoff_points}")
    ax.set_xlabel("score (points)")
    ax.set_ylabel("density")
    ax.set_title("Score distribution of goods and bads, test set")
    ax.legend()
    return _finish(figure)
