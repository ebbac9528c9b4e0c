"""The block-kind registry: one entry per kind holds everything that is particular to the kind.

A :class:`BlockKind` carries the spec class, the builder and the cost function
side by side, and the rest of what other layers need to know about the kind:
how width scaling treats it, how a search space asks for it, which latency
family its own layers belong to.  Export needs nothing declared: it writes the
block's module classes from their own source.  Every list of kind names
elsewhere (searchable kinds, stage keys per kind, expanding kinds) is derived
from here; docs/adding_a_block_kind.md walks through adding one.

The built-in kinds (``blocks/__init__.py``) are always registered first, so a
plug-in that registers before anything else asked for a kind adds to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from torch import nn

from searchspace.fields import SpecBase, SpecError
from searchspace.layers import BuildContext
from searchspace.shown import shown
from searchspace.tally import Tally

if TYPE_CHECKING:
    from searchspace.stage_knobs import SearchRecipe

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
    # Width scaling: for a kind with an ``expand_ratio``, its expanded width from the
    # block's input width and the ratio (MobileNetV3's "absolute" widths rescale it).
    expanded_width: Callable[[int, float], int] | None = None
    # How stage-template search spaces ask for the kind (None: not searchable there).
    search: SearchRecipe | None = None
    # The latency family (evaluators/latency/features.py) of each layer op the kind's
    # cost function records beyond the tally's own (``Tally.layer``).
    latency_ops: Mapping[str, str] = field(default_factory=dict)
    # Whether it reads a token sequence (N, T, C) rather than a map (N, C, H, W); a kind that
    # turns a map into tokens reads a map and sets ``tally.tokens`` (docs/token_sequences.md).
    takes_tokens: bool = False

    @property
    def name(self) -> str:
        return self.spec.kind


_KINDS: dict[str, BlockKind] = {}
_BY_CLASS: dict[type, BlockKind] = {}
_builtins_loading = False


def _ensure_loaded() -> None:
    global _builtins_loading
    if not _builtins_loading:
        _builtins_loading = True  # set first: the import below registers through register()
        import searchspace.blocks  # noqa: F401  (registers every built-in kind on import)


def register(*kinds: BlockKind) -> None:
    _ensure_loaded()
    for kind in kinds:
        if kind.name in _KINDS:
            raise RuntimeError(f"block kind {kind.name!r} is registered twice")
        if kind.search is not None:
            from searchspace.stage_knobs import check_recipe

            check_recipe(kind.name, kind.search, [k.search for k in _KINDS.values() if k.search is not None])
        _KINDS[kind.name] = kind
        _BY_CLASS[kind.spec] = kind


def unregister(name: str) -> None:
    """Remove a kind registered by a plug-in (tests undo their registrations with it)."""
    kind = _KINDS.pop(name)
    del _BY_CLASS[kind.spec]


@contextmanager
def registered(*kinds: BlockKind) -> Iterator[None]:
    """The kinds registered for the duration of a ``with`` block."""
    register(*kinds)
    try:
        yield
    finally:
        for kind in kinds:
            unregister(kind.name)


def kind_names() -> tuple[str, ...]:
    _ensure_loaded()
    return tuple(_KINDS)


def all_kinds() -> tuple[BlockKind, ...]:
    _ensure_loaded()
    return tuple(_KINDS.values())


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


def expanding_kinds() -> tuple[str, ...]:
    """Kinds whose expanded width width scaling may set on its own (MobileNetV3's tables)."""
    return tuple(k.name for k in all_kinds() if k.expanded_width is not None)


def searchable_kinds() -> tuple[str, ...]:
    """Kinds a stage of a search space may be made of, in registration order."""
    return tuple(k.name for k in all_kinds() if k.search is not None)


def latency_op_families() -> dict[str, str]:
    """Layer op -> latency family, for the ops block kinds record beyond the tally's own."""
    return {op: family for kind in all_kinds() for op, family in kind.latency_ops.items()}
