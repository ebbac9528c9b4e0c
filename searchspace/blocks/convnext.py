"""ConvNeXt's block (Liu et al., 2022), as torchvision's ``CNBlock``.

A 7x7 depthwise conv (with bias), then, in the channels-last layout, a layer
norm, a linear expansion (4x), GELU and a linear projection; the result is
scaled per channel by a learned layer scale and added to the input.  It is
UIB's "ConvNeXt" variant (start depthwise conv, no middle one) with a layer
norm instead of batch norms and a single activation; a kind of its own keeps
the UIB's batch-norm layout, and its digests, as they are.

A block whose stride is 2 or whose width differs from its input starts with
ConvNeXt's downsampling layer (a channels-first layer norm, then a conv of
kernel and stride equal to the block's stride, with bias), so a searched
ConvNeXt stage changes resolution and width the way the paper's stages do.
Stochastic depth applies to the residual branch while training; in eval mode
it is the identity, as in torchvision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from searchspace.activations import ACTIVATION, make_activation
from searchspace.blocks.inverted import check_odd_kernel
from searchspace.fields import FloatCodec, IntCodec, SpecBase, knob
from searchspace.layers import BuildContext, LayerNorm2d, Residual
from searchspace.registry import BlockKind
from searchspace.stage_knobs import EXPANSION, KERNEL, SearchRecipe, expansion_of
from searchspace.tally import Tally

EPS = FloatCodec(0.0, 1.0, open_min=True)


@dataclass(frozen=True, kw_only=True)
class ConvNeXtSpec(SpecBase):
    kind = "convnext"

    out_channels: int = knob("c", IntCodec(1), doc="output channels", role="channels")
    kernel: int = knob("k", IntCodec(1), 7, doc="kernel of the depthwise conv")
    expand_ratio: float = knob("e", FloatCodec(0.0, 64.0, open_min=True), 4.0, doc="hidden width of the MLP / block width")
    activation: str = knob("", ACTIVATION, "gelu", doc="activation between the two linear layers")
    layer_scale_init: float = knob("ls", FloatCodec(0.0), 1e-6, doc="initial value of the per-channel layer scale")
    norm_eps: float = knob("eps", EPS, 1e-6, doc="epsilon of the layer norms")

    def check(self) -> None:
        check_odd_kernel(self, "kernel", self.kernel)

    def hidden_channels(self) -> int:
        return max(1, round(self.out_channels * self.expand_ratio))


def needs_downsampling(in_channels: int, out_channels: int, stride: int) -> bool:
    return stride > 1 or in_channels != out_channels


class ConvNeXtDownsample(nn.Sequential):
    """Layer norm, then a conv whose kernel equals its stride (patches that do not overlap)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, eps: float) -> None:
        super().__init__()
        self.norm = LayerNorm2d(in_channels, eps=eps)
        self.conv = nn.Conv2d(in_channels, out_channels, stride, stride=stride)


class ConvNeXtBranch(nn.Module):
    """``layer_scale * mlp(norm(dwconv(x)))``, the MLP in the channels-last layout (the residual branch)."""

    def __init__(self, spec: ConvNeXtSpec) -> None:
        super().__init__()
        channels, hidden = spec.out_channels, spec.hidden_channels()
        # Registered first, like torchvision's: a module's own parameters precede its children's in a state dict.
        self.layer_scale = nn.Parameter(torch.full((channels, 1, 1), spec.layer_scale_init))
        self.dwconv = nn.Conv2d(channels, channels, spec.kernel, padding=spec.kernel // 2, groups=channels)
        self.norm = nn.LayerNorm(channels, eps=spec.norm_eps)
        self.expand = nn.Linear(channels, hidden)
        self.act = make_activation(spec.activation)
        self.project = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(self.dwconv(x).permute(0, 2, 3, 1))
        y = self.project(self.act(self.expand(y))).permute(0, 3, 1, 2)
        return self.layer_scale * y


def _build_convnext(spec: ConvNeXtSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    block = Residual(ConvNeXtBranch(spec), None, "identity", ctx.drop_path)
    if not needs_downsampling(in_channels, spec.out_channels, stride):
        return block
    stage_entry = nn.Sequential()
    stage_entry.downsample = ConvNeXtDownsample(in_channels, spec.out_channels, stride, spec.norm_eps)
    stage_entry.block = block
    return stage_entry


def _cost_convnext(spec: ConvNeXtSpec, tally: Tally, stride: int) -> None:
    channels = spec.out_channels
    if needs_downsampling(tally.channels, channels, stride):
        tally.norm().conv(channels, stride, stride, padding=0, bias=True, norm=False)
    tally.conv(channels, spec.kernel, groups=channels, bias=True, norm=False)
    tally.norm()
    _cost_positionwise_linear(tally, spec.hidden_channels())
    _cost_positionwise_linear(tally, channels)
    tally.layer("layer_scale", params=channels)
    tally.add_identity()


def _cost_positionwise_linear(tally: Tally, out_features: int) -> None:
    """A linear layer applied at every position of the map (what a 1x1 convolution with bias counts)."""
    area, weights = tally.height * tally.width, tally.channels * out_features
    tally.layer("linear", out_channels=out_features, params=weights + out_features, macs=weights * area, acts=out_features * area)


def _search_convnext(width: int, values: Mapping[str, Any]) -> ConvNeXtSpec:
    return ConvNeXtSpec(out_channels=width, kernel=values["kernel"], activation=values["activation"], **expansion_of(values))


CONVNEXT = BlockKind(
    ConvNeXtSpec, _build_convnext, _cost_convnext, residual=True,
    search=SearchRecipe((KERNEL, EXPANSION), _search_convnext),
    latency_ops={"layer_scale": "elementwise"},
)
