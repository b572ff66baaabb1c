"""The shared PD metrics and cross-validation that every pipeline reports."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from credit_scoring.models.evaluation import (
    METRICS,
    balanced_sample_weight,
    cross_validate_pd,
    gini,
    ks_statistic,
    pd_metrics,
)


def test_gini_is_two_auc_minus_one():
    y = np.array([0, 0, 1, 1, 0, 1])
    scores = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.7])
    metrics = pd_metrics(y, scores)
    assert metrics["gini"] == pytest.approx(2 * metrics["roc_auc"] - 1)
    assert gini(y, scores) == pytest.approx(2 * 8 / 9 - 1)


def test_ks_is_one_for_perfect_separation_and_zero_for_constant_pd():
    y = np.array([0, 0, 1, 1])
    assert ks_statistic(y, np.array([0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)
    assert ks_statistic(y, np.full(4, 0.3)) == pytest.approx(0.0)


def test_ks_matches_the_max_distance_between_bad_and_good_cdfs():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500)
    scores = rng.random(500) + 0.3 * y
    grid = np.sort(np.unique(scores))
    cdf_bad = np.searchsorted(np.sort(scores[y == 1]), grid, side="right") / (y == 1).sum()
    cdf_good = np.searchsorted(np.sort(scores[y == 0]), grid, side="right") / (y == 0).sum()
    assert ks_statistic(y, scores) == pytest.approx(np.max(np.abs(cdf_good - cdf_bad)))


def test_all_metrics_are_reported_with_their_names():
    metrics = pd_metrics(np.array([0, 1, 0, 1]), np.array([0.2, 0.7, 0.4, 0.6]))
    assert list(metrics) == ["roc_auc", "gini", "ks", "pr_auc", "brier", "log_loss"]
    assert metrics["brier"] == pytest.approx(np.mean([0.04, 0.09, 0.16, 0.16]))


def test_cross_validation_uses_the_persisted_folds():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=300)})
    y = pd.Series((X["x"] + rng.normal(size=300) > 0).astype(int))
    folds = pd.Series(np.arange(300) % 3)
    summary, oof_pd = cross_validate_pd(LogisticRegression(), X, y, folds)
    manual = []
    for fold in range(3):
        model = LogisticRegression().fit(X[folds != fold], y[folds != fold])
        held_out_pd = model.predict_proba(X[folds == fold])[:, 1]
        # each row's out-of-fold PD comes from the model that did not see it
        np.testing.assert_allclose(oof_pd[folds == fold], held_out_pd)
        manual.append(pd_metrics(y[folds == fold], held_out_pd))
    for name in METRICS:
        assert summary[f"cv_{name}_mean"] == pytest.approx(np.mean([m[name] for m in manual]))
        assert summary[f"cv_{name}_std"] == pytest.approx(np.std([m[name] for m in manual]))


def test_balanced_class_weighting_reaches_every_fold_fit():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=400)})
    y = pd.Series((X["x"] + rng.normal(size=400) > 1.2).astype(int))  # ~15% bads
    folds = pd.Series(np.arange(400) % 4)
    model = Pipeline([("model", LogisticRegression())])
    _, plain = cross_validate_pd(model, X, y, folds)
    _, weighted = cross_validate_pd(model, X, y, folds, balanced_sample_weight(y, "balanced"))
    # up-weighting the rare bads raises every PD, as class_weight="balanced" would
    assert weighted.mean() > plain.mean() + 0.1
    assert balanced_sample_weight(y, None) is None
    with pytest.raises(ValueError, match="class_weighting.*'heavy'"):
        balanced_sample_weight(y, "heavy")
