"""A search space's stage values to a block spec, by the kind's search recipe (the kinds live in searchspace/blocks/).

The block kinds themselves, and their recipes (searchspace/stage_knobs.py),
live in ``searchspace/blocks/``; this module only looks up the recipe of the
kind a stage drew.  Recipes repair combinations a block does
not allow, keeping the stage's output width as the knobs say (grouped
bottlenecks round their 3x3 to the group width; shuffle units take an even width).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from searchspace.fields import SpecBase
from searchspace.registry import kind_by_name
from searchspace.stage_knobs import SearchRecipe


def _recipe(kind: str) -> SearchRecipe:
    recipe = kind_by_name(kind).search
    if recipe is None:
        raise ValueError(f"block kind {kind!r} is not searchable")
    return recipe


def stage_width(kind: str, width: int) -> int:
    """The width a block of ``kind`` can have, nearest to ``width``."""
    return _recipe(kind).width(width)


def make_block(kind: str, width: int, values: Mapping[str, Any]) -> SpecBase:
    """The block spec of a stage; ``values`` holds the stage keys its kind uses (absent: the key's default)."""
    return _recipe(kind).block(width, values)
