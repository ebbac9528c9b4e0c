"""The pre-norm transformer encoder block of ViT and DeiT (timm's ``Block``, torchvision's ``EncoderBlock``).

``x + ls1 * attn(norm1(x))``, then ``x + ls2 * mlp(norm2(x))``, each a :class:`Residual`: layer norms over
each token's channels, multi-head self-attention (blocks/self_attention.py),
and an MLP of two linear layers with an activation (GELU) between them.
Layer scale (CaiT, DeiT III) multiplies each branch by a learned per-channel
vector when ``layer_scale_init`` is given; stochastic depth drops each
branch per sample while training.  The block keeps its input's width, which
the patch embedding set; ``heads`` must divide it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from searchspace.activations import ACTIVATION, make_activation
from searchspace.attention_cost import ATTENTION_OP, cost_token_linear
from searchspace.blocks.convnext import EPS
from searchspace.blocks.self_attention import MultiHeadSelfAttention, cost_self_attention
from searchspace.blocks.tokens import check_divides
from searchspace.fields import BoolCodec, FloatCodec, IntCodec, SpecBase, knob
from searchspace.layer_scale import LAYER_SCALE_OP, cost_layer_scale, layer_scale_knob
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
    layer_scale_init: float | None = layer_scale_knob()
    norm_eps: float = knob("eps", EPS, 1e-6, doc="epsilon of the two layer norms")

    def hidden_channels(self, channels: int) -> int:
        return max(1, round(channels * self.mlp_ratio))


class TokenLayerScale(nn.Module):
    """``x * gamma`` on tokens (N, T, C), channels last (searchspace/layer_scale.py's LayerScale is for NCHW maps)."""

    def __init__(self, channels: int, init: float) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), float(init)))

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
    if spec.layer_scale_init is not None:
        branch.scale = TokenLayerScale(channels, spec.layer_scale_init)
    return branch


def _cost_encoder(spec: EncoderSpec, tally: Tally, stride: int) -> None:
    channels = tally.channels
    check_divides("heads", spec.heads, channels)
    tally.norm()
    cost_self_attention(tally, spec.qkv_bias)
    _cost_layer_scale(spec, tally)
    tally.add_identity()
    tally.norm()
    hidden = spec.hidden_channels(channels)
    cost_token_linear(tally, tally.height, hidden)
    cost_token_linear(tally, tally.height, channels, in_features=hidden)
    _cost_layer_scale(spec, tally)
    tally.add_identity()


def _cost_layer_scale(spec: EncoderSpec, tally: Tally) -> None:
    if spec.layer_scale_init is not None:
        cost_layer_scale(tally)


ENCODER = BlockKind(EncoderSpec, EncoderBlock, _cost_encoder, strides=(1,), residual=True, takes_tokens=True,
                    latency_ops={ATTENTION_OP: "attention", LAYER_SCALE_OP: "elementwise"})
