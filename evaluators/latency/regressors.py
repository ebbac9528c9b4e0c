"""Regression families that map latency features to milliseconds.

Each family has ``fit(features, latencies_ms)`` and ``predict(features)`` on
feature matrices (one row per net).  :class:`AdditiveRegression` is the one the
latency predictor uses; the others exist so that the choice can be checked
against alternatives on the same measurements (``benchmarks/latency_predictor.py``
compares them; the figures are in :mod:`evaluators.latency.predictor`).

All families minimise *relative* error: a 2 ms miss on a 4 ms net matters as
much as a 50 ms miss on a 100 ms net, because a search compares every net with
one budget, whatever its size.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

# Huber's tuning constant: 95% efficiency under Gaussian noise, bounded influence beyond.
_HUBER_K = 1.345
# Relative residuals below this are treated as this, so that a perfect fit does not divide by zero.
_SCALE_FLOOR = 1e-6
_MAX_REWEIGHTS = 50
_TOLERANCE = 1e-10


def _check_training_data(features: np.ndarray, latencies_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    features = np.asarray(features, dtype=np.float64)
    latencies = np.asarray(latencies_ms, dtype=np.float64)
    if features.ndim != 2 or latencies.ndim != 1 or len(features) != len(latencies):
        raise ValueError(
            f"features must be a (nets x features) matrix and latencies_ms one value per net, "
            f"got shapes {features.shape} and {latencies.shape}"
        )
    if not np.all(np.isfinite(latencies)) or np.any(latencies <= 0):
        raise ValueError("latencies_ms must all be finite and > 0")
    if not np.all(np.isfinite(features)) or np.any(features < 0):
        raise ValueError("features must all be finite and >= 0")
    return features, latencies


class AdditiveRegression:
    """``latency = overhead + sum_j cost_j * feature_j`` with every cost and the overhead >= 0.

    Non-negativity is what makes the model physical (a MAC, an element moved or
    a layer dispatched never saves time) and it regularises: features that are
    nearly collinear cannot cancel each other with large opposite weights.

    Fitted by iteratively reweighted non-negative least squares on relative
    residuals ``predicted / measured - 1`` with Huber weights: residuals within
    ``1.345`` robust standard deviations count fully, larger ones with weight
    falling as ``1 / |residual|``, so a measurement spoiled by another process
    pulls on the fit like a modest error instead of a squared outlier.
    """

    name = "additive"

    def __init__(self) -> None:
        self.overhead_ms = 0.0
        self.costs_ms: np.ndarray | None = None

    def fit(self, features: np.ndarray, latencies_ms: np.ndarray) -> AdditiveRegression:
        features, latencies = _check_training_data(features, latencies_ms)
        # Relative residual = (X w - y) / y: scale every row by 1 / y, target 1.
        design = np.hstack([np.ones((len(latencies), 1)), features]) / latencies[:, None]
        # Columns scaled to unit RMS so that MACs (1e9) and counts (1e2) are solved alike.
        scale = np.sqrt(np.mean(design**2, axis=0))
        used = scale > 0
        scaled = design[:, used] / scale[used]
        target = np.ones(len(latencies))
        weights = np.ones(len(latencies))
        solution = np.zeros(scaled.shape[1])
        for _ in range(_MAX_REWEIGHTS):
            root = np.sqrt(weights)
            updated, _ = nnls(scaled * root[:, None], target * root, maxiter=50 * scaled.shape[1])
            residuals = scaled @ updated - target
            converged = np.max(np.abs(updated - solution)) <= _TOLERANCE * max(1.0, np.max(np.abs(updated)))
            solution = updated
            if converged:
                break
            weights = _huber_weights(residuals)
        coefficients = np.zeros(design.shape[1])
        coefficients[used] = solution / scale[used]
        self.overhead_ms = float(coefficients[0])
        self.costs_ms = coefficients[1:]
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        if self.costs_ms is None:
            raise RuntimeError("AdditiveRegression.predict() called before fit()")
        # Row by row (not a matrix product, whose summation order depends on the batch), so one
        # net predicted alone gets exactly the value it gets among many.
        return self.overhead_ms + (np.asarray(features, dtype=np.float64) * self.costs_ms).sum(axis=1)


def _huber_weights(residuals: np.ndarray) -> np.ndarray:
    # Robust standard deviation from the median absolute deviation (1.4826 makes it unbiased for Gaussians).
    spread = max(1.4826 * float(np.median(np.abs(residuals - np.median(residuals)))), _SCALE_FLOOR)
    limit = _HUBER_K * spread
    magnitude = np.maximum(np.abs(residuals), _SCALE_FLOOR)
    return np.where(magnitude <= limit, 1.0, limit / magnitude)


class LogLinearRegression:
    """``log latency = a + sum_j b_j * log(1 + feature_j / typical_j)``, ridge-regularised.

    A power law per feature: it bends where the additive model is straight (a
    net twice as deep is not quite twice as slow when the machine's caches
    start to help), but it cannot add per-layer costs, so a net with one very
    expensive layer is predicted from the sum of logs instead of the sum.
    """

    name = "log_linear"

    def __init__(self, ridge: float = 1e-2) -> None:
        self.ridge = ridge
        self.typical: np.ndarray | None = None
        self.coefficients: np.ndarray | None = None

    def _design(self, features: np.ndarray) -> np.ndarray:
        logs = np.log1p(np.asarray(features, dtype=np.float64) / self.typical)
        return np.hstack([np.ones((len(logs), 1)), logs])

    def fit(self, features: np.ndarray, latencies_ms: np.ndarray) -> LogLinearRegression:
        features, latencies = _check_training_data(features, latencies_ms)
        typical = np.median(np.where(features > 0, features, np.nan), axis=0)
        self.typical = np.where(np.isfinite(typical), typical, 1.0)
        design = self._design(features)
        penalty = self.ridge * len(latencies) * np.eye(design.shape[1])
        penalty[0, 0] = 0.0  # the intercept is not shrunk
        self.coefficients = np.linalg.solve(design.T @ design + penalty, design.T @ np.log(latencies))
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        if self.coefficients is None:
            raise RuntimeError("LogLinearRegression.predict() called before fit()")
        return np.exp(self._design(features) @ self.coefficients)


class BoostedTreesRegression:
    """Gradient-boosted regression trees on log features, predicting log latency.

    Trees capture interactions the two linear families cannot (a depthwise
    conv that is cheap at 112 px and expensive at 28 px), but they cannot
    extrapolate: a net beyond the training range gets the latency of the
    largest nets seen.  For comparison only: it is not saved or loaded.
    """

    name = "boosted_trees"

    def __init__(self, seed: int = 0, estimators: int = 300) -> None:
        self.seed, self.estimators = seed, estimators
        self.model = None

    def fit(self, features: np.ndarray, latencies_ms: np.ndarray) -> BoostedTreesRegression:
        from sklearn.ensemble import GradientBoostingRegressor

        features, latencies = _check_training_data(features, latencies_ms)
        self.model = GradientBoostingRegressor(
            loss="huber", n_estimators=self.estimators, learning_rate=0.05, max_depth=3, subsample=0.8, random_state=self.seed
        )
        self.model.fit(np.log1p(features), np.log(latencies))
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("BoostedTreesRegression.predict() called before fit()")
        return np.exp(self.model.predict(np.log1p(np.asarray(features, dtype=np.float64))))
