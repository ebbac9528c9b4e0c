"""MobileNetV4's Mobile MQA block (Qin et al., 2024; timm's ``MobileAttention`` with multi-query attention).

A pre-norm residual block whose branch is multi-query attention over the
positions of an NCHW map: many query heads, one key head and one value head
that every query head shares.  The keys and values may be computed from a
smaller map: a depthwise conv of stride ``kv_stride`` (with batch norm) shrinks
the normed input before their 1x1 projections, which cuts the attention's cost
by ``kv_stride**2``.  In order, as timm builds it:

* batch norm of the input (no activation);
* queries: a 1x1 conv to ``heads * key_dim`` channels, no bias;
* keys and values: [depthwise conv + batch norm if ``kv_stride > 1``], a 1x1
  conv to ``key_dim`` channels, no bias;
* ``softmax(q k^T / sqrt(key_dim)) v`` per query head;
* a 1x1 conv from ``heads * key_dim`` to the block's width, no bias;
* an optional layer scale, then the residual sum (stochastic depth on the branch).

timm's query downsampling (``query_strides``) and conditional position
encoding (``use_cpe``) are left out: no MobileNetV4 net in timm uses them.
The block keeps the map's size, so a stage of it has stride 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from searchspace.attention_cost import ATTENTION_OP, cost_attention_matmuls
from searchspace.blocks.inverted import check_odd_kernel, uses_skip, wrap_residual
from searchspace.fields import BoolCodec, IntCodec, SpecBase, knob
from searchspace.layer_scale import LAYER_SCALE_OP, LayerScale, cost_layer_scale, layer_scale_knob
from searchspace.layers import BuildContext, ConvNormAct
from searchspace.registry import BlockKind
from searchspace.stage_knobs import HEADS, SearchRecipe, StageKnob
from searchspace.tally import Tally


@dataclass(frozen=True, kw_only=True)
class MobileMQASpec(SpecBase):
    kind = "mqa"

    out_channels: int = knob("c", IntCodec(1), doc="output channels", role="channels")
    heads: int = knob("h", IntCodec(1), 4, doc="query heads (keys and values have one head, shared by all)")
    key_dim: int = knob("d", IntCodec(1), 64, doc="width of each query head, of the key and of the value")
    kv_stride: int = knob("v", IntCodec(1, 8), 1, doc="stride of the depthwise conv that shrinks the keys' and values' map (1: no conv)")
    kv_kernel: int = knob("k", IntCodec(1), 3, doc="kernel of that depthwise conv (odd)")
    layer_scale_init: float | None = layer_scale_knob()
    skip: bool = knob("", BoolCodec("skip", "noskip"), True, doc="residual connection when the shape is kept")

    def check(self) -> None:
        check_odd_kernel(self, "kv_kernel", self.kv_kernel)

    def kv_padding(self) -> int:
        """timm's symmetric padding for the shrinking conv, ``((stride - 1) + (kernel - 1)) // 2``."""
        return (self.kv_stride - 1 + self.kv_kernel - 1) // 2


def _key_value_projection(spec: MobileMQASpec, in_channels: int, ctx: BuildContext) -> nn.Sequential:
    """[depthwise conv + norm that shrinks the map], then a 1x1 conv to one head of ``key_dim`` channels."""
    projection = nn.Sequential()
    if spec.kv_stride > 1:
        projection.down = ConvNormAct(in_channels, in_channels, spec.kv_kernel, ctx, stride=spec.kv_stride,
                                      padding=spec.kv_padding(), groups=in_channels)
    projection.proj = nn.Conv2d(in_channels, spec.key_dim, 1, bias=False)
    return projection


class MultiQueryAttention(nn.Module):
    """``heads`` query heads over one shared key and value head, on an NCHW map."""

    def __init__(self, spec: MobileMQASpec, in_channels: int, ctx: BuildContext) -> None:
        super().__init__()
        self.heads, self.key_dim = spec.heads, spec.key_dim
        self.query = nn.Conv2d(in_channels, spec.heads * spec.key_dim, 1, bias=False)
        self.key = _key_value_projection(spec, in_channels, ctx)
        self.value = _key_value_projection(spec, in_channels, ctx)
        self.output = nn.Conv2d(spec.heads * spec.key_dim, spec.out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        # Query channels are grouped by head: channel = head * key_dim + i (timm's layout).
        q = self.query(x).reshape(batch, self.heads, self.key_dim, height * width).transpose(-1, -2)
        k = self.key(x).flatten(2).unsqueeze(1)  # (batch, 1, key_dim, keys): one head, broadcast over the query heads
        v = self.value(x).flatten(2).transpose(1, 2).unsqueeze(1)  # (batch, 1, keys, key_dim)
        # Explicit products rather than a fused kernel: every backend then runs, and torch counts, the same two matmuls.
        weights = ((q * self.key_dim ** -0.5) @ k).softmax(dim=-1)
        heads_out = (weights @ v).transpose(-1, -2).reshape(batch, self.heads * self.key_dim, height, width)
        return self.output(heads_out)


def _build_mqa(spec: MobileMQASpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    body = nn.Sequential()
    body.norm = ctx.norm2d(in_channels)
    body.attn = MultiQueryAttention(spec, in_channels, ctx)
    if spec.layer_scale_init is not None:
        body.layer_scale = LayerScale(spec.out_channels, spec.layer_scale_init)
    return wrap_residual(body, uses_skip(spec.skip, in_channels, spec.out_channels, stride), ctx)


def _cost_key_value(spec: MobileMQASpec, branch: Tally) -> Tally:
    if spec.kv_stride > 1:
        branch.conv(branch.channels, spec.kv_kernel, spec.kv_stride, groups=branch.channels, padding=spec.kv_padding())
    return branch.conv(spec.key_dim, 1, norm=False)


def _cost_mqa(spec: MobileMQASpec, tally: Tally, stride: int) -> None:
    in_channels = tally.channels
    tally.norm()
    key = _cost_key_value(spec, tally.fork())
    value = _cost_key_value(spec, tally.fork())
    tally.include(key).include(value)
    tally.conv(spec.heads * spec.key_dim, 1, norm=False)
    width = spec.heads * spec.key_dim  # the query heads side by side; keys and values have one head of key_dim
    cost_attention_matmuls(tally, tally.height * tally.width, key.height * key.width, width, out_channels=width)
    tally.conv(spec.out_channels, 1, norm=False)
    if spec.layer_scale_init is not None:
        cost_layer_scale(tally)
    if uses_skip(spec.skip, in_channels, spec.out_channels, stride):
        tally.add_identity()


_POSITIVE = ("must be a positive integer", lambda v: v >= 1)
KEY_DIM = StageKnob("key_dim", "int", *_POSITIVE, default=64)
KV_STRIDE = StageKnob("kv_stride", "int", "must be an integer from 1 to 8", lambda v: 1 <= v <= 8, default=1)


def _search_mqa(width: int, values: Mapping[str, Any]) -> MobileMQASpec:
    return MobileMQASpec(out_channels=width, heads=values["heads"], key_dim=values["key_dim"], kv_stride=values["kv_stride"])


MOBILE_MQA = BlockKind(
    MobileMQASpec, _build_mqa, _cost_mqa, strides=(1,), residual=True,
    search=SearchRecipe((HEADS, KEY_DIM, KV_STRIDE), _search_mqa),
    latency_ops={ATTENTION_OP: "attention", LAYER_SCALE_OP: "elementwise"},
)
