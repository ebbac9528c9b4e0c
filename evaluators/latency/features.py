"""Latency features of a net, computed from its spec alone, layer by layer.

Every layer the inference pass runs is listed by the analytic cost walk
(:func:`searchspace.layer_records`) and put in one operator family.  Within a
family, time on a CPU or GPU grows with three quantities:

* MACs: the arithmetic, which dominates in large dense and pointwise convs;
* traffic: feature-map elements read and written plus weights read, which
  dominates in memory-bound layers (depthwise convs, pooling, element-wise
  sums, the squeeze-and-excite rescale, the weights of late 1x1 convs);
* count: every layer pays a fixed dispatch cost (the Python module call, the
  kernel launch, oneDNN's primitive lookup), which at batch size 1 is a
  large share of a small net's time.

Families are told apart because they run different kernels with very
different MACs per second: a depthwise conv does a fraction of a dense conv's
arithmetic per element it touches.  Attention's two products (scores, then the
weighted sum of values) are batched matmuls over a map's positions, whose time
grows with the square of the token count and which sit beside a softmax: a
family of their own, so that a net with attention is not priced as its convs.  The vector is additive: the features of a
net are the sums over its layers, so a model linear in them is a sum of
per-layer costs plus a fixed overhead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from searchspace import LayerRecord, NetSpec, layer_records
from searchspace.registry import latency_op_families

# Families with arithmetic worth its own column, then those that only move memory.
COMPUTE_FAMILIES = ("dense_conv", "pointwise_conv", "depthwise_conv", "grouped_conv", "linear", "attention")
MEMORY_FAMILIES = ("pool", "squeeze_excite", "elementwise")
FAMILIES = COMPUTE_FAMILIES + MEMORY_FAMILIES

_ELEMENTWISE_OPS = frozenset({"add", "concat", "norm"})
_POOL_OPS = frozenset({"pool", "adaptive_pool"})


def _feature_names() -> tuple[str, ...]:
    names = []
    for family in FAMILIES:
        if family in COMPUTE_FAMILIES:
            names.append(f"{family}.macs")
        names.extend((f"{family}.traffic", f"{family}.count"))
    return tuple(names)


FEATURE_NAMES: tuple[str, ...] = _feature_names()
_COLUMN = {name: index for index, name in enumerate(FEATURE_NAMES)}


def layer_family(layer: LayerRecord) -> str:
    """The operator family of one recorded layer (one of :data:`FAMILIES`)."""
    if layer.op == "conv":
        kernel_area = layer.kernel[0] * layer.kernel[1]
        # MACs = output elements * input channels per group * kernel area, exactly.
        channels_per_group = layer.macs // (layer.out_elements * kernel_area)
        if channels_per_group == 1 and layer.groups > 1:
            return "depthwise_conv"
        if layer.groups > 1:
            return "grouped_conv"
        return "pointwise_conv" if kernel_area == 1 else "dense_conv"
    if layer.op == "linear":
        return "linear"
    if layer.op in _POOL_OPS:
        return "pool"
    if layer.op == "squeeze_excite":
        return "squeeze_excite"
    if layer.op in _ELEMENTWISE_OPS:
        return "elementwise"
    # An op of a block kind's own: the kind says which family's kernels it runs like.
    family = latency_op_families().get(layer.op)
    if family is None:
        known = ["conv", "linear", *sorted(_POOL_OPS | _ELEMENTWISE_OPS), "squeeze_excite", *sorted(latency_op_families())]
        raise ValueError(f"layer op {layer.op!r} has no latency family (known: {', '.join(known)}); a block kind names its own ops' families in latency_ops")
    if family not in FAMILIES:
        raise ValueError(f"layer op {layer.op!r}: latency family {family!r} is not one of {', '.join(FAMILIES)}")
    return family


def layer_features(layers: Iterable[LayerRecord]) -> np.ndarray:
    """The feature vector (ordered as :data:`FEATURE_NAMES`) of a sequence of layers."""
    vector = np.zeros(len(FEATURE_NAMES), dtype=np.float64)
    for layer in layers:
        family = layer_family(layer)
        if family in COMPUTE_FAMILIES:
            vector[_COLUMN[f"{family}.macs"]] += layer.macs
        # Weights are read once per pass: they count as traffic like feature maps do.
        vector[_COLUMN[f"{family}.traffic"]] += layer.in_elements + layer.out_elements + layer.params
        vector[_COLUMN[f"{family}.count"]] += 1
    return vector


def spec_features(spec: NetSpec) -> np.ndarray:
    """The feature vector of a net spec's inference pass at its own resolution, batch size 1."""
    if not isinstance(spec, NetSpec):
        raise TypeError(f"spec_features() takes a NetSpec, got {type(spec).__name__}")
    return layer_features(layer_records(spec))


def feature_matrix(specs: Sequence[NetSpec]) -> np.ndarray:
    """One row of :func:`spec_features` per spec."""
    if len(specs) == 0:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float64)
    return np.stack([spec_features(spec) for spec in specs])
