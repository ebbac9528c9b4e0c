"""Successive halving replayed from the log: what a search would pick if it trained every net briefly, kept the best
few, trained those longer, and so on up to a fraction of the reference.

On shapes no score under a minute per net ranks the nets much better than MACs, while the reference's own recipe at
half its length ranks them almost as its two seeds agree (docs/proxy.md).  A search cannot train every net that
long, but it can train the survivors of cheaper rungs that long.  This replays such a search on the logged
trainings, each rung a training of its own from scratch (seed 0), so the result holds for a successive halving that
restarts each survivor with the longer rung's schedule.  A pruner that stops one long run part-way judges nets at an
unfinished schedule instead, which these rows do not show.

The last rungs share seed 0 with the reference's seed 0, so a plan's figure against seed 1 alone is the fair one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.fidelity.variants import REFERENCE_LONG_ADAMW, REFERENCE_LONG_ADAMW_2X, REFERENCE_LONG_ADAMW_4X


@dataclass(frozen=True)
class HalvingPlan:
    rungs: tuple[str, ...]  # variant names, cheapest first; every rung trains afresh
    keep_one_in: int  # the share of a rung's nets that go on to the next: one in this many, rounded up

    @property
    def name(self) -> str:
        return " > ".join(self.rungs) + f", keeping 1 in {self.keep_one_in}"


_PROXY = "e4_b32_noaug_adamw"  # the proxy trained with the reference's own optimizer
PLANS_BY_REFERENCE: dict[str, tuple[HalvingPlan, ...]] = {
    REFERENCE_LONG_ADAMW_4X.name: (
        HalvingPlan((_PROXY, REFERENCE_LONG_ADAMW.name, REFERENCE_LONG_ADAMW_2X.name), 3),
        HalvingPlan((_PROXY, REFERENCE_LONG_ADAMW_2X.name), 5),
        HalvingPlan((REFERENCE_LONG_ADAMW.name, REFERENCE_LONG_ADAMW_2X.name), 3),
    ),
}


@dataclass(frozen=True)
class Replay:
    score: np.ndarray  # per net: the last rung it reached plus its accuracy there, so reaching further always ranks higher
    nets_per_rung: list[int]
    steps: int  # optimizer steps of every training the plan ran


def replay(rows: dict[str, dict], labels: list[str], plan: HalvingPlan) -> Replay | None:
    """The plan run on the logged seed-0 trainings; None when a net that reaches a rung has no row there.
    A failed training scores 0 and counts no steps."""
    alive, score, per_rung, steps = list(range(len(labels))), np.zeros(len(labels)), [], 0
    for level, variant in enumerate(plan.rungs):
        found = [rows.get(f"{labels[i]}|{variant}|0") for i in alive]
        if any(row is None for row in found):
            return None
        accuracy = {i: row.get("accuracy", 0.0) for i, row in zip(alive, found)}
        for i in alive:
            score[i] = level + accuracy[i]
        per_rung.append(len(alive))
        steps += sum(row.get("steps", 0) for row in found)
        alive = sorted(alive, key=lambda i: -accuracy[i])[: math.ceil(len(alive) / plan.keep_one_in)]
    return Replay(score, per_rung, steps)


def halving_summary(rows: dict[str, dict], reference_name: str, judge) -> dict[str, Any] | None:
    """Each plan for ``reference_name`` that the log can replay, on the nets with a row at every rung: its cost in
    steps per net (and as a share of the reference's), whether the reference's best net reached the last rung, and
    its rank figures (``judge``: the benchmark's ``_Judge``)."""
    result = {}
    for plan in PLANS_BY_REFERENCE.get(reference_name, ()):
        covered = judge.covering(rows, plan.rungs)
        found = None if covered is None else replay(rows, list(covered.labels), plan)
        if found is None:
            continue
        labels, reference = list(covered.labels), covered.reference
        steps_per_net = found.steps / len(labels)
        reference_steps = np.mean([rows.get(f"{label}|{reference_name}|0", {}).get("steps", np.nan) for label in labels])
        result[plan.name] = {
            "nets_per_rung": found.nets_per_rung,
            "steps_per_net": round(steps_per_net, 1),
            "share_of_reference_steps": round(float(steps_per_net / reference_steps), 3),
            "best_net_reaches_last_rung": bool((found.score >= len(plan.rungs) - 1)[np.flatnonzero(reference == reference.max())].any()),
            "pick": labels[int(np.argmax(found.score))],
            "scores": covered.all({"rung reached, then accuracy": found.score}),
        }
    return result or None
