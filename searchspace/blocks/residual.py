"""ResNet-family residual blocks: basic (two 3x3) and bottleneck (1x1-3x3-1x1).

The bottleneck covers ResNet, ResNeXt (``groups``), Wide ResNet and RegNet
(``bottleneck_ratio``: the 3x3's width as a fraction of the block output),
SENet and RegNetY (``se``, after the 3x3 or after the last 1x1), and ResNet-D
(``downsample = avgpool``: average pooling before the projection).  The stride
sits on the 3x3, as in torchvision's ResNet v1.5.

``spatial`` replaces that 3x3 (the basic block's first) with a Selective
Kernel (SKNet) or split-attention (ResNeSt) conv: variants of one layer of
these blocks rather than kinds of their own (spatial.py says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from searchspace.activations import ACTIVATION
from searchspace.blocks.attention import AttentionSpec, attention_knob
from searchspace.blocks.spatial import SPATIAL_LATENCY_OPS, SpatialConvSpec, cost_spatial_conv, spatial_conv, spatial_knob
from searchspace.fields import (
    ChoiceCodec,
    FloatCodec,
    IntCodec,
    SpecBase,
    knob,
)
from searchspace.layers import BuildContext, ConvNormAct, Residual
from searchspace.registry import BlockKind
from searchspace.stage_knobs import (
    ATTENTION_KNOBS,
    BOTTLENECK_RATIO,
    GROUP_WIDTH,
    SPATIAL_CONV,
    SearchRecipe,
    se_from_knobs,
    spatial_from_knobs,
)
from searchspace.tally import Tally

DOWNSAMPLE = ChoiceCodec(("conv1x1", "avgpool"))
DOWNSAMPLE_DOC = "projection shortcut when the shape changes: strided 1x1 conv, or 2x2 average pool then 1x1 conv (ResNet-D)"


class Projection(nn.Sequential):
    """The shortcut's 1x1 conv (after a 2x2 average pool in ResNet-D), and its norm unless the block is pre-activated."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, style: str, ctx: BuildContext, norm: bool = True) -> None:
        super().__init__()
        if style == "avgpool" and stride > 1:
            self.pool = nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False)
            stride = 1
        self.conv = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
        if norm:
            self.norm = ctx.norm2d(out_channels)


def projection_if_needed(in_channels: int, out_channels: int, stride: int, style: str, ctx: BuildContext, norm: bool = True) -> nn.Module | None:
    if stride == 1 and in_channels == out_channels:
        return None
    return Projection(in_channels, out_channels, stride, style, ctx, norm)


def cost_projection(tally: Tally, out_channels: int, stride: int, style: str, norm: bool = True) -> Tally:
    """The shortcut branch's tally (identity when the shape is kept)."""
    shortcut = tally.fork()
    if stride == 1 and tally.channels == out_channels:
        return shortcut
    if style == "avgpool" and stride > 1:
        shortcut.pool(2, stride, 0, ceil_mode=True)
        stride = 1
    return shortcut.conv(out_channels, 1, stride, norm=norm)


def bottleneck_ratio_knob() -> Any:
    """The 3x3's width as a fraction of the output: one declaration for both bottleneck kinds."""
    return knob("b", FloatCodec(0.0, 64.0, open_min=True), 0.25,
                doc="width of the 3x3 as a fraction of the output (rounded to the nearest integer)")


def bottleneck_width(out_channels: int, ratio: float) -> int:
    """The 3x3's width in a bottleneck: the output width times the ratio, rounded, at least 1."""
    return max(1, round(out_channels * ratio))


@dataclass(frozen=True, kw_only=True)
class BasicSpec(SpecBase):
    kind = "basic"

    out_channels: int = knob("c", IntCodec(1), doc="output channels", role="channels")
    activation: str = knob("", ACTIVATION, "relu", doc="activation inside the block and after the sum")
    se: AttentionSpec | None = attention_knob("applied after the second 3x3")
    downsample: str = knob("", DOWNSAMPLE, "conv1x1", doc=DOWNSAMPLE_DOC)
    spatial: SpatialConvSpec | None = spatial_knob("the first, strided one")


def _build_basic(spec: BasicSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    out = spec.out_channels
    body = nn.Sequential()
    body.conv_a = spatial_conv(spec.spatial, in_channels, out, stride, 1, spec.activation, ctx)
    body.conv_b = ConvNormAct(out, out, 3, ctx)
    if spec.se is not None:
        body.se = spec.se.module(out, in_channels, out, out)
    shortcut = projection_if_needed(in_channels, out, stride, spec.downsample, ctx)
    return Residual(body, shortcut, spec.activation, ctx.drop_path)


def _cost_basic(spec: BasicSpec, tally: Tally, stride: int) -> None:
    out = spec.out_channels
    shortcut = cost_projection(tally, out, stride, spec.downsample)
    body = tally.fork()
    cost_spatial_conv(spec.spatial, body, out, stride, 1)
    body.conv(out, 3)
    if spec.se is not None:
        spec.se.cost(body, tally.channels, out, out)
    tally.become(body).add(shortcut)


@dataclass(frozen=True, kw_only=True)
class BottleneckSpec(SpecBase):
    kind = "bottleneck"

    out_channels: int = knob("c", IntCodec(1), doc="output channels", role="channels")
    bottleneck_ratio: float = bottleneck_ratio_knob()
    groups: int = knob("g", IntCodec(1), 1, doc="groups of the 3x3 (ResNeXt cardinality; RegNet: bottleneck width / group width)")
    activation: str = knob("", ACTIVATION, "relu", doc="activation inside the block and after the sum")
    se: AttentionSpec | None = attention_knob("after the 3x3 or the last 1x1, see se_position")
    se_position: str = knob("", ChoiceCodec(("semid", "seout")), "semid", doc="SE after the 3x3 (RegNetY) or after the last 1x1 (SENet)")
    downsample: str = knob("", DOWNSAMPLE, "conv1x1", doc=DOWNSAMPLE_DOC)
    spatial: SpatialConvSpec | None = spatial_knob("the strided, grouped one")

    def mid_channels(self) -> int:
        return bottleneck_width(self.out_channels, self.bottleneck_ratio)


def _build_bottleneck(spec: BottleneckSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    out, mid = spec.out_channels, spec.mid_channels()
    body = nn.Sequential()
    body.conv_a = ConvNormAct(in_channels, mid, 1, ctx, activation=spec.activation)
    body.conv_b = spatial_conv(spec.spatial, mid, mid, stride, spec.groups, spec.activation, ctx)
    if spec.se is not None and spec.se_position == "semid":
        body.se = spec.se.module(mid, in_channels, mid, out)
    body.conv_c = ConvNormAct(mid, out, 1, ctx)
    if spec.se is not None and spec.se_position == "seout":
        body.se = spec.se.module(out, in_channels, mid, out)
    shortcut = projection_if_needed(in_channels, out, stride, spec.downsample, ctx)
    return Residual(body, shortcut, spec.activation, ctx.drop_path)


def _cost_bottleneck(spec: BottleneckSpec, tally: Tally, stride: int) -> None:
    out, mid, in_channels = spec.out_channels, spec.mid_channels(), tally.channels
    shortcut = cost_projection(tally, out, stride, spec.downsample)
    body = tally.fork().conv(mid, 1)
    cost_spatial_conv(spec.spatial, body, mid, stride, spec.groups)
    if spec.se is not None and spec.se_position == "semid":
        spec.se.cost(body, in_channels, mid, out)
    body.conv(out, 1)
    if spec.se is not None and spec.se_position == "seout":
        spec.se.cost(body, in_channels, mid, out)
    tally.become(body).add(shortcut)


def nearest_multiple(value: float, unit: int) -> int:
    """The multiple of ``unit`` nearest to ``value`` (halves round up), at least ``unit``."""
    return max(unit, unit * int(value / unit + 0.5))


def grouped_bottleneck(width: int, ratio: float, group_width: int | None) -> tuple[float, int]:
    """(bottleneck ratio, groups) of a bottleneck of this width whose 3x3 has this group width.

    A search space repairs what a bottleneck does not allow: the 3x3's width
    ``width * ratio`` is rounded to the nearest multiple of the group width (at
    least one group), and a group width above the bottleneck width shrinks to
    it (one group), as RegNet does.  The block then records the ratio it
    really has (``mid / width``) when rounding moved it.
    """
    target = max(1, round(width * ratio))
    if group_width is None:
        return ratio, 1
    group_width = min(group_width, target)
    mid = nearest_multiple(target, group_width)
    return (ratio if mid == target else mid / width), mid // group_width


def _search_basic(width: int, values: Mapping[str, Any]) -> BasicSpec:
    return BasicSpec(out_channels=width, activation=values["activation"], se=se_from_knobs(values), spatial=spatial_from_knobs(values))


def _search_bottleneck(width: int, values: Mapping[str, Any]) -> BottleneckSpec:
    ratio, groups = grouped_bottleneck(width, values["bottleneck_ratio"], values.get("group_width"))
    se = se_from_knobs(values)
    position = "seout" if se is not None and values.get("se_style") == "output" else "semid"
    return BottleneckSpec(
        out_channels=width, bottleneck_ratio=ratio, groups=groups, activation=values["activation"], se=se, se_position=position,
        spatial=spatial_from_knobs(values),
    )


BASIC = BlockKind(
    BasicSpec, _build_basic, _cost_basic, residual=True, search=SearchRecipe((*ATTENTION_KNOBS, SPATIAL_CONV), _search_basic),
    latency_ops=SPATIAL_LATENCY_OPS,
)
BOTTLENECK = BlockKind(
    BottleneckSpec, _build_bottleneck, _cost_bottleneck, residual=True,
    search=SearchRecipe((*ATTENTION_KNOBS, BOTTLENECK_RATIO, GROUP_WIDTH, SPATIAL_CONV), _search_bottleneck),
    latency_ops=SPATIAL_LATENCY_OPS,
)
