"""The `resnet` space: torchvision's ResNet constructor as knobs.

Four stages (strides 1, 2, 2, 2 after a stride-4 stem), one block kind for
all of them, as in torchvision:

* ``block``: ``basic`` (two 3x3), ``bottleneck`` (1x1-3x3-1x1) or
  ``preact``, ResNet v2's pre-activation bottleneck (norm and activation
  before each conv, blocks/preact.py): the stem's last conv is then bare and
  a final norm-act closes the body, as in timm's ``resnetv2_50``;
* ``stage<i>.depth`` and ``stage<i>.width``: blocks per stage and the
  stage's base width ("planes"): a basic block outputs ``width`` channels, a
  bottleneck ``4 * width``, as in torchvision;
* bottlenecks (either kind) only: ``groups`` (ResNeXt's cardinality) and
  ``bottleneck_ratio``, the 3x3's width over the block output (1/4 in ResNet,
  1/2 in ResNeXt-50 32x4d and Wide ResNet-50-2, 1 in ResNeXt-101).  The 3x3
  gets ``int(width * 4 * ratio / groups) * groups`` channels - torchvision's
  ``int(planes * width_per_group / 64) * groups`` with
  ``width_per_group = 256 * ratio / groups`` - so it always divides into the
  groups (an SK or split-attention 3x3 rounds it to whole shares of its two
  paths or splits per group);
* ``stage<i>.se``: an attention module after the block's last conv, and
  ``stage<i>.attention`` which one, as timm's ``attn_layer``: SENet's SE (a
  sixteenth of the block output), ECA, CBAM, Gather-Excite or global context,
  each with its paper's settings; in a bottleneck, ``attention_position``
  (asked once, at the first stage with attention) puts it after the last 1x1
  (timm's ResNet) or after the 3x3 (GCNet's ``gcresnet50t``); a basic block
  has it after its second 3x3, a pre-activation one after its 3x3;
* ``stage<i>.bam`` (not after the last stage): a BAM after the stage, where
  the next one downsamples, as in the BAM paper;
* ``spatial_conv`` (not for ``preact``): every block's 3x3 as a plain conv, SKNet's selective-kernel
  conv (timm's settings for basic blocks and for bottlenecks) or ResNeSt's
  split attention (radix 2);
* ``stem``: one 7x7 conv, ResNet-C's three 3x3 convs (``deep``), both
  before a max pool, or timm's ``tiered`` stem (3x3 convs of 24, 32 and 64
  channels, the first and the last strided, no pool);
  ``downsample``: the shortcut's strided 1x1, or ResNet-D's average pool then
  1x1;
* ``resolution_mult``.

So SE-, ECA-, CBAM-, GE-, GC- and BAM-ResNet-50, ResNet-50-C/D, SKNet, ResNeSt
(14d, 26d, 50d) and ResNet v2-50 (and -50d) are points too.

Depths reach a little past ResNet-50's (3, 4, 6, 3) and widths to 1.5x its
(64, 128, 256, 512), not to ResNet-101/152 or ResNeXt-101: sampled nets stay
within a CPU's reach (median about 2.3 GMACs at 224 px, ``python -m benchmarks.space_macs resnet``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
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
    NormActSpec,
    PoolSpec,
    Stage,
)
from searchspace.blocks import PreActBottleneckSpec
from searchspace.blocks.attention import AttentionSpec, attention_kinds
from searchspace.blocks.spatial import SpatialConvSpec
from searchspace.scaling import scale_resolution
from searchspace.stage_knobs import SPATIAL_CONVS, bam_from_knobs, se_from_knobs, spatial_from_knobs
from searchspace.zoo.attention_resnets import strided_stem
from searchspace.zoo.resnet import BASIC_DEPTHS, DEPTHS, PLANES
from searchspace.zoo.sknet_resnest import sknet_spatial

BOTTLENECK_EXPANSION = 4  # a bottleneck's output width over its base width, as torchvision's
STAGE_STRIDES = (1, 2, 2, 2)
DEPTH = (Domain.integers(1, 4), Domain.integers(1, 6), Domain.integers(1, 8), Domain.integers(1, 4))
WIDTH = (Domain.integers(32, 96, 16), Domain.integers(64, 192, 32), Domain.integers(128, 384, 64), Domain.integers(256, 768, 128))
BLOCK = Domain.choices(("basic", "bottleneck", "preact"))
BOTTLENECKS = ("bottleneck", "preact")
GROUPS = Domain.choices((1, 2, 4, 8, 16, 32, 64))
BOTTLENECK_RATIO = Domain.choices((0.25, 0.5, 1.0))
SE = Domain.choices((False, True))
ATTENTION = Domain.choices(attention_kinds())
BAM = Domain.choices((False, True))
SPATIAL_CONV = Domain.choices(SPATIAL_CONVS)
STEM = Domain.choices(("7x7", "deep", "tiered"))
TIERED_STEM = (24, 32, 64)  # timm's "tiered" stem widths (gcresnet50t)
ATTENTION_POSITION = Domain.choices(("seout", "semid"))
DOWNSAMPLE = Domain.choices(("conv1x1", "avgpool"))
RESOLUTION = Domain.choices((0.5, 0.625, 0.75, 0.875, 1.0))
BOTTLENECK_ONLY = "block in (bottleneck, preact)"
SPATIAL_SPLITS = 2  # SKNet's two paths, ResNeSt's radix 2 (the settings _spatial gives)


@dataclass(frozen=True)
class _Known:
    """A known net as this space's knobs: torchvision's depth (basic blocks for 18 and 34) and what differs from ResNet's."""

    depth: int
    groups: int = 1
    bottleneck_ratio: float = 0.25
    attention: str | None = None  # in every block
    stem: str = "7x7"
    downsample: str = "conv1x1"
    spatial_conv: str = "plain"
    bam: bool = False  # after every stage but the last
    attention_position: str = "seout"  # timm's ResNet: after the last 1x1
    preact: bool = False  # ResNet v2

    @property
    def block(self) -> str:
        if self.preact:
            return "preact"
        return "basic" if self.depth in BASIC_DEPTHS else "bottleneck"


_RESNET_D = {"stem": "deep", "downsample": "avgpool"}
_BASELINES = {
    "resnet18": _Known(18),
    "resnet34": _Known(34),
    "resnet50": _Known(50),
    "resnext50_32x4d": _Known(50, groups=32, bottleneck_ratio=0.5),
    "wide_resnet50_2": _Known(50, bottleneck_ratio=0.5),
    "seresnet50": _Known(50, attention="se"),
    "ecaresnet50d": _Known(50, attention="eca", **_RESNET_D),
    "cbam_resnet50": _Known(50, attention="cbam"),
    "ge_resnet50": _Known(50, attention="ge"),
    "bam_resnet50": _Known(50, bam=True),
    "resnet50c": _Known(50, stem="deep"),
    "resnet50d": _Known(50, **_RESNET_D),
    "skresnet18": _Known(18, spatial_conv="sk"),
    "skresnet34": _Known(34, spatial_conv="sk"),
    "skresnet50": _Known(50, spatial_conv="sk"),
    "resnest14d": _Known(14, spatial_conv="splat", **_RESNET_D),
    "resnest26d": _Known(26, spatial_conv="splat", **_RESNET_D),
    "resnest50d": _Known(50, spatial_conv="splat", **_RESNET_D),
    "gcresnet50t": _Known(50, attention="gc", attention_position="semid", stem="tiered"),
    "resnetv2_50": _Known(50, preact=True),
    "resnetv2_50d": _Known(50, preact=True, **_RESNET_D),
}


def _attention(kind: str) -> AttentionSpec | None:
    """timm's ``attn_layer`` after a block's last conv: SENet's SE (a sixteenth of the output) or another module's defaults."""
    return se_from_knobs({"se": True, "attention": kind, "se_style": "output", "activation": "relu"})


def _spatial(choice: str, block: str) -> SpatialConvSpec | None:
    """The 3x3 every block uses; SKNet narrows a basic block's SK attention (zoo.sknet_resnest)."""
    return sknet_spatial(block == "basic") if choice == "sk" else spatial_from_knobs({"spatial_conv": choice})


def _stem(style: str, preact: bool) -> tuple[Stage, ...]:
    if style == "tiered":  # its last conv downsamples in place of the max pool
        convs, pool = strided_stem(TIERED_STEM), ()
    else:
        if style == "deep":  # ResNet-C: three 3x3 convs instead of the 7x7
            convs = (Stage(block=ConvSpec(out_channels=32), stride=2), Stage(block=ConvSpec(out_channels=32)), Stage(block=ConvSpec(out_channels=64)))
        else:
            convs = (Stage(block=ConvSpec(out_channels=64, kernel=7), stride=2),)
        pool = (Stage(block=PoolSpec(kernel=3, padding=1), stride=2),)
    if preact:  # the first block's pre-activation normalises the stem's output, so its last conv is bare
        last = convs[-1]
        convs = (*convs[:-1], replace(last, block=replace(last.block, norm=False, activation="identity")))
    return (*convs, *pool)


def _block(net: dict[str, Any], width: int, attention: str | None) -> BasicSpec | BottleneckSpec | PreActBottleneckSpec:
    """A stage's block; ``net`` holds the choices every stage shares (block, groups, bottleneck_ratio, downsample,
    spatial_conv, attention_position)."""
    se = _attention(attention) if attention else None
    if net["block"] == "preact":
        out = BOTTLENECK_EXPANSION * width
        mid = max(1, int(out * net["bottleneck_ratio"] / net["groups"])) * net["groups"]
        return PreActBottleneckSpec(out_channels=out, bottleneck_ratio=mid / out, groups=net["groups"], se=se, downsample=net["downsample"])
    spatial = _spatial(net["spatial_conv"], net["block"])
    if net["block"] == "basic":
        return BasicSpec(out_channels=width, se=se, downsample=net["downsample"], spatial=spatial)
    out = BOTTLENECK_EXPANSION * width
    # SK's paths and ResNeSt's radix splits each read a share of the 3x3's input per group: round to whole shares.
    unit = net["groups"] * (1 if spatial is None else SPATIAL_SPLITS)
    mid = max(1, int(out * net["bottleneck_ratio"] / unit)) * unit
    return BottleneckSpec(out_channels=out, bottleneck_ratio=mid / out, groups=net["groups"], se=se,
                          se_position=net.get("attention_position", "seout"), downsample=net["downsample"], spatial=spatial)


def _draw_attention(suggest: Suggest, net: dict[str, Any], index: int) -> str | None:
    """Stage ``index``'s attention module, if any; a bottleneck net's first one also draws where all of them sit."""
    if not SE.draw(suggest, f"stage{index}.se"):
        return None
    attention = ATTENTION.draw(suggest, f"stage{index}.attention")
    if net["block"] == "bottleneck" and "attention_position" not in net:
        net["attention_position"] = ATTENTION_POSITION.draw(suggest, "attention_position")
    return attention


def _takes_bam(index: int) -> bool:
    return index < len(STAGE_STRIDES) - 1  # a BAM goes where the next stage downsamples


class ResNetSpace(Space):
    name = "resnet"
    description = ("torchvision's and timm's ResNet family: basic or bottleneck blocks, ResNeXt groups, width, depth, "
                   "per-stage attention (SE, ECA, CBAM, GE, GC) and BAM, SK or split-attention 3x3s, ResNet-C/D stems and shortcuts")

    @property
    def baselines(self) -> tuple[str, ...]:
        return registered(list(_BASELINES))

    def sample(self, suggest: Suggest, context: SpaceContext) -> NetSpec:
        stem = STEM.draw(suggest, "stem")
        net = {"block": BLOCK.draw(suggest, "block")}
        if net["block"] in BOTTLENECKS:
            net.update(groups=GROUPS.draw(suggest, "groups"), bottleneck_ratio=BOTTLENECK_RATIO.draw(suggest, "bottleneck_ratio"))
        net["downsample"] = DOWNSAMPLE.draw(suggest, "downsample")
        if net["block"] != "preact":
            net["spatial_conv"] = SPATIAL_CONV.draw(suggest, "spatial_conv")
        stages = []
        for index, stride in enumerate(STAGE_STRIDES):
            depth = DEPTH[index].draw(suggest, f"stage{index}.depth")
            width = WIDTH[index].draw(suggest, f"stage{index}.width")
            attention = _draw_attention(suggest, net, index)
            stages.append(Stage(block=_block(net, width, attention), repeats=depth, stride=stride))
            if _takes_bam(index) and BAM.draw(suggest, f"stage{index}.bam"):
                stages.append(Stage(block=bam_from_knobs({"bam": True})))
        if net["block"] == "preact":  # the sums carry no activation: a final norm-act closes the body
            stages.append(Stage(block=NormActSpec()))
        spec = NetSpec(
            stem=_stem(stem, net["block"] == "preact"), stages=tuple(stages), head=HeadSpec(),
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
            KnobInfo.of("spatial_conv", SPATIAL_CONV, "block != preact", note="the 3x3 of every block"),
            KnobInfo.of("attention_position", ATTENTION_POSITION, "block == bottleneck and any stage<i>.se == true",
                        note="seout: after the last 1x1; semid: after the 3x3"),
        ]
        for index in range(len(STAGE_STRIDES)):
            knobs += [
                KnobInfo.of(f"stage{index}.depth", DEPTH[index]),
                KnobInfo.of(f"stage{index}.width", WIDTH[index], note="base width: a bottleneck outputs 4x"),
                KnobInfo.of(f"stage{index}.se", SE),
                KnobInfo.of(f"stage{index}.attention", ATTENTION, f"stage{index}.se == true"),
            ]
            if _takes_bam(index):
                knobs.append(KnobInfo.of(f"stage{index}.bam", BAM))
        return [*knobs, KnobInfo.of("resolution_mult", RESOLUTION)]

    def log10_size(self) -> float:
        attention = (1 + ATTENTION.count()) ** len(STAGE_STRIDES)  # per stage: none, or se on with one of the modules
        # A bottleneck net with any attention also chose its position; a pre-activation one has no spatial_conv.
        bottleneck_attention = 1 + ATTENTION_POSITION.count() * (attention - 1)
        bottleneck = GROUPS.count() * BOTTLENECK_RATIO.count()
        blocks = (SPATIAL_CONV.count() * (attention + bottleneck * bottleneck_attention)  # basic, bottleneck
                  + bottleneck * attention)  # preact
        per_stage = sum(d.log10_count() + w.log10_count() + (BAM.log10_count() if _takes_bam(i) else 0)
                        for i, (d, w) in enumerate(zip(DEPTH, WIDTH)))
        net = STEM.log10_count() + DOWNSAMPLE.log10_count() + RESOLUTION.log10_count()
        return math.log10(blocks) + per_stage + net

    def known_point(self, zoo_name: str) -> dict[str, Any]:
        if zoo_name not in _BASELINES:
            raise not_a_baseline(self, zoo_name)
        known = _BASELINES[zoo_name]
        point: dict[str, Any] = {"stem": known.stem, "block": known.block, "downsample": known.downsample, "resolution_mult": 1.0}
        if known.block != "preact":
            point["spatial_conv"] = known.spatial_conv
        if known.block in BOTTLENECKS:
            point.update(groups=known.groups, bottleneck_ratio=known.bottleneck_ratio)
        if known.block == "bottleneck" and known.attention:
            point["attention_position"] = known.attention_position
        for index, (repeats, planes) in enumerate(zip(DEPTHS[known.depth], PLANES)):
            point.update({f"stage{index}.depth": repeats, f"stage{index}.width": planes, f"stage{index}.se": known.attention is not None})
            if known.attention:
                point[f"stage{index}.attention"] = known.attention
            if _takes_bam(index):
                point[f"stage{index}.bam"] = known.bam
        return point
