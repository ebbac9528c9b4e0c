"""A space whose knobs are all asked for every net, in one fixed order (`vit`, `shufflenet_v1`, `googlenet`, `densenet`,
`convnext`, `swin`, `xception`).

Such a space is a family's constructor with its arguments as knobs: nothing is
conditional, so the listing, the size and the draw all read one table of
domains and cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from search.spaces.base import KnobInfo, SpaceContext, TabledSpace
from search.spaces.domains import Domain
from search.spaces.suggest import Suggest
from searchspace import NetSpec
from searchspace.scaling import smallest_buildable

RESOLUTION_MULT = Domain.choices((0.5, 0.625, 0.75, 0.875, 1.0))


class FlatSpace(TabledSpace):
    domains: dict[str, Domain]  # knob name -> its values, in the order they are asked
    notes: dict[str, str] = {}  # knob name -> what a listing adds about it
    raise_to_build = False  # see deployed()

    def sample(self, suggest: Suggest, context: SpaceContext) -> NetSpec:
        values = {name: domain.draw(suggest, name) for name, domain in self.domains.items()}
        return deployed(self.net(values, context), context, values["resolution_mult"], raise_to_build=self.raise_to_build)

    def net(self, values: dict[str, Any], context: SpaceContext) -> NetSpec:
        """The family's net for the drawn ``values`` (every space here has ``resolution_mult``, which sample applies)."""
        raise NotImplementedError

    def knobs(self) -> list[KnobInfo]:
        return [KnobInfo.of(name, domain, note=self.notes.get(name, "")) for name, domain in self.domains.items()]

    def log10_size(self) -> float:
        return sum(domain.log10_count() for domain in self.domains.values())


def per_stage(template: str, items: Sequence[Any]) -> dict[str, Any]:
    """``{template.format(i): item}`` in order: a family's per-stage knobs (``"stage{}.depth"``), or their values."""
    return {template.format(index): item for index, item in enumerate(items)}


def stage_values(values: dict[str, Any], template: str, count: int) -> tuple[Any, ...]:
    """The drawn values of the ``count`` per-stage knobs named by ``template``, in order."""
    return tuple(values[template.format(index)] for index in range(count))


def sampled_resolution(context: SpaceContext, resolution_mult: float) -> int:
    """The input side a net drawn with ``resolution_mult`` gets: scale_resolution's rounding, from the context."""
    return max(1, round(context.resolution * resolution_mult))




def deployed(spec: NetSpec, context: SpaceContext, resolution_mult: float, *, raise_to_build: bool = False) -> NetSpec:
    """``spec`` with the context's input and classes, at the context's resolution times ``resolution_mult``.

    ``raise_to_build``: a layout whose unpadded pools need a map of at least 2 (DenseNet's
    transitions, GoogLeNet's ceil-mode pools) takes the smallest resolution above the drawn one
    that it builds at, so every draw is a net; where the zoo net builds, nothing changes.
    """
    resolution = sampled_resolution(context, resolution_mult)
    target = replace(spec, num_classes=context.num_classes, in_channels=context.in_channels)
    # Where no side in reach builds, the drawn one comes back and building it reports the layout's own error.
    return replace(target, resolution=smallest_buildable(target, resolution) if raise_to_build else resolution)
