"""Xception's block (Chollet, 2017), in the aligned form of DeepLab and timm's ``XceptionModule``.

A stack of depthwise-separable convolutions (a 3x3 depthwise conv and a 1x1
pointwise conv, each followed by a batch norm), one per entry of ``widths``;
the block's stride sits on the last depthwise conv.  Xception is the link
between Inception (one 3x3 per channel after a 1x1, taken to the limit) and
MobileNet (the same separable convolution, without the residual).

Two activation placements: ``actfirst`` (the entry and middle flows) puts a
ReLU before each separable conv and none inside it; ``actafter`` (the last
block of the exit flow) puts one after each of its two norms.  With ``skip``
the stack's output is added to the input, through a 1x1 conv and norm when
the shape changes, and no activation follows the sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from searchspace.activations import ACTIVATION, make_activation
from searchspace.blocks.residual import cost_projection, projection_if_needed
from searchspace.fields import BoolCodec, IntCodec, NumberTupleCodec, SpecBase, knob
from searchspace.layers import BuildContext, ConvNormAct, Residual
from searchspace.registry import BlockKind
from searchspace.stage_knobs import SearchRecipe
from searchspace.tally import Tally

SEPARABLE_CONVS = 3  # per block in timm's aligned Xception (the paper's entry-flow blocks have 2)


@dataclass(frozen=True, kw_only=True)
class XceptionSpec(SpecBase):
    kind = "xception"

    widths: tuple[int, ...] = knob("c", NumberTupleCodec(IntCodec(1)), doc="output width of each separable conv, e.g. 728x1024x1024", role="channels")
    activation: str = knob("", ACTIVATION, "relu", doc="the activation, placed as act_first says")
    act_first: bool = knob("", BoolCodec("actfirst", "actafter"), True, doc="activation before each separable conv (else after each of its norms)")
    skip: bool = knob("", BoolCodec("skip", "noskip"), True, doc="residual connection (a 1x1 conv and norm when the shape changes)")

    def check(self) -> None:
        if not self.widths:
            raise self.fail("widths", self.widths, "give at least one separable conv")

    @property
    def out_channels(self) -> int:
        return self.widths[-1]


def _separable(in_channels: int, out_channels: int, stride: int, inner: str, ctx: BuildContext) -> nn.Sequential:
    separable = nn.Sequential()
    separable.dw = ConvNormAct(in_channels, in_channels, 3, ctx, stride=stride, groups=in_channels, activation=inner)
    separable.pw = ConvNormAct(in_channels, out_channels, 1, ctx, activation=inner)
    return separable


def _build_xception(spec: XceptionSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    inner = "identity" if spec.act_first else spec.activation
    body = nn.Sequential()
    channels = in_channels
    for i, width in enumerate(spec.widths):
        if spec.act_first:
            body.add_module(f"act{i}", make_activation(spec.activation))
        body.add_module(f"sep{i}", _separable(channels, width, stride if i == len(spec.widths) - 1 else 1, inner, ctx))
        channels = width
    if not spec.skip:
        return body
    shortcut = projection_if_needed(in_channels, spec.out_channels, stride, "conv1x1", ctx)
    return Residual(body, shortcut, "identity", ctx.drop_path, shortcut_first=True)


def _cost_xception(spec: XceptionSpec, tally: Tally, stride: int) -> None:
    shortcut = cost_projection(tally, spec.out_channels, stride, "conv1x1") if spec.skip else None
    body = tally.fork() if spec.skip else tally
    for i, width in enumerate(spec.widths):
        body.conv(body.channels, 3, stride if i == len(spec.widths) - 1 else 1, groups=body.channels).conv(width, 1)
    if shortcut is not None:
        tally.become(body).add(shortcut)


def _search_xception(width: int, values: Mapping[str, Any]) -> XceptionSpec:
    return XceptionSpec(widths=(width,) * SEPARABLE_CONVS, activation=values["activation"])


XCEPTION = BlockKind(XceptionSpec, _build_xception, _cost_xception, residual=True, search=SearchRecipe((), _search_xception))
