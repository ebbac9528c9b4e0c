"""Multi-head self-attention over a token sequence (N, T, C), built and costed side by side.

One linear layer makes queries, keys and values (timm's ``qkv``, torchvision's
``in_proj``), each head attends with ``softmax(q k^T / sqrt(d)) v``, and a
linear layer projects the heads back (``proj``).  The two products are written
as matrix products rather than ``scaled_dot_product_attention`` so that any
FLOP counter sees them as what they are: ``q @ k^T`` and ``attn @ v`` are each
``T * T * C`` MACs per sample (``heads * T * T * d``), which is how
``FlopCounterMode`` counts the bmm they become (searchspace/attention_cost.py,
shared with Swin's windowed and MobileNetV4's multi-query attention).
"""

from __future__ import annotations

import torch
from torch import nn

from searchspace.attention_cost import cost_attention_matmuls, cost_token_linear
from searchspace.tally import Tally


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, channels: int, heads: int, qkv_bias: bool) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, channels = x.shape
        head_width = channels // self.heads
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.heads, head_width).permute(2, 0, 3, 1, 4)
        queries, keys, values = qkv.unbind(0)
        weights = torch.softmax((queries * head_width**-0.5) @ keys.transpose(-2, -1), dim=-1)
        mixed = (weights @ values).transpose(1, 2).reshape(batch, tokens, channels)
        return self.proj(mixed)


def cost_self_attention(tally: Tally, qkv_bias: bool) -> None:
    """The tally in the token layout (C channels, T tokens): qkv, the two products, the projection."""
    channels, tokens = tally.channels, tally.height
    cost_token_linear(tally, tokens, 3 * channels, bias=qkv_bias)
    cost_attention_matmuls(tally, tokens, tokens, channels)
    cost_token_linear(tally, tokens, channels)
