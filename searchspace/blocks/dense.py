"""DenseNet: the dense layer (one per repeat of a stage) and the transition.

A dense block of L layers is a stage of L dense layers: each layer appends
``growth_rate`` channels to its input, so the stage's depth is its repeat count
and depth scaling works on DenseNet like on any other net.  Both kinds are
pre-activation (norm, activation, conv).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from searchspace.activations import ACTIVATION, make_activation
from searchspace.fields import FloatCodec, IntCodec, SpecBase, knob
from searchspace.layers import BuildContext
from searchspace.registry import BlockKind
from searchspace.tally import Tally


@dataclass(frozen=True, kw_only=True)
class DenseLayerSpec(SpecBase):
    kind = "dense"

    growth_rate: int = knob("g", IntCodec(1), doc="channels each layer adds", role="channels")
    bottleneck: int = knob("b", IntCodec(0), 4, doc="width of the 1x1 bottleneck as a multiple of the growth rate (0: no bottleneck)")
    activation: str = knob("", ACTIVATION, "relu", doc="activation after each norm")


class DenseLayer(nn.Module):
    def __init__(self, spec: DenseLayerSpec, in_channels: int, ctx: BuildContext) -> None:
        super().__init__()
        width = in_channels
        if spec.bottleneck:
            self.norm1 = ctx.norm2d(in_channels)
            self.act1 = make_activation(spec.activation)
            width = spec.bottleneck * spec.growth_rate
            self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.norm2 = ctx.norm2d(width)
        self.act2 = make_activation(spec.activation)
        self.conv2 = nn.Conv2d(width, spec.growth_rate, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = x
        if hasattr(self, "conv1"):
            features = self.conv1(self.act1(self.norm1(features)))
        features = self.conv2(self.act2(self.norm2(features)))
        return torch.cat([x, features], 1)


def _build_dense(spec: DenseLayerSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return DenseLayer(spec, in_channels, ctx)


def _cost_dense(spec: DenseLayerSpec, tally: Tally, stride: int) -> None:
    new = tally.fork()
    if spec.bottleneck:
        new.norm().conv(spec.bottleneck * spec.growth_rate, 1, norm=False)
    new.norm().conv(spec.growth_rate, 3, norm=False)
    tally.concat([tally.fork(), new])


@dataclass(frozen=True, kw_only=True)
class TransitionSpec(SpecBase):
    kind = "transition"

    compression: float = knob("cr", FloatCodec(0.0, 1.0, open_min=True), 0.5, doc="output channels as a fraction of the input (rounded down)")
    activation: str = knob("", ACTIVATION, "relu", doc="activation after the norm")

    def out_channels(self, in_channels: int) -> int:
        return max(1, int(in_channels * self.compression))


class Transition(nn.Sequential):
    def __init__(self, spec: TransitionSpec, in_channels: int, stride: int, ctx: BuildContext) -> None:
        super().__init__()
        self.norm = ctx.norm2d(in_channels)
        self.act = make_activation(spec.activation)
        self.conv = nn.Conv2d(in_channels, spec.out_channels(in_channels), 1, bias=False)
        if stride > 1:
            self.pool = nn.AvgPool2d(stride, stride)


def _build_transition(spec: TransitionSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return Transition(spec, in_channels, stride, ctx)


def _cost_transition(spec: TransitionSpec, tally: Tally, stride: int) -> None:
    tally.norm().conv(spec.out_channels(tally.channels), 1, norm=False)
    if stride > 1:
        tally.pool(stride, stride)


DENSE = BlockKind(DenseLayerSpec, _build_dense, _cost_dense, strides=(1,))
TRANSITION = BlockKind(TransitionSpec, _build_transition, _cost_transition, depth_scalable=False)
