"""Evaluators: analytic cost, measured and predicted latency, proxy training, training-free scores."""

from evaluators.cost import cost

__all__ = ["cost"]
