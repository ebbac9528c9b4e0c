"""The values a space file gives, checked one key at a time: fixed, a list of choices, or a range.

Torch-free (unlike the schema's tables of block kinds, which come from the
registry), so that the command line can bound a file's sizes before torch is
imported: see :func:`search.spaces.sizes.check_sizes`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from search.errors import UserError, shown
from search.spaces.definition import Setting, value_identity
from search.spaces.domains import Domain, Fixed, format_value
from searchspace.fields import MAX_SPEC_INT

RANGE_KEYS = ("low", "high", "step", "log")
MAX_RANGE_VALUES = 100_000  # sizes and constraints walk a range's values


class Where:
    """A key path inside one file, for error messages."""

    def __init__(self, source: str, path: str = "") -> None:
        self.source, self.path = source, path

    def key(self, name: str) -> Where:
        return Where(self.source, f"{self.path}.{name}" if self.path else name)

    def item(self, index: int) -> Where:
        return Where(self.source, f"{self.path}[{index}]")

    def fail(self, message: str) -> UserError:
        return UserError(f"{self.source}: {self.path}: {message}" if self.path else f"{self.source}: {message}")


@dataclass(frozen=True)
class Key:
    type: str  # "int", "real", "name" or "bool"
    rule: str = ""  # what a valid value is, for messages
    valid: Callable[[Any], bool] = lambda value: True
    names: tuple[str, ...] = ()  # the allowed values of a "name" key
    searchable: bool = True  # False: one value only (no list, no range)
    # Stem, head, net, multiplier and regnet keys: the value when left out (None: required).
    # A stage key left out keeps its knob's default (searchspace/stage_knobs.py).
    default: Any = None


def int_key(rule: str, valid: Callable[[int], bool], **options: Any) -> Key:
    return Key("int", rule, valid, **options)


def real_key(rule: str, valid: Callable[[float], bool], **options: Any) -> Key:
    return Key("real", rule, valid, **options)


def name_key(names: tuple[str, ...], **options: Any) -> Key:
    return Key("name", names=names, **options)


POSITIVE = ("must be a positive integer", lambda v: v >= 1)


def checked_value(raw: Any, key: Key, where: Where) -> Any:
    """One value of a key, checked and normalised (ints stay ints, reals become floats)."""
    if key.type == "name":
        if not isinstance(raw, str) or raw not in key.names:
            raise where.fail(f"{shown(raw)} is not allowed (allowed: {', '.join(key.names)})")
        return raw
    if key.type == "bool":
        if not isinstance(raw, bool):
            raise where.fail(f"{shown(raw)} is not allowed: must be true or false")
        return raw
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
        kind = "an integer" if key.type == "int" else "a number"
        raise where.fail(f"{shown(raw)} is not allowed: must be {kind}")
    if key.type == "int":
        if not isinstance(raw, int):
            raise where.fail(f"{shown(raw)} is not allowed: must be an integer")
        if abs(raw) > MAX_SPEC_INT:  # a net's spec refuses it too; refused here, the space is never sized with it
            raise where.fail(f"{shown(raw)} is not allowed: must be at most {MAX_SPEC_INT:,}")
    else:
        raw = float(raw)
    if not key.valid(raw):
        raise where.fail(f"{format_value(raw)} is not allowed: {key.rule}")
    return raw


def parse_setting(raw: Any, key: Key, where: Where) -> Setting:
    """A key's value: a scalar is fixed, a list is choices, a mapping is a range (one value: fixed)."""
    if isinstance(raw, list):
        if not key.searchable:
            raise where.fail("a list is not allowed here: give one value")
        if not raw:
            raise where.fail("an empty list is not allowed: give at least one value")
        values = [checked_value(v, key, where) for v in raw]
        seen: set[tuple[bool, Any]] = set()
        for value in values:  # a set, not pairs: a list of 100,000 values was 5e9 comparisons
            if value_identity(value) in seen:
                raise where.fail(f"{format_value(value)} is listed twice")
            seen.add(value_identity(value))
        return Fixed(values[0]) if len(values) == 1 else Domain.choices(tuple(values))
    if isinstance(raw, dict):
        if not key.searchable:
            raise where.fail("a range is not allowed here: give one value")
        return _parse_range(raw, key, where)
    return Fixed(checked_value(raw, key, where))


def _parse_range(raw: dict, key: Key, where: Where) -> Setting:
    if key.type in ("name", "bool"):
        raise where.fail("a range is not allowed for names and flags: give a value or a list")
    reject_unknown(raw, RANGE_KEYS, where)
    for bound in ("low", "high"):
        if bound not in raw:
            raise where.fail(f"a range needs 'low' and 'high' (missing {bound!r})")
    low, high = checked_value(raw["low"], key, where.key("low")), checked_value(raw["high"], key, where.key("high"))
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise where.key("log").fail(f"{shown(log)} is not allowed: must be true or false")
    if low > high:
        raise where.fail(f"low ({format_value(low)}) is greater than high ({format_value(high)})")
    if log and low <= 0:
        raise where.key("log").fail("a log-scaled range needs low above 0")
    if key.type == "real":
        if "step" in raw:
            raise where.key("step").fail("not allowed for a real-valued key (give a list of values instead)")
        return Fixed(low) if low == high else Domain.reals(low, high, log)
    step = raw.get("step", 1)
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise where.key("step").fail(f"{shown(step)} is not allowed: must be a positive integer")
    if log and step != 1:
        raise where.key("log").fail("a log-scaled integer range cannot have a step")
    if (high - low) % step:
        raise where.key("high").fail(f"{high} is not allowed: must be low ({low}) plus a multiple of step ({step})")
    count = (high - low) // step + 1
    if count > MAX_RANGE_VALUES:
        raise where.fail(f"a range of {count} values is too many (at most {MAX_RANGE_VALUES}): give a larger step")
    # The rules are bounds and "odd" or "a multiple of 8": the ends and the second value decide them
    # (a kernel range 3..7 with step 1 holds 4).
    for value in (low, min(low + step, high), high):
        if not key.valid(value):
            raise where.fail(f"{value} is not allowed: {key.rule}")
    return Fixed(low) if count == 1 else Domain.integers(low, high, step, log)


def reject_unknown(raw: Mapping, allowed: tuple[str, ...] | Mapping, where: Where) -> None:
    for name in raw:
        if name not in allowed:
            close = difflib.get_close_matches(str(name), list(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise where.fail(f"unknown key {shown(name)} (allowed: {', '.join(allowed)}{hint})")


def as_mapping(raw: Any, where: Where) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise where.fail(f"must be a mapping of keys to values, not {type(raw).__name__}")
    return raw
