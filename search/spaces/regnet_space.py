"""RegNet spaces: nets from RegNet's quantized-linear parameters (searchspace.regnet.regnet_spec).

Knobs ``depth``, ``w0``, ``wa``, ``wm``, ``group_width``, ``bottleneck_ratio``,
``se`` (RegNetY's squeeze-and-excitation), ``se_ratio`` (asked only with SE)
and ``resolution_mult``, each fixed or searched as a space file says.  Every
setting is a valid net: regnet_spec shrinks a group width to the bottleneck
width and rounds widths to it.  The number of stages follows from the
parameters (pycls's RegNet sampler rejected nets without 4 stages; here they
stay in the space, so a study can filter them).

Baselines: every RegNet of the zoo whose published parameters lie inside
the ranges, found from ``searchspace.zoo.regnet.PARAMETERS``.
"""

from __future__ import annotations

import math
from typing import Any

from search.spaces.base import KnobInfo, Space, SpaceContext, not_a_baseline, registered
from search.spaces.definition import (
    RegNetDefinition,
    Setting,
    is_possible,
    possible_values,
)
from search.spaces.domains import Domain, Fixed
from search.spaces.suggest import Suggest
from searchspace import NetSpec
from searchspace.regnet import regnet_spec
from searchspace.scaling import scale_resolution
from searchspace.zoo.regnet import PARAMETERS

ORDER = ("depth", "w0", "wa", "wm", "group_width", "bottleneck_ratio", "se", "se_ratio")


class RegNetSpace(Space):
    def __init__(self, definition: RegNetDefinition) -> None:
        self.definition = definition
        self.name = definition.name
        self.description = definition.description
        self._settings: dict[str, Setting] = {**definition.settings, "resolution_mult": definition.resolution}
        self._points = {name: point for name in PARAMETERS if (point := self._zoo_point(name)) is not None}

    @property
    def baselines(self) -> tuple[str, ...]:
        return registered(list(self._points))

    def sample(self, suggest: Suggest, context: SpaceContext) -> NetSpec:
        values = {}
        for key in (*ORDER, "resolution_mult"):
            if key == "se_ratio" and not values["se"]:
                continue  # RegNetX: no squeeze-and-excitation, no ratio
            setting = self._settings[key]
            values[key] = setting.value if isinstance(setting, Fixed) else setting.draw(suggest, key)
        spec = regnet_spec(
            values["depth"], values["w0"], values["wa"], values["wm"], values["group_width"], values["bottleneck_ratio"],
            se_ratio=values["se_ratio"] if values["se"] else None,
            resolution=context.resolution, num_classes=context.num_classes, in_channels=context.in_channels,
        )
        multiplier = values["resolution_mult"]
        return spec if multiplier == 1.0 else scale_resolution(spec, multiplier)

    def knobs(self) -> list[KnobInfo]:
        se = self._settings["se"]
        knobs = []
        for key, setting in self._settings.items():
            if not isinstance(setting, Domain):
                continue
            if key != "se_ratio":
                knobs.append(KnobInfo.of(key, setting))
            elif se != Fixed(False):  # a RegNetX-only space never asks for the ratio
                knobs.append(KnobInfo.of(key, setting, "se == true" if isinstance(se, Domain) else ""))
        return knobs

    def log10_size(self) -> float:
        total = 0.0
        for key, setting in self._settings.items():
            if isinstance(setting, Domain) and key not in ("se", "se_ratio"):
                total += setting.log10_count()
        # The ratio exists only with SE: count (no SE) + (SE, each ratio).
        ratio = self._settings["se_ratio"]
        ratios = 10 ** ratio.log10_count() if isinstance(ratio, Domain) else 1
        return total + math.log10(sum(ratios if se else 1 for se in possible_values(self._settings["se"])))

    def known_point(self, zoo_name: str) -> dict[str, Any]:
        if zoo_name not in self._points:
            raise not_a_baseline(self, zoo_name)
        return dict(self._points[zoo_name])

    def _zoo_point(self, zoo_name: str) -> dict[str, Any] | None:
        """The knob values of a published RegNet, or None when it lies outside this space."""
        depth, w0, wa, wm, group_width, se_ratio = PARAMETERS[zoo_name]
        published = {
            "depth": depth, "w0": w0, "wa": wa, "wm": wm, "group_width": group_width, "bottleneck_ratio": 1.0,
            "se": se_ratio is not None, "resolution_mult": 1.0,
        }
        if se_ratio is not None:
            published["se_ratio"] = se_ratio
        if not all(is_possible(self._settings[key], value) for key, value in published.items()):
            return None
        return {key: value for key, value in published.items() if isinstance(self._settings[key], Domain)}
