"""How well predicted latencies match measured ones: the figures a latency predictor is judged by.

* ``within_10pct``: share of nets predicted within +-10% of their measured
  latency (nn-Meter's headline figure), as a fraction;
* ``spearman``: rank correlation of predicted and measured latencies, which is
  what a search needs when it only compares candidates with each other;
* ``mape_pct``, ``median_ape_pct``, ``max_ape_pct``: mean, median and largest
  absolute percentage error ``|predicted / measured - 1|``;
* ``relative_error``: the 68th percentile of ``|predicted / measured - 1|``, a
  fraction, i.e. one standard deviation if the errors were Gaussian, but not
  inflated by the few measurements another process spoiled.  It is what the
  search multiplies by two before trusting a prediction over its budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import spearmanr

if TYPE_CHECKING:
    from searchspace import NetSpec

# One standard deviation of a Gaussian covers 68.27% of it.
ONE_SIGMA_PERCENTILE = 68.27
WITHIN_SHARE_TOLERANCE = 0.10


def accuracy_metrics(predicted_ms: Sequence[float], measured_ms: Sequence[float]) -> dict[str, float]:
    """The figures above for paired predictions and measurements."""
    predicted = np.asarray(predicted_ms, dtype=np.float64)
    measured = np.asarray(measured_ms, dtype=np.float64)
    if predicted.shape != measured.shape or predicted.ndim != 1 or len(predicted) == 0:
        raise ValueError(
            f"predicted_ms and measured_ms must be equally long, non-empty sequences, "
            f"got {len(predicted)} and {len(measured)} values"
        )
    if not np.all(np.isfinite(measured)) or np.any(measured <= 0):
        raise ValueError("measured_ms must all be finite and > 0")
    if not np.all(np.isfinite(predicted)):
        raise ValueError("predicted_ms must all be finite")
    errors = np.abs(predicted / measured - 1.0)
    return {
        "count": int(len(measured)),
        "within_10pct": float(np.mean(errors <= WITHIN_SHARE_TOLERANCE)),
        "spearman": _rank_correlation(predicted, measured),
        "mape_pct": float(np.mean(errors) * 100.0),
        "median_ape_pct": float(np.median(errors) * 100.0),
        "max_ape_pct": float(np.max(errors) * 100.0),
        "relative_error": float(np.percentile(errors, ONE_SIGMA_PERCENTILE)),
    }


def _rank_correlation(predicted: np.ndarray, measured: np.ndarray) -> float:
    # Undefined for fewer than two nets or a constant sequence; NaN says so (and JSON-encodes as NaN).
    if len(measured) < 2 or np.ptp(predicted) == 0 or np.ptp(measured) == 0:
        return float("nan")
    return float(spearmanr(predicted, measured).statistic)


def evaluate_predictor(predictor: Any, specs: Sequence[NetSpec], measured: Sequence[float]) -> dict[str, float]:
    """Accuracy of ``predictor.predict_ms`` on nets whose latency was measured (milliseconds)."""
    if len(specs) != len(measured):
        raise ValueError(f"specs and measured must pair up, got {len(specs)} specs and {len(measured)} latencies")
    return accuracy_metrics([predictor.predict_ms(spec) for spec in specs], measured)
