"""Inverted residuals: MBConv (MobileNetV2/V3, MnasNet, EfficientNet) and fused-MBConv.

The expanded width is ``make_divisible(in * expand_ratio, 8)``, the rule of
torchvision's EfficientNet and timm; with ``expand_ratio == 1`` there is no
expansion convolution and the block is a depthwise-separable convolution
(MobileNetV2's first block; with ``pwact`` and ``noskip``, MobileNetV1's).
The skip connection is used when ``skip`` is set and the shape is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from searchspace.activations import ACTIVATION
from searchspace.blocks.attention import AttentionSpec, attention_knob
from searchspace.fields import (
    BoolCodec,
    FloatCodec,
    IntCodec,
    SizeCodec,
    SpecBase,
    SpecError,
    knob,
)
from searchspace.layers import BuildContext, ConvNormAct, Residual
from searchspace.registry import BlockKind
from searchspace.stage_knobs import ATTENTION_KNOBS, EXPANSION, KERNEL, SearchRecipe, expansion_of, se_from_knobs
from searchspace.tally import Tally, as_pair
from searchspace.widths import make_divisible

EXPANSION_DIVISOR = 8


def expanded_channels(in_channels: int, expand_ratio: float) -> int:
    if expand_ratio == 1.0:
        return in_channels
    return make_divisible(in_channels * expand_ratio, EXPANSION_DIVISOR)


def uses_skip(skip: bool, in_channels: int, out_channels: int, stride: int) -> bool:
    return skip and stride == 1 and in_channels == out_channels


def wrap_residual(body: nn.Sequential, skip: bool, ctx: BuildContext) -> nn.Module:
    """Inverted residuals add without a final activation (a linear bottleneck)."""
    return Residual(body, None, "identity", ctx.drop_path) if skip else body


def check_odd_kernel(spec: SpecBase, field: str, kernel: int | tuple[int, int], allow_zero: bool = False) -> None:
    for k in as_pair(kernel):
        if (k == 0 and not allow_zero) or (k != 0 and k % 2 == 0):
            rule = "must be 0 (absent) or odd" if allow_zero else "must be odd so that padding keeps the size"
            raise spec.fail(field, kernel, rule)


@dataclass(frozen=True, kw_only=True)
class MBConvSpec(SpecBase):
    kind = "mbconv"

    out_channels: int = knob("c", IntCodec(1), doc="output channels", role="channels")
    expand_ratio: float = knob("e", FloatCodec(0.0, 64.0, open_min=True), 1.0, doc="expanded width / input width (1: no expansion conv)")
    kernel: int | tuple[int, int] = knob("k", SizeCodec(1), 3, doc="depthwise kernel (odd)")
    group_size: int = knob("gs", IntCodec(1), 1, doc="channels per group in the spatial conv (1: depthwise)")
    activation: str = knob("", ACTIVATION, "relu", doc="activation after the expansion and the depthwise conv")
    se: AttentionSpec | None = attention_knob("after the depthwise conv")
    skip: bool = knob("", BoolCodec("skip", "noskip"), True, doc="residual connection when the shape is kept")
    project_activation: bool = knob("", BoolCodec("pwact", "pwlinear"), False, doc="activation after the projection (MobileNetV1); default linear")

    def check(self) -> None:
        check_odd_kernel(self, "kernel", self.kernel)


def _spatial_groups(channels: int, group_size: int) -> int:
    if channels % group_size:
        raise SpecError(f"group_size = {group_size} is not allowed: it must divide the {channels} channels of the spatial conv")
    return channels // group_size


def _build_mbconv(spec: MBConvSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    out, mid = spec.out_channels, expanded_channels(in_channels, spec.expand_ratio)
    body = nn.Sequential()
    if mid != in_channels:
        body.expand = ConvNormAct(in_channels, mid, 1, ctx, activation=spec.activation)
    body.depthwise = ConvNormAct(mid, mid, spec.kernel, ctx, stride=stride, groups=_spatial_groups(mid, spec.group_size), activation=spec.activation)
    if spec.se is not None:
        body.se = spec.se.module(mid, in_channels, mid, out)
    body.project = ConvNormAct(mid, out, 1, ctx, activation=spec.activation if spec.project_activation else "identity")
    return wrap_residual(body, uses_skip(spec.skip, in_channels, out, stride), ctx)


def _cost_mbconv(spec: MBConvSpec, tally: Tally, stride: int) -> None:
    in_channels, out = tally.channels, spec.out_channels
    mid = expanded_channels(in_channels, spec.expand_ratio)
    if mid != in_channels:
        tally.conv(mid, 1)
    tally.conv(mid, spec.kernel, stride, groups=_spatial_groups(mid, spec.group_size))
    if spec.se is not None:
        spec.se.cost(tally, in_channels, mid, out)
    tally.conv(out, 1)
    if uses_skip(spec.skip, in_channels, out, stride):
        tally.add_identity()


@dataclass(frozen=True, kw_only=True)
class FusedMBConvSpec(SpecBase):
    """Fused-MBConv (EfficientNetV2, MobileNetV4's FusedIB): a full kxk conv replaces expansion + depthwise.

    With ``expand_ratio == 1`` it is a single kxk conv-norm-act, as in
    torchvision's EfficientNetV2.
    """

    kind = "fused"

    out_channels: int = knob("c", IntCodec(1), doc="output channels", role="channels")
    expand_ratio: float = knob("e", FloatCodec(0.0, 64.0, open_min=True), 1.0, doc="expanded width / input width")
    kernel: int | tuple[int, int] = knob("k", SizeCodec(1), 3, doc="kernel of the fused conv (odd)")
    activation: str = knob("", ACTIVATION, "relu", doc="activation after the fused conv")
    se: AttentionSpec | None = attention_knob("after the fused conv")
    skip: bool = knob("", BoolCodec("skip", "noskip"), True, doc="residual connection when the shape is kept")

    def check(self) -> None:
        check_odd_kernel(self, "kernel", self.kernel)


def _build_fused(spec: FusedMBConvSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    out, mid = spec.out_channels, expanded_channels(in_channels, spec.expand_ratio)
    body = nn.Sequential()
    if mid == in_channels:
        body.fused = ConvNormAct(in_channels, out, spec.kernel, ctx, stride=stride, activation=spec.activation)
        if spec.se is not None:
            body.se = spec.se.module(out, in_channels, out, out)
    else:
        body.fused = ConvNormAct(in_channels, mid, spec.kernel, ctx, stride=stride, activation=spec.activation)
        if spec.se is not None:
            body.se = spec.se.module(mid, in_channels, mid, out)
        body.project = ConvNormAct(mid, out, 1, ctx)
    return wrap_residual(body, uses_skip(spec.skip, in_channels, out, stride), ctx)


def _cost_fused(spec: FusedMBConvSpec, tally: Tally, stride: int) -> None:
    in_channels, out = tally.channels, spec.out_channels
    mid = expanded_channels(in_channels, spec.expand_ratio)
    width = out if mid == in_channels else mid
    tally.conv(width, spec.kernel, stride)
    if spec.se is not None:
        spec.se.cost(tally, in_channels, width, out)
    if mid != in_channels:
        tally.conv(out, 1)
    if uses_skip(spec.skip, in_channels, out, stride):
        tally.add_identity()


def _search_mbconv(width: int, values: Mapping[str, Any]) -> MBConvSpec:
    return MBConvSpec(out_channels=width, kernel=values["kernel"], activation=values["activation"], se=se_from_knobs(values), **expansion_of(values))


def _search_fused(width: int, values: Mapping[str, Any]) -> FusedMBConvSpec:
    return FusedMBConvSpec(out_channels=width, kernel=values["kernel"], activation=values["activation"], se=se_from_knobs(values), **expansion_of(values))


MBCONV_SEARCH = SearchRecipe((KERNEL, EXPANSION, *ATTENTION_KNOBS), _search_mbconv)
FUSED_SEARCH = SearchRecipe((KERNEL, EXPANSION, *ATTENTION_KNOBS), _search_fused)
MBCONV = BlockKind(MBConvSpec, _build_mbconv, _cost_mbconv, residual=True, expanded_width=expanded_channels, search=MBCONV_SEARCH)
FUSED = BlockKind(FusedMBConvSpec, _build_fused, _cost_fused, residual=True, expanded_width=expanded_channels, search=FUSED_SEARCH)
