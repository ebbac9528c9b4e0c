"""The pre-norm transformer encoder block of ViT and DeiT (timm's ``Block``, torchvision's ``EncoderBlock``).

``x + ls1 * attn(norm1(x))``, then ``x + ls2 * mlp(norm2(x))``, each a :class:`Residual`: layer norms over
each token's channels, multi-head self-attention (blocks/self_attention.py),
and an MLP of two linear layers with an activation (GELU) between them.
Layer scale (CaiT, DeiT III) multiplies each branch by a learned per-channel
vector when ``layer_scale_init`` is above 0; stochastic depth drops each
branch per sample while training.  The block keeps its input's width, which
the patch embedding set; ``heads`` must divide it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from searchspace.activations import ACTIVATION, make_activation
from searchspace.blocks.convnext import EPS, cost_positionwise_linear
from searchspace.blocks.self_attention import MultiHeadSelfAttention, cost_self_attention
from searchspace.blocks.tokens import check_divides
from searchspace.fields import BoolCodec, FloatCodec, IntCodec, SpecBase, knob
from searchspace.layers import BuildContext, Residual
from searchspace.registry import BlockKind
from searchspace.tally import Tally


@dataclass(frozen=True, kw_only=True)
class EncoderSpec(SpecBase):
    kind = "encoder"

    heads: int = knob("h", IntCodec(1), doc="attention heads (they split the token width)")
    mlp_ratio: float = knob("e", FloatCodec(0.0, 64.0, open_min=True), 4.0, doc="MLP hidden width / token width")
    activation: str = knob("", ACTIVATION, "gelu", doc="activation inside the MLP")
    qkv_bias: bool = knob("", BoolCodec("qkvbias", "noqkvbias"), True, doc="bias in the query-key-value layer")
    layer_scale_init: float = knob("ls", FloatCodec(0.0), 0.0, doc="initial layer scale of both branches; 0: no layer scale")
    norm_eps: float = knob("eps", EPS, 1e-6, doc="epsilon of the two layer norms")

    def hidden_channels(self, channels: int) -> int:
        return max(1, round(channels * self.mlp_ratio))


class LayerScale(nn.Module):
    def __init__(self, channels: int, init: float) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


class MLP(nn.Module):
    def __init__(self, channels: int, hidden: int, activation: str) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, hidden)
        self.act = make_activation(activation)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class EncoderBlock(nn.Sequential):
    """Two pre-norm residual branches, each ``x + drop_path(scale(layer(norm(x))))``."""

    def __init__(self, spec: EncoderSpec, in_channels: int, stride: int, ctx: BuildContext) -> None:
        super().__init__()
        attention = MultiHeadSelfAttention(in_channels, spec.heads, spec.qkv_bias)
        mlp = MLP(in_channels, spec.hidden_channels(in_channels), spec.activation)
        self.attention = Residual(_pre_norm_branch(spec, in_channels, attention), None, "identity", ctx.drop_path)
        self.mlp = Residual(_pre_norm_branch(spec, in_channels, mlp), None, "identity", ctx.drop_path)

    def initialize_for_training(self) -> None:
        """Xavier-uniform linear layers with zero biases, as torchvision's ViT; the net-wide 0.01 normal stalls a ViT on SGD."""
        for layer in self.modules():
            if isinstance(layer, nn.Linear):
                nn.init.xavier_uniform_(layer.weight)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)


def _pre_norm_branch(spec: EncoderSpec, channels: int, layer: nn.Module) -> nn.Sequential:
    branch = nn.Sequential()
    branch.norm = nn.LayerNorm(channels, eps=spec.norm_eps)
    branch.layer = layer
    if spec.layer_scale_init > 0:
        branch.scale = LayerScale(channels, spec.layer_scale_init)
    return branch


def _cost_encoder(spec: EncoderSpec, tally: Tally, stride: int) -> None:
    channels = tally.channels
    check_divides("heads", spec.heads, channels)
    tally.norm()
    cost_self_attention(tally, spec.qkv_bias)
    _cost_layer_scale(spec, tally)
    tally.add_identity()
    tally.norm()
    cost_positionwise_linear(tally, spec.hidden_channels(channels))
    cost_positionwise_linear(tally, channels)
    _cost_layer_scale(spec, tally)
    tally.add_identity()


def _cost_layer_scale(spec: EncoderSpec, tally: Tally) -> None:
    if spec.layer_scale_init > 0:
        tally.layer("layer_scale", params=tally.channels)


ENCODER = BlockKind(EncoderSpec, EncoderBlock, _cost_encoder, strides=(1,), residual=True, takes_tokens=True,
                    latency_ops={"attention_matmul": "linear", "layer_scale": "elementwise"})
