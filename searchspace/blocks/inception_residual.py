"""Residual Inception modules (Inception-ResNet, Szegedy et al., 2016).

The branches of an Inception module (blocks/inception.py, same notation),
concatenated, then a 1x1 conv with bias and no norm back to the input width,
scaled by a constant and added to the input, then an activation::

    act(x + scale * conv_1x1(concat(branches(x))))

The paper scales the residual by 0.1 to 0.3 so that very wide nets train
stably; Inception-ResNet-v2's last module has no activation after the sum.
Every branch must keep the map size: the block has no stride.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from searchspace.activations import ACTIVATION
from searchspace.blocks.inception import BRANCHES, InceptionBranch, InceptionModule, InceptionSpec, concat_width, cost_branches
from searchspace.fields import FloatCodec, SpecBase, knob
from searchspace.layers import BuildContext, Residual
from searchspace.registry import BlockKind
from searchspace.tally import Tally


@dataclass(frozen=True, kw_only=True)
class InceptionResidualSpec(SpecBase):
    kind = "inceptionres"

    branches: tuple[InceptionBranch, ...] = knob("b", BRANCHES, doc="parallel branches, concatenated in order")
    scale: float = knob("sc", FloatCodec(0.0), 1.0, doc="factor on the residual branch before the sum")
    activation: str = knob("", ACTIVATION, "relu", doc="activation after the sum")


class ScaleBy(nn.Module):
    """Multiplies by a constant (not a learned parameter)."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor}"


def _build_inception_residual(spec: InceptionResidualSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    body = nn.Sequential()
    body.mix = InceptionModule(InceptionSpec(branches=spec.branches), in_channels, 1, ctx)
    body.project = nn.Conv2d(concat_width(spec.branches, in_channels), in_channels, 1)
    body.scale = ScaleBy(spec.scale)
    return Residual(body, None, spec.activation, ctx.drop_path)


def _cost_inception_residual(spec: InceptionResidualSpec, tally: Tally, stride: int) -> None:
    in_channels, identity = tally.channels, tally.fork()
    body = tally.fork()
    cost_branches(spec.branches, body, 1)
    body.conv(in_channels, 1, bias=True, norm=False)
    body.layer("residual_scale")
    tally.become(body).add(identity)


INCEPTION_RESIDUAL = BlockKind(
    InceptionResidualSpec, _build_inception_residual, _cost_inception_residual, strides=(1,), residual=True,
    latency_ops={"residual_scale": "elementwise"},
)
