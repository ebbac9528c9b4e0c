"""ShuffleNetV2's unit: split (or duplicate, when downsampling), convolve one half, concatenate, shuffle.

At stride 1 the input is split in two; one half passes unchanged, the other
goes through 1x1, depthwise kxk, 1x1.  At stride 2 both halves see the whole
input: one through a strided depthwise kxk and a 1x1, the other as above.  The
channel shuffle with two groups then mixes the halves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from searchspace.activations import ACTIVATION
from searchspace.blocks.inverted import check_odd_kernel
from searchspace.fields import IntCodec, SpecBase, SpecError, knob
from searchspace.layers import BuildContext, ConvNormAct
from searchspace.registry import BlockKind
from searchspace.stage_knobs import KERNEL, SearchRecipe, StageFacts
from searchspace.tally import Tally


@dataclass(frozen=True, kw_only=True)
class ShuffleSpec(SpecBase):
    kind = "shuffle"

    out_channels: int = knob("c", IntCodec(2), doc="output channels (even: two halves)", role="channels")
    kernel: int = knob("k", IntCodec(1), 3, doc="depthwise kernel (odd)")
    activation: str = knob("", ACTIVATION, "relu", doc="activation after the 1x1 convs")

    def check(self) -> None:
        if self.out_channels % 2:
            raise self.fail("out_channels", self.out_channels, "must be even (the unit concatenates two equal halves)")
        check_odd_kernel(self, "kernel", self.kernel)


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    batch, channels, height, width = x.shape
    x = x.view(batch, groups, channels // groups, height, width).transpose(1, 2)
    return x.reshape(batch, channels, height, width)


class ShuffleUnit(nn.Module):
    def __init__(self, spec: ShuffleSpec, in_channels: int, stride: int, ctx: BuildContext) -> None:
        super().__init__()
        half, act = spec.out_channels // 2, spec.activation
        self.stride = stride
        self.branch1 = nn.Sequential()
        if stride > 1:
            self.branch1.depthwise = ConvNormAct(in_channels, in_channels, spec.kernel, ctx, stride=stride, groups=in_channels)
            self.branch1.pointwise = ConvNormAct(in_channels, half, 1, ctx, activation=act)
        first_in = in_channels if stride > 1 else half
        self.branch2 = nn.Sequential()
        self.branch2.pointwise_in = ConvNormAct(first_in, half, 1, ctx, activation=act)
        self.branch2.depthwise = ConvNormAct(half, half, spec.kernel, ctx, stride=stride, groups=half)
        self.branch2.pointwise_out = ConvNormAct(half, half, 1, ctx, activation=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            kept, processed = x.chunk(2, dim=1)
            out = torch.cat((kept, self.branch2(processed)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


def _check_shape(spec: ShuffleSpec, in_channels: int, stride: int) -> None:
    if stride == 1 and in_channels != spec.out_channels:
        raise SpecError(
            f"shuffle.out_channels = {spec.out_channels} is not allowed at stride 1 with {in_channels} input channels: "
            "a stride-1 unit keeps the width (make it the first block of a stride-2 stage)"
        )


def _build_shuffle(spec: ShuffleSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    _check_shape(spec, in_channels, stride)
    return ShuffleUnit(spec, in_channels, stride, ctx)


def _cost_shuffle(spec: ShuffleSpec, tally: Tally, stride: int) -> None:
    _check_shape(spec, tally.channels, stride)
    half = spec.out_channels // 2
    if stride > 1:
        passed = tally.fork().conv(tally.channels, spec.kernel, stride, groups=tally.channels).conv(half, 1)
        processed = tally.fork()
    else:
        passed = tally.fork()
        passed.channels = half
        processed = tally.fork()
        processed.channels = half
    processed.conv(half, 1).conv(half, spec.kernel, stride, groups=half).conv(half, 1)
    tally.concat([passed, processed])


def _search_shuffle(width: int, values: Mapping[str, Any]) -> ShuffleSpec:
    return ShuffleSpec(out_channels=width, kernel=values["kernel"], activation=values["activation"])


def _even_width(width: int) -> int:
    """The unit concatenates two equal halves: a search space rounds its width up to an even one."""
    return width + width % 2


def downsampling_stage_rule(kind: str, family: str) -> Callable[[StageFacts], tuple[str, str] | None]:
    """The stage rule of a unit that changes width only at stride 2 (ShuffleNetV1's and V2's)."""

    def check(stage: StageFacts) -> tuple[str, str] | None:
        if stage.stride == 1:
            return "block", (
                f"{kind} is not allowed in a stride-1 stage: a {family} stage starts with a stride-2 unit, "
                "the only one that can change the width"
            )
        if stage.pool_takes_stride:
            return "block", (
                f"{kind} is not allowed here: when stem.pool is true the stem's max-pool takes this stage's stride, "
                f"and a stride-1 {kind} unit cannot change the width"
            )
        return None

    return check


SHUFFLE = BlockKind(
    ShuffleSpec, _build_shuffle, _cost_shuffle,
    search=SearchRecipe((KERNEL,), _search_shuffle, width=_even_width, check_stage=downsampling_stage_rule("shuffle", "ShuffleNetV2")),
)
