"""A known net's point in the `mobile` space, found from its zoo spec.

The spec's stages are placed in the layout (a stride-2 run opens the next
stride-2 stage; a stride-1 run stays in the current stage when it keeps its
width, else opens the stride-1 stage after it), and each part - stem, every
run's first block, head, net settings - takes the one setting of its knobs
that makes exactly that part.  The values are therefore never written by
hand, and a net the space cannot hold is an error that names the part.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from search.spaces.knob_groups import GroupKnob, group_settings
from search.spaces.mobile_layout import HEAD, LAYOUT, NET, STEM, block_group, block_spec, depth_domain, head_spec, run_stride, stem_stages
from searchspace import NetSpec, SpecError, Stage


class NotAPoint(ValueError):
    """A net the `mobile` space does not hold."""


def point_of(spec: NetSpec) -> dict[str, Any]:
    if spec.aux_heads:
        raise NotAPoint("the mobile space has no auxiliary heads")
    pool = len(spec.stem) == 2
    point = _found(STEM, "stem.", lambda values: stem_stages(values) == spec.stem, "the stem")
    for index, runs in enumerate(place_runs(spec.stages, pool)):
        point.update(_stage_point(index, runs, pool))
    point.update(_found(HEAD, "head.", lambda values: head_spec(values) == spec.head, "the head"))
    settings = (spec.norm_eps, spec.norm_momentum, spec.drop_path_rate)
    point.update(_found(NET, "net.", lambda values: tuple(values.values()) == settings, "the batch-norm and stochastic-depth settings"))
    return point


def place_runs(stages: tuple[Stage, ...], pool: bool) -> list[list[Stage]]:
    """The spec's stages grouped by the layout stage that holds them."""
    placed: list[list[Stage]] = [[] for _ in LAYOUT]
    current = -1
    for stage in stages:
        if stage.stride == 1 and current >= 0 and placed[current] and _width(placed[current][0]) == _width(stage):
            placed[current].append(stage)
            continue
        current += 1
        if stage.stride == 2:  # stride-1 stages in between are left out
            while current < len(LAYOUT) and run_stride(LAYOUT[current], pool) == 1:
                current += 1
        if current >= len(LAYOUT) or run_stride(LAYOUT[current], pool) != stage.stride:
            raise NotAPoint(f"stage {stage} does not fit the layout's strides")
        placed[current].append(stage)
    return placed


def _width(stage: Stage) -> int | None:
    return getattr(stage.block, "out_channels", None)  # None for kinds without one (dense layers): no width fits


def _stage_point(index: int, runs: list[Stage], pool: bool) -> dict[str, Any]:
    layout = LAYOUT[index]
    depth, width = sum(run.repeats for run in runs), _width(runs[0]) if runs else None
    if not depth_domain(layout, pool).contains(depth) or (runs and not layout.width.contains(width)):
        raise NotAPoint(f"stage{index} has {depth} blocks of width {width}: the space allows "
                        f"{depth_domain(layout, pool).describe()} blocks of width {layout.width.describe()}")
    point: dict[str, Any] = {f"stage{index}.depth": depth}
    if not runs:
        return point
    point[f"stage{index}.width"] = width
    position = 0
    for run in runs:
        group = block_group(layout.kinds, position == 0, layout.stride == 2)
        point.update(_found(group, f"stage{index}.block{position}.", _makes(run.block, width), f"block {run.block}"))
        point.update({f"stage{index}.block{later}.repeat": True for later in range(position + 1, position + run.repeats)})
        position += run.repeats
    return point


def _makes(block: Any, width: int) -> Callable[[dict[str, Any]], bool]:
    def test(values: dict[str, Any]) -> bool:
        if values.get("repeat") or values["kind"] != block.kind:
            return False
        try:
            return block_spec(values["kind"], width, values) == block
        except SpecError:
            return False

    return test


def _found(group: tuple[GroupKnob, ...], prefix: str, makes: Callable[[dict[str, Any]], bool], part: str) -> dict[str, Any]:
    for values in group_settings(group):
        if makes(values):
            return {prefix + key: value for key, value in values.items()}
    raise NotAPoint(f"no setting of the mobile space's knobs gives {part}")
