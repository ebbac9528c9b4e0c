"""Efficient Channel Attention (ECA-Net, Wang et al. 2020), a kind of the attention slot.

SE without the squeeze: the pooled channel vector goes through one 1-D
convolution across neighbouring channels (no bias), then a gate.  The paper
picks the kernel from the channel count, ``k = |(log2 C + 1) / 2|`` rounded up
to odd; timm (the reference) also keeps it at least 3, and so does this.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from searchspace.activations import GATE, make_gate
from searchspace.blocks.attention import register_attention
from searchspace.fields import IntCodec, OptionalCodec, SpecBase, knob
from searchspace.tally import Tally

# The paper's gamma and beta of the kernel rule.
GAMMA, BETA = 2, 1


def adaptive_kernel(channels: int) -> int:
    """ECA's kernel for ``channels``; ``math.log(c, 2)`` as timm writes it, since log2 rounds differently."""
    t = int(abs(math.log(channels, 2) + BETA) / GAMMA)
    return max(t if t % 2 else t + 1, 3)


class EfficientChannelAttention(nn.Module):
    """Global average pool, a 1-D conv across channels, gate, rescale.

    The 1-D conv is a ``1 x k`` 2-D conv over the channels laid out as one row,
    so it counts and records like every other conv (timm's ``Conv1d`` weight
    of shape ``(1, 1, k)`` converts by a reshape).
    """

    def __init__(self, kernel: int, gate: str) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, (1, kernel), padding=(0, (kernel - 1) // 2), bias=False)
        self.gate = make_gate(gate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean((2, 3)).view(x.shape[0], 1, 1, -1)  # (batch, 1, 1, channels): the channels are one row
        scale = self.gate(self.conv(pooled)).view(x.shape[0], -1, 1, 1)
        return x * scale


@dataclass(frozen=True, kw_only=True)
class ECASpec(SpecBase):
    kind = "eca"

    kernel: int | None = knob("k", OptionalCodec(IntCodec(1, 99)), None, doc="odd kernel of the 1-D conv across channels; absent: the paper's rule from the channel count")
    gate: str = knob("", GATE, "sigmoid", doc="gate that turns the conv's output into a scale")

    def check(self) -> None:
        if self.kernel is not None and self.kernel % 2 == 0:
            raise self.fail("kernel", self.kernel, "must be odd (the conv keeps the channel count)")

    def kernel_for(self, channels: int) -> int:
        return adaptive_kernel(channels) if self.kernel is None else self.kernel

    def module(self, channels: int, in_channels: int, mid_channels: int, out_channels: int) -> nn.Module:
        return EfficientChannelAttention(self.kernel_for(channels), self.gate)

    def cost(self, tally: Tally, in_channels: int, mid_channels: int, out_channels: int) -> None:
        kernel = self.kernel_for(tally.channels)
        row = Tally(1, 1, tally.channels, tally.layers).conv(1, (1, kernel), padding=(0, (kernel - 1) // 2), norm=False)
        tally.include(row)


register_attention(ECASpec)
