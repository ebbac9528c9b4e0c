"""Evaluators: analytic cost, measured and predicted latency, proxy training, training-free scores."""

from evaluators.cost import cost
from evaluators.zero_cost import methods as score_methods
from evaluators.zero_cost import score

__all__ = ["cost", "score", "score_methods"]
