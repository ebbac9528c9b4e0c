"""The few ``nn.Module`` building blocks that every block kind shares.

Module attribute names matter: they become state-dict keys, and the zoo maps
torchvision and timm weights onto them.  A conv-norm-act is always ``conv``,
``norm``, ``act`` in that order, whatever block it sits in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from searchspace.activations import make_activation, make_gate
from searchspace.tally import Size, as_pair, default_padding


@dataclass(frozen=True)
class BuildContext:
    """Net-wide settings a block builder needs besides its own spec."""

    norm_eps: float = 1e-5
    norm_momentum: float = 0.1
    drop_path: float = 0.0  # stochastic-depth probability of this block
    position: int = 0  # index of the block in its stage (Swin shifts the windows of the odd ones)
    # Height and width of the block's input (a position embedding is sized by its token grid).
    in_size: tuple[int, int] = (0, 0)

    def norm2d(self, channels: int) -> nn.BatchNorm2d:
        return nn.BatchNorm2d(channels, eps=self.norm_eps, momentum=self.norm_momentum)

    def norm1d(self, channels: int) -> nn.BatchNorm1d:
        return nn.BatchNorm1d(channels, eps=self.norm_eps, momentum=self.norm_momentum)


@dataclass(frozen=True, kw_only=True)
class ConvOptions:
    """The optional settings of :class:`ConvNormAct`, with their defaults."""

    stride: int = 1
    groups: int = 1
    padding: Size | None = None  # None: from the kernel and dilation (same size at stride 1)
    dilation: int = 1
    bias: bool = False  # no bias before a norm: the norm's shift makes it redundant
    norm: bool = True
    activation: str = "identity"


class ConvNormAct(nn.Sequential):
    """Convolution, then optional batch norm, then optional activation.

    ``options``: the keywords of :class:`ConvOptions` (``stride=2``,
    ``activation="relu"``, ...); an unknown one is a ``TypeError``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: Size, ctx: BuildContext, **options: Any) -> None:
        super().__init__()
        chosen = ConvOptions(**options)
        pad = as_pair(chosen.padding) if chosen.padding is not None else default_padding(kernel, chosen.dilation)
        self.conv = nn.Conv2d(
            in_channels, out_channels, as_pair(kernel), stride=chosen.stride, padding=pad,
            dilation=chosen.dilation, groups=chosen.groups, bias=chosen.bias,
        )
        if chosen.norm:
            self.norm = ctx.norm2d(out_channels)
        if chosen.activation != "identity":
            self.act = make_activation(chosen.activation)


class SqueezeExcite(nn.Module):
    """Channel attention: global pool, bottleneck of two 1x1 convs, gate, rescale."""

    def __init__(self, channels: int, squeeze_channels: int, activation: str, gate: str) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, squeeze_channels, 1)
        self.act = make_activation(activation)
        self.expand = nn.Conv2d(squeeze_channels, channels, 1)
        self.gate = make_gate(gate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.mean((2, 3), keepdim=True)
        scale = self.gate(self.expand(self.act(self.reduce(scale))))
        return x * scale


class DropPath(nn.Module):
    """Stochastic depth: drop a residual branch per sample while training."""

    def __init__(self, probability: float) -> None:
        super().__init__()
        self.probability = probability

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.probability == 0.0:
            return x
        keep = 1.0 - self.probability
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.probability}"


def optional_drop_path(probability: float) -> nn.Module:
    return DropPath(probability) if probability > 0 else nn.Identity()


class Residual(nn.Module):
    """``act(drop_path(body(x)) + shortcut(x))``; no shortcut module means identity."""

    def __init__(self, body: nn.Module, shortcut: nn.Module | None, activation: str, drop_path: float, shortcut_first: bool = False) -> None:
        super().__init__()
        # The registration order is the state dict's: ``shortcut_first`` follows references (timm's
        # Xception) that register the projection before the body.
        if shortcut_first:
            self.shortcut = shortcut
        self.body = body
        self.shortcut = shortcut
        self.drop_path = optional_drop_path(drop_path)
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        return self.act(self.drop_path(self.body(x)) + identity)

    def last_layer_to_zero(self) -> nn.Module | None:
        """The layer whose weight, zeroed, makes the branch start at zero (a proxy recipe's zero-init);
        None: the branch's last norm.  A block whose last norm feeds an activation overrides it."""
        return None


class LayerNorm2d(nn.LayerNorm):
    """Layer norm over the channels of an NCHW map, at each position (channels-first layout).

    ``nn.LayerNorm`` itself normalises the last dimension, which is the channels
    of a channels-last (NHWC) map; ConvNeXt uses both layouts, and a
    transformer's tokens are channels-last too.  Module parameters are
    ``weight`` and ``bias``, as torchvision's and timm's ``LayerNorm2d``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)
