"""Several spaces searched as one: a net is first a choice of part, then that part's own knobs.

Each part keeps its knobs under its name (``mobile.stage2.depth``), so two
parts that both have a ``stem.width`` never share a value, and optuna's
define-by-run sampling sees one conditional space: the ``part`` knob first,
then only the knobs of the part chosen.  A known net is a point of the union
when it is a point of one of its parts; its point is that part's, prefixed.

Why a union rather than one larger template: the parts differ in structure,
not only in ranges (``mobile`` chooses every block's kind, ``resnet`` is
torchvision's constructor, ``regnet`` its quantised widths), and each already
proves its own known points exact.  The union adds no knowledge of its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from search.spaces.base import KnobInfo, Space, SpaceContext, not_a_baseline
from search.spaces.suggest import Suggest
from searchspace import NetSpec

PART_KNOB = "part"


class _Prefixed:
    """A :class:`Suggest` that files every knob of one part under the part's name."""

    def __init__(self, suggest: Suggest, prefix: str) -> None:
        self.suggest, self.prefix = suggest, prefix

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self.suggest.categorical(f"{self.prefix}.{name}", choices)

    def integer(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        return self.suggest.integer(f"{self.prefix}.{name}", low, high, step=step, log=log)

    def real(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        return self.suggest.real(f"{self.prefix}.{name}", low, high, log=log)


class UnionSpace(Space):
    def __init__(self, name: str, description: str, parts: Sequence[Space]) -> None:
        if len({part.name for part in parts}) != len(parts) or not parts:
            raise ValueError("a union needs one or more parts with distinct names")
        self.name, self.description = name, description
        self.parts = {part.name: part for part in parts}

    @property
    def baselines(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for part in self.parts.values() for name in part.baselines))

    def sample(self, suggest: Suggest, context: SpaceContext) -> NetSpec:
        chosen = suggest.categorical(PART_KNOB, tuple(self.parts))
        return self.parts[chosen].sample(_Prefixed(suggest, chosen), context)

    def knobs(self) -> list[KnobInfo]:
        listed = [KnobInfo(PART_KNOB, "categorical", values=tuple(self.parts), note="which part's knobs follow")]
        for name, part in self.parts.items():
            knobs = part.knobs()
            # A condition names other knobs of its part: the longest name first, so stage1.depth is not read inside stage1.depth_x.
            pattern = re.compile("|".join(rf"(?<![\w.]){re.escape(k.name)}(?![\w.])"
                                          for k in sorted(knobs, key=lambda k: -len(k.name))))
            for knob in knobs:
                inner = pattern.sub(lambda match: f"{name}.{match.group(0)}", knob.when) if knob.when else ""
                when = f"{PART_KNOB} == {name}" + (f" and {inner}" if inner else "")
                listed.append(replace(knob, name=f"{name}.{knob.name}", when=when))
        return listed

    def log10_size(self) -> float:
        """log10 of the parts' sizes summed, computed without leaving log space (a part may hold 10^146)."""
        sizes = [part.log10_size() for part in self.parts.values()]
        top = max(sizes)
        return top + math.log10(sum(10 ** (size - top) for size in sizes))

    def known_point(self, zoo_name: str) -> dict[str, Any]:
        for name, part in self.parts.items():
            if zoo_name in part.baselines:
                return {PART_KNOB: name, **{f"{name}.{knob}": value for knob, value in part.known_point(zoo_name).items()}}
        raise not_a_baseline(self, zoo_name)
