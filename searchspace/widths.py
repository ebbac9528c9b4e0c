"""Channel-count rounding shared by blocks and scaling rules, and which width multipliers exist; torch-free."""

from __future__ import annotations

import math

from searchspace.fields import SpecError


def check_width_multiplier(multiplier: float) -> float:
    """A width multiplier alpha: a finite number > 0 (``search zoo --width-mult`` checks it before torch loads)."""
    if not 0 < multiplier < math.inf:  # also refuses nan, which compares false with everything
        raise SpecError(f"width multiplier = {multiplier!r} is not allowed: must be a finite number > 0")
    return multiplier


def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, never losing over 10%.

    This is the rule MobileNet, MnasNet and EfficientNet use for every width
    (and timm's ``make_divisible``).  With ``divisor == 1`` it is plain rounding
    to the nearest integer (half to even, as Python's ``round``, which is what
    torchvision's RegNet uses for squeeze widths), at least 1.
    """
    if divisor == 1:
        return max(min_value or 1, round(value))
    floor = divisor if min_value is None else min_value
    rounded = max(floor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded
