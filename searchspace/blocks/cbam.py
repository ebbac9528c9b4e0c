"""Convolutional Block Attention Module (CBAM, Woo et al. 2018), a kind of the attention slot.

A channel gate, then a spatial gate, applied in turn:

* channel: average- and max-pooled channel vectors each pass the same
  two-layer MLP (1x1 convs, no bias); the two results are summed and gated;
* spatial: the channel-wise mean and max maps, stacked, pass one ``k x k``
  conv (no bias) and a batch norm to a single map, which is gated.

The MLP runs twice, so its MACs count twice.  Module names follow timm's
``CbamModule`` (``channel.fc1``, ``spatial.conv.conv``) for weight conversion.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from searchspace.activations import ACTIVATION, GATE, make_activation, make_gate
from searchspace.blocks.attention import register_attention
from searchspace.blocks.se import SqueezeRule, squeeze_divisor, squeeze_ratio, squeeze_reference
from searchspace.fields import IntCodec, SpecBase, knob
from searchspace.layers import BuildContext, ConvNormAct
from searchspace.tally import Tally


class ChannelGate(nn.Module):
    def __init__(self, channels: int, squeeze_channels: int, activation: str, gate: str) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1, bias=False)
        self.act = make_activation(activation)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1, bias=False)
        self.gate = make_gate(gate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True))))
        peak = self.fc2(self.act(self.fc1(x.amax((2, 3), keepdim=True))))
        return x * self.gate(mean + peak)


class SpatialGate(nn.Module):
    def __init__(self, kernel: int, gate: str) -> None:
        super().__init__()
        # The attention slot has no net-wide context; timm's CBAM keeps PyTorch's norm defaults too.
        self.conv = ConvNormAct(2, 1, kernel, BuildContext())
        self.gate = make_gate(gate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stacked = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)
        return x * self.gate(self.conv(stacked))


class ConvBlockAttention(nn.Module):
    def __init__(self, channels: int, squeeze_channels: int, spec: CBAMSpec) -> None:
        super().__init__()
        self.channel = ChannelGate(channels, squeeze_channels, spec.activation, spec.gate)
        self.spatial = SpatialGate(spec.spatial_kernel, spec.gate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial(self.channel(x))


@dataclass(frozen=True, kw_only=True)
class CBAMSpec(SqueezeRule, SpecBase):
    kind = "cbam"

    ratio: float = squeeze_ratio(1 / 16)
    relative_to: str = squeeze_reference("out")
    divisor: int = squeeze_divisor()
    spatial_kernel: int = knob("k", IntCodec(1, 99), 7, doc="odd kernel of the spatial gate's conv")
    activation: str = knob("", ACTIVATION, "relu", doc="activation inside the channel MLP")
    gate: str = knob("", GATE, "sigmoid", doc="gate of both the channel and the spatial attention")

    def check(self) -> None:
        if self.spatial_kernel % 2 == 0:
            raise self.fail("spatial_kernel", self.spatial_kernel, "must be odd (the spatial map keeps its size)")

    def module(self, channels: int, in_channels: int, mid_channels: int, out_channels: int) -> nn.Module:
        return ConvBlockAttention(channels, self.squeeze_channels(in_channels, mid_channels, out_channels), self)

    def cost(self, tally: Tally, in_channels: int, mid_channels: int, out_channels: int) -> None:
        squeeze = self.squeeze_channels(in_channels, mid_channels, out_channels)
        # The shared MLP runs on the average- and on the max-pooled vector: 1x1 convs over a 1x2 map.
        channel = Tally(tally.channels, 1, 2, tally.layers).conv(squeeze, 1, norm=False).conv(tally.channels, 1, norm=False)
        spatial = Tally(2, tally.height, tally.width, tally.layers).conv(1, self.spatial_kernel)
        tally.include(channel).include(spatial)


register_attention(CBAMSpec)
