"""Selective Kernel ResNets (SKNet) and ResNeSt (timm): ResNets whose 3x3 convs are SK or split-attention convs.

timm's ``skresnet*`` keep the plain ResNet layout (7x7 stem, strided 1x1
shortcuts) and split each SK conv's input between its two paths; the basic
nets narrow the attention (an eighth of the width, rounded to 16).  Its
``resnest*d`` nets are ResNet-D (deep 32-wide stem, average-pool shortcuts)
with radix-2 split attention and average-pool downsampling after the 3x3.
"""

from __future__ import annotations

from searchspace.blocks import SelectiveKernelSpec, SplitAttentionSpec
from searchspace.zoo.registry import Reference, ZooEntry, register
from searchspace.zoo.resnet import BASIC_DEPTHS, resnet_spec

# timm's skresnet18/34 sk_kwargs: rd_ratio 1/8, rd_divisor 16; skresnet50 keeps SelectiveKernel's defaults.
BASIC_SK = SelectiveKernelSpec(ratio=1 / 8, divisor=16)


def sknet_spatial(basic: bool) -> SelectiveKernelSpec:
    """The SK conv of timm's SKNet for a basic block or for a bottleneck."""
    return BASIC_SK if basic else SelectiveKernelSpec()


def _sknet(depth: int) -> ZooEntry:
    spatial = sknet_spatial(depth in BASIC_DEPTHS)
    name = f"skresnet{depth}"
    return ZooEntry(name, "sknet", lambda: resnet_spec(depth, spatial=spatial), Reference("timm", name, 224),
                    note="Selective Kernel Networks (Li et al., 2019), timm's variant: each path reads half the input channels")


def _resnest(depth: int) -> ZooEntry:
    name = f"resnest{depth}d"
    make = lambda: resnet_spec(depth, deep_stem=True, downsample="avgpool", spatial=SplitAttentionSpec())  # noqa: E731
    return ZooEntry(name, "resnest", make, Reference("timm", name, 224),
                    note="ResNeSt: Split-Attention Networks (Zhang et al., 2020): radix 2, one group, average-pool downsampling")


register(*(_sknet(depth) for depth in (18, 34, 50)), *(_resnest(depth) for depth in (14, 26, 50)))
