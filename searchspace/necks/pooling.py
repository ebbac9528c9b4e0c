"""Necks that widen the deepest level's receptive field: SPP and SPPF, as YOLOv5 builds them.

SPP (He et al., 2015, as YOLOv3-SPP and YOLOv5 use it): a 1x1 conv-BN-act to
the hidden width, max pools of several kernels at stride 1 (padding keeps the
size), the input and the pooled maps concatenated, a 1x1 conv-BN-act to the
output width.  SPPF chains one pool three times instead: pooling twice with
k = 5 is pooling once with 9, three times with 13, so SPPF(5) computes SPP(5, 9, 13)
with the same weights.  Only the deepest level changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from searchspace.activations import ACTIVATION
from searchspace.fields import FloatCodec, IntCodec, NumberTupleCodec, SpecBase, knob
from searchspace.layers import BuildContext, ConvNormAct
from searchspace.necks.kinds import NeckKind
from searchspace.tally import Tally

SPPF_POOLS = 3  # chained poolings of SPPF (YOLOv5's, equal to SPP with three kernels)


def _check_odd(spec: SpecBase, field: str, kernels: Sequence[int]) -> None:
    if any(k % 2 == 0 for k in kernels):
        raise spec.fail(field, getattr(spec, field), "pool kernels must be odd (a stride-1 pool keeps the size only then)")


@dataclass(frozen=True, kw_only=True)
class PoolNeckBase(SpecBase):
    hidden_ratio: float = knob("h", FloatCodec(0.0, 64.0, open_min=True), 0.5, doc="hidden width as a fraction of the input")
    out_channels: int = knob("c", IntCodec(0), 0, doc="output channels; 0: the input's", role="channels")
    activation: str = knob("", ACTIVATION, "silu", doc="activation after each conv")

    def widths(self, in_channels: int) -> tuple[int, int]:
        return max(1, round(in_channels * self.hidden_ratio)), self.out_channels or in_channels


@dataclass(frozen=True, kw_only=True)
class SPPSpec(PoolNeckBase):
    kind = "spp"

    kernels: tuple[int, ...] = knob("k", NumberTupleCodec(IntCodec(1)), (5, 9, 13), doc="max-pool kernels (odd)")

    def check(self) -> None:
        _check_odd(self, "kernels", self.kernels)

    def pool_chain(self) -> tuple[tuple[int, bool], ...]:
        """(kernel, whether it pools the previous pool's output) for each pooled map."""
        return tuple((k, False) for k in self.kernels)


@dataclass(frozen=True, kw_only=True)
class SPPFSpec(PoolNeckBase):
    kind = "sppf"

    kernel: int = knob("k", IntCodec(1), 5, doc="max-pool kernel (odd), applied three times in a row")

    def check(self) -> None:
        _check_odd(self, "kernel", (self.kernel,))

    def pool_chain(self) -> tuple[tuple[int, bool], ...]:
        return ((self.kernel, False),) + ((self.kernel, True),) * (SPPF_POOLS - 1)


class PyramidPooling(nn.Module):
    """Reduce, pool (in parallel or chained), concatenate with the input, merge; on the deepest level only."""

    def __init__(self, spec: SPPSpec | SPPFSpec, in_channels: Sequence[int], ctx: BuildContext) -> None:
        super().__init__()
        chain = spec.pool_chain()
        hidden, out = spec.widths(in_channels[-1])
        self.reduce = ConvNormAct(in_channels[-1], hidden, 1, ctx, activation=spec.activation)
        self.pools = nn.ModuleList(nn.MaxPool2d(kernel, 1, kernel // 2) for kernel, _ in chain)
        self.chained = tuple(chained for _, chained in chain)
        self.merge = ConvNormAct(hidden * (len(chain) + 1), out, 1, ctx, activation=spec.activation)

    def forward(self, maps: list[torch.Tensor]) -> list[torch.Tensor]:
        x = self.reduce(maps[-1])
        pooled = [x]
        for pool, chained in zip(self.pools, self.chained):
            pooled.append(pool(pooled[-1] if chained else x))
        return [*maps[:-1], self.merge(torch.cat(pooled, dim=1))]


def _cost_pyramid_pooling(spec: SPPSpec | SPPFSpec, levels: list[Tally]) -> list[Tally]:
    deepest = levels[-1]
    hidden, out = spec.widths(deepest.channels)
    deepest.conv(hidden, 1)
    pooled = [deepest.fork()]
    for kernel, chained in spec.pool_chain():
        pooled.append((pooled[-1] if chained else pooled[0]).fork().pool(kernel, 1, kernel // 2))
    deepest.concat(pooled).conv(out, 1)
    return levels


SPP = NeckKind(SPPSpec, PyramidPooling, _cost_pyramid_pooling)
SPPF = NeckKind(SPPFSpec, PyramidPooling, _cost_pyramid_pooling)
