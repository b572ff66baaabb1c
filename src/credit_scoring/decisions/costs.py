"""What a decision costs: the cost of a cut-off, and the cost-optimal cut-off.

Convention everywhere: an applicant is **declined when PD >= cut-off** (the rule of
scikit-learn's ``FixedThresholdClassifier``) and accepted otherwise. The two
misclassification costs are ``accept_bad`` (a defaulter was accepted) and
``decline_good`` (a good applicant was turned away). For calibrated PDs the cost-optimal
cut-off is ``decline_good / (decline_good + accept_bad)``.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    WrapValidator,
)
from pydantic_core import PydanticCustomError
from sklearn.metrics import confusion_matrix, roc_curve


def _one_error(value, handler):
    """One 'valid number' error for a value that is neither an int nor a float, not two."""
    try:
        return handler(value)
    except ValidationError as error:
        if any(e["type"] in ("int_type", "float_type") for e in error.errors()):
            raise PydanticCustomError("float_type", "Input should be a valid number") from None
        raise


Number = Annotated[StrictInt | StrictFloat, WrapValidator(_one_error)]
"""A number as written in YAML (5 stays 5 in reports, tags and stored models, not 5.0); text or
``true`` where a number belongs is an error, not a silent conversion."""
Positive = Annotated[Number, Field(gt=0)]


class Costs(BaseModel):
    """The two misclassification costs, in any one unit (``thresholding.costs``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accept_bad: Positive
    decline_good: Positive

    def of(self, accepted_bad, declined_good):
        """The cost of accepting ``accepted_bad`` bads and declining ``declined_good`` goods."""
        return self.accept_bad * accepted_bad + self.decline_good * declined_good


Rate = Annotated[Number, Field(ge=0, le=1)]


class Constraints(BaseModel):
    """What the cut-off must meet besides cost (``thresholding.constraints``; None: free)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_approval_rate: Rate | None = None
    max_bad_rate: Rate | None = None


def analytic_cutoff(costs: Costs) -> float:
    """The Bayes-optimal cut-off for perfectly calibrated PDs."""
    return costs.decline_good / (costs.decline_good + costs.accept_bad)


def cost_curve(y_true: pd.Series, pd_scores: pd.Series, costs: Costs) -> pd.DataFrame:
    """Expected cost per applicant, approval rate and bad rate among approved at every cut-off.

    One row per distinct PD (from ``roc_curve``), so the minimum over rows is the exact
    minimum over all cut-offs on this sample; the first row accepts everyone.
    """
    fpr, tpr, cutoffs = roc_curve(y_true, pd_scores, drop_intermediate=False)
    n_bad = float(np.sum(y_true))
    n_good = len(y_true) - n_bad
    accepted_bad = n_bad * (1 - tpr)
    declined_good = n_good * fpr
    accepted = accepted_bad + n_good - declined_good
    with np.errstate(invalid="ignore", divide="ignore"):
        bad_rate = np.where(accepted > 0, accepted_bad / accepted, np.nan)
    return pd.DataFrame(
        {
            # roc_curve's first cut-off is +inf (accept everyone): the next float above 1
            # keeps that meaning for a PD of exactly 1 and stays valid JSON
            "cutoff": np.minimum(cutoffs, np.nextafter(1.0, 2.0)),
            "expected_cost": costs.of(accepted_bad, declined_good) / len(y_true),
            "approval_rate": accepted / len(y_true),
            "bad_rate_approved": bad_rate,
        }
    )


def choose_cutoff(curve: pd.DataFrame, constraints: Constraints) -> pd.Series:
    """The cheapest row of ``cost_curve`` that meets the approval and bad-rate constraints.

    Ties go to the higher approval rate. Raises a ValueError that states the best
    achievable rates when no cut-off meets the constraints.
    """
    feasible = pd.Series(True, index=curve.index)
    if constraints.min_approval_rate is not None:
        feasible &= curve["approval_rate"] >= constraints.min_approval_rate
    if constraints.max_bad_rate is not None:
        feasible &= curve["bad_rate_approved"] <= constraints.max_bad_rate
    if not feasible.any():
        raise ValueError(
            "No cut-off meets thresholding.constraints "
            f"(min_approval_rate={constraints.min_approval_rate}, "
            f"max_bad_rate={constraints.max_bad_rate}) on the out-of-fold PDs: "
            f"approving {curve['approval_rate'].min():.1%} to 100% of applicants gives a bad "
            f"rate among approved of {curve['bad_rate_approved'].min():.1%} to "
            f"{curve['bad_rate_approved'].max():.1%}. Relax one constraint."
        )
    ordered = curve[feasible].sort_values(["expected_cost", "approval_rate"],
                                          ascending=[True, False])
    return ordered.iloc[0]


def decision_outcomes(
    y_true: pd.Series, declined: np.ndarray, costs: Costs
) -> dict[str, float]:
    """Confusion matrix in lending words, approval rate, bad rate among approved, cost."""
    (accepted_good, declined_good), (accepted_bad, declined_bad) = confusion_matrix(
        y_true, declined, labels=[0, 1]
    )
    n = len(y_true)
    accepted = accepted_good + accepted_bad
    return {
        "accepted_good": int(accepted_good),
        "declined_good": int(declined_good),
        "accepted_bad": int(accepted_bad),
        "declined_bad": int(declined_bad),
        "approval_rate": accepted / n,
        "bad_rate_approved": accepted_bad / accepted if accepted else float("nan"),
        "expected_cost": costs.of(accepted_bad, declined_good) / n,
    }
