"""A space whose knobs are all asked for every net, in one fixed order (`vit`, `shufflenet_v1`).

Such a space is a family's constructor with its arguments as knobs: nothing is
conditional, so the listing, the size and the draw all read one table of
domains and cannot disagree.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from search.spaces.base import KnobInfo, Space, SpaceContext
from search.spaces.domains import Domain
from search.spaces.suggest import Suggest
from searchspace import NetSpec
from searchspace.scaling import scale_resolution

RESOLUTION_MULT = Domain.choices((0.5, 0.625, 0.75, 0.875, 1.0))


class FlatSpace(Space):
    domains: dict[str, Domain]  # knob name -> its values, in the order they are asked
    notes: dict[str, str] = {}  # knob name -> what a listing adds about it

    def draw(self, suggest: Suggest) -> dict[str, Any]:
        return {name: domain.draw(suggest, name) for name, domain in self.domains.items()}

    def knobs(self) -> list[KnobInfo]:
        return [KnobInfo.of(name, domain, note=self.notes.get(name, "")) for name, domain in self.domains.items()]

    def log10_size(self) -> float:
        return sum(domain.log10_count() for domain in self.domains.values())


def sampled_resolution(context: SpaceContext, resolution_mult: float) -> int:
    """The input side a net drawn with ``resolution_mult`` gets, as :func:`deployed` gives it."""
    return max(1, round(context.resolution * resolution_mult))


def deployed(spec: NetSpec, context: SpaceContext, resolution_mult: float) -> NetSpec:
    """``spec`` with the context's input and classes, at the context's resolution times ``resolution_mult``."""
    spec = replace(spec, resolution=context.resolution, num_classes=context.num_classes, in_channels=context.in_channels)
    spec = spec if resolution_mult == 1.0 else scale_resolution(spec, resolution_mult)
    assert spec.resolution == sampled_resolution(context, resolution_mult)  # scale_resolution's rounding, restated
    return spec
