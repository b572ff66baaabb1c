"""Population stability against the baselines a model stores, on hand-computed cases."""

import math

import pandas as pd
import pytest

from credit_scoring.validation.stability import psi_from_baseline, stability_status


def test_psi_of_two_bins_and_a_missing_bin_by_hand():
    # reference: edge 5, shares below / above / missing = 0.5, 0.5, 0; new values: 1 below,
    # 3 above, 0 missing -> shares 0.25, 0.75, 0. PSI = (0.25 - 0.5) ln(0.5) + (0.75 - 0.5)
    # ln(1.5) = 0.25 ln 3; the empty missing bin adds 0 (both floored to 1e-4)
    reference = {"edges": [5.0], "shares": [0.5, 0.5, 0.0]}
    assert psi_from_baseline(reference, [1.0, 7, 8, 9]) == pytest.approx(0.25 * math.log(3))
    assert stability_status(pd.Series([0.05, 0.1, 0.2, 0.3]), 0.1, 0.25).tolist() == [
        "stable", "stable", "watch", "shift"]
