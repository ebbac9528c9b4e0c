"""The spatial-conv slot of the residual kinds: their 3x3 conv-norm-act, or a registered variant of it.

Selective Kernel (SKNet) and split attention (ResNeSt) are attention that
*replaces* a convolution rather than rescaling a block's output: each is the
3x3 conv of a ResNet block, widened into several paths (kernels, or radix
splits) that a learned softmax mixes.  Everything else about the block (its
1x1s, shortcut, stage layout, width scaling and search knobs) is the basic or
bottleneck block's, so they are variants of that one conv, not block kinds of
their own: a kind per variant would repeat the residual bodies, and every
kind-level table, for a difference of one layer.

A variant is a spec class with a ``kind`` and knobs, and a builder and cost
side by side::

    module(in_channels, out_channels, stride, groups, activation, ctx) -> nn.Module
    cost(tally, out_channels, stride, groups) -> None

standing for ``ConvNormAct(in, out, 3, stride=stride, groups=groups,
activation=activation)``: same input, output shape and activation.
"""

from __future__ import annotations

from typing import Any, Protocol

from torch import nn

from searchspace.blocks.slots import SlotCodec
from searchspace.fields import SpecBase, knob
from searchspace.layers import BuildContext, ConvNormAct
from searchspace.tally import Tally


class SpatialConvSpec(Protocol):
    kind: str

    def module(self, in_channels: int, out_channels: int, stride: int, groups: int, activation: str, ctx: BuildContext) -> nn.Module: ...

    def cost(self, tally: Tally, out_channels: int, stride: int, groups: int) -> None: ...


_SPATIAL: dict[str, type[SpecBase]] = {}

# The op a variant records for weighing its paths (or splits) by the attention's softmax and summing them.
SELECT_PATHS = "select_paths"
SPATIAL_LATENCY_OPS = {SELECT_PATHS: "elementwise"}  # for the kinds that take the slot (BlockKind.latency_ops)


def register_spatial_conv(spec_class: type[SpecBase]) -> None:
    if spec_class.kind in _SPATIAL:
        raise RuntimeError(f"spatial conv kind {spec_class.kind!r} is registered twice")
    _SPATIAL[spec_class.kind] = spec_class


def spatial_conv_kinds() -> tuple[str, ...]:
    return tuple(_SPATIAL)


def spatial_knob(where: str) -> Any:
    """The slot; JSON leaves it out when empty, so nets with plain convs keep their digests."""
    doc = f"the 3x3 conv ({where}): absent, a conv-norm-act; or sk(...) (Selective Kernel), splat(...) (split attention)"
    return knob("", SlotCodec(_SPATIAL, "a spatial conv spec"), None, doc=doc, json_when_set=True)


def pooled_attention(tally: Tally, channels: int) -> Tally:
    """A tally for an attention's 1x1 convs on the globally pooled map (the pooling itself is not counted), recording with ``tally``."""
    return Tally(channels, 1, 1, tally.layers)


def spatial_conv(
    variant: SpatialConvSpec | None, in_channels: int, out_channels: int, stride: int, groups: int, activation: str, ctx: BuildContext,
) -> nn.Module:
    """The block's 3x3 conv-norm-act, or the variant that replaces it."""
    if variant is None:
        return ConvNormAct(in_channels, out_channels, 3, ctx, stride=stride, groups=groups, activation=activation)
    return variant.module(in_channels, out_channels, stride, groups, activation, ctx)


def cost_spatial_conv(variant: SpatialConvSpec | None, tally: Tally, out_channels: int, stride: int, groups: int) -> None:
    if variant is None:
        tally.conv(out_channels, 3, stride, groups=groups)
    else:
        variant.cost(tally, out_channels, stride, groups)
