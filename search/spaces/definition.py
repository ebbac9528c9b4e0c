"""A space file after validation: every key resolved to a fixed value or a domain.

The schema module turns raw YAML/JSON data into these; the space classes read
only these, so they never see unchecked input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from search.spaces.domains import Domain, Fixed

Setting = Fixed | Domain

# Global multipliers: file key -> knob name.
MULTIPLIER_KNOBS = {"width": "width_mult", "depth": "depth_mult", "resolution": "resolution_mult"}
# Stage keys that can be constrained to be non-decreasing from stage to stage.
ORDERABLE_KEYS = ("width", "depth")


def value_identity(value: Any) -> tuple[bool, Any]:
    """What makes two knob values the same: equal, and both flags or both not (True is not 1).  Hashable."""
    return isinstance(value, bool), value


def is_possible(setting: Setting, value: Any) -> bool:
    """Whether a setting can take ``value``."""
    if isinstance(setting, Fixed):
        return value_identity(setting.value) == value_identity(value)
    return setting.contains(value)


def possible_values(setting: Setting) -> tuple[Any, ...]:
    """Every value a fixed, categorical or integer setting can take (a real range has no list)."""
    if isinstance(setting, Fixed):
        return (setting.value,)
    if setting.kind == "real":
        raise TypeError("a real range has no list of values")
    return setting.values if setting.kind == "categorical" else tuple(setting.integer_values())


@dataclass(frozen=True)
class StageDefinition:
    index: int
    settings: Mapping[str, Setting]  # only the keys the file gives (directly or via all_stages)

    @property
    def stride(self) -> int:
        return self.settings["stride"].value

    def get(self, key: str) -> Setting | None:
        return self.settings.get(key)

    def kinds(self) -> tuple[str, ...]:
        return possible_values(self.settings["block"])

    def may_be_left_out(self) -> bool:
        return is_possible(self.settings["depth"], 0)


@dataclass(frozen=True)
class TemplateDefinition:
    """A space of nets written stage by stage (AnyNet-style)."""

    name: str
    description: str
    source: str  # "space file x.yaml" or "built-in space unified": prefixes messages
    stem: Mapping[str, Setting]
    stages: tuple[StageDefinition, ...]
    head: Mapping[str, Setting]
    net: Mapping[str, Setting]
    multipliers: Mapping[str, Setting]  # keys of MULTIPLIER_KNOBS
    shared: tuple[str, ...]
    non_decreasing: tuple[str, ...]
    baselines: Mapping[str, Mapping[str, Any]]  # zoo name -> knob values (flat names)

    def pool_stage(self) -> int | None:
        return pool_stage_index(self.stem, self.stages)


def pool_stage_index(stem: Mapping[str, Setting], stages: tuple[StageDefinition, ...]) -> int | None:
    """Index of the stage whose stride the stem's max-pool takes, when the stem may pool.

    A stem that pools downsamples 4x instead of 2x; the first stride-2 stage
    then runs at stride 1, so the net's total stride does not depend on the
    stem (ResNet's stem and first stage, in a MobileNet-like stage layout).
    """
    if not is_possible(stem["pool"], True):
        return None
    return next((s.index for s in stages if s.stride == 2), None)


@dataclass(frozen=True)
class RegNetDefinition:
    """A space of RegNets: the quantized-linear parameters of searchspace.regnet."""

    name: str
    description: str
    source: str
    settings: Mapping[str, Setting]  # depth, w0, wa, wm, group_width, bottleneck_ratio, se, se_ratio
    resolution: Setting  # the resolution multiplier
