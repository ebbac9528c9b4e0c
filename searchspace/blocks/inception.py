"""Inception modules: parallel branches of conv/pool layers, concatenated.

A branch is a short sequence of ``conv`` and ``pool`` layers, optionally ending
in a fork of parallel tails whose outputs are concatenated (Inception-v3's
``1x3`` / ``3x1`` split in its last modules).  This covers GoogLeNet and every
Inception-v3 module (A to E) as data.

In the compact string, branches are separated by ``|``, layers by ``>`` and a
fork is written in braces::

    inception_b[conv_c64_k1|conv_c96_k1>conv_c128_k3|pool_k3_p1_ceil>conv_c32_k1]
    inception_b[conv_c384_k1>{conv_c384_k1x3|conv_c384_k3x1}|...]

The stage stride (2 in Inception-v3's reduction modules) goes, in each branch,
on the last layer with a spatial extent (kernel > 1); a branch without one
passes it to its tails, or else puts it on its first layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from searchspace.blocks.plain import ConvSpec, PoolSpec, _build_conv, _cost_conv
from searchspace.fields import (
    Codec,
    SpecBase,
    SpecError,
    SpecStringError,
    knob,
    split_top_level,
)
from searchspace.layers import BuildContext
from searchspace.registry import BlockKind
from searchspace.tally import Tally, as_pair

_LAYER_KINDS: dict[str, type[SpecBase]] = {"conv": ConvSpec, "pool": PoolSpec}
Layer = ConvSpec | PoolSpec


def _layer_from(value: Any, where: str) -> Layer:
    if isinstance(value, (ConvSpec, PoolSpec)):
        return value
    if isinstance(value, dict) and value.get("kind") in _LAYER_KINDS:
        return _LAYER_KINDS[value["kind"]].from_dict(value, where)  # type: ignore[return-value]
    raise SpecError(f"{where} = {value!r} is not allowed: a branch layer must be a conv or a pool")


def _encode_layer(layer: Layer) -> str:
    return "_".join([layer.kind, *layer.encode_fields()])


def _decode_layer(token: str, where: str) -> Layer:
    parts = split_top_level(token, "_")
    if parts[0] not in _LAYER_KINDS:
        raise SpecStringError(f"{where}: {token!r} is not a branch layer (allowed: conv_..., pool_...)")
    return _LAYER_KINDS[parts[0]].decode_fields(parts[1:], f"{where}: {token!r}")  # type: ignore[return-value]


class _LayersCodec(Codec):
    def normalize(self, value: Any, where: str) -> tuple[Layer, ...]:
        if not isinstance(value, (list, tuple)) or not value:
            raise SpecError(f"{where} = {value!r} is not allowed: a branch needs at least one layer")
        return tuple(_layer_from(v, f"{where}[{i}]") for i, v in enumerate(value))

    def to_json(self, value: tuple[Layer, ...]) -> list:
        return [layer.to_dict() for layer in value]


class _BranchesCodec(Codec):
    """A tuple of branches; also the compact ``[a|b>c|...]`` notation."""

    def __init__(self, allow_empty: bool) -> None:
        self.allow_empty = allow_empty

    def normalize(self, value: Any, where: str) -> tuple[InceptionBranch, ...]:
        if not isinstance(value, (list, tuple)) or (not value and not self.allow_empty):
            raise SpecError(f"{where} = {value!r} is not allowed: give at least one branch")
        branches = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                item = InceptionBranch.from_dict(item, f"{where}[{i}]")
            if not isinstance(item, InceptionBranch):
                raise SpecError(f"{where}[{i}] = {item!r} is not allowed: expected a branch")
            branches.append(item)
        return tuple(branches)

    def to_json(self, value: tuple[InceptionBranch, ...]) -> list:
        return [branch.to_dict() for branch in value]

    def value_text(self, value: tuple[InceptionBranch, ...]) -> str:
        return "[" + "|".join(_encode_branch(b) for b in value) + "]"

    def parse_text(self, text: str, where: str) -> tuple[InceptionBranch, ...]:
        if not (text.startswith("[") and text.endswith("]")):
            raise SpecStringError(f"{where}: expected '[branch|branch|...]', got {text!r}")
        return tuple(_decode_branch(b, where) for b in split_top_level(text[1:-1], "|"))


def _encode_branch(branch: InceptionBranch) -> str:
    items = [_encode_layer(layer) for layer in branch.layers]
    if branch.tails:
        items.append("{" + "|".join(_encode_branch(t) for t in branch.tails) + "}")
    return ">".join(items)


def _decode_branch(text: str, where: str) -> InceptionBranch:
    items = split_top_level(text, ">")
    tails: tuple[InceptionBranch, ...] = ()
    if items[-1].startswith("{"):
        if not items[-1].endswith("}"):
            raise SpecStringError(f"{where}: malformed fork {items[-1]!r}")
        tails = tuple(_decode_branch(t, where) for t in split_top_level(items[-1][1:-1], "|"))
        items = items[:-1]
    return InceptionBranch(layers=tuple(_decode_layer(i, where) for i in items), tails=tails)


@dataclass(frozen=True, kw_only=True)
class InceptionBranch(SpecBase):
    kind = "branch"

    layers: tuple[Layer, ...] = knob("", _LayersCodec(), doc="conv and pool layers in order")
    tails: tuple[InceptionBranch, ...] = knob("", _BranchesCodec(allow_empty=True), (), doc="parallel tails, concatenated")

    def strides(self, stride: int) -> tuple[list[int], int]:
        """Per-layer strides and the stride handed to the tails."""
        strides = [1] * len(self.layers)
        if stride == 1:
            return strides, 1
        spatial = [i for i, layer in enumerate(self.layers) if max(as_pair(layer.kernel)) > 1]
        if spatial:
            strides[spatial[-1]] = stride
            return strides, 1
        if self.tails:
            return strides, stride
        strides[0] = stride
        return strides, 1


# The branches of a module (at least one); residual Inception modules use the same notation.
BRANCHES = _BranchesCodec(allow_empty=False)


@dataclass(frozen=True, kw_only=True)
class InceptionSpec(SpecBase):
    kind = "inception"

    branches: tuple[InceptionBranch, ...] = knob("b", BRANCHES, doc="parallel branches, concatenated in order")


class BranchModule(nn.Module):
    def __init__(self, branch: InceptionBranch, in_channels: int, stride: int, ctx: BuildContext) -> None:
        super().__init__()
        strides, tail_stride = branch.strides(stride)
        self.layers = nn.Sequential()
        channels = in_channels
        for layer, layer_stride in zip(branch.layers, strides):
            if isinstance(layer, ConvSpec):
                self.layers.append(_build_conv(layer, channels, layer_stride, ctx))
                channels = layer.out_channels
            else:
                self.layers.append(layer.module(layer_stride))
        self.tails = nn.ModuleList(BranchModule(t, channels, tail_stride, ctx) for t in branch.tails)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(x)
        if len(self.tails) == 0:
            return x
        return torch.cat([tail(x) for tail in self.tails], 1)


class InceptionModule(nn.Module):
    def __init__(self, spec: InceptionSpec, in_channels: int, stride: int, ctx: BuildContext) -> None:
        super().__init__()
        self.branches = nn.ModuleList(BranchModule(b, in_channels, stride, ctx) for b in spec.branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], 1)


def _cost_branch(branch: InceptionBranch, tally: Tally, stride: int) -> Tally:
    strides, tail_stride = branch.strides(stride)
    out = tally.fork()
    for layer, layer_stride in zip(branch.layers, strides):
        if isinstance(layer, ConvSpec):
            _cost_conv(layer, out, layer_stride)
        else:
            out.pool(layer.kernel, layer_stride, layer.padding, layer.ceil_mode)
    if branch.tails:
        tails = [_cost_branch(t, out, tail_stride) for t in branch.tails]
        out.concat(tails)
    return out


def _build_inception(spec: InceptionSpec, in_channels: int, stride: int, ctx: BuildContext) -> nn.Module:
    return InceptionModule(spec, in_channels, stride, ctx)


def cost_branches(branches: tuple[InceptionBranch, ...], tally: Tally, stride: int) -> Tally:
    """Advance ``tally`` through the branches and their concatenation."""
    return tally.concat([_cost_branch(b, tally, stride) for b in branches])


def concat_width(branches: tuple[InceptionBranch, ...], in_channels: int) -> int:
    """The channels the branches' concatenation has (widths never depend on the map size)."""
    return cost_branches(branches, Tally(in_channels, 4096, 4096), 1).channels


def _cost_inception(spec: InceptionSpec, tally: Tally, stride: int) -> None:
    cost_branches(spec.branches, tally, stride)


INCEPTION = BlockKind(InceptionSpec, _build_inception, _cost_inception)
