"""The `classic` space's knobs and how its conv groups and head become stages (search/spaces/classic_space.py).

The map size is followed group by group (with the spec's own size formulas)
so that every draw is repaired into a net that builds, rather than refused.
"""

from __future__ import annotations

import math
from typing import Any

from search.spaces.base import KnobInfo
from search.spaces.domains import Domain
from search.spaces.flat_space import RESOLUTION_MULT
from search.spaces.suggest import Suggest
from searchspace import ConvSpec, HeadSpec, PoolSpec, Stage
from searchspace.tally import conv_output_size, pool_output_size
from searchspace.zoo.classic import ZFNET_NORM

GROUPS = 5
FLAGS = Domain.choices((False, True))
NET_KNOBS = {
    "activation": Domain.choices(("relu", "tanh")),
    "norm": FLAGS,
    "pool": Domain.choices(("max", "avg")),
    "pool_kernel": Domain.choices((2, 3)),
    "pool_ceil": FLAGS,
    "lrn": FLAGS,
}
# Per group; group 0 is always one conv, groups 2 to 4 may be left out.  Ranges reach around
# LeNet-5's (6, 16), AlexNet's (64, 192, 384, 256, 256) and ZF-Net's (96, 256, 384, 384, 256) layers.
DEPTH = (None, Domain.integers(1, 2), Domain.integers(0, 3), Domain.integers(0, 3), Domain.integers(0, 3))
WIDTH = (Domain.integers(4, 128, log=True), Domain.integers(8, 384, log=True),
         *(Domain.integers(32, 512, log=True) for _ in range(3)))
KERNEL = (Domain.choices((3, 5, 7, 11)), *(Domain.choices((3, 5)) for _ in range(4)))
STRIDE = (Domain.choices((1, 2, 4)), Domain.choices((1, 2)), None, None, None)
SAME = "same"  # the padding that keeps the size at stride 1 (the conv spec's default)
PADDING = (Domain.choices((SAME, 0, 1, 2)), *(Domain.choices((SAME, 0)) for _ in range(4)))
LRN_GROUPS = 2  # ZF-Net normalises after its first two pools
POOL_STRIDE = 2

HEAD_POOL = Domain.choices(("flatten", "avg"))
HEAD_POOL_SIZE = Domain.choices((1, 2, 4, 6, 7))
HEAD_DEPTH = Domain.integers(0, 2)
HEAD_WIDTH = Domain.integers(16, 4096, log=True)
HEAD_DROPOUT = Domain.choices(("none", "before", "after"))
DROPOUT_RATE = 0.5  # AlexNet's, ZF-Net's and VGG's
# A flattened map of more values than this is average-pooled to FLATTEN_FALLBACK_GRID instead, so a
# stride-1 net without pools cannot put billions of weights in its first hidden layer.  LeNet-5
# flattens 16 x 53 x 53 = 44,944 values at 224 px.
FLATTEN_LIMIT = 2**16
FLATTEN_FALLBACK_GRID = 6


def head_knobs() -> list[KnobInfo]:
    return [
        KnobInfo.of("head.pool", HEAD_POOL),
        KnobInfo.of("head.pool_size", HEAD_POOL_SIZE, "head.pool == avg"),
        KnobInfo.of("head.depth", HEAD_DEPTH, note="hidden fully connected layers"),
        *(KnobInfo.of(f"head.width{j}", HEAD_WIDTH, f"head.depth > {j}") for j in range(HEAD_DEPTH.high)),
        KnobInfo.of("head.dropout", HEAD_DROPOUT, "head.depth > 0", note=f"{DROPOUT_RATE} before or after each hidden layer"),
    ]


def group_knobs(index: int) -> list[KnobInfo]:
    present = f"group{index}.depth > 0" if DEPTH[index] is not None and DEPTH[index].low == 0 else ""
    knobs = [KnobInfo.of(f"group{index}.depth", DEPTH[index])] if DEPTH[index] is not None else []
    knobs += [KnobInfo.of(f"group{index}.width", WIDTH[index], present),
              KnobInfo.of(f"group{index}.kernel", KERNEL[index], present)]
    if STRIDE[index] is not None:
        knobs.append(KnobInfo.of(f"group{index}.stride", STRIDE[index], present))
    return knobs + [KnobInfo.of(f"group{index}.padding", PADDING[index], present, note="a window larger than the map: same"),
                    KnobInfo.of(f"group{index}.pooled", FLAGS, present, note="a window larger than the map: no pool")]


def layers(suggest: Suggest, net: dict[str, Any], resolution: int) -> tuple[tuple[Stage, ...], tuple[Stage, ...], int]:
    """The stem (a strided first group with its pool and LRN), the stages and the number of values the last one outputs."""
    groups, size, width = [], resolution, 0
    for index in range(GROUPS):
        depth = DEPTH[index].draw(suggest, f"group{index}.depth") if DEPTH[index] is not None else 1
        if depth:
            width = WIDTH[index].draw(suggest, f"group{index}.width")
            stages, size = _group(suggest, net, index, depth, width, size)
            groups.append(stages)
    first_is_stem = groups[0][0].stride > 1
    stem = tuple(groups[0]) if first_is_stem else ()
    return stem, tuple(stage for group in groups[1 if first_is_stem else 0:] for stage in group), width * size * size


def _group(suggest: Suggest, net: dict[str, Any], index: int, depth: int, width: int, size: int) -> tuple[list[Stage], int]:
    """One group's convs, then its pool and LRN; the map size after them."""
    name = f"group{index}"
    kernel = KERNEL[index].draw(suggest, f"{name}.kernel")
    stride = STRIDE[index].draw(suggest, f"{name}.stride") if STRIDE[index] is not None else 1
    padding = PADDING[index].draw(suggest, f"{name}.padding")
    stages = []
    for layer in range(depth):
        layer_stride = stride if layer == 0 else 1
        explicit = padding != SAME and size + 2 * padding >= kernel  # else: same, which always fits
        conv = ConvSpec(out_channels=width, kernel=kernel, padding=padding if explicit else None,
                        activation=net["activation"], norm=net["norm"], bias=True)
        stages.append(Stage(block=conv, stride=layer_stride))
        size = conv_output_size(size, kernel, layer_stride, padding if explicit else kernel // 2)
    if FLAGS.draw(suggest, f"{name}.pooled") and net["pool_kernel"] <= size:
        stages.append(Stage(block=PoolSpec(op=net["pool"], kernel=net["pool_kernel"], ceil_mode=net["pool_ceil"]),
                            stride=POOL_STRIDE))
        size = pool_output_size(size, net["pool_kernel"], POOL_STRIDE, 0, net["pool_ceil"])
    if net["lrn"] and index < LRN_GROUPS:
        stages.append(Stage(block=ZFNET_NORM))
    return stages, size


def head_spec(suggest: Suggest, activation: str, flattened: int) -> HeadSpec:
    """The head; ``flattened``: the number of values the body outputs (over FLATTEN_LIMIT: pooled instead)."""
    pool = HEAD_POOL.draw(suggest, "head.pool")
    pool_size = HEAD_POOL_SIZE.draw(suggest, "head.pool_size") if pool == "avg" else 1
    if pool == "flatten" and flattened > FLATTEN_LIMIT:
        pool, pool_size = "avg", FLATTEN_FALLBACK_GRID
    depth = HEAD_DEPTH.draw(suggest, "head.depth")
    hidden = tuple(HEAD_WIDTH.draw(suggest, f"head.width{j}") for j in range(depth))
    dropout = HEAD_DROPOUT.draw(suggest, "head.dropout") if depth else "none"
    rates = {"none": (), "before": (DROPOUT_RATE,) * depth + (0.0,), "after": (0.0,) + (DROPOUT_RATE,) * depth}[dropout]
    return HeadSpec(pool=pool, pool_size=pool_size, hidden=hidden, activation=activation, dropout=rates)


def log10_size() -> float:
    """Settings of the knobs that apply: a group left out counts once, the head's widths only as deep as it is."""
    net = sum(domain.log10_count() for domain in NET_KNOBS.values()) + RESOLUTION_MULT.log10_count()
    groups = 0.0
    for index in range(GROUPS):
        present = sum(domain.log10_count() for domain in (WIDTH[index], KERNEL[index], STRIDE[index], PADDING[index], FLAGS)
                      if domain is not None)
        depth = DEPTH[index]
        if depth is None:
            groups += present
        else:
            present_depths = depth.high - max(depth.low, 1) + 1
            groups += math.log10((depth.low == 0) + present_depths * 10**present)
    pools = 1 + HEAD_POOL_SIZE.count()  # flatten, or avg to one of the grids
    heads = 1 + sum(HEAD_WIDTH.count() ** depth * HEAD_DROPOUT.count() for depth in range(1, HEAD_DEPTH.high + 1))
    return net + groups + math.log10(pools * heads)
