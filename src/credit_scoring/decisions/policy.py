"""The decision policy: one typed object from the cut-off's choice to every scored row.

Thresholding builds a ``DecisionPolicy``; it travels inside the champion (``PDScorer``)
to scoring, serving, the Hub card, the registry's tags and the validation report, each of
which reads its attributes. Where a file or MLflow needs plain values, ``as_config`` and
``registry_tags`` flatten it at that edge; ``from_config`` reads it back, also from a model
registered by an earlier version (the stored layout is unchanged: ``scorecard`` holds the
score scaling).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from credit_scoring.decisions.costs import Constraints, Costs, Number
from credit_scoring.decisions.points import ScoreScaling, score_band
from credit_scoring.decisions.reasons import MAX_REASONS, ReasonStatements


class DecisionPolicy(BaseModel):
    """Decline when PD >= ``cutoff``; the score, its bands and the reasons given.

    Attributes:
        cutoff: the PD at and above which an applicant is declined.
        cutoff_score: the score points of the cut-off (about: scores are rounded).
        costs: the misclassification costs the cut-off minimises.
        constraints: the approval and bad-rate limits it was chosen under (none: absent
            from a model registered before they were stored).
        scaling: how a PD becomes score points (stored as ``scorecard``).
        band_edges: score-band boundaries, fixed on the development sample.
        reason_codes: how many reasons a declined applicant is given by default.
        statements: what each reason says (``reasons.ReasonStatements``); None in a model
            stored before statements existed (reasons then use readable names).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    decline_when: Literal["pd >= cutoff"] = "pd >= cutoff"
    cutoff: Annotated[Number, Field(ge=0)]
    cutoff_score: StrictInt
    costs: Costs
    constraints: Constraints = Constraints()
    scaling: ScoreScaling = Field(alias="scorecard")
    band_edges: list[Number]
    reason_codes: Annotated[StrictInt, Field(ge=0, le=MAX_REASONS)]
    statements: ReasonStatements | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DecisionPolicy:
        if list(self.band_edges) != sorted(self.band_edges):
            raise ValueError(f"band_edges must ascend (band 1 is the riskiest), got "
                             f"{self.band_edges}")
        expected = int(self.scaling.points([self.cutoff])[0])
        if self.cutoff_score != expected:
            raise ValueError(f"cutoff_score {self.cutoff_score} is not the score of the cut-off "
                             f"{self.cutoff} on this scaling ({expected})")
        return self

    def declines(self, pd_scores) -> np.ndarray:
        """True for each PD the policy declines."""
        return np.asarray(pd_scores) >= self.cutoff

    def points(self, pd_scores) -> np.ndarray:
        """Integer score points of each PD."""
        return self.scaling.points(pd_scores)

    def bands(self, points) -> np.ndarray:
        """Score band of each score: 1 is the riskiest."""
        return score_band(points, self.band_edges)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DecisionPolicy:
        """The policy as a model's configuration or ``champion.json`` stores it."""
        return cls.model_validate(config)

    def as_config(self) -> dict[str, Any]:
        """Plain values, in the stored layout (MLmodel configuration, ``champion.json``); a
        policy read from a model without statements is written back without them."""
        return self.model_dump(by_alias=True,
                               exclude={"statements"} if self.statements is None else None)

    def registry_tags(self) -> dict[str, Any]:
        """The model version tags a registry list shows: the cut-off and the costs."""
        return {"cutoff": self.cutoff, "cutoff_score": self.cutoff_score,
                "cost_accept_bad": self.costs.accept_bad,
                "cost_decline_good": self.costs.decline_good}
