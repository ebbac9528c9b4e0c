"""From a stage's knob values to a block spec, repairing combinations a block does not allow.

Repairs (each keeps the stage's output width as the knobs say, so widths stay
what a width analysis or a non-decreasing constraint sees):

* grouped bottleneck: the 3x3's width ``width * bottleneck_ratio`` is rounded
  to the nearest multiple of the group width (at least one group), and the
  group count is that width over the group width.  A group width above the
  bottleneck width shrinks to it (one group), as RegNet does.  The block then
  records the ratio it really has (``mid / width``) when rounding moved it.
* shuffle: the unit concatenates two equal halves, so its width is rounded up
  to an even number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from searchspace import (
    BasicSpec,
    BottleneckSpec,
    ConvSpec,
    FusedMBConvSpec,
    MBConvSpec,
    SESpec,
    ShuffleSpec,
    UIBSpec,
)
from searchspace.fields import SpecBase

# (start kernel, middle kernel) of each UIB variant; "k" is the stage's kernel, "s" its start_kernel.
_UIB_KERNELS = {"ib": ("", "k"), "convnext": ("k", ""), "extradw": ("s", "k"), "ffn": ("", "")}


def stage_width(kind: str, width: int) -> int:
    """The width a block of ``kind`` can have, nearest to ``width`` (shuffle units need even widths)."""
    return width + width % 2 if kind == "shuffle" else width


def nearest_multiple(value: float, unit: int) -> int:
    """The multiple of ``unit`` nearest to ``value`` (halves round up), at least ``unit``."""
    return max(unit, unit * int(value / unit + 0.5))


def grouped_bottleneck(width: int, ratio: float, group_width: int | None) -> tuple[float, int]:
    """(bottleneck ratio, groups) of a bottleneck of this width whose 3x3 has this group width."""
    target = max(1, round(width * ratio))
    if group_width is None:
        return ratio, 1
    group_width = min(group_width, target)
    mid = nearest_multiple(target, group_width)
    return (ratio if mid == target else mid / width), mid // group_width


def se_spec(style: str, ratio: float | None, activation: str) -> SESpec:
    """Squeeze-and-excitation as one of the reference families writes it."""
    if style == "input":  # EfficientNet, RegNetY: a quarter of the block input, the block's activation
        return SESpec(ratio=ratio or 0.25, relative_to="in", activation=activation)
    if style == "expanded":  # MobileNetV3, MnasNet: a quarter of the expanded width, hard-sigmoid gate
        return SESpec(ratio=ratio or 0.25, relative_to="mid", divisor=8, activation="relu", gate="hardsigmoid")
    # "output", SENet: a sixteenth of the block output
    return SESpec(ratio=ratio or 1 / 16, relative_to="out", divisor=8)


def make_block(kind: str, width: int, values: Mapping[str, Any]) -> SpecBase:
    """The block spec of a stage; ``values`` holds the stage keys its kind uses (absent: the kind's default)."""
    activation = values.get("activation", "relu")
    se = se_spec(values.get("se_style", "input"), values.get("se_ratio"), activation) if values.get("se") else None
    expansion = {"expand_ratio": values["expansion"]} if "expansion" in values else {}
    kernel = values.get("kernel", 3)
    if kind == "conv":
        return ConvSpec(out_channels=width, kernel=kernel, activation=activation)
    if kind == "basic":
        return BasicSpec(out_channels=width, activation=activation, se=se)
    if kind == "bottleneck":
        ratio, groups = grouped_bottleneck(width, values.get("bottleneck_ratio", 0.25), values.get("group_width"))
        position = "seout" if se is not None and values.get("se_style") == "output" else "semid"
        return BottleneckSpec(out_channels=width, bottleneck_ratio=ratio, groups=groups, activation=activation, se=se, se_position=position)
    if kind == "mbconv":
        return MBConvSpec(out_channels=width, kernel=kernel, activation=activation, se=se, **expansion)
    if kind == "fused":
        return FusedMBConvSpec(out_channels=width, kernel=kernel, activation=activation, se=se, **expansion)
    if kind == "uib":
        chosen = {"k": kernel, "s": values.get("start_kernel", 3), "": 0}
        start, middle = (chosen[k] for k in _UIB_KERNELS[values.get("uib_variant", "ib")])
        return UIBSpec(out_channels=width, start_kernel=start, mid_kernel=middle, activation=activation, se=se, **expansion)
    if kind == "shuffle":
        return ShuffleSpec(out_channels=width, kernel=kernel, activation=activation)
    raise ValueError(f"block kind {kind!r} is not searchable")
