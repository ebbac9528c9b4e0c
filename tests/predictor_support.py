"""Helpers for the latency predictor tests (not collected: the name does not start with test_)."""

from __future__ import annotations

import random

import numpy as np

from evaluators.latency.features import FEATURE_NAMES, feature_matrix
from searchspace import (
    BasicSpec,
    BottleneckSpec,
    ConvSpec,
    FusedMBConvSpec,
    HeadSpec,
    MBConvSpec,
    NetSpec,
    SESpec,
    Stage,
    UIBSpec,
)

# A plausible CPU: milliseconds per unit of each feature (per MAC, per element moved, per layer).
TRUE_OVERHEAD_MS = 0.4
TRUE_COSTS_MS = {
    "dense_conv.macs": 25e-9, "pointwise_conv.macs": 15e-9, "depthwise_conv.macs": 40e-9,
    "grouped_conv.macs": 30e-9, "linear.macs": 5e-9,
    "depthwise_conv.traffic": 2e-6, "pool.traffic": 1e-6, "squeeze_excite.traffic": 1.5e-6,
    "elementwise.traffic": 1e-6, "pointwise_conv.traffic": 0.5e-6,
    "dense_conv.count": 0.03, "pointwise_conv.count": 0.02, "depthwise_conv.count": 0.02,
    "squeeze_excite.count": 0.05, "elementwise.count": 0.01,
}


def true_costs() -> np.ndarray:
    return np.array([TRUE_COSTS_MS.get(name, 0.0) for name in FEATURE_NAMES])


def true_latency_ms(specs: list[NetSpec]) -> np.ndarray:
    return TRUE_OVERHEAD_MS + feature_matrix(specs) @ true_costs()


def _block(rng: random.Random, width: int):
    se = rng.choice([None, SESpec(relative_to="mid", divisor=8)])
    kind = rng.choice(["mbconv", "mbconv", "fused", "uib", "basic", "bottleneck", "conv"])
    if kind == "mbconv":
        return MBConvSpec(out_channels=width, expand_ratio=rng.choice([1.0, 3.0, 6.0]), kernel=rng.choice([3, 5]),
                          group_size=rng.choice([1, 1, 8]), se=se)
    if kind == "fused":
        return FusedMBConvSpec(out_channels=width, expand_ratio=rng.choice([1.0, 4.0]), se=se)
    if kind == "uib":
        return UIBSpec(out_channels=width, start_kernel=rng.choice([0, 3]), mid_kernel=rng.choice([3, 5]), expand_ratio=rng.choice([2.0, 4.0]))
    if kind == "basic":
        return BasicSpec(out_channels=width, se=se)
    if kind == "bottleneck":
        return BottleneckSpec(out_channels=width, bottleneck_ratio=0.5, groups=rng.choice([1, 2]))
    return ConvSpec(out_channels=width, kernel=rng.choice([1, 3]))


def random_nets(count: int, seed: int, resolution: int = 224) -> list[NetSpec]:
    """Mobile-sized random nets mixing the common block kinds (a stand-in for a search space)."""
    rng = random.Random(seed)
    nets = []
    for _ in range(count):
        width = rng.choice([16, 24, 32])
        stages = []
        for stride in (1, 2, 2, 2, 1, 2):
            width = 8 * rng.randint(width // 8, width // 8 + 6)
            stages.append(Stage(block=_block(rng, width), repeats=rng.randint(1, 3), stride=stride))
        nets.append(NetSpec(
            stem=(Stage(block=ConvSpec(out_channels=rng.choice([16, 32])), stride=2),),
            stages=tuple(stages),
            head=HeadSpec(conv_channels=rng.choice([0, 1280])),
            resolution=rng.choice([resolution, resolution * 3 // 4, resolution // 2]),
        ))
    return nets


def tiny_nets(count: int, seed: int) -> list[NetSpec]:
    """Nets small enough to build and time in milliseconds."""
    rng = random.Random(seed)
    return [
        NetSpec(
            stem=(Stage(block=ConvSpec(out_channels=rng.choice([4, 8])), stride=2),),
            stages=(
                Stage(block=MBConvSpec(out_channels=8 * rng.randint(1, 3), expand_ratio=rng.choice([1.0, 2.0])), repeats=rng.randint(1, 2)),
                Stage(block=BasicSpec(out_channels=8 * rng.randint(1, 4)), stride=2),
            ),
            resolution=rng.choice([16, 24, 32]),
            num_classes=10,
        )
        for _ in range(count)
    ]
