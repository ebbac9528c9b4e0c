"""Quantities as users type them on the command line: ``50ms``, ``0.05s``, ``5M``, ``300M``, ``10m``.

Each parser returns a plain number in one unit (milliseconds, a count,
seconds) or raises :class:`UserError` with the accepted forms, so the CLI can
print one line.
"""

from __future__ import annotations

import math
import re

from search.errors import UserError, shown

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_PATTERN = re.compile(rf"^\s*({_NUMBER})\s*([a-zA-Z]*)\s*$")

_LATENCY_UNITS = {"": 1.0, "ms": 1.0, "s": 1000.0, "us": 1e-3, "µs": 1e-3}
_COUNT_UNITS = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "b": 1e9}
_DURATION_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def _parse(text: str, option: str, units: dict[str, float], forms: str, *, case_sensitive: bool) -> float:
    match = _PATTERN.match(str(text))
    unit = (match.group(3) if case_sensitive else match.group(3).lower()) if match else None
    if match is None or unit not in units:
        raise UserError(f"{option} {shown(text)} is not understood (write it as {forms})")
    value = float(match.group(1)) * units[unit]
    if not math.isfinite(value) or value <= 0:
        raise UserError(f"{option} {shown(text)} must be positive")
    return value


def parse_latency_ms(text: str, option: str = "--budget") -> float:
    """``50ms``, ``0.05s``, ``500us`` or a bare number of milliseconds."""
    return _parse(text, option, _LATENCY_UNITS, "50ms, 0.05s or 50 meaning milliseconds", case_sensitive=False)


def parse_count(text: str, option: str) -> int:
    """``5M``, ``300M``, ``1.2G``, ``250k`` or a plain integer, at least 1."""
    count = int(round(_parse(text, option, _COUNT_UNITS, "5M, 300M, 1.2G, 250k or a plain number", case_sensitive=False)))
    if count < 1:  # 0.4 rounds to no parameters at all, and limits are divided by
        raise UserError(f"{option} {shown(text)} is less than 1")
    return count


def parse_duration_s(text: str, option: str = "--time-limit") -> float:
    """``10m``, ``30s``, ``1.5h`` or a bare number of seconds.

    Units are case sensitive so that ``10M`` (a count) is not mistaken for minutes.
    """
    return _parse(text, option, _DURATION_UNITS, "10m, 90s, 1.5h or a number of seconds", case_sensitive=True)


def parse_allowance_s(text: str, option: str) -> float:
    """A duration that may also be 0 (no allowance): ``0``, ``5m``, ``90s``."""
    match = _PATTERN.match(str(text))
    if match and float(match.group(1)) == 0:
        return 0.0
    return parse_duration_s(text, option)


def format_count(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{unit}"
    return f"{value:.0f}"


def format_duration(seconds: float) -> str:
    """The shortest of ``2h``, ``12m`` and ``90s`` that is exact: the way ``--time-limit`` is written."""
    for unit, scale in (("h", 3600), ("m", 60)):
        if seconds >= scale and seconds % scale == 0:
            return f"{seconds / scale:g}{unit}"
    return f"{seconds:g}s"
