"""From PD to decision: costs and the cut-off, score points and bands, reasons, the scorer.

``policy.DecisionPolicy`` is the decision policy as one typed object; ``scorer.PDScorer``
the champion (raw rows in; PD, score, band, decision and reasons out) and ``PDModel`` its
MLflow pyfunc, which ``pd_model.py`` names for MLflow. May import ``models`` and ``data``;
nothing here knows MLflow runs, the registry or Kedro.
"""

from credit_scoring import public_face

_HOMES = {
    "analytic_cutoff": "costs",
    "band_edges": "points",
    "choose_cutoff": "costs",
    "Constraints": "costs",
    "cost_curve": "costs",
    "Costs": "costs",
    "decision_outcomes": "costs",
    "DecisionPolicy": "policy",
    "INPUT_ROW": "scorer",
    "load_code_free": "scorer",
    "PDModel": "scorer",
    "PDScorer": "scorer",
    "score_band": "points",
    "score_bands": "points",
    "scorer_of": "scorer",
    "ScoreScaling": "points",
    "adverse_action_reasons": "reasons",
    "MAX_REASONS": "reasons",
    "NO_SINGLE_FACTOR": "reasons",
    "ReasonStatements": "reasons",
    "reference_contributions": "reasons",
    "resolve_statements": "reasons",
    "Statement": "reasons",
}
__all__ = [
    "Constraints",
    "Costs",
    "DecisionPolicy",
    "INPUT_ROW",
    "MAX_REASONS",
    "NO_SINGLE_FACTOR",
    "PDModel",
    "PDScorer",
    "ReasonStatements",
    "ScoreScaling",
    "Statement",
    "adverse_action_reasons",
    "analytic_cutoff",
    "band_edges",
    "choose_cutoff",
    "cost_curve",
    "decision_outcomes",
    "load_code_free",
    "reference_contributions",
    "resolve_statements",
    "score_band",
    "score_bands",
    "scorer_of",
]
__getattr__, __dir__ = public_face(__name__, _HOMES)
