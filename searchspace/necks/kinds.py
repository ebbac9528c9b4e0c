"""The neck-kind registry: a neck kind's spec class, builder and cost function side by side.

A neck reads the multi-scale maps of a backbone (shallowest first) and gives
maps of its own.  Like a block kind (searchspace/registry.py) it is built and
costed from its spec alone, the cost function driving one tally per level with
the same layers, in the same order, as the builder creates modules:

* builder ``(spec, in_channels per level, ctx) -> nn.Module`` whose forward maps a list of maps to a list;
* cost ``(spec, tallies) -> tallies``: each tally is at a level's input shape; the
  ones returned are at the output shapes.  Every layer is counted in exactly one of
  the returned tallies, so their sum is the neck's cost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from torch import nn

from searchspace.fields import SpecBase, SpecError
from searchspace.layers import BuildContext
from searchspace.shown import shown
from searchspace.tally import Tally

NeckBuilder = Callable[[SpecBase, Sequence[int], BuildContext], nn.Module]
NeckCost = Callable[[SpecBase, list[Tally]], list[Tally]]


@dataclass(frozen=True)
class NeckKind:
    spec: type[SpecBase]
    build: NeckBuilder
    cost: NeckCost

    @property
    def name(self) -> str:
        return self.spec.kind


_NECKS: dict[str, NeckKind] = {}


def register_necks(*kinds: NeckKind) -> None:
    for kind in kinds:
        if kind.name in _NECKS:
            raise RuntimeError(f"neck kind {kind.name!r} is registered twice")
        _NECKS[kind.name] = kind


def neck_names() -> tuple[str, ...]:
    return tuple(_NECKS)


def neck_by_name(name: str) -> NeckKind:
    try:
        return _NECKS[name]
    except KeyError:
        raise SpecError(f"neck kind {shown(name)} is not known (allowed: {', '.join(_NECKS)})") from None


def neck_of(spec: SpecBase) -> NeckKind:
    kind = _NECKS.get(spec.kind)
    if kind is None or not isinstance(spec, kind.spec):
        raise SpecError(f"{type(spec).__name__} is not a registered neck spec")
    return kind
