"""A small group of knobs asked together (a block's, the head's), some only when another knob has certain values.

The `mobile` space asks the same groups at many places (every block of every
stage), so a group is written once, with knob names relative to a prefix
(``stage3.block2.``).  Sampling (:func:`draw_group`), listing
(:func:`group_infos`), counting and the search for a known net's values
(:func:`group_settings`) all read the same :class:`GroupKnob` entries, so they
cannot disagree about which knob is asked when.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from search.spaces.base import KnobInfo
from search.spaces.domains import Domain
from search.spaces.suggest import Suggest


@dataclass(frozen=True)
class GroupKnob:
    """A knob of a group: ``key`` (its name after the prefix), its values, and when it is asked.

    ``needs`` names knobs of the same group asked before it; the knob is asked
    when any of them has one of ``needs_values`` (all of them when empty).
    """

    key: str
    domain: Domain
    needs: tuple[str, ...] = ()
    needs_values: tuple[Any, ...] = ()

    def applies(self, values: dict[str, Any]) -> bool:
        if not self.needs:
            return True
        return any(_among(values.get(other), self.needs_values) for other in self.needs)

    def when(self, prefix: str) -> str:
        if not self.needs:
            return ""
        allowed = ", ".join(_word(v) for v in self.needs_values)
        return " or ".join(f"{prefix}{other} in ({allowed})" for other in self.needs)


def _among(value: Any, choices: tuple[Any, ...]) -> bool:
    # True == 1 in Python: a flag must not match a number.
    return any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in choices)


def _word(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def draw_group(knobs: tuple[GroupKnob, ...], suggest: Suggest, prefix: str) -> dict[str, Any]:
    """The group's values, asking each knob that applies under the values drawn before it."""
    values: dict[str, Any] = {}
    for knob in knobs:
        if knob.applies(values):
            values[knob.key] = knob.domain.draw(suggest, prefix + knob.key)
    return values


def group_settings(knobs: tuple[GroupKnob, ...]) -> Iterator[dict[str, Any]]:
    """Every distinct setting of the group (each knob that applies takes each of its values)."""

    def extend(index: int, values: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if index == len(knobs):
            yield dict(values)
            return
        knob = knobs[index]
        if not knob.applies(values):
            yield from extend(index + 1, values)
            return
        for value in knob.domain.values if knob.domain.values is not None else knob.domain.integer_values():
            yield from extend(index + 1, {**values, knob.key: value})

    return extend(0, {})


def group_count(knobs: tuple[GroupKnob, ...]) -> int:
    return sum(1 for _ in group_settings(knobs))


def group_infos(knobs: tuple[GroupKnob, ...], prefix: str, when: str = "") -> list[KnobInfo]:
    """The group's knobs as listings show them; ``when`` is the condition under which the group is asked at all."""
    infos = []
    for knob in knobs:
        own = knob.when(prefix)
        condition = " and ".join(part if " or " not in part else f"({part})" for part in (when, own) if part)
        infos.append(KnobInfo.of(prefix + knob.key, knob.domain, condition))
    return infos
