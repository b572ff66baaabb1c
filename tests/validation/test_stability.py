"""Population stability against the baselines a model stores, on hand-computed cases."""

import math

import pandas as pd
import pytest

from credit_scoring.validation.stability import (
    bin_counts,
    psi_from_baseline,
    psi_from_counts,
    stability_status,
)


def test_psi_of_two_bins_and_a_missing_bin_by_hand():
    # reference: edge 5, shares below / above / missing = 0.5, 0.5, 0; new values: 1 below,
    # 3 above, 0 missing -> shares 0.25, 0.75, 0. PSI = (0.25 - 0.5) ln(0.5) + (0.75 - 0.5)
    # ln(1.5) = 0.25 ln 3; the empty missing bin adds 0 (both floored to 1e-4)
    reference = {"edges": [5.0], "shares": [0.5, 0.5, 0.0]}
    assert psi_from_baseline(reference, [1.0, 7, 8, 9]) == pytest.approx(0.25 * math.log(3))
    assert stability_status(pd.Series([0.05, 0.1, 0.2, 0.3]), 0.1, 0.25).tolist() == [
        "stable", "stable", "watch", "shift"]


def test_bin_counts_by_hand_in_one_duckdb_aggregation():
    baselines = {
        # cut at 5 and 10; seen from 1 to 20
        "income": {"edges": [5.0, 10.0], "shares": [0.3, 0.3, 0.3, 0.1], "range": [1.0, 20.0]},
        "region": {"levels": ["it's", "south", "__missing__", "__other__"],
                   "shares": [0.5, 0.4, 0.1, 0.0]},
        "product": {"levels": ["101", "202", "__missing__", "__other__"],
                    "shares": [0.5, 0.5, 0.0, 0.0]},
    }
    batch = pd.DataFrame({
        "income": [0.5, 5.0, 9.9, 10.0, 25.0, None],      # 5 and 10 count above their edge
        "region": ["it's", "south", None, "west", "west", "south"],
        "product": [101, 101, 202, 303, 202, 101],         # integer codes, compared as text
    })
    rows, counts = bin_counts(batch, baselines)
    assert rows == 6
    assert counts["income"]["counts"].tolist() == [1, 2, 2, 1]   # <5, [5,10), >=10, missing
    assert counts["income"]["outside"] == 2                      # 0.5 and 25
    assert counts["region"]["counts"].tolist() == [1, 2, 1, 2]   # the quote survives SQL
    assert counts["region"]["unseen"] == 2
    assert counts["product"]["counts"].tolist() == [3, 2, 0, 1]
    for column, reference in baselines.items():
        assert psi_from_counts(reference, counts[column]["counts"]) == pytest.approx(
            psi_from_baseline(reference, batch[column]))
