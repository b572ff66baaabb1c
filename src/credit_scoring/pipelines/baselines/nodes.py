"""Nodes of the baselines pipeline.

Baselines are evaluated by the project's one candidate-evaluation node, shared with
model_comparison, so a baseline and a challenger are measured in exactly the same way.
"""

from credit_scoring.evaluation import evaluate_candidates

__all__ = ["evaluate_candidates"]
