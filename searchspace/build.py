"""Turn a NetSpec into an ``nn.Module``.

Module names are part of the contract (state-dict keys): ``stem.<i>`` for the
stem blocks, ``stages.<stage>.<block>`` for the body, ``aux_heads.<i>`` and
``head``.  Modules are registered in forward order, which is what lets the
zoo map reference weights onto them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import torch
from torch import nn

from searchspace.activations import make_activation
from searchspace.layers import BuildContext, ConvNormAct
from searchspace.registry import kind_of
from searchspace.spec import HeadSpec, NetSpec, Stage
from searchspace.tally import Tally


class Head(nn.Module):
    def __init__(self, spec: HeadSpec, in_shape: tuple[int, int, int], num_classes: int, ctx: BuildContext) -> None:
        super().__init__()
        channels, height, width = in_shape
        if spec.conv_channels:
            self.conv = ConvNormAct(channels, spec.conv_channels, 1, ctx, activation=spec.activation)
            channels = spec.conv_channels
        if spec.pool == "avg":
            self.pool = nn.AdaptiveAvgPool2d(spec.pool_size)
        elif spec.pool == "max":
            self.pool = nn.AdaptiveMaxPool2d(spec.pool_size)
        self.flatten = nn.Flatten(1)
        features = channels * (height * width if spec.pool == "flatten" else spec.pool_size**2)
        self.classifier = nn.Sequential()
        for i, width in enumerate(spec.hidden):
            self._add_dropout(f"drop{i}", spec.dropout_before(i))
            self.classifier.add_module(f"fc{i}", nn.Linear(features, width, bias=spec.hidden_bias))
            if spec.hidden_norm:
                self.classifier.add_module(f"norm{i}", ctx.norm1d(width))
            if spec.activation != "identity":
                self.classifier.add_module(f"act{i}", make_activation(spec.activation))
            features = width
        self._add_dropout("drop", spec.dropout_before(len(spec.hidden)))
        self.classifier.add_module("fc", nn.Linear(features, num_classes))

    def _add_dropout(self, name: str, rate: float) -> None:
        if rate > 0:
            self.classifier.add_module(name, nn.Dropout(rate))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "conv"):
            x = self.conv(x)
        if hasattr(self, "pool"):
            x = self.pool(x)
        return self.classifier(self.flatten(x))


class Net(nn.Module):
    """A net built from a :class:`NetSpec`; ``net.spec`` is the spec it came from."""

    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        self.spec = spec
        block_total = sum(stage.repeats for stage in spec.stages)
        block_index = 0

        def context(residual: bool) -> BuildContext:
            nonlocal block_index
            rate = spec.drop_path_rate * block_index / block_total if residual and block_total else 0.0
            block_index += 1
            return BuildContext(spec.norm_eps, spec.norm_momentum, rate)

        plain = BuildContext(spec.norm_eps, spec.norm_momentum)
        tally = Tally(spec.in_channels, spec.resolution, spec.resolution)
        self.stem = nn.Sequential()
        for stage in spec.stem:
            self.stem.extend(_build_blocks(stage, tally, lambda residual: plain))
        self.stages = nn.Sequential()
        stage_outputs = []
        for stage in spec.stages:
            self.stages.append(_build_blocks(stage, tally, context))
            stage_outputs.append(tally.shape)
        self.aux_heads = nn.ModuleList(
            AuxHead(aux.stages, aux.head, stage_outputs[aux.after_stage], spec.num_classes, plain) for aux in spec.aux_heads
        )
        self._aux_after = [aux.after_stage for aux in spec.aux_heads]
        self.head = Head(spec.head, tally.shape, spec.num_classes, plain)
        initialize_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits and the auxiliary heads' logits (for training with their losses)."""
        x = self.stem(x)
        aux_logits = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            for head, after in zip(self.aux_heads, self._aux_after):
                if after == i:
                    aux_logits.append(head(x))
        return self.head(x), aux_logits


class AuxHead(nn.Module):
    def __init__(self, stages: tuple[Stage, ...], head: HeadSpec, in_shape: tuple[int, int, int], num_classes: int, ctx: BuildContext) -> None:
        super().__init__()
        tally = Tally(*in_shape)
        self.stages = nn.Sequential()
        for stage in stages:
            self.stages.extend(_build_blocks(stage, tally, lambda residual: ctx))
        self.head = Head(head, tally.shape, num_classes, ctx)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(x))


def _build_blocks(stage: Stage, tally: Tally, context: Callable[[bool], BuildContext]) -> nn.Sequential:
    """Build a stage's blocks, advancing ``tally`` (the walk gives each block its input shape)."""
    kind = kind_of(stage.block)
    blocks = nn.Sequential()
    for index in range(stage.repeats):
        stride = stage.stride if index == 0 else 1
        blocks.append(kind.build(stage.block, tally.channels, stride, replace(context(kind.residual), position=index)))
        kind.cost(stage.block, tally, stride)
    return blocks


def initialize_weights(module: nn.Module) -> None:
    """He-normal convs, unit norms, small linear layers: a sound start for training from scratch."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, 0.01)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


def build(spec: NetSpec) -> Net:
    """Build the ``nn.Module`` a spec describes (weights freshly initialised)."""
    if not isinstance(spec, NetSpec):
        raise TypeError(f"build() takes a NetSpec, got {type(spec).__name__}")
    return Net(spec)
