"""ResNet-family residual blocks: basic (two 3x3) and bottleneck (1x1-3x3-1x1).

The bottleneck covers ResNet, ResNeXt (``groups``), Wide ResNet and RegNet
(``bottleneck_ratio``: the 3x3's width as a fraction of the block output),
SENet and RegNetY (``se``, after the 3x3 or after the last 1x1), and ResNet-D
(``downsample = avgpool``: average pooling before the projection).  The stride
sits on the 3x3, as in torchvision's ResNet v1.5.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from searchspace.activations import ACTIVATION
from searchspace.blocks.se import SE_FIELD_DOC, SESpec
from searchspace.fields import (
    ChoiceCodec,
    FloatCodec,
    IntCodec,
    NestedCodec,
    OptionalCodec,
    SpecBase,
    knob,
)
from searchspace.layers import BuildContext, ConvNormAct, Residual, SqueezeExcite
from searchspace.registry import BlockKind
from searchspace.tally import Tally

DOWNSAMPLE = ChoiceCodec(("conv1x1", "avgpool"))
DOWNSAMPLE_DOC = "projection shortcut when the shape changes: strided 1x1 conv, or 2x2 average pool then 1x1 conv (ResNet-D)"


class Projection(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int, stride: int, style: str, ctx: BuildContext) -> None:
        super().__init__()
        if style == "avgpool" and stride > 1:
            self.pool = nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False)
            stride = 1
        self.conv = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
        self.norm = ctx.norm2d(out_channels)


def projection_if_needed(in_channels: int, out_channels: int, stride: int, style: str, ctx: BuildContext) -> nn.Module | None:
    if stride == 1 and in_channels == out_channels:
        return None
    return Projection(in_channels, out_channels, stride, style, ctx)


def cost_projection(tally: Tally, out_channels: int, stride: int, style: str) -> Tally:
    """The shortcut branch's tally (identity when the shape is kept)."""
    shortcut = tally.fork()
    if stride == 1 and tally.channels == out_channels:
        return shortcut
    if style == "avgpool" and stride > 1:
        shortcut.pool(2, stride, 0, ceil_mode=True)
        stride = 1
    return shortcut.conv(out_channels, 1, stride)


def _se_module(se: SESpec, channels: int, in_channels: int, mid_channels: int, out_channels: int) -> SqueezeExcite:
    return SqueezeExcite(channels, se.squeeze_channels(in_channels, mid_channels, out_channels), se.activation, se.gate)


@dataclass(frozen=True, kw_only=True)
class BasicSpec(SpecBase):
    kind = "basic"

    out_channels: int = knob("c", IntCodec(1), doc="output channels", role="channels")
    activation: str = knob("", ACTIVATION, "relu", doc="activation inside the block and after the sum")
    se: SESpec | None = knob("se", OptionalCodec(NestedCodec(SESpec)), None, doc=SE_FIELD_DOC + " (applied after the second 3x3)")
    downsample: str = knob("", DOWNSAMPLE, "conv1x1", doc=DOWNSAMPLE_DOC)


def _build_basic(spec: BasicSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    out = spec.out_channels
    body = nn.Sequential()
    body.conv_a = ConvNormAct(in_channels, out, 3, ctx, stride=stride, activation=spec.activation)
    body.conv_b = ConvNormAct(out, out, 3, ctx)
    if spec.se is not None:
        body.se = _se_module(spec.se, out, in_channels, out, out)
    shortcut = projection_if_needed(in_channels, out, stride, spec.downsample, ctx)
    return Residual(body, shortcut, spec.activation, ctx.drop_path)


def _cost_basic(spec: BasicSpec, tally: Tally, stride: int) -> None:
    out = spec.out_channels
    shortcut = cost_projection(tally, out, stride, spec.downsample)
    body = tally.fork().conv(out, 3, stride).conv(out, 3)
    if spec.se is not None:
        body.squeeze_excite(spec.se.squeeze_channels(tally.channels, out, out))
    tally.become(body).add(shortcut)


@dataclass(frozen=True, kw_only=True)
class BottleneckSpec(SpecBase):
    kind = "bottleneck"

    out_channels: int = knob("c", IntCodec(1), doc="output channels", role="channels")
    bottleneck_ratio: float = knob("b", FloatCodec(0.0, 64.0, open_min=True), 0.25, doc="width of the 3x3 as a fraction of the output (rounded to the nearest integer)")
    groups: int = knob("g", IntCodec(1), 1, doc="groups of the 3x3 (ResNeXt cardinality; RegNet: bottleneck width / group width)")
    activation: str = knob("", ACTIVATION, "relu", doc="activation inside the block and after the sum")
    se: SESpec | None = knob("se", OptionalCodec(NestedCodec(SESpec)), None, doc=SE_FIELD_DOC)
    se_position: str = knob("", ChoiceCodec(("semid", "seout")), "semid", doc="SE after the 3x3 (RegNetY) or after the last 1x1 (SENet)")
    downsample: str = knob("", DOWNSAMPLE, "conv1x1", doc=DOWNSAMPLE_DOC)

    def mid_channels(self) -> int:
        return max(1, round(self.out_channels * self.bottleneck_ratio))


def _build_bottleneck(spec: BottleneckSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    out, mid = spec.out_channels, spec.mid_channels()
    body = nn.Sequential()
    body.conv_a = ConvNormAct(in_channels, mid, 1, ctx, activation=spec.activation)
    body.conv_b = ConvNormAct(mid, mid, 3, ctx, stride=stride, groups=spec.groups, activation=spec.activation)
    if spec.se is not None and spec.se_position == "semid":
        body.se = _se_module(spec.se, mid, in_channels, mid, out)
    body.conv_c = ConvNormAct(mid, out, 1, ctx)
    if spec.se is not None and spec.se_position == "seout":
        body.se = _se_module(spec.se, out, in_channels, mid, out)
    shortcut = projection_if_needed(in_channels, out, stride, spec.downsample, ctx)
    return Residual(body, shortcut, spec.activation, ctx.drop_path)


def _cost_bottleneck(spec: BottleneckSpec, tally: Tally, stride: int) -> None:
    out, mid, in_channels = spec.out_channels, spec.mid_channels(), tally.channels
    shortcut = cost_projection(tally, out, stride, spec.downsample)
    body = tally.fork().conv(mid, 1).conv(mid, 3, stride, groups=spec.groups)
    if spec.se is not None and spec.se_position == "semid":
        body.squeeze_excite(spec.se.squeeze_channels(in_channels, mid, out))
    body.conv(out, 1)
    if spec.se is not None and spec.se_position == "seout":
        body.squeeze_excite(spec.se.squeeze_channels(in_channels, mid, out))
    tally.become(body).add(shortcut)


BASIC = BlockKind(BasicSpec, _build_basic, _cost_basic, residual=True)
BOTTLENECK = BlockKind(BottleneckSpec, _build_bottleneck, _cost_bottleneck, residual=True)
