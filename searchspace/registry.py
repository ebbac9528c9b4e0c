"""The block-kind registry: spec class, builder and cost function side by side.

``blocks/__init__.py`` holds the one list of kinds; adding a kind means writing
its module and adding one line there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from searchspace.fields import SpecBase, SpecError
from searchspace.layers import BuildContext
from searchspace.shown import shown
from searchspace.tally import Tally

Builder = Callable[[SpecBase, int, int, BuildContext], nn.Module]
CostFunction = Callable[[SpecBase, Tally, int], None]


@dataclass(frozen=True)
class BlockKind:
    spec: type[SpecBase]
    build: Builder  # (spec, in_channels, stride, ctx) -> module
    cost: CostFunction  # (spec, tally at the block input, stride) -> None; advances the tally
    strides: tuple[int, ...] | None = (1, 2)  # allowed strides; None: any positive stride
    residual: bool = False  # whether stochastic depth applies to the block
    # Whether depth scaling may repeat it: pooling, norm and transition layers are
    # structure (each one downsamples or closes a dense block), not depth.
    depth_scalable: bool = True

    @property
    def name(self) -> str:
        return self.spec.kind


_KINDS: dict[str, BlockKind] = {}
_BY_CLASS: dict[type, BlockKind] = {}


def register(*kinds: BlockKind) -> None:
    for kind in kinds:
        if kind.name in _KINDS:
            raise RuntimeError(f"block kind {kind.name!r} is registered twice")
        _KINDS[kind.name] = kind
        _BY_CLASS[kind.spec] = kind


def _ensure_loaded() -> None:
    if not _KINDS:
        import searchspace.blocks  # noqa: F401  (registers every kind on import)


def kind_names() -> tuple[str, ...]:
    _ensure_loaded()
    return tuple(_KINDS)


def kind_by_name(name: str) -> BlockKind:
    _ensure_loaded()
    try:
        return _KINDS[name]
    except KeyError:
        raise SpecError(f"block kind {shown(name)} is not known (allowed: {', '.join(_KINDS)})") from None


def kind_of(spec: SpecBase) -> BlockKind:
    _ensure_loaded()
    try:
        return _BY_CLASS[type(spec)]
    except KeyError:
        raise SpecError(f"{type(spec).__name__} is not a registered block spec") from None
