"""Learning-rate schedules, as a pure function of the step.

A proxy run is short, so the schedule is set per step rather than per epoch
(with 5 epochs, a per-epoch cosine would be a five-step staircase).
"""

from __future__ import annotations

import math

SCHEDULES: tuple[str, ...] = ("cosine", "constant", "step")

# "step" divides the rate by 10 at these fractions of the post-warm-up steps,
# the classic ResNet recipe (30/60/90 of 90 epochs) compressed to two drops.
_STEP_MILESTONES = (0.5, 0.75)
_STEP_FACTOR = 0.1


def learning_rate(step: int, *, base_lr: float, total_steps: int, warmup_steps: int, schedule: str) -> float:
    """Rate for 0-based ``step`` of ``total_steps``.

    A linear warm-up from ``base_lr / warmup_steps`` to ``base_lr`` over the
    first ``warmup_steps`` steps, then: ``cosine`` decays towards zero, reached
    one step after the last, ``constant`` stays at ``base_lr``, ``step`` drops tenfold at 50% and
    again at 75% of the remaining steps.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule={schedule!r} is not supported (allowed: {', '.join(SCHEDULES)})")
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if schedule == "constant":
        return base_lr
    decay_steps = max(1, total_steps - warmup_steps)
    # The first post-warm-up step runs at base_lr; the last one just above zero
    # (a step at exactly zero would be wasted).
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    if schedule == "cosine":
        return base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))
    drops = sum(progress >= milestone for milestone in _STEP_MILESTONES)
    return base_lr * _STEP_FACTOR**drops
