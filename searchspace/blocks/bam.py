"""Bottleneck Attention Module (BAM, Park et al. 2018): a stage of its own between a net's stages.

The paper places it where a net downsamples (in ResNet-50, after each of the
first three stages) and refines the map ``F`` into ``F * (1 + sigmoid(Mc + Ms))``:

* channel branch ``Mc = BN(MLP(AvgPool(F)))``: a linear layer down to
  ``C / r`` (batch norm, activation), a linear layer back up to ``C``, a batch norm;
* spatial branch ``Ms = BN(f3(f2(f1(f0(F)))))``: a 1x1 conv down to ``C / r``,
  two 3x3 convs dilated by ``d``, each of these three with batch norm and
  activation, and a 1x1 conv to one map, then a batch norm.

The paper's equations give the batch norm that ends each branch; the authors'
code (Jongchan/attention-module) adds the norm and activation inside the
branches and gives every conv and linear layer a bias.  This follows both,
which is what their ResNet-50 + BAM parameter count (25.92M) needs.  Like
theirs, the channel branch's batch norms see one value per channel and image,
so training needs batches of two or more images.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from searchspace.activations import ACTIVATION, make_activation
from searchspace.fields import IntCodec, SpecBase, knob
from searchspace.layers import BuildContext, ConvNormAct
from searchspace.registry import BlockKind
from searchspace.tally import Tally


class ChannelBranch(nn.Sequential):
    def __init__(self, channels: int, hidden: int, activation: str, ctx: BuildContext) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(channels, hidden)
        self.norm1 = ctx.norm1d(hidden)
        self.act = make_activation(activation)
        self.fc2 = nn.Linear(hidden, channels)
        self.norm2 = ctx.norm1d(channels)


class SpatialBranch(nn.Sequential):
    def __init__(self, channels: int, hidden: int, spec: BAMSpec, ctx: BuildContext) -> None:
        super().__init__()
        options = {"bias": True, "activation": spec.activation}
        self.reduce = ConvNormAct(channels, hidden, 1, ctx, **options)
        for index in range(spec.dilated_convs):
            self.add_module(f"dilated{index}", ConvNormAct(hidden, hidden, 3, ctx, dilation=spec.dilation, **options))
        self.project = ConvNormAct(hidden, 1, 1, ctx, bias=True)


class BottleneckAttention(nn.Module):
    def __init__(self, channels: int, spec: BAMSpec, ctx: BuildContext) -> None:
        super().__init__()
        hidden = spec.hidden_channels(channels)
        self.channel = ChannelBranch(channels, hidden, spec.activation, ctx)
        self.spatial = SpatialBranch(channels, hidden, spec, ctx)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channel = self.channel(x)[:, :, None, None]  # (batch, C, 1, 1), broadcast against (batch, 1, H, W)
        return x * (1 + torch.sigmoid(channel + self.spatial(x)))


@dataclass(frozen=True, kw_only=True)
class BAMSpec(SpecBase):
    """BAM keeps the map's shape: a stage of one, stride 1, between two stages."""

    kind = "bam"

    reduction: int = knob("rd", IntCodec(1), 16, doc="both branches narrow the map to channels / reduction (at least 1)")
    dilation: int = knob("d", IntCodec(1, 64), 4, doc="dilation of the spatial branch's 3x3 convs")
    dilated_convs: int = knob("n", IntCodec(0, 8), 2, doc="number of dilated 3x3 convs in the spatial branch")
    activation: str = knob("", ACTIVATION, "relu", doc="activation inside both branches")

    def hidden_channels(self, channels: int) -> int:
        return max(1, channels // self.reduction)


def _build_bam(spec: BAMSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return BottleneckAttention(in_channels, spec, ctx)


def _cost_bam(spec: BAMSpec, tally: Tally, stride: int) -> None:
    channels = tally.channels
    hidden = spec.hidden_channels(channels)
    channel = tally.fork().adaptive_pool(1).flatten().linear(hidden, norm=True).linear(channels, norm=True)
    spatial = tally.fork().conv(hidden, 1, bias=True)
    for _ in range(spec.dilated_convs):
        spatial.conv(hidden, 3, dilation=spec.dilation, bias=True)
    spatial.conv(1, 1, bias=True)
    tally.include(channel).include(spatial)


BAM = BlockKind(BAMSpec, _build_bam, _cost_bam, strides=(1,), depth_scalable=False)
