"""Gather-Excite (Hu et al. 2018), a kind of the attention slot.

Gather pools each channel over an extent (the whole map, or windows of
``2e - 1`` at stride ``e``, padding excluded from the mean); excite passes the
gathered map through an optional two-layer MLP of 1x1 convs with bias (the
paper's GE-theta-plus; without it, GE-theta-minus), resizes it back to the map
by nearest neighbour and gates the map with it.  At global extent with the MLP
it computes what SE computes.  timm's ``GatherExcite`` is the reference; its
variant with depthwise-conv gathering (``extra_params``) is not offered here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from searchspace.activations import ACTIVATION, GATE, make_activation, make_gate
from searchspace.blocks.attention import register_attention
from searchspace.blocks.se import SqueezeRule, squeeze_divisor, squeeze_ratio, squeeze_reference
from searchspace.fields import BoolCodec, IntCodec, SpecBase, knob
from searchspace.tally import Tally, pool_output_size


class ExciteMlp(nn.Sequential):
    def __init__(self, channels: int, squeeze_channels: int, activation: str) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.act = make_activation(activation)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)


class GatherExcite(nn.Module):
    def __init__(self, extent: int, mlp: nn.Module, gate: str) -> None:
        super().__init__()
        self.extent = extent
        self.mlp = mlp
        self.gate = make_gate(gate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.extent == 0:
            gathered = x.mean((2, 3), keepdim=True)
        else:
            window = 2 * self.extent - 1
            gathered = F.avg_pool2d(x, window, self.extent, self.extent - 1, count_include_pad=False)
        excited = self.mlp(gathered)
        if excited.shape[-2:] != (1, 1):
            excited = F.interpolate(excited, size=x.shape[-2:])
        return x * self.gate(excited)


@dataclass(frozen=True, kw_only=True)
class GESpec(SqueezeRule, SpecBase):
    kind = "ge"

    extent: int = knob("e", IntCodec(0, 64), 0, doc="gather extent: 0 for the whole map, else an even stride of the gathering windows")
    mlp: bool = knob("", BoolCodec("mlp", "nomlp"), True, doc="excite through a two-layer MLP (theta-plus) or gate the gathered map directly (theta-minus)")
    ratio: float = squeeze_ratio(1 / 16)
    relative_to: str = squeeze_reference("out")
    divisor: int = squeeze_divisor()
    activation: str = knob("", ACTIVATION, "relu", doc="activation inside the MLP")
    gate: str = knob("", GATE, "sigmoid", doc="gate that turns the excitation into a scale")

    def check(self) -> None:
        if self.extent % 2:
            raise self.fail("extent", self.extent, "must be 0 (global) or even")

    def module(self, channels: int, in_channels: int, mid_channels: int, out_channels: int) -> nn.Module:
        squeeze = self.squeeze_channels(in_channels, mid_channels, out_channels)
        mlp = ExciteMlp(channels, squeeze, self.activation) if self.mlp else nn.Identity()
        return GatherExcite(self.extent, mlp, self.gate)

    def gathered_size(self, height: int, width: int) -> tuple[int, int]:
        if self.extent == 0:
            return 1, 1
        window, stride, padding = 2 * self.extent - 1, self.extent, self.extent - 1
        return pool_output_size(height, window, stride, padding, False), pool_output_size(width, window, stride, padding, False)

    def cost(self, tally: Tally, in_channels: int, mid_channels: int, out_channels: int) -> None:
        # Gathering, resizing and gating count nothing (pooling and element-wise work); the MLP runs on the gathered map.
        if self.mlp:
            squeeze = self.squeeze_channels(in_channels, mid_channels, out_channels)
            gathered = Tally(tally.channels, *self.gathered_size(tally.height, tally.width), tally.layers)
            tally.include(gathered.conv(squeeze, 1, bias=True, norm=False).conv(tally.channels, 1, bias=True, norm=False))


register_attention(GESpec)
