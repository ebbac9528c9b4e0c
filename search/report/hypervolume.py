"""Hypervolume of the front after each trial: how the search converged.

Reference point: quality 0 (an accuracy no net does worse than) and latency =
the budget, or, without a budget, the slowest latency any trial measured.  With
a budget, the area is exactly the part of "better than nothing and within
budget" that the found nets cover; the curve never decreases.
"""

from __future__ import annotations

import math

import pandas as pd

from search.run.pareto import hypervolume_history

REFERENCE_QUALITY = 0.0


def reference_point(trials: pd.DataFrame, budget_ms: float | None) -> tuple[float, float]:
    if budget_ms is not None:
        return REFERENCE_QUALITY, float(budget_ms)
    measured = trials["latency_ms"].dropna()
    return REFERENCE_QUALITY, float(measured.max()) if len(measured) else 1.0


def front_candidate(row: dict, budget_ms: float | None) -> tuple[float, float] | None:
    """A trial's (quality, latency) if it can be on the front, as ``search.run.outputs.front_of`` decides."""
    quality, latency = row.get("objective"), row.get("latency_ms")
    if row.get("state") != "complete" or _missing(quality) or _missing(latency):
        return None
    remeasured = row.get("remeasured_latency_ms")
    if budget_ms is not None and not _missing(remeasured) and remeasured > budget_ms:
        return None  # it left the front after the final re-measurement
    return float(quality), float(latency)


def history(trials: pd.DataFrame, budget_ms: float | None) -> tuple[list[int], list[float], tuple[float, float]]:
    """Trial numbers, the front's hypervolume after each, and the reference point used."""
    reference = reference_point(trials, budget_ms)
    rows = trials.sort_values("number").to_dict("records")
    points = [front_candidate(row, budget_ms) for row in rows]
    return [int(r["number"]) for r in rows], hypervolume_history(points, reference), reference


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
