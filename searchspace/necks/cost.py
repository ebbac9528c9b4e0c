"""The cost of a backbone with necks, part by part, from the spec alone.

The backbone's part is what its feature extractor runs: the stem and body
blocks up to the deepest map the necks read (and the head's 1x1 conv where
that map is its output), as :class:`searchspace.features.FeatureNet` keeps
them.  Each neck's part is what its cost function counts on the levels it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from searchspace.analysis import BlockCost, block_costs
from searchspace.features import HEAD_CONV, FeaturePoint, feature_points
from searchspace.fields import SpecError
from searchspace.necks.kinds import neck_of
from searchspace.tally import Tally

if TYPE_CHECKING:
    from searchspace.necks.spec import BackboneNeckSpec

Shape = tuple[int, int, int]


@dataclass(frozen=True)
class PartCost:
    name: str  # "backbone", or the neck's kind
    params: int
    macs: int
    activations: int
    out_shapes: tuple[Shape, ...]  # the maps it gives, shallowest first


@dataclass(frozen=True)
class BackboneNeckCost:
    parts: tuple[PartCost, ...]  # the backbone, then each neck in order

    @property
    def params(self) -> int:
        return sum(p.params for p in self.parts)

    @property
    def macs(self) -> int:
        return sum(p.macs for p in self.parts)

    @property
    def activations(self) -> int:
        return sum(p.activations for p in self.parts)

    @property
    def out_shapes(self) -> tuple[Shape, ...]:
        return self.parts[-1].out_shapes


def chosen_points(spec: BackboneNeckSpec) -> list[FeaturePoint]:
    """The backbone's feature points at the spec's strides."""
    by_reduction = {p.reduction: p for p in feature_points(spec.backbone)}
    missing = [s for s in spec.strides if s not in by_reduction]
    if missing:
        raise SpecError(
            f"backbone_neck.strides = {spec.strides} is not allowed: the backbone has maps at reductions "
            f"{', '.join(map(str, sorted(by_reduction)))}, not {', '.join(map(str, missing))}"
        )
    return [by_reduction[s] for s in spec.strides]


def _point_shape(point: FeaturePoint, blocks: list[BlockCost]) -> Shape:
    _, height, width = blocks[min(point.block, len(blocks) - 1)].out_shape
    return (point.channels, height, width)


def backbone_cost(spec: BackboneNeckSpec) -> PartCost:
    points, blocks = chosen_points(spec), block_costs(spec.backbone)
    run = blocks[:points[-1].block + 1]
    params, macs, acts = (sum(getattr(b, field) for b in run) for field in ("params", "macs", "activations"))
    if points[-1].module == HEAD_CONV:
        head = Tally(*blocks[-1].out_shape).conv(spec.backbone.head.conv_channels, 1)
        params, macs, acts = params + head.params, macs + head.macs, acts + head.acts
    return PartCost("backbone", params, macs, acts, tuple(_point_shape(p, blocks) for p in points))


def neck_cost(neck, in_shapes: tuple[Shape, ...], where: str) -> PartCost:
    levels = [Tally(*shape) for shape in in_shapes]
    try:
        levels = neck_of(neck).cost(neck, levels)
    except SpecError as error:
        raise SpecError(f"{where} ({neck.kind}): {error}") from None
    return PartCost(neck.kind, *(sum(getattr(t, field) for t in levels) for field in ("params", "macs", "acts")),
                    tuple(t.shape for t in levels))


def analyze_backbone_neck(spec: BackboneNeckSpec) -> BackboneNeckCost:
    parts = [backbone_cost(spec)]
    for i, neck in enumerate(spec.necks):
        parts.append(neck_cost(neck, parts[-1].out_shapes, f"necks[{i}]"))
    return BackboneNeckCost(tuple(parts))


def backbone_neck_cost(spec: BackboneNeckSpec) -> BackboneNeckCost:
    """The cost computed when the spec was validated."""
    return spec._analysis  # type: ignore[attr-defined]
