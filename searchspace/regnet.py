"""RegNet's quantized linear widths: from six numbers to a whole net.

"Designing Network Design Spaces" (Radosavovic et al., 2020) parameterises a
net by its depth d, initial width w0, slope wa, and a log-space step wm.  Block
j gets the continuous width ``u_j = w0 + wa * j``; its width is then snapped to
the nearest power of wm times w0, ``w_j = w0 * wm ** round(log(u_j / w0) / log(wm))``,
and quantized to a multiple of 8.  Consecutive blocks of equal width form a
stage (each stage halves the resolution).  Finally the bottleneck widths are
made divisible by the group width, which may nudge the stage widths.

The arithmetic runs in float32 with torch, as torchvision's generator does: the
published RegNetX/Y widths were produced that way, and at a rounding boundary
float64 could land on the other side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from searchspace.blocks import BottleneckSpec, ConvSpec, SESpec
from searchspace.fields import SpecError
from searchspace.spec import HeadSpec, NetSpec, Stage
from searchspace.widths import make_divisible

QUANTUM = 8
STEM_WIDTH = 32


@dataclass(frozen=True)
class RegNetStage:
    width: int
    depth: int
    group_width: int
    bottleneck_ratio: float

    @property
    def bottleneck_width(self) -> int:
        return round(self.width * self.bottleneck_ratio)

    @property
    def groups(self) -> int:
        return self.bottleneck_width // self.group_width


def regnet_stages(depth: int, w0: int, wa: float, wm: float, group_width: int, bottleneck_ratio: float = 1.0) -> list[RegNetStage]:
    """Per-stage widths, depths and group widths of the RegNet with these parameters."""
    if depth < 1 or wa < 0 or w0 <= 0 or wm <= 1 or w0 % QUANTUM:
        raise SpecError(
            f"RegNet parameters depth={depth}, w0={w0}, wa={wa}, wm={wm} are not allowed: "
            f"need depth >= 1, wa >= 0, w0 > 0 and a multiple of {QUANTUM}, wm > 1"
        )
    if group_width < 1 or bottleneck_ratio <= 0:
        raise SpecError(f"RegNet group_width={group_width}, bottleneck_ratio={bottleneck_ratio} are not allowed: need >= 1 and > 0")
    # An explicit device keeps this arithmetic real inside a `torch.device("meta")` context.
    continuous = torch.arange(depth, device="cpu") * wa + w0
    steps = torch.round(torch.log(continuous / w0) / math.log(wm))
    block_widths = (torch.round(w0 * torch.pow(wm, steps) / QUANTUM) * QUANTUM).int().tolist()

    stages: list[tuple[int, int]] = []  # (width, depth): runs of equal width
    for width in block_widths:
        if stages and stages[-1][0] == width:
            stages[-1] = (width, stages[-1][1] + 1)
        else:
            stages.append((width, 1))
    return [_compatible_stage(width, count, group_width, bottleneck_ratio) for width, count in stages]


def _compatible_stage(width: int, depth: int, group_width: int, bottleneck_ratio: float) -> RegNetStage:
    """Shrink the group width to the bottleneck if needed, and round the bottleneck to it."""
    bottleneck = int(width * bottleneck_ratio)
    group_width = min(group_width, bottleneck)
    bottleneck = make_divisible(bottleneck, group_width)
    return RegNetStage(int(bottleneck / bottleneck_ratio), depth, group_width, bottleneck_ratio)


# The input and output regnet_spec gives a net unless told otherwise: ImageNet's.
_IMAGENET_INPUT = {"resolution": 224, "num_classes": 1000, "in_channels": 3}


def regnet_spec(
    depth: int,
    w0: int,
    wa: float,
    wm: float,
    group_width: int,
    bottleneck_ratio: float = 1.0,
    se_ratio: float | None = None,
    **net: int,
) -> NetSpec:
    """The RegNet (X without ``se_ratio``, Y with it) as a NetSpec.

    ``net``: the input and output of the net, keywords of :class:`NetSpec`
    (``resolution`` 224, ``num_classes`` 1000, ``in_channels`` 3 unless given).

    Stem: 3x3 stride-2 conv to 32 channels.  Body: one bottleneck stage per
    RegNet stage, stride 2 at its first block, squeeze-and-excitation (if any)
    after the grouped 3x3 with its width ``se_ratio`` times the block input.
    Head: global average pooling and a linear classifier.
    """
    se = SESpec(ratio=se_ratio, relative_to="in") if se_ratio else None
    body = tuple(
        Stage(
            block=BottleneckSpec(out_channels=s.width, bottleneck_ratio=s.bottleneck_ratio, groups=s.groups, se=se),
            repeats=s.depth,
            stride=2,
        )
        for s in regnet_stages(depth, w0, wa, wm, group_width, bottleneck_ratio)
    )
    return NetSpec(
        stem=(Stage(block=ConvSpec(out_channels=STEM_WIDTH), stride=2),),
        stages=body,
        head=HeadSpec(),
        **{**_IMAGENET_INPUT, **net},
    )
