"""Argument checks shared by the latency entry points.

Every message names the field, the value it got and what is allowed, so a bad
command-line value surfaces as one readable line instead of a traceback from
deep inside PyTorch.  ``bool`` is rejected where an integer is expected because
``True`` silently passing as ``1`` hides a swapped argument.
"""

from __future__ import annotations

import torch

from evaluators import validate


def require_int_at_least(field: str, value: object, minimum: int) -> int:
    return validate.integer(field, value, minimum, fail=validate.must_be)


def require_seconds(field: str, value: object, *, allow_zero: bool) -> float:
    return validate.number(field, value, 0.0, open_ends="" if allow_zero else "low", fail=validate.must_be)


def dtype_label(dtype: object) -> str:
    """The short name stored with a measurement (``float32``); only floating dtypes can run a CNN."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating-point torch.dtype such as torch.float32, got {dtype!r}")
    return str(dtype).removeprefix("torch.")


def require_input_shape(value: object) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list, torch.Size)) or len(value) == 0:
        raise ValueError(f"input_shape must be a non-empty sequence of integers >= 1, got {value!r}")
    for position, size in enumerate(value):
        require_int_at_least(f"input_shape[{position}]", size, 1)
    return tuple(value)
