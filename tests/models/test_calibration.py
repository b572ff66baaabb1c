"""PD calibration: Platt on logit(PD) and isotonic on hand-computable cases, and the choice
among none / Platt / isotonic by cross-fitted out-of-fold loss."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from credit_scoring.models.calibration import PDCalibrator, choose_calibration, cross_fitted


def test_platt_on_logit_fits_two_score_groups_exactly():
    # PD 0.5 (logit 0) defaults 1 in 4, PD expit(1) (logit 1) 2 in 4: two groups, two
    # parameters, so the fit is exact: intercept logit(0.25), slope logit(0.5) - logit(0.25)
    pds = np.array([0.5] * 4 + [expit(1.0)] * 4)
    y = np.array([1, 0, 0, 0, 1, 1, 0, 0])
    calibrator = PDCalibrator("platt").fit(pds, y)
    assert calibrator.intercept_ == pytest.approx(np.log(1 / 3), abs=1e-4)
    assert calibrator.slope_ == pytest.approx(-np.log(1 / 3), abs=1e-4)
    np.testing.assert_allclose(calibrator.predict([0.5, expit(1.0)]), [0.25, 0.5], atol=1e-4)


def test_platt_on_logit_puts_no_floor_under_the_pd():
    # the classic sigmoid on the raw PD maps PD 0 to expit(intercept) > 0; on logit(PD) a
    # positive slope sends PD -> 0 to 0
    rng = np.random.default_rng(0)
    pds = rng.uniform(0.01, 0.6, 2000)
    y = rng.random(2000) < pds
    calibrator = PDCalibrator("platt").fit(pds, y)
    assert calibrator.slope_ > 0
    assert calibrator.predict([1e-8])[0] < 1e-6


def test_isotonic_pools_adjacent_violators_and_interpolates():
    # PDs 0.1 0.2 0.3 0.4 with outcomes 0 1 0 1: 0.2 and 0.3 violate the order and are
    # pooled to 0.5; between two steps the map is linear, beyond them it is clipped
    calibrator = PDCalibrator("isotonic").fit([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])
    np.testing.assert_allclose(calibrator.predict([0.1, 0.15, 0.25, 0.4, 0.05, 0.9]),
                               [0.0, 0.25, 0.5, 1.0, 0.0, 1.0])


def test_an_unknown_method_is_named():
    with pytest.raises(ValueError, match="'sigmoid'.*platt or isotonic"):
        PDCalibrator("sigmoid")


def _book(n: int, squeeze: float, seed: int = 1):
    """True PDs, outcomes drawn from them, and a model's PDs squeezed towards the middle."""
    rng = np.random.default_rng(seed)
    true_pd = expit(rng.normal(-1.5, 1.2, n))
    y = pd.Series((rng.random(n) < true_pd).astype(int))
    model_pd = pd.Series(expit(squeeze * logit(true_pd)))
    folds = pd.Series(np.arange(n) % 5)
    return model_pd, y, folds


def test_cross_fitting_never_calibrates_a_fold_with_its_own_outcomes():
    model_pd, y, folds = _book(500, 1.0)
    flipped = y.where(folds != 0, 1 - y)  # fold 0's outcomes changed ...
    # ... changes fold 0's calibrated PDs not at all, the others' only through fold 0
    a = cross_fitted("platt", model_pd, y, folds)
    b = cross_fitted("platt", model_pd, flipped, folds)
    np.testing.assert_array_equal(a[folds == 0], b[folds == 0])
    assert not np.allclose(a[folds == 1], b[folds == 1])


def test_squeezed_pds_get_platt_and_calibrated_pds_stay_as_they_are():
    squeezed, y, folds = _book(20_000, 0.4)
    calibrator, calibrated, report = choose_calibration(
        squeezed, y, folds, ["none", "platt", "isotonic"], "log_loss")
    chosen = report.set_index("method")
    assert report.loc[report["chosen"], "method"].tolist() != ["none"]
    assert chosen.loc["platt", "log_loss"] < chosen.loc["none", "log_loss"]
    assert chosen.loc["platt", "brier"] < chosen.loc["none", "brier"]
    assert calibrator is not None and calibrator.predict(squeezed).tolist() == calibrated.tolist()

    honest, y, folds = _book(20_000, 1.0)
    calibrator, calibrated, report = choose_calibration(honest, y, folds, ["none", "platt"],
                                                        "brier")
    # Platt's slope and intercept are estimated, so out of fold it cannot beat the truth
    assert report.loc[report["chosen"], "method"].tolist() == ["none"]
    assert calibrator is None and np.array_equal(calibrated, honest.to_numpy())


def test_a_tie_goes_to_the_simpler_method():
    model_pd, y, folds = _book(300, 1.0)
    _, _, report = choose_calibration(model_pd, y, folds, ["isotonic", "none"], "log_loss")
    assert report["method"].tolist() == ["none", "isotonic"]  # listed simplest first
    _, _, only = choose_calibration(model_pd, y, folds, ["none"], "log_loss")
    assert only["chosen"].tolist() == [True]
