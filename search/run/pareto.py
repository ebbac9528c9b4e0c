"""Pareto fronts and hypervolume for the two objectives of a run: quality up, latency down."""

from __future__ import annotations

from collections.abc import Sequence

Point = tuple[float, float]  # (quality, latency_ms)


def pareto_indices(points: Sequence[Point]) -> list[int]:
    """Indices of the points no other point dominates (higher quality and lower latency).

    Exact duplicates are all kept: two trials that found the same net are both on the front.
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][1], -points[i][0]))
    front, best_quality, last = [], float("-inf"), None
    for i in order:
        quality, latency = points[i]
        if quality > best_quality or (last is not None and points[i] == last):
            front.append(i)
            best_quality = max(best_quality, quality)
            last = points[i]
    return sorted(front)


def hypervolume(points: Sequence[Point], reference: Point) -> float:
    """Area dominated by ``points`` and bounded by ``reference`` = (worst quality, worst latency).

    Points that do not improve on the reference in both objectives add nothing.
    """
    ref_quality, ref_latency = reference
    useful = sorted((lat, q) for q, lat in points if q > ref_quality and lat < ref_latency)
    area, best_quality = 0.0, ref_quality
    for index, (latency, quality) in enumerate(useful):
        best_quality = max(best_quality, quality)
        next_latency = useful[index + 1][0] if index + 1 < len(useful) else ref_latency
        area += (best_quality - ref_quality) * (next_latency - latency)
    return area


def hypervolume_history(points: Sequence[Point | None], reference: Point) -> list[float]:
    """Hypervolume of the first k trials' feasible points, for every k (``None``: no point)."""
    history, seen = [], []
    for point in points:
        if point is not None:
            seen.append(point)
        history.append(hypervolume(seen, reference))
    return history
