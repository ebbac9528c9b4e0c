"""Selective Kernel convolution (Li et al., SKNet, 2019), as timm's ``SelectiveKernel`` builds it.

Several 3x3 paths of growing dilation (path ``i`` has dilation ``i + 1``, the
receptive field of a ``2i + 3`` kernel) each make a conv-norm-act of the full
output width; their sum, pooled, goes through a 1x1 conv down (no bias),
batch norm and activation, then a 1x1 conv up to one map per path; a softmax
across paths weighs each channel of each path, and the weighted paths are
summed.  With ``split_input`` (timm's default, used by every skresnet) each
path reads only its own share of the input channels, which keeps the
parameters near those of one conv.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from searchspace.activations import make_activation
from searchspace.blocks.spatial import SELECT_PATHS, pooled_attention, register_spatial_conv
from searchspace.fields import BoolCodec, FloatCodec, IntCodec, SpecBase, SpecError, knob
from searchspace.layers import BuildContext, ConvNormAct
from searchspace.tally import Tally
from searchspace.widths import make_divisible


class KernelAttention(nn.Module):
    """Per-channel softmax weights over the paths, from their pooled sum."""

    def __init__(self, channels: int, paths: int, attention_channels: int, activation: str, ctx: BuildContext) -> None:
        super().__init__()
        self.paths = paths
        self.reduce = nn.Conv2d(channels, attention_channels, 1, bias=False)
        self.norm = ctx.norm2d(attention_channels)
        self.act = make_activation(activation)
        self.select = nn.Conv2d(attention_channels, channels * paths, 1, bias=False)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:  # maps: (batch, paths, channels, h, w)
        pooled = maps.sum(1).mean((2, 3), keepdim=True)
        logits = self.select(self.act(self.norm(self.reduce(pooled))))
        return logits.view(maps.shape[0], self.paths, -1, 1, 1).softmax(1)


class SelectiveKernelConv(nn.Module):
    def __init__(self, spec: SelectiveKernelSpec, in_channels: int, out_channels: int, stride: int, groups: int,
                 activation: str, ctx: BuildContext) -> None:
        super().__init__()
        self.split_input = spec.split_input
        path_in = in_channels // spec.paths if spec.split_input else in_channels
        self.paths = nn.ModuleList(
            ConvNormAct(path_in, out_channels, 3, ctx, stride=stride, dilation=d, groups=groups, activation=activation)
            for d in spec.dilations()
        )
        self.attention = KernelAttention(out_channels, spec.paths, spec.attention_channels(out_channels), activation, ctx)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Indexed loops, not zip(): TorchScript (the .ts export) cannot zip a ModuleList with a tensor list.
        inputs = x.chunk(len(self.paths), 1) if self.split_input else [x for _ in range(len(self.paths))]
        maps = []
        for index, path in enumerate(self.paths):
            maps.append(path(inputs[index]))
        stacked = torch.stack(maps, 1)
        return (stacked * self.attention(stacked)).sum(1)


@dataclass(frozen=True, kw_only=True)
class SelectiveKernelSpec(SpecBase):
    kind = "sk"

    paths: int = knob("p", IntCodec(2, 8), 2, doc="3x3 paths; path i has dilation i + 1 (timm's kernels 3, 5, ... kept 3x3)")
    ratio: float = knob("rd", FloatCodec(0.0, 4.0, open_min=True), 1 / 16, doc="attention width as a fraction of the output width")
    divisor: int = knob("d", IntCodec(1), 8, doc="round the attention width to a multiple of this (at least one)")
    split_input: bool = knob("", BoolCodec("split", "nosplit"), True, doc="each path reads its share of the input channels")

    def dilations(self) -> range:
        return range(1, self.paths + 1)

    def attention_channels(self, out_channels: int) -> int:
        return make_divisible(out_channels * self.ratio, self.divisor)

    def module(self, in_channels: int, out_channels: int, stride: int, groups: int, activation: str, ctx: BuildContext) -> nn.Module:
        return SelectiveKernelConv(self, in_channels, out_channels, stride, groups, activation, ctx)

    def cost(self, tally: Tally, out_channels: int, stride: int, groups: int) -> None:
        if self.split_input and tally.channels % self.paths:
            raise SpecError(f"sk.split_input: the input's {tally.channels} channels do not split into {self.paths} paths")
        path_in = tally.channels // self.paths if self.split_input else tally.channels
        paths = [Tally(path_in, tally.height, tally.width, tally.layers).conv(out_channels, 3, stride, groups=groups, dilation=d)
                 for d in self.dilations()]
        for path in paths:  # summed by the attention's weights (SELECT_PATHS), not a residual sum
            tally.become(path)
        attention = pooled_attention(tally, out_channels).conv(self.attention_channels(out_channels), 1)
        tally.absorb(attention.conv(out_channels * self.paths, 1, norm=False))
        tally.layer(SELECT_PATHS)


register_spatial_conv(SelectiveKernelSpec)
