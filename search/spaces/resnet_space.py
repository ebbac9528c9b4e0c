"""The `resnet` space: torchvision's ResNet constructor as knobs.

Four stages (strides 1, 2, 2, 2 after a stride-4 stem), one block kind for
all of them, as in torchvision:

* ``block``: ``basic`` (two 3x3) or ``bottleneck`` (1x1-3x3-1x1);
* ``stage<i>.depth`` and ``stage<i>.width``: blocks per stage and the
  stage's base width ("planes"): a basic block outputs ``width`` channels, a
  bottleneck ``4 * width``, as in torchvision;
* bottleneck only: ``groups`` (ResNeXt's cardinality) and
  ``bottleneck_ratio``, the 3x3's width over the block output (1/4 in ResNet,
  1/2 in ResNeXt-50 32x4d and Wide ResNet-50-2, 1 in ResNeXt-101).  The 3x3
  gets ``int(width * 4 * ratio / groups) * groups`` channels - torchvision's
  ``int(planes * width_per_group / 64) * groups`` with
  ``width_per_group = 256 * ratio / groups`` - so it always divides into the
  groups: no repair is needed;
* ``stage<i>.se``: SENet's squeeze-and-excitation (a sixteenth of the block
  output, after the last conv);
* ``stem``: one 7x7 conv, or ResNet-C's three 3x3 convs (``deep``);
  ``downsample``: the shortcut's strided 1x1, or ResNet-D's average pool then
  1x1;
* ``resolution_mult``.

Depths reach a little past ResNet-50's (3, 4, 6, 3) and widths to 1.5x its
(64, 128, 256, 512), not to ResNet-101/152 or ResNeXt-101: sampled nets stay
within a CPU's reach (median about 2 GMACs at 224 px).
"""

from __future__ import annotations

import math
from typing import Any

from search.spaces.base import KnobInfo, Space, SpaceContext, not_a_baseline, registered
from search.spaces.domains import Domain
from search.spaces.suggest import Suggest
from searchspace import (
    BasicSpec,
    BottleneckSpec,
    ConvSpec,
    HeadSpec,
    NetSpec,
    PoolSpec,
    Stage,
)
from searchspace.scaling import scale_resolution
from searchspace.zoo.resnet import DEPTHS, PLANES, SENET_SE

BOTTLENECK_EXPANSION = 4  # a bottleneck's output width over its base width, as torchvision's
STAGE_STRIDES = (1, 2, 2, 2)
DEPTH = (Domain.integers(1, 4), Domain.integers(1, 6), Domain.integers(1, 8), Domain.integers(1, 4))
WIDTH = (Domain.integers(32, 96, 16), Domain.integers(64, 192, 32), Domain.integers(128, 384, 64), Domain.integers(256, 768, 128))
BLOCK = Domain.choices(("basic", "bottleneck"))
GROUPS = Domain.choices((1, 2, 4, 8, 16, 32, 64))
BOTTLENECK_RATIO = Domain.choices((0.25, 0.5, 1.0))
SE = Domain.choices((False, True))
STEM = Domain.choices(("7x7", "deep"))
DOWNSAMPLE = Domain.choices(("conv1x1", "avgpool"))
RESOLUTION = Domain.choices((0.5, 0.625, 0.75, 0.875, 1.0))
BOTTLENECK_ONLY = "block == bottleneck"

# zoo name: (block, torchvision depth, groups, bottleneck ratio, SE, stem, downsample)
_BASELINES = {
    "resnet18": ("basic", 18, 1, 0.25, False, "7x7", "conv1x1"),
    "resnet34": ("basic", 34, 1, 0.25, False, "7x7", "conv1x1"),
    "resnet50": ("bottleneck", 50, 1, 0.25, False, "7x7", "conv1x1"),
    "resnext50_32x4d": ("bottleneck", 50, 32, 0.5, False, "7x7", "conv1x1"),
    "wide_resnet50_2": ("bottleneck", 50, 1, 0.5, False, "7x7", "conv1x1"),
    "seresnet50": ("bottleneck", 50, 1, 0.25, True, "7x7", "conv1x1"),
    "resnet50d": ("bottleneck", 50, 1, 0.25, False, "deep", "avgpool"),
}


def _stem(style: str) -> tuple[Stage, ...]:
    if style == "deep":  # ResNet-C: three 3x3 convs instead of the 7x7
        convs = (Stage(block=ConvSpec(out_channels=32), stride=2), Stage(block=ConvSpec(out_channels=32)), Stage(block=ConvSpec(out_channels=64)))
    else:
        convs = (Stage(block=ConvSpec(out_channels=64, kernel=7), stride=2),)
    return (*convs, Stage(block=PoolSpec(kernel=3, padding=1), stride=2))


class ResNetSpace(Space):
    name = "resnet"
    description = "torchvision's ResNet family: basic or bottleneck blocks, ResNeXt groups, width, depth, SENet SE, ResNet-C/D stems and shortcuts"

    @property
    def baselines(self) -> tuple[str, ...]:
        return registered(list(_BASELINES))

    def sample(self, suggest: Suggest, context: SpaceContext) -> NetSpec:
        stem = STEM.draw(suggest, "stem")
        block = BLOCK.draw(suggest, "block")
        if block == "bottleneck":
            groups, ratio = GROUPS.draw(suggest, "groups"), BOTTLENECK_RATIO.draw(suggest, "bottleneck_ratio")
        downsample = DOWNSAMPLE.draw(suggest, "downsample")
        stages = []
        for index, stride in enumerate(STAGE_STRIDES):
            depth = DEPTH[index].draw(suggest, f"stage{index}.depth")
            width = WIDTH[index].draw(suggest, f"stage{index}.width")
            se = SENET_SE if SE.draw(suggest, f"stage{index}.se") else None
            if block == "basic":
                spec = BasicSpec(out_channels=width, se=se, downsample=downsample)
            else:
                out = BOTTLENECK_EXPANSION * width
                mid = max(1, int(out * ratio / groups)) * groups
                spec = BottleneckSpec(out_channels=out, bottleneck_ratio=mid / out, groups=groups, se=se, se_position="seout", downsample=downsample)
            stages.append(Stage(block=spec, repeats=depth, stride=stride))
        spec = NetSpec(
            stem=_stem(stem), stages=tuple(stages), head=HeadSpec(),
            resolution=context.resolution, num_classes=context.num_classes, in_channels=context.in_channels,
        )
        multiplier = RESOLUTION.draw(suggest, "resolution_mult")
        return spec if multiplier == 1.0 else scale_resolution(spec, multiplier)

    def knobs(self) -> list[KnobInfo]:
        knobs = [
            KnobInfo.of("stem", STEM),
            KnobInfo.of("block", BLOCK),
            KnobInfo.of("groups", GROUPS, BOTTLENECK_ONLY),
            KnobInfo.of("bottleneck_ratio", BOTTLENECK_RATIO, BOTTLENECK_ONLY),
            KnobInfo.of("downsample", DOWNSAMPLE),
        ]
        for index in range(len(STAGE_STRIDES)):
            knobs += [
                KnobInfo.of(f"stage{index}.depth", DEPTH[index]),
                KnobInfo.of(f"stage{index}.width", WIDTH[index], note="base width: a bottleneck outputs 4x"),
                KnobInfo.of(f"stage{index}.se", SE),
            ]
        return [*knobs, KnobInfo.of("resolution_mult", RESOLUTION)]

    def log10_size(self) -> float:
        blocks = 1 + GROUPS.count() * BOTTLENECK_RATIO.count()  # basic, or bottleneck with its own two knobs
        per_stage = sum(d.log10_count() + w.log10_count() + SE.log10_count() for d, w in zip(DEPTH, WIDTH))
        return math.log10(blocks) + per_stage + STEM.log10_count() + DOWNSAMPLE.log10_count() + RESOLUTION.log10_count()

    def known_point(self, zoo_name: str) -> dict[str, Any]:
        if zoo_name not in _BASELINES:
            raise not_a_baseline(self, zoo_name)
        block, depth, groups, ratio, se, stem, downsample = _BASELINES[zoo_name]
        point: dict[str, Any] = {"stem": stem, "block": block, "downsample": downsample, "resolution_mult": 1.0}
        if block == "bottleneck":
            point.update(groups=groups, bottleneck_ratio=ratio)
        for index, (repeats, planes) in enumerate(zip(DEPTHS[depth], PLANES)):
            point.update({f"stage{index}.depth": repeats, f"stage{index}.width": planes, f"stage{index}.se": se})
        return point
