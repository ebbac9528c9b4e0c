"""Summary figures of a search-efficiency benchmark, with bootstrap 95% confidence intervals over seeds.

A run's history is its hypervolume after each trial, as a share of the best
possible.  The figures: the share after k trials (mean over seeds), and the
trials a searcher needs to reach a target share (median over seeds; a seed
that never reaches it counts as "more than the run's trials", so it sorts
last and a median of such seeds is ``None``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
NOT_REACHED = math.inf


def trials_to_reach(history: Sequence[float], target: float) -> float:
    """The first trial count k whose hypervolume is at least ``target``; ``inf`` if none."""
    return next((k + 1 for k, value in enumerate(history) if value >= target), NOT_REACHED)


def bootstrap_ci(values: Sequence[float], statistic: Callable[[np.ndarray], float], seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of ``statistic`` over the seeds (resampled with replacement)."""
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    draws = np.array([statistic(rng.choice(data, size=len(data), replace=True)) for _ in range(BOOTSTRAP_RESAMPLES)])
    # "lower"/"higher" pick observed values, never interpolate: an interval end may be inf (not reached)
    return float(np.percentile(draws, 2.5, method="lower")), float(np.percentile(draws, 97.5, method="higher"))


def _median(data: np.ndarray) -> float:
    # numpy's median of an even count averages the middle two, and inf + x is inf: an unreached middle stays unreached
    return float(np.median(data))


def _finite(value: float) -> float | None:
    return None if math.isinf(value) else value


def summarize(runs: Sequence[Sequence[float]], target: float, checkpoints: Sequence[int]) -> dict:
    """Hypervolume share at each checkpoint (mean, CI) and trials to reach ``target`` (median, CI, per seed)."""
    shares = {
        str(k): {"mean": statistics.mean(h[k - 1] for h in runs),
                 "ci95": list(bootstrap_ci([h[k - 1] for h in runs], np.mean))}
        for k in checkpoints if k <= len(runs[0])
    }
    reach = [trials_to_reach(history, target) for history in runs]
    low, high = bootstrap_ci(reach, _median)
    return {
        "hypervolume_share": shares,
        "trials_to_reach": {"median": _finite(_median(np.asarray(reach))), "ci95": [_finite(low), _finite(high)],
                            "per_seed": [_finite(k) for k in reach],
                            "reached": f"{sum(not math.isinf(k) for k in reach)}/{len(reach)}"},
    }
