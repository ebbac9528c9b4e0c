"""What a search that keeps the top-scored nets loses against the reference, in points of accuracy.

A rank correlation weighs every pair of nets alike, but a search keeps the best few: a score that orders the weak
nets wrongly and the strong ones right serves it well.  These figures judge that part directly: the pick among all
nets, and the pick within each latency budget, as a latency-bound search and its front meet it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TOP_K = 5


def top_k_contains_best(score: np.ndarray, reference: np.ndarray, k: int = TOP_K) -> bool:
    """Whether the ``k`` best-scored nets include a net the reference ranks first (ties all count)."""
    best = set(np.flatnonzero(reference == reference.max()).tolist())
    return bool(best & set(np.argsort(-score, kind="stable")[:k].tolist()))


def pick_regret_points(score: np.ndarray, reference: np.ndarray) -> float:
    """How many points the reference puts the score's first net (the first of ties) under its best: what a search
    that keeps the top-scored net loses."""
    return round(100 * float(reference.max() - reference[int(np.argmax(score))]), 1)


def budgeted_pick_regret_points(score: np.ndarray, reference: np.ndarray, latency: np.ndarray) -> float | None:
    """:func:`pick_regret_points` as a latency-bound search meets it, averaged over budgets: at each net's latency
    (those with at least three nets under them), the score's best net within the budget against the reference's.
    One pick among every net rewards a score that finds the biggest net; a front needs the best net at every cost.
    None when a net's latency is not known."""
    if np.isnan(latency).any():
        return None
    regrets = [pick_regret_points(score[within], reference[within]) for within in _budgets(latency)]
    return round(float(np.mean(regrets)), 2) if regrets else None


def _budgets(latency: np.ndarray) -> list[np.ndarray]:
    """The nets within each net's latency as a budget, for the budgets with at least three nets under them."""
    return [within for budget in np.unique(latency) if len(within := np.flatnonzero(latency <= budget)) >= 3]


def budgeted_floors(per_seed: np.ndarray, latency: np.ndarray) -> dict[str, Any]:
    """What a budgeted pick loses with no score (a random net within each budget: the best minus the mean) and, with
    two reference seeds, picking by one seed judged by the other.  Nothing when a net's latency is not known."""
    if np.isnan(latency).any():
        return {}
    reference = per_seed.mean(axis=1)
    randoms = [100 * (reference[within].max() - reference[within].mean()) for within in _budgets(latency)]
    floors: dict[str, Any] = {"budgeted_random_pick_regret_points": round(float(np.mean(randoms)), 2) if randoms else None}
    if per_seed.shape[1] > 1:
        floors["budgeted_pick_regret_points_between_seeds"] = [
            budgeted_pick_regret_points(per_seed[:, i], per_seed[:, 1 - i], latency) for i in range(2)]
    return floors
