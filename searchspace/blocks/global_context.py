"""Global context (GCNet, Cao et al. 2019), a kind of the attention slot.

Context modelling pools the map into one vector per image: weighted by a
softmax over positions of a 1x1 conv to one channel (the paper's attention
pooling; a matrix product that counts C*H*W MACs), or a plain average.  The
transform is a bottleneck of 1x1 convs with a layer norm (over channels) and
an activation between; fusion adds the result to every position (the paper's
default) or gates the map with it as SE does.  Module names follow timm's
``GlobalContext`` (``conv_attn``, ``mlp.fc1``, ``mlp.norm``, ``mlp.fc2``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from searchspace.activations import ACTIVATION, GATE, make_activation, make_gate
from searchspace.blocks.attention import register_attention
from searchspace.blocks.se import SqueezeRule, squeeze_divisor, squeeze_ratio, squeeze_reference
from searchspace.fields import ChoiceCodec, SpecBase, knob
from searchspace.layers import LayerNorm2d
from searchspace.tally import Tally

# timm's LayerNorm2d epsilon, which GCNet's transform uses.
LAYER_NORM_EPS = 1e-6


class ContextTransform(nn.Sequential):
    def __init__(self, channels: int, squeeze_channels: int, activation: str) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.norm = LayerNorm2d(squeeze_channels, eps=LAYER_NORM_EPS)
        self.act = make_activation(activation)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)


class GlobalContext(nn.Module):
    def __init__(self, channels: int, squeeze_channels: int, spec: GCSpec) -> None:
        super().__init__()
        self.conv_attn = nn.Conv2d(channels, 1, 1) if spec.pooling == "attn" else None
        self.mlp = ContextTransform(channels, squeeze_channels, spec.activation)
        self.gate = make_gate(spec.gate) if spec.fusion == "scale" else None

    def context(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        if self.conv_attn is None:
            return x.mean((2, 3), keepdim=True)
        weights = F.softmax(self.conv_attn(x).reshape(batch, height * width, 1), dim=1)
        return torch.bmm(x.reshape(batch, channels, height * width), weights).view(batch, channels, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        transformed = self.mlp(self.context(x))
        return x + transformed if self.gate is None else x * self.gate(transformed)


@dataclass(frozen=True, kw_only=True)
class GCSpec(SqueezeRule, SpecBase):
    kind = "gc"

    ratio: float = squeeze_ratio(1 / 8)
    relative_to: str = squeeze_reference("mid")
    divisor: int = squeeze_divisor()
    pooling: str = knob("", ChoiceCodec(("attn", "avg")), "attn", doc="context pooling: softmax attention over positions, or a plain average")
    fusion: str = knob("", ChoiceCodec(("add", "scale")), "add", doc="fuse the context by adding it at every position, or by gating the map")
    activation: str = knob("", ACTIVATION, "relu", doc="activation inside the transform")
    gate: str = knob("", GATE, "sigmoid", doc="gate of the scale fusion (unused by add)")

    def module(self, channels: int, in_channels: int, mid_channels: int, out_channels: int) -> nn.Module:
        return GlobalContext(channels, self.squeeze_channels(in_channels, mid_channels, out_channels), self)

    def cost(self, tally: Tally, in_channels: int, mid_channels: int, out_channels: int) -> None:
        channels, area = tally.channels, tally.height * tally.width
        squeeze = self.squeeze_channels(in_channels, mid_channels, out_channels)
        if self.pooling == "attn":
            # The 1x1 conv to the position logits, and the weighted sum over positions it drives
            # (a matrix product of the same C*H*W MACs), recorded as one pointwise layer.
            logits = tally.fork().layer("conv", out_channels=1, params=channels + 1, macs=2 * channels * area, acts=area)
            tally.include(logits)
        # The transform on the pooled 1x1 context: conv, layer norm, activation, conv.
        transform = Tally(channels, 1, 1, tally.layers).conv(squeeze, 1, bias=True, norm=False).norm()
        tally.include(transform.conv(channels, 1, bias=True, norm=False))


register_attention(GCSpec)
