"""Swin Transformer's block and patch merging (Liu et al., 2021; V2: Liu et al., 2022), as torchvision builds them.

A Swin block is window attention (blocks/window_attention.py) and an MLP,
each a residual branch with stochastic depth.  V1 normalises each branch's
input (pre-norm); V2 normalises its output (post-norm).  A stage's odd blocks
(the second, fourth, ...) shift their windows by half a window, so that
information crosses window borders from one block to the next; ``noshift``
turns that off.

Blocks take and give NCHW maps, like every other kind, and work channels-last
inside (permutes cost nothing), so a Swin stage may follow convolutional ones.

Patch merging halves the map: each 2x2 neighbourhood is concatenated into
``4C`` channels (an odd side is padded with zeros first), then a layer norm
and a linear layer without bias make the output width (torchvision's ``2C``).
V2 normalises after the linear layer instead.  A Swin block whose stride is 2
or whose width differs from its input starts with patch merging (at stride 1,
a layer norm and a linear projection), as a ConvNeXt block starts with its
downsampling layer, so a Swin stage in a searched net can change width and
resolution the way the paper's stages do.  Patch merging is also a kind of
its own (``patchmerge``).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from searchspace.attention_cost import ATTENTION_OP, cost_token_linear
from searchspace.blocks.window_attention import WindowAttention, cost_window_attention
from searchspace.fields import BoolCodec, ChoiceCodec, FloatCodec, IntCodec, SpecBase, knob
from searchspace.layers import BuildContext, Residual
from searchspace.registry import BlockKind
from searchspace.stage_knobs import EXPANSION, HEADS, SearchRecipe, StageKnob, expansion_of
from searchspace.tally import Tally

VERSION = ChoiceCodec(("v1", "v2"))
EPS = FloatCodec(0.0, 1.0, open_min=True)


@dataclass(frozen=True, kw_only=True)
class PatchMergingSpec(SpecBase):
    kind = "patchmerge"

    out_channels: int = knob("c", IntCodec(1), doc="output channels (Swin: twice the input)", role="channels")
    version: str = knob("", VERSION, "v1", doc="v1: layer norm, then the linear layer; v2: the other way round")
    norm_eps: float = knob("eps", EPS, 1e-5, doc="epsilon of the layer norm")


@dataclass(frozen=True, kw_only=True)
class SwinSpec(SpecBase):
    kind = "swin"

    out_channels: int = knob("c", IntCodec(1), doc="output channels (the tokens' width)", role="channels")
    heads: int = knob("h", IntCodec(1), doc="attention heads (must divide the width; Swin: width / 32)")
    window: int = knob("w", IntCodec(2), 7, doc="window side in tokens (V1: 7, V2: 8); the map is padded to whole windows")
    shift: bool = knob("", BoolCodec("shift", "noshift"), True, doc="odd blocks of a stage shift their windows by half a window")
    expand_ratio: float = knob("e", FloatCodec(0.0, 64.0, open_min=True), 4.0, doc="hidden width of the MLP / block width")
    version: str = knob("", VERSION, "v1", doc="v1: pre-norm, scaled dot products, a bias table; v2: post-norm, "
                                                 "cosine attention, a position-bias MLP on log-spaced offsets")
    norm_eps: float = knob("eps", EPS, 1e-5, doc="epsilon of the layer norms")

    def check(self) -> None:
        if self.out_channels % self.heads:
            raise self.fail("heads", self.heads, f"must divide the width ({self.out_channels})")

    def hidden_channels(self) -> int:
        return int(self.out_channels * self.expand_ratio)  # torchvision truncates


def merge_neighbours(x: torch.Tensor, stride: int) -> torch.Tensor:
    """``(B, H, W, C)`` -> ``(B, ceil(H/s), ceil(W/s), s*s*C)``: each s x s neighbourhood, column offset outer (torchvision's order)."""
    height, width = x.shape[1], x.shape[2]
    # Non-negative operands only: traced for ONNX, integer division and remainder truncate instead of flooring.
    x = F.pad(x, (0, 0, 0, (stride - width % stride) % stride, 0, (stride - height % stride) % stride))
    parts = []
    for column in range(stride):
        for row in range(stride):
            parts.append(x[:, row::stride, column::stride, :])
    return torch.cat(parts, -1)


class PatchMerging(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int, version: str, eps: float) -> None:
        super().__init__()
        merged = stride * stride * in_channels
        # torchvision registers the linear layer first in both versions: the same order keeps the state dicts aligned.
        self.reduction = nn.Linear(merged, out_channels, bias=False)
        self.norm = nn.LayerNorm(out_channels if version == "v2" else merged, eps=eps)
        self.stride, self.norm_last = stride, version == "v2"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = merge_neighbours(x.permute(0, 2, 3, 1), self.stride)
        x = self.norm(self.reduction(x)) if self.norm_last else self.reduction(self.norm(x))
        return x.permute(0, 3, 1, 2)


def cost_patch_merging(tally: Tally, out_channels: int, stride: int, version: str) -> None:
    tally.height, tally.width = -(-tally.height // stride), -(-tally.width // stride)
    tally.channels *= stride * stride  # the neighbourhoods, concatenated
    if version == "v1":
        tally.norm()
    cost_token_linear(tally, tally.height * tally.width, out_channels, bias=False)
    tally.channels = out_channels
    if version == "v2":
        tally.norm()


class SwinBlock(nn.Module):
    """Window attention and an MLP on a channels-last map, each a residual branch (norm first in V1, last in V2)."""

    def __init__(self, spec: SwinSpec, shift: int, drop_path: float) -> None:
        super().__init__()
        channels, hidden, post_norm = spec.out_channels, spec.hidden_channels(), spec.version == "v2"
        attention = WindowAttention(channels, spec.heads, spec.window, shift, cosine=post_norm)
        mlp = nn.Sequential(nn.Linear(channels, hidden), nn.GELU(), nn.Linear(hidden, channels))
        self.attention = Residual(normed_branch("attn", attention, channels, spec.norm_eps, post_norm), None, "identity", drop_path)
        self.feedforward = Residual(normed_branch("mlp", mlp, channels, spec.norm_eps, post_norm), None, "identity", drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feedforward(self.attention(x.permute(0, 2, 3, 1))).permute(0, 3, 1, 2)


def normed_branch(name: str, layer: nn.Module, channels: int, eps: float, post_norm: bool) -> nn.Sequential:
    norm = nn.LayerNorm(channels, eps=eps)
    # The two orders name the norm differently: TorchScript takes containers with the same children's
    # names and types for one type, whatever their order, and would run one order's code for both.
    return nn.Sequential(OrderedDict([(name, layer), ("post_norm", norm)] if post_norm else [("norm", norm), (name, layer)]))


def needs_merging(in_channels: int, out_channels: int, stride: int) -> bool:
    return stride > 1 or in_channels != out_channels


def _build_swin(spec: SwinSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    shift = spec.window // 2 if spec.shift and ctx.position % 2 else 0
    block = SwinBlock(spec, shift, ctx.drop_path)
    if not needs_merging(in_channels, spec.out_channels, stride):
        return block
    stage_entry = nn.Sequential()
    stage_entry.downsample = PatchMerging(in_channels, spec.out_channels, stride, spec.version, spec.norm_eps)
    stage_entry.block = block
    return stage_entry


def _cost_swin(spec: SwinSpec, tally: Tally, stride: int) -> None:
    channels, hidden, post_norm = spec.out_channels, spec.hidden_channels(), spec.version == "v2"
    if needs_merging(tally.channels, channels, stride):
        cost_patch_merging(tally, channels, stride, spec.version)
    _cost_norm_unless(post_norm, tally)
    cost_window_attention(tally, spec.heads, spec.window, cosine=post_norm)
    _cost_norm_unless(not post_norm, tally)
    tally.add_identity()
    _cost_norm_unless(post_norm, tally)
    cost_token_linear(tally, tally.height * tally.width, hidden)
    cost_token_linear(tally, tally.height * tally.width, channels, in_features=hidden)
    _cost_norm_unless(not post_norm, tally)
    tally.add_identity()


def _cost_norm_unless(skip: bool, tally: Tally) -> None:
    """A branch's layer norm, counted before its layers (pre-norm) or after them (post-norm)."""
    if not skip:
        tally.norm()


def _build_patch_merging(spec: PatchMergingSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return PatchMerging(in_channels, spec.out_channels, stride, spec.version, spec.norm_eps)


def _cost_patch_merging(spec: PatchMergingSpec, tally: Tally, stride: int) -> None:
    cost_patch_merging(tally, spec.out_channels, stride, spec.version)


# A Swin stage's keys besides width, depth and stride: heads, window and the MLP ratio (`expansion`).
WINDOW = StageKnob("window", "int", "must be an integer of at least 2", lambda v: v >= 2, default=7)


def _search_swin(width: int, values: Mapping[str, Any]) -> SwinSpec:
    # A search space repairs heads that do not divide the width: the largest common divisor of the two.
    return SwinSpec(out_channels=width, heads=math.gcd(width, values["heads"]), window=values["window"], **expansion_of(values))


SWIN = BlockKind(
    SwinSpec, _build_swin, _cost_swin, residual=True,
    search=SearchRecipe((HEADS, WINDOW, EXPANSION), _search_swin),
    latency_ops={"logit_scale": "elementwise", "position_bias_table": "elementwise", ATTENTION_OP: "attention"},
)
PATCH_MERGING = BlockKind(PatchMergingSpec, _build_patch_merging, _cost_patch_merging, depth_scalable=False)
