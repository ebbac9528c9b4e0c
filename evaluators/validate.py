"""Scalar checks of settings, shared by every layer that takes them.

Each check returns the value it accepted (normalised: a float for a number)
or raises the exception ``fail(name, value, allowed)`` builds, so that one
wording of what is allowed serves the proxy trainer (``epochs=0 is invalid
(allowed: an integer >= 1)``), the latency and zero-cost functions
(``threads must be an integer >= 1, got 0``, via :func:`must_be`) and the
command line (``--trials 0 is not
allowed: must be at least 1``, via :func:`search.errors.option_error`).
The default ``fail`` is :func:`invalid`: a ``ValueError`` for the Python API.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

Fail = Callable[[str, object, str], Exception]


def invalid(name: str, value: object, allowed: str) -> ValueError:
    """``name=value is invalid (allowed: ...)``: the wording of the evaluators' keyword settings."""
    return ValueError(f"{name}={value!r} is invalid (allowed: {allowed})")


def must_be(name: str, value: object, allowed: str) -> ValueError:
    """``name must be ..., got value``: the wording of the latency and zero-cost arguments."""
    return ValueError(f"{name} must be {allowed}, got {value!r}")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def integer(name: str, value: object, minimum: int, *, fail: Fail = invalid) -> int:
    """An ``int`` (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise fail(name, value, f"an integer >= {minimum}")
    return value


def at_least(name: str, value: float, minimum: float, *, fail: Fail = invalid) -> float:
    """A number already of the right type (the command line parsed it) of at least ``minimum``."""
    if not value >= minimum:
        raise fail(name, value, f"at least {minimum}")
    return value


def positive(name: str, value: object, *, fail: Fail = invalid) -> float:
    """A number above 0; limits are divided by, so 0 is no limit at all."""
    if not _is_number(value) or not value > 0:  # type: ignore[operator]
        raise fail(name, value, "positive")
    return float(value)  # type: ignore[arg-type]


def number(
    name: str, value: object, low: float, high: float = math.inf, *, open_ends: str = "", fail: Fail = invalid
) -> float:
    """A finite number in the interval from ``low`` to ``high``.

    ``open_ends`` names the ends the interval excludes: ``"low"``, ``"high"``
    or ``"low high"``; an infinite end is always open.
    """
    low_open = "low" in open_ends or low == -math.inf
    high_open = "high" in open_ends or high == math.inf
    interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if not _is_number(value) or not math.isfinite(value):  # type: ignore[arg-type]
        raise fail(name, value, f"a finite number in {interval}")
    below = value < low or (low_open and value == low)  # type: ignore[operator]
    above = value > high or (high_open and value == high)  # type: ignore[operator]
    if below or above:
        raise fail(name, value, f"a number in {interval}")
    return float(value)  # type: ignore[arg-type]


def flag(name: str, value: object, *, fail: Fail = invalid) -> bool:
    if not isinstance(value, bool):
        raise fail(name, value, "True or False")
    return value


def choice(name: str, value: object, choices: Sequence[str], *, fail: Fail = invalid) -> str:
    if value not in choices:
        raise fail(name, value, ", ".join(repr(option) for option in choices))
    return str(value)


def optional(check: Callable[..., object], name: str, value: object, *args: object, **kwargs: object) -> object:
    """``check`` applied unless ``value`` is None (the setting's "not set")."""
    return None if value is None else check(name, value, *args, **kwargs)
