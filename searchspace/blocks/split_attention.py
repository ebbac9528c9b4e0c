"""Split-attention convolution (Zhang et al., ResNeSt, 2020), as timm's ``SplitAttn`` builds it.

One grouped 3x3 conv-norm-act makes ``radix`` splits of the output width per
group (``groups * radix`` groups in all); their sum, pooled, goes through a
grouped 1x1 conv down (with bias), batch norm and activation, then a grouped
1x1 conv up to one map per split; a softmax across the splits of each group
(a sigmoid when radix is 1) weighs them, and the weighted splits are summed.

``avd`` is ResNeSt's average-pool downsampling: a strided block runs the conv
at stride 1 and downsamples after it with a 3x3 average pool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from searchspace.activations import make_activation
from searchspace.blocks.spatial import SELECT_PATHS, pooled_attention, register_spatial_conv
from searchspace.fields import BoolCodec, FloatCodec, IntCodec, SpecBase, knob
from searchspace.layers import BuildContext, ConvNormAct
from searchspace.tally import Tally
from searchspace.widths import make_divisible


class SplitAttentionConv(nn.Module):
    def __init__(self, spec: SplitAttentionSpec, in_channels: int, out_channels: int, stride: int, groups: int,
                 activation: str, ctx: BuildContext) -> None:
        super().__init__()
        self.radix, self.groups = spec.radix, groups
        attention = spec.attention_channels(in_channels, groups)
        self.conv = ConvNormAct(in_channels, out_channels * spec.radix, 3, ctx, stride=spec.conv_stride(stride),
                                groups=groups * spec.radix, activation=activation)
        self.reduce = nn.Conv2d(out_channels, attention, 1, groups=groups)
        self.norm = ctx.norm2d(attention)
        self.act = make_activation(activation)
        self.expand = nn.Conv2d(attention, out_channels * spec.radix, 1, groups=groups)
        # timm's avd pool counts the zero padding in its averages (AvgPool2d's default).
        self.pool = nn.AvgPool2d(3, stride, padding=1) if spec.conv_stride(stride) != stride else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        batch, channels, height, width = x.shape
        splits = x.view(batch, self.radix, channels // self.radix, height, width)
        pooled = splits.sum(1).mean((2, 3), keepdim=True)
        logits = self.expand(self.act(self.norm(self.reduce(pooled))))
        # The up conv's channels run group-major (group, split, channel); the splits' run split-major.
        logits = logits.view(batch, self.groups, self.radix, -1).transpose(1, 2)
        weights = logits.softmax(1) if self.radix > 1 else logits.sigmoid()
        x = (splits * weights.reshape(batch, self.radix, -1, 1, 1)).sum(1)
        return self.pool(x)


@dataclass(frozen=True, kw_only=True)
class SplitAttentionSpec(SpecBase):
    kind = "splat"

    radix: int = knob("r", IntCodec(1, 8), 2, doc="splits per group that the attention chooses between")
    ratio: float = knob("rd", FloatCodec(0.0, 4.0, open_min=True), 0.25, doc="attention width as a fraction of input width times radix")
    divisor: int = knob("d", IntCodec(1), 8, doc="round the attention width to a multiple of this and of the groups")
    min_channels: int = knob("m", IntCodec(1), 32, doc="smallest attention width (rounded up to that multiple)")
    avd: bool = knob("", BoolCodec("avd", "noavd"), True, doc="a strided block downsamples with a 3x3 average pool after the conv")

    def conv_stride(self, stride: int) -> int:
        return 1 if self.avd else stride

    def attention_channels(self, in_channels: int, groups: int) -> int:
        """timm's width; its grouped 1x1 convs need a multiple of the groups, where timm's rule gives one it is the same."""
        unit = math.lcm(self.divisor, groups)
        return make_divisible(in_channels * self.radix * self.ratio, unit, -(-self.min_channels // unit) * unit)

    def module(self, in_channels: int, out_channels: int, stride: int, groups: int, activation: str, ctx: BuildContext) -> nn.Module:
        return SplitAttentionConv(self, in_channels, out_channels, stride, groups, activation, ctx)

    def cost(self, tally: Tally, out_channels: int, stride: int, groups: int) -> None:
        attention_width = self.attention_channels(tally.channels, groups)
        tally.conv(out_channels * self.radix, 3, self.conv_stride(stride), groups=groups * self.radix)
        attention = pooled_attention(tally, out_channels).conv(attention_width, 1, groups=groups, bias=True)
        tally.absorb(attention.conv(out_channels * self.radix, 1, groups=groups, bias=True, norm=False))
        tally.layer(SELECT_PATHS, out_channels=out_channels)
        if self.conv_stride(stride) != stride:
            tally.pool(3, stride, 1)


register_spatial_conv(SplitAttentionSpec)
