"""A stage-template space as an ordered list of entries: one per key, with the conditions it is asked under.

Sampling, the knob listing and the size count all walk these same entries,
so a knob is listed exactly when sampling can ask for it, under the
condition the listing prints.  An entry applies when all its conditions hold
on the values already resolved in its section (the stage, the stem, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from search.spaces.definition import (
    MULTIPLIER_KNOBS,
    Setting,
    StageDefinition,
    TemplateDefinition,
    possible_values,
)
from search.spaces.domains import Domain
from searchspace.stage_knobs import kind_conditions, kinds_using, resolution_order, stage_knobs

# Keys every stage has; the kind-specific ones follow, in the order the block kinds' recipes give.
COMMON_STAGE_ORDER = ("depth", "block", "width", "activation")


def stage_order() -> tuple[str, ...]:
    """Order in which a stage's keys are resolved: a key comes after every key its conditions read."""
    return COMMON_STAGE_ORDER + resolution_order()

SECTION_ORDER = {
    "stem": ("width", "kernel", "activation", "pool", "stride"),
    "head": ("width", "activation", "dropout"),
    "net": ("drop_path_rate", "norm_eps", "norm_momentum"),
}


@dataclass(frozen=True)
class Condition:
    key: str  # the section key it reads
    holds: Callable[[Any], bool]  # on that key's value (None when the key did not apply)
    text: str

    def outcome(self, setting: Setting | None) -> bool | None:
        """True or False when the setting decides it for every value, else None."""
        values = _values(setting)
        if values is None:
            return None
        results = {self.holds(v) for v in values}
        return results.pop() if len(results) == 1 else None


def _values(setting: Setting | None) -> tuple[Any, ...] | None:
    """The values a condition may see: None when the key is absent, none listed for a real range."""
    if setting is None:
        return (None,)
    if isinstance(setting, Domain) and setting.kind == "real":
        return None
    return possible_values(setting)


@dataclass(frozen=True)
class Entry:
    key: str  # key within its section
    name: str  # knob name
    setting: Setting
    conditions: tuple[Condition, ...] = ()
    shared: bool = False  # one value for every stage (knob name "stages.<key>")
    ordered: bool = False  # at least the previous present stage's value (non_decreasing)

    @property
    def is_knob(self) -> bool:
        return isinstance(self.setting, Domain)

    def applies(self, values: Mapping[str, Any]) -> bool:
        return all(c.holds(values.get(c.key)) for c in self.conditions)

    def when(self) -> str:
        return " and ".join(c.text for c in self.conditions)


@dataclass(frozen=True)
class StagePlan:
    index: int
    stride: int  # as declared
    entries: tuple[Entry, ...]
    pool_takes_stride: bool = False  # runs at stride 1 when the stem max-pools (see pool_stage_index)


@dataclass(frozen=True)
class TemplatePlan:
    stem: tuple[Entry, ...]
    stages: tuple[StagePlan, ...]
    head: tuple[Entry, ...]
    net: tuple[Entry, ...]
    multipliers: tuple[Entry, ...]

    def sections(self) -> list[tuple[Entry, ...]]:
        return [self.stem, *(s.entries for s in self.stages), self.head, self.net, self.multipliers]


def plan_template(definition: TemplateDefinition) -> TemplatePlan:
    return TemplatePlan(
        stem=_plain_section("stem", definition.stem),
        stages=tuple(_plan_stage(stage, definition) for stage in definition.stages),
        head=_head_entries(definition.head),
        net=_plain_section("net", definition.net),
        multipliers=tuple(Entry(key, MULTIPLIER_KNOBS[key], setting) for key, setting in definition.multipliers.items()),
    )


def _plain_section(section: str, settings: Mapping[str, Setting]) -> tuple[Entry, ...]:
    return tuple(Entry(key, f"{section}.{key}", settings[key]) for key in SECTION_ORDER[section])


def _head_entries(settings: Mapping[str, Setting]) -> tuple[Entry, ...]:
    # The head's activation follows its 1x1 conv: without the conv it does not exist.
    has_conv = Condition("width", lambda width: width > 0, "head.width > 0")
    entries = []
    for key in SECTION_ORDER["head"]:
        conditions = (has_conv,) if key == "activation" else ()
        entries.append(_entry(key, "head." + key, settings[key], conditions, {"width": settings["width"]}))
    return tuple(e for e in entries if e is not None)


def _plan_stage(stage: StageDefinition, definition: TemplateDefinition) -> StagePlan:
    def knob_name(key: str) -> str:
        return ("stages." if key in definition.shared else f"stage{stage.index}.") + key

    entries = []
    for key in stage_order():
        if key not in stage.settings:
            continue
        entry = _entry(
            key, knob_name(key), stage.settings[key], _stage_conditions(key, stage, knob_name), stage.settings,
            shared=key in definition.shared, ordered=key in definition.non_decreasing,
        )
        if entry is not None:
            entries.append(entry)
    return StagePlan(stage.index, stage.stride, tuple(entries), pool_takes_stride=stage.index == definition.pool_stage())


def _stage_conditions(key: str, stage: StageDefinition, knob_name: Callable[[str], str]) -> tuple[Condition, ...]:
    """When a stage key is asked, before dropping the conditions the stage's settings decide."""
    if key == "depth":
        return ()
    conditions = [Condition("depth", lambda depth: depth > 0, f"{knob_name('depth')} > 0")]
    knob = stage_knobs().get(key)
    if knob is None:  # a key every kind reads
        return tuple(conditions)
    kinds = stage.kinds()
    if not knob.every_kind:
        using = tuple(k for k in kinds_using(key) if k in kinds)
        text = f"{knob_name('block')} == {using[0]}" if len(using) == 1 else f"{knob_name('block')} in ({', '.join(using)})"
        conditions.append(Condition("block", lambda kind: kind in using, text))
    for required in knob.requires:
        conditions.append(Condition(required.key, required.holds, required.text(knob_name(required.key))))
    for kind, when in kind_conditions(key):
        if kind in kinds:
            # Other kinds leave the key ``when`` reads unset, so it holds for them.
            own = when.text(knob_name(when.key))
            text = own if kinds == (kind,) else f"({knob_name('block')} != {kind} or {own})"
            conditions.append(Condition(when.key, when.holds, text))
    return tuple(conditions)


def _entry(
    key: str, name: str, setting: Setting, conditions: tuple[Condition, ...], section: Mapping[str, Setting], **flags: bool,
) -> Entry | None:
    """The entry with the conditions its section's settings do not already decide; None if it never applies."""
    open_conditions = []
    for condition in conditions:
        outcome = condition.outcome(section.get(condition.key))
        if outcome is False:
            return None
        if outcome is None:
            open_conditions.append(condition)
    return Entry(key, name, setting, tuple(open_conditions), **flags)
