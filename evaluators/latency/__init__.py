"""Inference latency: measured (a fixed timing protocol, device locking, a persistent cache)
and predicted (a model fitted from those measurements, used to skip hopeless candidates)."""

from evaluators.latency.accuracy import accuracy_metrics, evaluate_predictor
from evaluators.latency.cache import CacheKey, LatencyCache
from evaluators.latency.measure import (
    InputBatch,
    Probed,
    ReadyNet,
    cached_latency,
    measure,
    measure_module,
    measure_unless_over,
    ready_net,
)
from evaluators.latency.predictor import LatencyPredictor, fit_from_cache
from evaluators.latency.protocol import PROTOCOL_VERSION, TimingProtocol
from evaluators.latency.result import LatencyResult
from evaluators.latency.runtimes import RUNTIMES, ConversionFailed, RuntimeUnavailable, check_runtime

__all__ = [
    "PROTOCOL_VERSION",
    "RUNTIMES",
    "CacheKey",
    "ConversionFailed",
    "InputBatch",
    "LatencyCache",
    "LatencyPredictor",
    "LatencyResult",
    "Probed",
    "ReadyNet",
    "RuntimeUnavailable",
    "TimingProtocol",
    "accuracy_metrics",
    "cached_latency",
    "check_runtime",
    "evaluate_predictor",
    "fit_from_cache",
    "measure",
    "measure_module",
    "measure_unless_over",
    "ready_net",
]
