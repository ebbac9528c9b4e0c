"""How many knob settings a stage-template space has, following its conditions exactly.

The count is of distinct settings of the knobs that apply, not of distinct
nets: repairs and multipliers can map two settings to one net, so it is an
upper bound on the nets.  A real knob counts as 100 values.  Keys are
counted only where they apply (an expansion only for the blocks that have
one, nothing but the depth for a stage left out), a shared knob once, and a
``non_decreasing`` key as the number of non-decreasing sequences.

The walk mirrors sampling: branch on the values that later conditions read,
multiply the counts of everything else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from search.spaces.definition import Setting, TemplateDefinition, possible_values
from search.spaces.domains import REAL_KNOB_LOG10_VALUES, Domain, Fixed
from search.spaces.plan import Condition, Entry, TemplatePlan

REAL_KNOB_VALUES = round(10**REAL_KNOB_LOG10_VALUES)
_DECIDED = "decided"  # a shared knob whose value no condition reads: only that it was counted matters

Branch = tuple[int, dict[str, Any], dict[str, Any]]  # (weight, shared values after, ordered keys applied -> setting)


def count_template(plan: TemplatePlan, definition: TemplateDefinition) -> int:
    total = 1
    for section in (plan.stem, plan.head, plan.net, plan.multipliers):
        total *= sum(weight for weight, _, _ in _branches(section, {}, frozenset()))
    ordered = set(definition.non_decreasing)
    separate = frozenset()
    if "depth" in ordered:
        # Constrained depths mean no stage can be left out, so the depth sequence is
        # independent of every other knob and is counted on its own.
        total *= _non_decreasing_sequences(stage.settings["depth"] for stage in definition.stages)
        separate = frozenset({"depth"})
    track_width = "width" in ordered
    # shared values so far -> {last present stage's width (None before any, or untracked) -> settings}
    states: dict[tuple, dict[int | None, int]] = {(): {None: 1}}
    for stage in plan.stages:
        following: dict[tuple, dict[int | None, int]] = defaultdict(lambda: defaultdict(int))
        for shared, by_width in states.items():
            for weight, shared_after, applied in _branches(stage.entries, dict(shared), separate):
                target = following[tuple(sorted(shared_after.items()))]
                if track_width and "width" in applied:
                    for width, settings in _at_least_previous(by_width, possible_values(applied["width"])):
                        target[width] += weight * settings
                else:
                    for width, settings in by_width.items():
                        target[width] += weight * settings
        states = following
    return total * sum(sum(by_width.values()) for by_width in states.values())


def _at_least_previous(by_width: dict[int | None, int], widths: list[int]) -> list[tuple[int, int]]:
    """For each width, the settings so far whose last width is at most it (prefix sums, both sorted)."""
    previous = sorted((w, n) for w, n in by_width.items() if w is not None)
    running = by_width.get(None, 0)  # no stage yet: any width may follow
    result, index = [], 0
    for width in sorted(widths):
        while index < len(previous) and previous[index][0] <= width:
            running += previous[index][1]
            index += 1
        result.append((width, running))
    return result


def _branches(entries: tuple[Entry, ...], shared: dict[str, Any], separate: frozenset[str]) -> list[Branch]:
    """Every distinguishable way through one section, with its number of settings."""
    readers: dict[str, list[Condition]] = defaultdict(list)
    for entry in entries:
        for condition in entry.conditions:
            readers[condition.key].append(condition)
    branches: list[tuple[int, dict, dict, dict]] = [(1, {}, dict(shared), {})]  # (weight, values, shared, applied)
    for entry in entries:
        grown = []
        for weight, values, shared_now, applied in branches:
            if not entry.applies(values):
                grown.append((weight, values, shared_now, applied))
                continue
            for factor, value, new_shared, ordered in _choices(entry, readers.get(entry.key, []), shared_now, separate):
                grown.append((
                    weight * factor,
                    {**values, entry.key: value},
                    {**shared_now, **new_shared},
                    {**applied, **ordered},
                ))
        branches = grown
    merged: dict[tuple, list] = {}
    for weight, _, shared_now, applied in branches:
        key = (tuple(sorted(shared_now.items())), tuple(sorted((k, repr(v)) for k, v in applied.items())))
        if key in merged:
            merged[key][0] += weight
        else:
            merged[key] = [weight, shared_now, applied]
    return [(w, s, a) for w, s, a in merged.values()]


def _choices(entry: Entry, readers: list[Condition], shared: dict[str, Any], separate: frozenset[str]) -> Iterable[tuple[int, Any, dict, dict]]:
    """(factor, value for later conditions, shared values decided, ordered keys applied) per branch of one entry."""
    setting = entry.setting
    if isinstance(setting, Fixed):
        return [(1, setting.value, {}, {})]
    if entry.key in separate:
        return [(1, setting.low, {}, {})]
    if entry.ordered:
        return [(1, None, {}, {entry.key: setting})]
    if entry.shared:
        if entry.key in shared:
            return [(1, shared[entry.key], {}, {})]
        if not readers:
            return [(_count(setting), None, {entry.key: _DECIDED}, {})]
        # Other stages' conditions may read a shared value differently: keep every value apart.
        return [(1, value, {entry.key: value}, {}) for value in possible_values(setting)]
    if not readers:
        return [(_count(setting), None, {}, {})]
    return [(len(group), group[0], {}, {}) for group in _groups(possible_values(setting), readers)]


def _groups(values: list[Any], readers: list[Condition]) -> list[list[Any]]:
    """Values grouped by what the conditions reading them say: within a group, any value stands for all."""
    groups: dict[tuple[bool, ...], list[Any]] = {}
    for value in values:
        groups.setdefault(tuple(c.holds(value) for c in readers), []).append(value)
    return list(groups.values())


def _count(setting: Domain) -> int:
    count = setting.count()
    return REAL_KNOB_VALUES if count is None else count


def _non_decreasing_sequences(settings: Iterable[Setting]) -> int:
    """Number of non-decreasing sequences with one value from each setting, in order."""
    ending: dict[int, int] | None = None  # last value -> number of sequences ending there
    for setting in settings:
        values = possible_values(setting)
        if ending is None:
            ending = {value: 1 for value in values}
            continue
        ending = {value: sum(n for last, n in ending.items() if last <= value) for value in values}
    return sum(ending.values()) if ending else 1
