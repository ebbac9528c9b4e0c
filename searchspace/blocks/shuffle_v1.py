"""ShuffleNet's (v1) unit: grouped 1x1 convs with a channel shuffle between them (Zhang et al., 2018, Fig. 2).

The residual branch is a grouped 1x1 conv-BN-ReLU down to the bottleneck
width, a channel shuffle (so the next grouped conv sees every group), a
depthwise 3x3 conv-BN carrying the stride, and a grouped 1x1 conv-BN back up.
At stride 1 the branch is added to the input; at stride 2 the shortcut is a
3x3 average pool (stride 2) and the branch, which then gives only the new
channels (output minus input), is concatenated to it.  ReLU follows the sum or
the concatenation.  The bottleneck is a quarter of the unit's output (Sec. 3.3),
rounded to a multiple of the groups so that both grouped convs can split it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from searchspace.activations import ACTIVATION, make_activation
from searchspace.blocks.inverted import check_odd_kernel
from searchspace.blocks.shuffle import channel_shuffle, downsampling_stage_rule
from searchspace.fields import BoolCodec, FloatCodec, IntCodec, SpecBase, SpecError, knob
from searchspace.layers import BuildContext, ConvNormAct, Residual
from searchspace.registry import BlockKind
from searchspace.stage_knobs import KERNEL, SearchRecipe, StageKnob
from searchspace.tally import Tally
from searchspace.widths import make_divisible


@dataclass(frozen=True, kw_only=True)
class ShuffleV1Spec(SpecBase):
    kind = "shufflev1"

    out_channels: int = knob("c", IntCodec(1), doc="output channels (a multiple of groups)", role="channels")
    groups: int = knob("g", IntCodec(1), 1, doc="groups of the two 1x1 convs (the paper's g)")
    bottleneck_ratio: float = knob("b", FloatCodec(0.0, 64.0, open_min=True), 0.25,
                                   doc="bottleneck width as a fraction of the output, rounded to a multiple of groups")
    group_first: bool = knob("", BoolCodec("groupin", "densein"), True,
                             doc="group the first 1x1 (the paper leaves it dense where the input is narrow: stage 2's first unit)")
    kernel: int = knob("k", IntCodec(1), 3, doc="depthwise kernel (odd)")
    activation: str = knob("", ACTIVATION, "relu", doc="activation after the first 1x1 and after the merge")

    def check(self) -> None:
        if self.out_channels % self.groups:
            raise self.fail("out_channels", self.out_channels, f"must be a multiple of groups ({self.groups})")
        check_odd_kernel(self, "kernel", self.kernel)

    def mid_channels(self) -> int:
        return make_divisible(self.out_channels * self.bottleneck_ratio, self.groups)

    def first_groups(self) -> int:
        return self.groups if self.group_first else 1


class ShuffleV1Branch(nn.Module):
    """Grouped 1x1 down, shuffle, depthwise kxk (strided), grouped 1x1 up."""

    def __init__(self, spec: ShuffleV1Spec, in_channels: int, out_channels: int, stride: int, ctx: BuildContext) -> None:
        super().__init__()
        mid = spec.mid_channels()
        self.reduce = ConvNormAct(in_channels, mid, 1, ctx, groups=spec.first_groups(), activation=spec.activation)
        # A shuffle after a dense 1x1 only relabels channels: it is kept where it mixes groups.
        self.shuffle_groups = spec.groups if spec.first_groups() > 1 else 1
        self.depthwise = ConvNormAct(mid, mid, spec.kernel, ctx, stride=stride, groups=mid)
        self.expand = ConvNormAct(mid, out_channels, 1, ctx, groups=spec.groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.reduce(x)
        if self.shuffle_groups > 1:
            x = channel_shuffle(x, self.shuffle_groups)
        return self.expand(self.depthwise(x))


class PoolConcat(nn.Module):
    """The strided unit: ``act(cat(avgpool3x3(x), branch(x)))``."""

    def __init__(self, branch: nn.Module, stride: int, activation: str) -> None:
        super().__init__()
        self.shortcut = nn.AvgPool2d(3, stride, 1)
        self.branch = branch
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(torch.cat((self.shortcut(x), self.branch(x)), dim=1))


def _new_channels(spec: ShuffleV1Spec, in_channels: int, stride: int) -> int:
    """Channels the branch computes: all of them at stride 1, those the pooled input lacks at stride 2."""
    if stride == 1:
        if in_channels != spec.out_channels:
            raise SpecError(
                f"shufflev1.out_channels = {spec.out_channels} is not allowed at stride 1 with {in_channels} input "
                "channels: a stride-1 unit adds its input back (make it the first block of a stride-2 stage)"
            )
        return spec.out_channels
    new = spec.out_channels - in_channels
    if new < 1 or new % spec.groups:
        raise SpecError(
            f"shufflev1.out_channels = {spec.out_channels} is not allowed with {in_channels} input channels at stride "
            f"{stride}: the branch gives output - input = {new} channels, which must be a positive multiple of groups ({spec.groups})"
        )
    return new


def _build_shuffle_v1(spec: ShuffleV1Spec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    branch = ShuffleV1Branch(spec, in_channels, _new_channels(spec, in_channels, stride), stride, ctx)
    if stride == 1:
        return Residual(branch, None, spec.activation, ctx.drop_path)
    return PoolConcat(branch, stride, spec.activation)


def _cost_shuffle_v1(spec: ShuffleV1Spec, tally: Tally, stride: int) -> None:
    new, mid = _new_channels(spec, tally.channels, stride), spec.mid_channels()
    branch = tally.fork().conv(mid, 1, groups=spec.first_groups()).conv(mid, spec.kernel, stride, groups=mid)
    branch.conv(new, 1, groups=spec.groups)
    if stride == 1:
        tally.become(branch).add_identity()
    else:
        tally.concat([tally.fork().pool(3, stride, 1), branch])


GROUPS = StageKnob("groups", "int", "must be a positive integer", lambda v: v >= 1, default=1)


def _search_shuffle_v1(width: int, values: Mapping[str, Any]) -> ShuffleV1Spec:
    # A search space repairs groups that do not divide the width: the largest common divisor of the two.
    groups = math.gcd(width, values["groups"])
    return ShuffleV1Spec(out_channels=width, groups=groups, kernel=values["kernel"], activation=values["activation"])


SHUFFLE_V1 = BlockKind(
    ShuffleV1Spec, _build_shuffle_v1, _cost_shuffle_v1, residual=True,
    search=SearchRecipe((KERNEL, GROUPS), _search_shuffle_v1, check_stage=downsampling_stage_rule("shufflev1", "ShuffleNet")),
)
