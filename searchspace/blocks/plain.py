"""Plain layers as blocks: conv-norm-act, pooling, adaptive pooling, LRN, norm-act, layer norm.

Stacks of these express LeNet-5, AlexNet, VGG and the stems of most nets.
Convolutions and poolings accept any stride (AlexNet's first convolution has
stride 4); the residual kinds allow only 1 and 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from searchspace.activations import ACTIVATION, make_activation
from searchspace.fields import (
    BoolCodec,
    ChoiceCodec,
    FloatCodec,
    IntCodec,
    OptionalCodec,
    SizeCodec,
    SpecBase,
    knob,
)
from searchspace.layers import BuildContext, ConvNormAct, LayerNorm2d
from searchspace.registry import BlockKind
from searchspace.stage_knobs import KERNEL, SearchRecipe
from searchspace.tally import Tally, as_pair


@dataclass(frozen=True, kw_only=True)
class ConvSpec(SpecBase):
    kind = "conv"

    out_channels: int = knob("c", IntCodec(1), doc="output channels", role="channels")
    kernel: int | tuple[int, int] = knob("k", SizeCodec(1), 3, doc="kernel size, square (3) or (height, width) as 1x7")
    groups: int = knob("g", IntCodec(1), 1, doc="number of groups (equal to the channels for depthwise)")
    dilation: int = knob("d", IntCodec(1), 1, doc="dilation")
    padding: int | tuple[int, int] | None = knob("p", OptionalCodec(SizeCodec(0)), None, doc="explicit padding; absent: keep the size at stride 1")
    activation: str = knob("", ACTIVATION, "relu", doc="activation after the norm")
    norm: bool = knob("", BoolCodec("norm", "nonorm"), True, doc="batch norm after the convolution")
    bias: bool = knob("", BoolCodec("bias", "nobias"), False, doc="convolution bias")

    def check(self) -> None:
        if self.padding is None and any(k % 2 == 0 for k in as_pair(self.kernel)):
            raise self.fail("kernel", self.kernel, "an even kernel cannot keep the size with the default padding; give the padding explicitly (p)")


def _build_conv(spec: ConvSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return ConvNormAct(
        in_channels, spec.out_channels, spec.kernel, ctx, stride=stride, groups=spec.groups,
        padding=spec.padding, dilation=spec.dilation, bias=spec.bias, norm=spec.norm, activation=spec.activation,
    )


def _cost_conv(spec: ConvSpec, tally: Tally, stride: int) -> None:
    tally.conv(
        spec.out_channels, spec.kernel, stride, groups=spec.groups, padding=spec.padding,
        dilation=spec.dilation, bias=spec.bias, norm=spec.norm,
    )


@dataclass(frozen=True, kw_only=True)
class PoolSpec(SpecBase):
    kind = "pool"

    op: str = knob("", ChoiceCodec(("max", "avg")), "max", doc="max or average pooling")
    kernel: int = knob("k", IntCodec(1), 3, doc="window size")
    padding: int = knob("p", IntCodec(0), 0, doc="padding (at most half the window)")
    ceil_mode: bool = knob("", BoolCodec("ceil", "floor"), False, doc="round the output size up, as Caffe-era nets do")
    count_include_pad: bool = knob("", BoolCodec("inclpad", "exclpad"), True, doc="average pooling: count padded zeros in the mean")

    def check(self) -> None:
        if self.padding * 2 > self.kernel:
            raise self.fail("padding", self.padding, f"at most half the kernel ({self.kernel})")
        if self.op == "max" and not self.count_include_pad:
            raise self.fail("count_include_pad", False, "applies to average pooling only")

    def module(self, stride: int) -> nn.Module:
        if self.op == "max":
            return nn.MaxPool2d(self.kernel, stride, self.padding, ceil_mode=self.ceil_mode)
        return nn.AvgPool2d(self.kernel, stride, self.padding, ceil_mode=self.ceil_mode, count_include_pad=self.count_include_pad)


def _build_pool(spec: PoolSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return spec.module(stride)


def _cost_pool(spec: PoolSpec, tally: Tally, stride: int) -> None:
    tally.pool(spec.kernel, stride, spec.padding, spec.ceil_mode)


@dataclass(frozen=True, kw_only=True)
class AdaptivePoolSpec(SpecBase):
    kind = "apool"

    op: str = knob("", ChoiceCodec(("max", "avg")), "avg", doc="max or average pooling")
    size: int = knob("o", IntCodec(1), 1, doc="output height and width")


def _build_adaptive_pool(spec: AdaptivePoolSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return nn.AdaptiveMaxPool2d(spec.size) if spec.op == "max" else nn.AdaptiveAvgPool2d(spec.size)


def _cost_adaptive_pool(spec: AdaptivePoolSpec, tally: Tally, stride: int) -> None:
    tally.adaptive_pool(spec.size)


@dataclass(frozen=True, kw_only=True)
class LRNSpec(SpecBase):
    """Local response normalisation across channels (AlexNet and GoogLeNet papers)."""

    kind = "lrn"

    size: int = knob("n", IntCodec(1), 5, doc="number of neighbouring channels")
    alpha: float = knob("a", FloatCodec(0.0), 1e-4, doc="scale")
    beta: float = knob("b", FloatCodec(0.0), 0.75, doc="exponent")
    k: float = knob("k", FloatCodec(0.0), 1.0, doc="additive constant (the AlexNet paper uses 2)")


def _build_lrn(spec: LRNSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return nn.LocalResponseNorm(spec.size, spec.alpha, spec.beta, spec.k)


def _cost_identity(spec: SpecBase, tally: Tally, stride: int) -> None:
    """Layers without parameters or MACs that keep the shape."""


@dataclass(frozen=True, kw_only=True)
class NormActSpec(SpecBase):
    """A batch norm and an activation, for pre-activation nets (DenseNet's final norm)."""

    kind = "normact"

    activation: str = knob("", ACTIVATION, "relu", doc="activation after the norm")


class NormAct(nn.Sequential):
    def __init__(self, channels: int, activation: str, ctx: BuildContext) -> None:
        super().__init__()
        self.norm = ctx.norm2d(channels)
        if activation != "identity":
            self.act = make_activation(activation)


def _build_norm_act(spec: NormActSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return NormAct(in_channels, spec.activation, ctx)


def _cost_norm(spec: SpecBase, tally: Tally, stride: int) -> None:
    tally.norm()


@dataclass(frozen=True, kw_only=True)
class LayerNormSpec(SpecBase):
    """A layer norm over the channels at each position (ConvNeXt's stem, downsampling and head)."""

    kind = "layernorm"

    eps: float = knob("eps", FloatCodec(0.0, 1.0, open_min=True), 1e-6, doc="epsilon (ConvNeXt: 1e-6)")


def _build_layer_norm(spec: LayerNormSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return LayerNorm2d(in_channels, eps=spec.eps)


def _search_conv(width: int, values: Mapping[str, Any]) -> ConvSpec:
    return ConvSpec(out_channels=width, kernel=values["kernel"], activation=values["activation"])


CONV = BlockKind(ConvSpec, _build_conv, _cost_conv, strides=None, search=SearchRecipe((KERNEL,), _search_conv))
POOL = BlockKind(PoolSpec, _build_pool, _cost_pool, strides=None, depth_scalable=False)
ADAPTIVE_POOL = BlockKind(AdaptivePoolSpec, _build_adaptive_pool, _cost_adaptive_pool, strides=(1,), depth_scalable=False)
LRN = BlockKind(LRNSpec, _build_lrn, _cost_identity, strides=(1,), depth_scalable=False)
NORM_ACT = BlockKind(NormActSpec, _build_norm_act, _cost_norm, strides=(1,), depth_scalable=False)
# A layer norm has a scale and a shift per channel, like a batch norm: the tally's norm() counts both.
LAYER_NORM = BlockKind(LayerNormSpec, _build_layer_norm, _cost_norm, strides=(1,), depth_scalable=False)
