"""What a knob may take: a list of choices, or an integer or real range.

A :class:`Domain` is the single description of a knob's values that sampling
(:meth:`Domain.draw`), replay checks (:meth:`Domain.contains`), listings and
size estimates (:meth:`Domain.log10_count`) all read, so they cannot disagree.
A value that a space holds fixed is a :class:`Fixed`, not a domain: it is never
suggested and never shows up as a knob.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from search.spaces.suggest import Suggest

CATEGORICAL, INTEGER, REAL = "categorical", "integer", "real"

# A real knob has no finite count of values.  Size estimates count each one as
# 100 values: about the number of settings that still give nets which differ
# after widths and depths are rounded to whole channels and blocks.
REAL_KNOB_LOG10_VALUES = 2.0


@dataclass(frozen=True)
class Fixed:
    """A value the space does not search."""

    value: Any


@dataclass(frozen=True)
class Domain:
    kind: str  # CATEGORICAL, INTEGER or REAL
    values: tuple[Any, ...] | None = None  # categorical choices, in the order given
    low: int | float | None = None
    high: int | float | None = None
    step: int = 1  # integer ranges only
    log: bool = False

    @classmethod
    def choices(cls, values: tuple[Any, ...]) -> Domain:
        return cls(CATEGORICAL, values=tuple(values))

    @classmethod
    def integers(cls, low: int, high: int, step: int = 1, log: bool = False) -> Domain:
        return cls(INTEGER, low=low, high=high, step=step, log=log)

    @classmethod
    def reals(cls, low: float, high: float, log: bool = False) -> Domain:
        return cls(REAL, low=float(low), high=float(high), log=log)

    # ---- sampling -----------------------------------------------------------------

    def draw(self, suggest: Suggest, name: str) -> Any:
        if self.kind == CATEGORICAL:
            return suggest.categorical(name, self.values)
        if self.kind == INTEGER:
            return suggest.integer(name, self.low, self.high, step=self.step, log=self.log)
        return suggest.real(name, self.low, self.high, log=self.log)

    def at_least(self, bound: int) -> Domain:
        """The part of an integer range at or above ``bound`` (it must not be empty)."""
        if self.kind != INTEGER:
            raise TypeError("only integer ranges can be narrowed")
        if bound <= self.low:
            return self
        low = self.low + math.ceil((bound - self.low) / self.step) * self.step
        if low > self.high:
            raise ValueError(f"no value of {self.describe()} is at least {bound}")
        return Domain.integers(low, self.high, self.step, self.log)

    # ---- membership and size ------------------------------------------------------

    def contains(self, value: Any) -> bool:
        if self.kind == CATEGORICAL:
            return any(_same_choice(value, choice) for choice in self.values)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if not self.low <= value <= self.high:
            return False
        if self.kind == INTEGER:
            return float(value).is_integer() and (int(value) - self.low) % self.step == 0
        return True

    def count(self) -> int | None:
        """Number of values, or None for a real range."""
        if self.kind == CATEGORICAL:
            return len(self.values)
        if self.kind == INTEGER:
            return (self.high - self.low) // self.step + 1
        return None

    def integer_values(self) -> list[int]:
        return list(range(self.low, self.high + 1, self.step))

    def log10_count(self) -> float:
        count = self.count()
        return REAL_KNOB_LOG10_VALUES if count is None else math.log10(count)

    def describe(self) -> str:
        if self.kind == CATEGORICAL:
            return "[" + ", ".join(format_value(v) for v in self.values) + "]"
        text = f"{format_value(self.low)}..{format_value(self.high)}"
        if self.kind == INTEGER and self.step != 1:
            text += f" step {self.step}"
        return text + (" (log)" if self.log else "")


def _same_choice(value: Any, choice: Any) -> bool:
    # True == 1 in Python; a boolean knob must not accept 1, nor a width knob True.
    return value == choice and isinstance(value, bool) == isinstance(choice, bool)


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
