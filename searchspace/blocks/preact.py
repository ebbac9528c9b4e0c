"""The pre-activation bottleneck of ResNet v2 ("Identity Mappings in Deep Residual Networks", He et al., 2016).

Norm and activation come before each convolution instead of after it::

    pre = act(norm(x))
    out = conv_c(act(norm(conv_b(act(norm(conv_a(pre))))))) + shortcut

The shortcut is the identity while the shape is kept, else a 1x1 conv (after a
2x2 average pool with ``downsample = avgpool``, the "d" variant) applied to
``pre``, with no norm of its own.  The sum has no activation after it: the next
block's pre-activation, or the net's final norm-act, supplies it.  The stride
sits on the 3x3, as in timm's ``PreActBottleneck``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from searchspace.activations import ACTIVATION
from searchspace.blocks.attention import AttentionSpec, attention_knob
from searchspace.blocks.plain import NormAct
from searchspace.blocks.residual import (
    DOWNSAMPLE,
    DOWNSAMPLE_DOC,
    bottleneck_ratio_knob,
    bottleneck_width,
    cost_projection,
    grouped_bottleneck,
    projection_if_needed,
)
from searchspace.fields import IntCodec, SpecBase, knob
from searchspace.layers import BuildContext, ConvNormAct, Residual, optional_drop_path
from searchspace.registry import BlockKind
from searchspace.stage_knobs import ATTENTION_KNOBS, BOTTLENECK_RATIO, GROUP_WIDTH, SearchRecipe, se_from_knobs
from searchspace.tally import Tally


@dataclass(frozen=True, kw_only=True)
class PreActBottleneckSpec(SpecBase):
    kind = "preact"

    out_channels: int = knob("c", IntCodec(1), doc="output channels", role="channels")
    bottleneck_ratio: float = bottleneck_ratio_knob()
    groups: int = knob("g", IntCodec(1), 1, doc="groups of the 3x3")
    activation: str = knob("", ACTIVATION, "relu", doc="activation after each norm")
    se: AttentionSpec | None = attention_knob("after the 3x3")
    downsample: str = knob("", DOWNSAMPLE, "conv1x1", doc=DOWNSAMPLE_DOC)

    def mid_channels(self) -> int:
        return bottleneck_width(self.out_channels, self.bottleneck_ratio)


def _plain_conv(in_channels: int, out_channels: int, kernel: int, ctx: BuildContext, **options: Any) -> ConvNormAct:
    return ConvNormAct(in_channels, out_channels, kernel, ctx, norm=False, **options)


class PreActBottleneck(Residual):
    """``drop_path(body(pre)) + shortcut``, with ``pre = preact(x)`` and the shortcut reading ``pre`` when it projects."""

    def __init__(self, spec: PreActBottleneckSpec, in_channels: int, stride: int, ctx: BuildContext) -> None:
        nn.Module.__init__(self)  # not Residual's: its children come in another order here
        out, mid = spec.out_channels, spec.mid_channels()
        # timm registers the projection first; registering it first keeps the state dicts in the same order.
        self.shortcut = projection_if_needed(in_channels, out, stride, spec.downsample, ctx, norm=False)
        self.preact = NormAct(in_channels, spec.activation, ctx)
        self.body = nn.Sequential()
        self.body.conv_a = _plain_conv(in_channels, mid, 1, ctx)
        self.body.norm_b = NormAct(mid, spec.activation, ctx)
        self.body.conv_b = _plain_conv(mid, mid, 3, ctx, stride=stride, groups=spec.groups)
        if spec.se is not None:
            self.body.se = spec.se.module(mid, in_channels, mid, out)
        self.body.norm_c = NormAct(mid, spec.activation, ctx)
        self.body.conv_c = _plain_conv(mid, out, 1, ctx)
        self.drop_path = optional_drop_path(ctx.drop_path)

    def last_layer_to_zero(self) -> nn.Module:
        # The last norm feeds a ReLU: zeroed, it outputs 0 where ReLU's gradient is 0, and the branch
        # never learns (ResNet v2-50 stayed at 0.20 on digits).  The last conv, zeroed, still gets gradients.
        return self.body.conv_c.conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.preact(x)
        identity = x if self.shortcut is None else self.shortcut(pre)
        return self.drop_path(self.body(pre)) + identity


def _build_preact(spec: PreActBottleneckSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return PreActBottleneck(spec, in_channels, stride, ctx)


def _cost_preact(spec: PreActBottleneckSpec, tally: Tally, stride: int) -> None:
    out, mid, in_channels = spec.out_channels, spec.mid_channels(), tally.channels
    tally.norm()
    shortcut = cost_projection(tally, out, stride, spec.downsample, norm=False)
    body = tally.fork().conv(mid, 1, norm=False).norm().conv(mid, 3, stride, groups=spec.groups, norm=False)
    if spec.se is not None:
        spec.se.cost(body, in_channels, mid, out)
    body.norm().conv(out, 1, norm=False)
    tally.become(body).add(shortcut)


def _search_preact(width: int, values: Mapping[str, Any]) -> PreActBottleneckSpec:
    ratio, groups = grouped_bottleneck(width, values["bottleneck_ratio"], values.get("group_width"))
    return PreActBottleneckSpec(out_channels=width, bottleneck_ratio=ratio, groups=groups, activation=values["activation"], se=se_from_knobs(values))


PREACT = BlockKind(
    PreActBottleneckSpec, _build_preact, _cost_preact, residual=True,
    search=SearchRecipe((*ATTENTION_KNOBS, BOTTLENECK_RATIO, GROUP_WIDTH), _search_preact),
)
