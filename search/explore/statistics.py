"""Comparing design spaces by their error distributions (Radosavovic et al. 2019, 2020).

* :func:`edf` - the empirical distribution function F(e) = fraction of nets with error <= e,
  optionally weighted; :func:`edf_band` its bootstrap confidence band.
* :func:`complexity_weights` - the weights of the *normalized* EDF: complexity
  (MACs or params) is binned on a log axis shared by all spaces, and each net
  weighs ``1 / (bins x nets of its space in its bin)`` over the bins every space
  reaches, so each space's weighted complexity histogram is uniform over the same
  bins and spaces are compared at matched complexity.
* :func:`expected_best_of_k` - the expected minimum error of k nets drawn without
  replacement, exactly, from order statistics.
* :func:`knob_trend` - error against a knob's (binned) value: median and quartiles.
* :func:`compare` - two-sample Kolmogorov-Smirnov verdicts: scipy's exact test on
  the raw EDFs, and a weighted statistic on the normalized EDFs.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from scipy.special import gammaln


def edf(errors: Sequence[float], grid: Sequence[float], weights: Sequence[float] | None = None) -> np.ndarray:
    """Weighted fraction of ``errors`` at or below each grid point."""
    errors = np.asarray(errors, dtype=float)
    grid = np.asarray(grid, dtype=float)
    w = np.full(len(errors), 1.0) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(errors, kind="stable")
    cumulative = np.concatenate([[0.0], np.cumsum(w[order])])
    positions = np.searchsorted(errors[order], grid, side="right")
    return cumulative[positions] / cumulative[-1]


def edf_band(
    errors: Sequence[float], grid: Sequence[float], weights: Sequence[float] | None = None, *,
    resamples: int = 1000, level: float = 0.95, seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap band of the (weighted) EDF: nets resampled with replacement, weights kept."""
    errors = np.asarray(errors, dtype=float)
    w = np.full(len(errors), 1.0) if weights is None else np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    curves = []
    for _ in range(resamples):
        pick = rng.integers(len(errors), size=len(errors))
        if w[pick].sum() > 0:
            curves.append(edf(errors[pick], grid, w[pick]))
    curves = np.array(curves)
    tail = (1.0 - level) / 2.0
    return np.quantile(curves, tail, axis=0), np.quantile(curves, 1.0 - tail, axis=0)


def complexity_bins(complexities: Sequence[Sequence[float]], bins: int = 10) -> np.ndarray:
    """Bin edges, equal on a log axis, over the range all spaces' nets cover together."""
    values = np.concatenate([np.asarray(c, dtype=float) for c in complexities])
    low, high = math.log10(values.min()), math.log10(values.max())
    if high == low:
        high = low + 1e-9
    return np.logspace(low, high, bins + 1)


def complexity_weights(complexities: Sequence[Sequence[float]], bins: int = 10) -> list[np.ndarray]:
    """Per space, each net's weight ``1 / (B x count of its space in its bin)``, over the B bins every space has nets in.

    Nets in a bin some space never reaches weigh 0: no weighting can match a
    distribution that is not there.  Each space's weights sum to 1 (or are all 0
    when the spaces share no bin).
    """
    edges = complexity_bins(complexities, bins)
    indices = [np.clip(np.searchsorted(edges, np.asarray(c, dtype=float), side="right") - 1, 0, bins - 1) for c in complexities]
    counts = [np.bincount(i, minlength=bins) for i in indices]
    shared = np.logical_and.reduce([c > 0 for c in counts])
    used = int(shared.sum())
    weights = []
    for index, count in zip(indices, counts):
        w = np.where(shared[index], 1.0 / (max(used, 1) * np.maximum(count[index], 1)), 0.0)
        weights.append(w)
    return weights


def expected_best_of_k(errors: Sequence[float], k: int) -> float:
    """E[min error of k nets drawn without replacement from these n]: sum_i e_(i) C(n-i, k-1) / C(n, k)."""
    ordered = np.sort(np.asarray(errors, dtype=float))
    n = len(ordered)
    if not 1 <= k <= n:
        raise ValueError(f"k={k} must lie in 1..{n}")
    i = np.arange(1, n - k + 2)  # the i-th smallest can be the minimum only while n - i >= k - 1

    def log_choose(a, b):
        return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

    probability = np.exp(log_choose(n - i, k - 1) - log_choose(n, k))
    return float(np.sum(ordered[: n - k + 1] * probability))


def best_of_k_curve(errors: Sequence[float], ks: Sequence[int] | None = None) -> dict[int, float]:
    n = len(errors)
    ks = ks or sorted({k for k in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, n) if k <= n})
    return {k: expected_best_of_k(errors, k) for k in ks}


@dataclass(frozen=True)
class TrendBin:
    label: str
    center: float | None  # numeric knobs: the bin's median value; categorical: None
    count: int
    median: float
    q25: float
    q75: float


def knob_trend(values: Sequence[Any], errors: Sequence[float], bins: int = 6) -> list[TrendBin]:
    """Error per knob value: each distinct value while there are at most ``bins``, else quantile bins."""
    pairs = [(v, e) for v, e in zip(values, errors) if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not pairs:
        return []
    numeric = all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v, _ in pairs)
    groups: list[tuple[str, float | None, list[float]]] = []
    distinct = sorted({v for v, _ in pairs}, key=lambda v: (str(type(v)), v))
    if not numeric or len(distinct) <= bins:
        for value in distinct:
            chosen = [e for v, e in pairs if v == value]
            groups.append((_label(value), float(value) if numeric else None, chosen))
    else:
        vals = np.array([v for v, _ in pairs], dtype=float)
        errs = np.array([e for _, e in pairs], dtype=float)
        edges = np.unique(np.quantile(vals, np.linspace(0, 1, bins + 1)))
        index = np.clip(np.searchsorted(edges, vals, side="right") - 1, 0, len(edges) - 2)
        for b in range(len(edges) - 1):
            inside = index == b
            if inside.any():
                groups.append((f"{_label(edges[b])}-{_label(edges[b + 1])}", float(np.median(vals[inside])), list(errs[inside])))
    return [TrendBin(label, center, len(errs), float(np.median(errs)), float(np.quantile(errs, 0.25)), float(np.quantile(errs, 0.75)))
            for label, center, errs in groups]


def _label(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def weighted_ks(a: Sequence[float], wa: Sequence[float], b: Sequence[float], wb: Sequence[float]) -> tuple[float, float, int]:
    """KS statistic between two weighted EDFs, its asymptotic p-value, and the sign (+1: a's EDF is higher).

    The p-value uses Kolmogorov's limiting distribution with Kish's effective
    sample sizes ``(sum w)^2 / sum w^2``: an approximation, stated as such.
    """
    grid = np.union1d(a, b)
    fa, fb = edf(a, grid, wa), edf(b, grid, wb)
    gap = fa - fb
    where = int(np.argmax(np.abs(gap)))
    d = float(abs(gap[where]))

    def effective(w):
        w = np.asarray(w, dtype=float)
        return w.sum() ** 2 / np.sum(w ** 2)

    na, nb = effective(wa), effective(wb)
    p = float(stats.kstwobign.sf(d * math.sqrt(na * nb / (na + nb))))
    return d, p, 1 if gap[where] > 0 else -1


@dataclass(frozen=True)
class Verdict:
    first: str
    second: str
    ks: float
    p_value: float
    better: str | None  # the space whose errors are lower, when the difference is significant
    normalized_ks: float | None = None
    normalized_p_value: float | None = None

    def line(self, level: float = 0.05) -> str:
        normalized = ""
        if self.normalized_ks is not None:
            normalized = f"; complexity-normalized D={self.normalized_ks:.2f}, p~{self.normalized_p_value:.3g}"
        test = f"KS D={self.ks:.2f}, p={self.p_value:.3g}{normalized}"
        if self.better is None:
            return f"{self.first} vs {self.second}: no significant difference at {level:.0%} ({test})"
        worse = self.second if self.better == self.first else self.first
        return f"{self.better}'s error distribution is better than {worse}'s: {test}"

    def to_dict(self) -> dict[str, Any]:
        return {"spaces": [self.first, self.second], "ks": self.ks, "p_value": self.p_value, "better": self.better,
                "normalized_ks": self.normalized_ks, "normalized_p_value": self.normalized_p_value,
                "line": self.line()}


def compare(name_a: str, a: Sequence[float], name_b: str, b: Sequence[float],
            weights: tuple[Sequence[float], Sequence[float]] | None = None, level: float = 0.05) -> Verdict:
    """Verdict on the raw EDFs (scipy's two-sample KS test), with the normalized-EDF statistic alongside."""
    with warnings.catch_warnings():  # ties make scipy fall back to the asymptotic p-value, with a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        test = stats.ks_2samp(a, b)
    better = None
    if test.pvalue < level:
        # statistic_sign +1: a's EDF lies above b's where they differ most, i.e. a has more low errors.
        better = name_a if test.statistic_sign > 0 else name_b
    normalized = (None, None)
    if weights is not None and sum(weights[0]) > 0 and sum(weights[1]) > 0:
        d, p, _ = weighted_ks(a, weights[0], b, weights[1])
        normalized = (d, p)
    return Verdict(name_a, name_b, float(test.statistic), float(test.pvalue), better, *normalized)
