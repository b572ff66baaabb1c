"""The decision policy as one typed object: read from a stored model, flattened at the edges."""

import numpy as np
import pytest
from pydantic import ValidationError

from credit_scoring.decisions import Constraints, Costs, DecisionPolicy, ScoreScaling

# the layout a champion's MLmodel and champion.json have held since wave 2
STORED = {"decline_when": "pd >= cutoff", "cutoff": 0.25, "cutoff_score": 519,
          "costs": {"accept_bad": 5, "decline_good": 1},
          "scorecard": {"base_score": 600, "base_odds": 50, "pdo": 20},
          "band_edges": [540.0, 560.0, 580.0], "reason_codes": 4}


def test_a_policy_stored_by_an_earlier_version_reads_back_typed():
    policy = DecisionPolicy.from_config(STORED)
    assert policy.costs == Costs(accept_bad=5, decline_good=1)
    assert policy.scaling == ScoreScaling(base_score=600, base_odds=50, pdo=20)
    assert policy.constraints == Constraints()  # not stored then: none
    # written back in the same layout, constraints added; numbers as they were written
    assert policy.as_config() == {**STORED, "constraints": {"min_approval_rate": None,
                                                            "max_bad_rate": None}}
    assert policy.as_config()["costs"]["accept_bad"] == 5 and isinstance(
        policy.as_config()["costs"]["accept_bad"], int)


def test_the_policy_declines_at_the_cutoff_and_bands_its_points():
    policy = DecisionPolicy.from_config(STORED)
    assert policy.declines([0.2499, 0.25, 0.9]).tolist() == [False, True, True]
    # odds 50:1 score 600 (base), 100:1 score 620 (+pdo), 25:1 score 580
    points = policy.points([1 / 51, 1 / 101, 1 / 26])
    assert points.tolist() == [600, 620, 580]
    assert policy.bands(np.array([539, 540, 579, 580, 700])).tolist() == [1, 2, 3, 4, 4]


def test_the_registry_tags_are_the_cutoff_and_the_costs():
    assert DecisionPolicy.from_config(STORED).registry_tags() == {
        "cutoff": 0.25, "cutoff_score": 519, "cost_accept_bad": 5, "cost_decline_good": 1}


@pytest.mark.parametrize(("change", "message"), [
    ({"costs": {"accept_bad": -1, "decline_good": 1}}, "greater than 0"),
    ({"reason_codes": -1}, "greater than or equal to 0"),
    ({"decline_when": "pd > cutoff"}, "pd >= cutoff"),
    ({"cut_off": 0.3}, "Extra inputs are not permitted"),
])
def test_a_malformed_policy_is_refused_naming_the_key(change, message):
    with pytest.raises(ValidationError, match=message):
        DecisionPolicy.from_config({**STORED, **change})


def test_the_policy_cannot_be_changed_in_place():
    policy = DecisionPolicy.from_config(STORED)
    with pytest.raises(ValidationError):
        policy.cutoff = 0.5


@pytest.mark.parametrize(("change", "message"), [
    ({"band_edges": [580.0, 560.0]}, "band_edges must ascend"),
    ({"cutoff_score": 600}, "cutoff_score 600 is not the score of the cut-off 0.25"),
])
def test_an_inconsistent_policy_is_refused(change, message):
    with pytest.raises(ValidationError, match=message):
        DecisionPolicy.from_config({**STORED, **change})
