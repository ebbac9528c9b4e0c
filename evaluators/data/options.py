"""Checking dataset option values, so a bad value is one clear :class:`DatasetError`.

Options reach the loaders from Python callers and from the command line, where
every value arrives as text; numbers written as text are therefore accepted.
Booleans are refused even though ``bool`` is an ``int`` subclass, because
``size=True`` is always a mistake.
"""

from __future__ import annotations

import math

from evaluators.errors import DatasetError


def int_option(dataset: str, option: str, value: object, *, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int within ``[minimum, maximum]``, else :class:`DatasetError`."""
    allowed = f"an integer >= {minimum}" if maximum is None else f"an integer in {minimum}..{maximum}"
    number = _parse(value, int)
    if number is None or number < minimum or (maximum is not None and number > maximum):
        raise DatasetError(f"{dataset}: invalid {option} {value!r} (allowed: {allowed})")
    return number


def float_option(
    dataset: str,
    option: str,
    value: object,
    *,
    low: float,
    high: float,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """``value`` as a finite float between ``low`` and ``high``, else :class:`DatasetError`."""
    number = _parse(value, float)
    in_range = number is not None and math.isfinite(number)
    if in_range:
        in_range = (number >= low if low_inclusive else number > low) and (number <= high if high_inclusive else number < high)
    if not in_range:
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        raise DatasetError(f"{dataset}: invalid {option} {value!r} (allowed: a number in {left}{low}, {high}{right})")
    return float(number)


def optional_int_option(dataset: str, option: str, value: object, *, minimum: int) -> int | None:
    """Like :func:`int_option`, with ``None`` meaning "no limit"."""
    return None if value is None else int_option(dataset, option, value, minimum=minimum)


def resolution_option(dataset: str, value: object, *, default: int | None, minimum: int = 8, maximum: int = 1024) -> int | None:
    """The image side length to resize to, or ``default`` when ``value`` is ``None``."""
    if value is None:
        return default
    return int_option(dataset, "resolution", value, minimum=minimum, maximum=maximum)


def _parse(value: object, kind: type[int] | type[float]) -> int | float | None:
    if isinstance(value, bool):
        return None
    if kind is int:
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return kind(value.strip())
        except ValueError:
            return None
    return None
