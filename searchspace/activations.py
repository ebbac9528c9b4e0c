"""Activation and gate names, as specs write them, and the modules they stand for.

Specs hold names, never classes, so they serialise and hash; this is the one
place that turns a name into an ``nn.Module``.
"""

from __future__ import annotations

from torch import nn

from searchspace.fields import ChoiceCodec

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "silu": nn.SiLU,
    "hardswish": nn.Hardswish,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "identity": nn.Identity,
}

# Gates squash to (0, 1) and scale features (squeeze-and-excitation).
_GATES: dict[str, type[nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "hardsigmoid": nn.Hardsigmoid,
}

ACTIVATION = ChoiceCodec(tuple(_ACTIVATIONS), aliases={"swish": "silu", "hswish": "hardswish", "linear": "identity"})
GATE = ChoiceCodec(tuple(_GATES), aliases={"hsigmoid": "hardsigmoid"})


def activation_names() -> tuple[str, ...]:
    return tuple(_ACTIVATIONS)


def make_activation(name: str) -> nn.Module:
    return _ACTIVATIONS[name]()


def make_gate(name: str) -> nn.Module:
    return _GATES[name]()
