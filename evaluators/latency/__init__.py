"""Inference latency: measured (a fixed timing protocol, device locking, a persistent cache)
and predicted (a model fitted from those measurements, used to skip hopeless candidates)."""

from evaluators.latency.accuracy import accuracy_metrics, evaluate_predictor
from evaluators.latency.cache import CacheKey, LatencyCache
from evaluators.latency.measure import InputBatch, cached_latency, measure, measure_module
from evaluators.latency.predictor import LatencyPredictor, fit_from_cache
from evaluators.latency.protocol import PROTOCOL_VERSION, TimingProtocol
from evaluators.latency.result import LatencyResult

__all__ = [
    "PROTOCOL_VERSION",
    "CacheKey",
    "InputBatch",
    "LatencyCache",
    "LatencyPredictor",
    "LatencyResult",
    "TimingProtocol",
    "accuracy_metrics",
    "cached_latency",
    "evaluate_predictor",
    "fit_from_cache",
    "measure",
    "measure_module",
]
