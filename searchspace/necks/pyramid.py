"""Necks that fuse levels: FPN's top-down path and PANet's bottom-up path.

FPN (Lin et al., 2017) as torchvision's ``ops.FeaturePyramidNetwork`` builds
it: a 1x1 lateral conv per level, the coarser merged map upsampled (nearest)
to the finer one's size and added, then a 3x3 conv per level; all convs have a
bias and neither norm nor activation.  PAN (Liu et al., 2018, Sec. 3.1) adds a
bottom-up path on top: N2 = P2, and N(i+1) is a 3x3 conv of the sum of N(i)
through a stride-2 3x3 conv and P(i+1), each conv followed by ReLU; every
level keeps the pyramid's width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional

from searchspace.activations import ACTIVATION
from searchspace.fields import BoolCodec, IntCodec, SpecBase, SpecError, knob
from searchspace.layers import BuildContext, ConvNormAct
from searchspace.necks.kinds import NeckKind
from searchspace.tally import Tally


@dataclass(frozen=True, kw_only=True)
class FPNSpec(SpecBase):
    kind = "fpn"

    out_channels: int = knob("c", IntCodec(1), 256, doc="channels of every output level", role="channels")
    extra_pool: bool = knob("", BoolCodec("p6", "nop6"), False,
                            doc="one more, coarser level: the coarsest output max-pooled 1x1/2 (torchvision's LastLevelMaxPool)")


class FeaturePyramid(nn.Module):
    def __init__(self, spec: FPNSpec, in_channels: Sequence[int], ctx: BuildContext) -> None:
        super().__init__()
        out = spec.out_channels
        self.lateral = nn.ModuleList(nn.Conv2d(channels, out, 1) for channels in in_channels)
        self.output = nn.ModuleList(nn.Conv2d(out, out, 3, padding=1) for _ in in_channels)
        self.extra_pool = spec.extra_pool

    def forward(self, maps: list[torch.Tensor]) -> list[torch.Tensor]:
        merged = [self.lateral[-1](maps[-1])]
        for lateral, finer in zip(reversed(self.lateral[:-1]), reversed(maps[:-1])):
            upsampled = functional.interpolate(merged[0], size=finer.shape[-2:], mode="nearest")
            merged.insert(0, lateral(finer) + upsampled)
        outputs = [conv(level) for conv, level in zip(self.output, merged)]
        if self.extra_pool:
            outputs.append(functional.max_pool2d(outputs[-1], 1, 2, 0))
        return outputs


def _cost_fpn(spec: FPNSpec, levels: list[Tally]) -> list[Tally]:
    for level in levels:
        level.conv(spec.out_channels, 1, bias=True, norm=False)
    for finer, coarser in zip(reversed(levels[:-1]), reversed(levels[1:])):
        upsampled = coarser.fork()  # nearest upsampling: a copy at the finer size, nothing counted
        upsampled.height, upsampled.width = finer.height, finer.width
        finer.add(upsampled)
    for level in levels:
        level.conv(spec.out_channels, 3, bias=True, norm=False)
    if spec.extra_pool:
        levels.append(levels[-1].fork().pool(1, 2))
    return levels


@dataclass(frozen=True, kw_only=True)
class PANSpec(SpecBase):
    kind = "pan"

    activation: str = knob("", ACTIVATION, "relu", doc="activation after each conv")
    norm: bool = knob("", BoolCodec("norm", "nonorm"), False, doc="batch norm after each conv (instead of a bias)")


def _check_pan_levels(channels: Sequence[int]) -> None:
    if len(set(channels)) != 1:
        raise SpecError(
            f"pan needs the same channels at every level, got {', '.join(map(str, channels))}: put an fpn before it"
        )


class PathAggregation(nn.Module):
    def __init__(self, spec: PANSpec, in_channels: Sequence[int], ctx: BuildContext) -> None:
        super().__init__()
        _check_pan_levels(in_channels)
        width, options = in_channels[0], dict(norm=spec.norm, bias=not spec.norm, activation=spec.activation)
        self.down = nn.ModuleList(ConvNormAct(width, width, 3, ctx, stride=2, **options) for _ in in_channels[1:])
        self.fuse = nn.ModuleList(ConvNormAct(width, width, 3, ctx, **options) for _ in in_channels[1:])

    def forward(self, maps: list[torch.Tensor]) -> list[torch.Tensor]:
        outputs = [maps[0]]
        for down, fuse, lateral in zip(self.down, self.fuse, maps[1:]):
            outputs.append(fuse(down(outputs[-1]) + lateral))
        return outputs


def _cost_pan(spec: PANSpec, levels: list[Tally]) -> list[Tally]:
    _check_pan_levels([level.channels for level in levels])
    width, options = levels[0].channels, dict(bias=not spec.norm, norm=spec.norm)
    for finer, lateral in zip(levels[:-1], levels[1:]):
        down = finer.fork().conv(width, 3, 2, **options)
        if (down.height, down.width) != (lateral.height, lateral.width):
            raise SpecError(
                f"pan: a stride-2 conv turns the {finer.height}x{finer.width} level into {down.height}x{down.width}, "
                f"but the next level is {lateral.height}x{lateral.width}"
            )
        lateral.add(down).conv(width, 3, **options)
    return levels


FPN = NeckKind(FPNSpec, FeaturePyramid, _cost_fpn)
PAN = NeckKind(PANSpec, PathAggregation, _cost_pan)
