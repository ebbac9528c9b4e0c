"""The two matrix products of scaled dot-product attention, counted as ``FlopCounterMode`` counts them.

``scores = q @ k^T`` multiplies ``queries x key_dim`` by ``key_dim x keys`` per
head, and ``scores.softmax() @ v`` multiplies ``queries x keys`` by ``keys x
value_dim``; torch's counter sees both as ``bmm`` and counts two FLOPs per
multiply-add, so the MACs are ``heads * queries * keys * (key_dim + value_dim)``.
The scaling, the softmax and any bias added to the scores are element-wise and
are not MACs.  No module holds these products, so they own no parameters and
no activations in pycls' sense (those are outputs of convolutions and linear layers).
"""

from __future__ import annotations

from searchspace.tally import Tally

# The op a recording tally lists for the two products together.
ATTENTION_OP = "attention"


def attention_macs(heads: int, queries: int, keys: int, key_dim: int, value_dim: int) -> int:
    return heads * queries * keys * (key_dim + value_dim)


def cost_attention_matmuls(tally: Tally, *, heads: int, keys: int, key_dim: int, value_dim: int) -> None:
    """Attention of every position of the tally's map (the queries) over ``keys`` positions.

    The tally's channels become ``heads * value_dim``, the width of the heads'
    outputs laid side by side.
    """
    queries = tally.height * tally.width
    tally.layer(ATTENTION_OP, out_channels=heads * value_dim, macs=attention_macs(heads, queries, keys, key_dim, value_dim))
