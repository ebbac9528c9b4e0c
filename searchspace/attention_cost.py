"""Cost of the layers of token-mixing attention, counted as ``torch.utils.flop_counter`` counts them.

Attention runs linear layers on tokens (a channels-last map flattened into a
sequence, or windows of it) and two matrix products per head: ``q @ k^T`` and
``attn @ v``.  FlopCounterMode counts each ``bmm``/``matmul`` of a ``(T, d)`` by
a ``(d, S)`` matrix as ``T * S * d`` multiply-accumulates, so the two products
of ``T`` queries against ``S`` keys over a total width of ``C`` channels (all
heads together) cost ``2 * T * S * C`` MACs, whatever the number of heads.
Softmax, scaling, norms, biases and masks are not MACs (see searchspace/tally.py).
"""

from __future__ import annotations

from searchspace.tally import Tally

# The op name of the two attention products in a recording tally's layer list; block kinds map it
# to the latency predictor's "attention" family (evaluators/latency/features.py).
ATTENTION_OP = "attention"


def cost_token_linear(tally: Tally, tokens: int, out_features: int, *, in_features: int | None = None, bias: bool = True) -> Tally:
    """A linear layer on ``tokens`` tokens, from ``in_features`` (the tally's channels) to ``out_features``.

    The tally keeps its shape: the layer is inside a block.  ``tokens`` may
    differ from the map's area: window attention pads the map to whole windows
    first, and a position-bias MLP runs on a table of offsets, not on the map.
    """
    in_features = tally.channels if in_features is None else in_features
    weights = in_features * out_features
    params = weights + (out_features if bias else 0)
    written = tokens * out_features
    return tally.layer("linear", params=params, macs=tokens * weights, acts=written, elements=(tokens * in_features, written))


def cost_attention_matmuls(tally: Tally, queries: int, keys_per_query: int, channels: int, *,
                           out_channels: int | None = None) -> Tally:
    """``q @ k^T`` and ``attn @ v`` for ``queries`` tokens, each attending to ``keys_per_query`` keys, over ``channels``.

    ``channels`` is every head's width together (heads x key width; multi-query attention shares one
    key and one value head among its query heads, which changes what is read, not the products).
    ``out_channels``: the tally's channels afterwards, when the block's map changes width here.
    """
    # Read: queries, keys and values; written: one output per query and channel (the scores stay inside the op's record).
    tokens = queries * channels
    return tally.layer(ATTENTION_OP, out_channels=out_channels, macs=2 * queries * keys_per_query * channels,
                       elements=(3 * tokens, tokens))
