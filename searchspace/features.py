"""Multi-scale feature maps of a net, for detection and segmentation backbones.

A net offers one map per reduction (2, 4, 8, 16, 32 as the net has them): the
last map the net computes at that reduction, which is what timm's
``features_only`` models give for ResNets, RegNets, DenseNets and MobileNetV3.
The head's 1x1 conv, where there is one, computes the last map at the deepest
reduction, so it is that map (MobileNetV3's 960 channels).  timm leaves this
conv out for EfficientNet, MobileNetV2 and MnasNet (it calls it ``conv_head``
there), so for those nets the deepest map here has the head's width (1280),
not the last block's (320).

Channels and reductions come from the spec's shape walk, before any weight
exists: :func:`feature_info` needs no module.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from searchspace.analysis import block_costs
from searchspace.blocks import AdaptivePoolSpec, TokensSpec
from searchspace.build import Net
from searchspace.fields import SpecError
from searchspace.spec import NetSpec

HEAD_CONV = "head.conv"


@dataclass(frozen=True)
class FeaturePoint:
    """One map a feature extractor can return."""

    index: int  # position among all of the net's feature points
    module: str  # the module that computes it: "stem.0", "stages.3.5" or "head.conv"
    channels: int
    reduction: int  # input size / map size, as a power of two
    block: int  # position of that module in the forward order of stem blocks, body blocks, head conv


class FeatureInfo:
    """Channels and reduction of each returned map, asked the way timm's ``feature_info`` is."""

    def __init__(self, points: Sequence[FeaturePoint]) -> None:
        self.points = tuple(points)

    def channels(self, index: int | None = None) -> list[int] | int:
        return self._get("channels", index)

    def reduction(self, index: int | None = None) -> list[int] | int:
        return self._get("reduction", index)

    def module_name(self, index: int | None = None) -> list[str] | str:
        return self._get("module", index)

    @property
    def out_indices(self) -> tuple[int, ...]:
        return tuple(p.index for p in self.points)

    def get_dicts(self) -> list[dict[str, object]]:
        return [{"num_chs": p.channels, "reduction": p.reduction, "module": p.module, "index": p.index} for p in self.points]

    def _get(self, attribute: str, index: int | None):
        # An index counts among the returned maps (timm counts among all of the net's).
        if index is None:
            return [getattr(p, attribute) for p in self.points]
        return getattr(self.points[index], attribute)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, index: int) -> FeaturePoint:
        return self.points[index]

    def __repr__(self) -> str:
        return f"FeatureInfo(channels={self.channels()}, reduction={self.reduction()})"


def _reduction(resolution: int, size: int) -> int:
    # As a power of two: odd resolutions (299) give maps of 35 or 17 px, which are
    # reductions 8 and 16 to anyone stacking a pyramid on them.
    return 2 ** round(math.log2(resolution / size))


def feature_points(spec: NetSpec) -> list[FeaturePoint]:
    """The last map at each reduction (>= 2), shallowest first, from the spec alone."""
    last: dict[int, tuple[str, int, int]] = {}
    blocks = block_costs(spec)
    for position, block in enumerate(blocks):
        if isinstance(block.spec, (AdaptivePoolSpec, TokensSpec)):
            # A map pooled to a fixed size has no reduction, nor has what follows (ConvNeXt's closing norm);
            # a token sequence is no map (a ViT's only map is its patch embedding's).
            break
        location = block.location.split(".")
        stage, index = int(location[1]), int(location[2])
        if location[0] == "stem":
            # build() flattens the stem stages into one list of blocks.
            flat = sum(s.repeats for s in spec.stem[:stage]) + index
            module = f"stem.{flat}"
        else:
            module = f"stages.{stage}.{index}"
        channels, height, _ = block.out_shape
        last[_reduction(spec.resolution, height)] = (module, channels, position)
    if spec.head.conv_channels and blocks:
        deepest = max(last)
        last[deepest] = (HEAD_CONV, spec.head.conv_channels, len(blocks))
    kept = sorted((r, m) for r, m in last.items() if r >= 2)
    return [FeaturePoint(i, module, channels, reduction, block) for i, (reduction, (module, channels, block)) in enumerate(kept)]


def select(points: Sequence[FeaturePoint], out_indices: Sequence[int] | None) -> list[FeaturePoint]:
    """The points ``out_indices`` picks (negative counts from the deepest); all of them for None."""
    if not points:
        raise SpecError("features_only: this net never reduces its input, so it has no feature maps at reductions 2, 4, 8, ...")
    if out_indices is None:
        return list(points)
    if not out_indices or isinstance(out_indices, (int, str)) or not all(isinstance(i, int) and not isinstance(i, bool) for i in out_indices):
        raise SpecError(f"out_indices = {out_indices!r} is not allowed: must be a non-empty sequence of integers, e.g. (1, 2, 3)")
    count = len(points)
    chosen = []
    for i in out_indices:
        if not -count <= i < count:
            raise SpecError(f"out_indices = {tuple(out_indices)!r} is not allowed: this net has {count} feature maps "
                            f"(reductions {', '.join(str(p.reduction) for p in points)}), so indices run from {-count} to {count - 1}")
        chosen.append(points[i % count])
    if len({p.index for p in chosen}) != len(chosen):
        raise SpecError(f"out_indices = {tuple(out_indices)!r} is not allowed: an index is given twice")
    return sorted(chosen, key=lambda p: p.index)


def feature_info(spec: NetSpec, out_indices: Sequence[int] | None = None) -> FeatureInfo:
    """What ``create_model(spec, features_only=True, out_indices=...)`` returns, without building it."""
    return FeatureInfo(select(feature_points(spec), out_indices))


class FeatureNet(nn.Module):
    """The part of a :class:`Net` that computes the chosen maps; forward returns them, shallowest first.

    Modules keep their names in the net (``stem.0``, ``stages.2.3``, ``head.conv``),
    so the net's state dict, less what is not needed, loads as it is.  Blocks after
    the deepest chosen map are dropped.
    """

    def __init__(self, net: Net, out_indices: Sequence[int] | None = None) -> None:
        super().__init__()
        self.spec = net.spec
        self.feature_info = feature_info(net.spec, out_indices)
        deepest = self.feature_info.points[-1].block
        self.stem = nn.Sequential(*list(net.stem)[:deepest + 1])
        self.stages = nn.Sequential()
        remaining = deepest + 1 - len(self.stem)
        for stage in net.stages:
            if remaining <= 0:
                break
            self.stages.append(nn.Sequential(*list(stage)[:remaining]))
            remaining -= len(stage)
        if self.feature_info.points[-1].module == HEAD_CONV:
            self.head = nn.ModuleDict({"conv": net.head.conv})
        self._taps = frozenset(p.block for p in self.feature_info.points)

    def _blocks(self) -> list[nn.Module]:
        blocks = [*self.stem, *(block for stage in self.stages for block in stage)]
        return [*blocks, self.head["conv"]] if hasattr(self, "head") else blocks

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        maps = []
        for position, block in enumerate(self._blocks()):
            x = block(x)
            if position in self._taps:
                maps.append(x)
        return maps
