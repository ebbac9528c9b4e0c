"""Turning whatever a broken candidate throws into a :class:`TrainingFailure`.

The classification looks at the exception type first and then, because
PyTorch reports shape and allocation problems as plain ``RuntimeError``, at the
message.  Anything unrecognised becomes ``"error"`` with its type and message
so that it can still be diagnosed from a results table.
"""

from __future__ import annotations

import gc
import re

import torch

from evaluators.proxy.result import TrainingFailure

_MESSAGE_LIMIT = 300


class NonFiniteLoss(ArithmeticError):
    """The training loss became NaN or infinite: the candidate diverged."""


class InvalidSpecError(ValueError):
    """The spec cannot be adapted to the dataset or proxy resolution, or built."""


class OutputShapeError(RuntimeError):
    """The model's logits do not have the shape (batch, num_classes)."""


# PyTorch raises RuntimeError for both problems below; these fragments of its
# messages (lower case) are stable across releases and specific enough not to
# catch unrelated errors.
_OOM_FRAGMENTS = ("out of memory", "can't allocate memory", "alloc_failed", "failed to allocate")
_SHAPE_PATTERNS = tuple(
    re.compile(pattern)
    for pattern in (
        r"shapes cannot be multiplied",
        r"size mismatch",
        r"sizes of tensors must match",
        r"must match the size of tensor",
        r"is invalid for input of size",
        r"to have \d+ channels",
        r"kernel size can't be greater than actual input size",
        r"output size is too small",
        r"input size .* is too small",
        r"expected more than 1 value per channel",
        r"expected \d+d (\(unbatched\) )?(or \d+d (\(batched\) )?)?input",
        r"inconsistent tensor size",
    )
)


def one_line(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    """``text`` with all whitespace runs collapsed, cut to ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    message = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(fragment in message for fragment in _OOM_FRAGMENTS)


def is_shape_error(exc: BaseException) -> bool:
    if isinstance(exc, OutputShapeError):
        return True
    if not isinstance(exc, (RuntimeError, ValueError)):
        return False
    message = str(exc).lower()
    return any(pattern.search(message) for pattern in _SHAPE_PATTERNS)


def failure_from_exception(exc: Exception, *, epochs_run: int) -> TrainingFailure:
    """Classify ``exc``; never keeps a reference to it (its frames hold tensors)."""
    description = one_line(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, NonFiniteLoss):
        return TrainingFailure("nan_loss", one_line(str(exc)), epochs_run)
    if isinstance(exc, InvalidSpecError):
        return TrainingFailure("invalid_spec", one_line(str(exc)), epochs_run)
    if is_out_of_memory(exc):
        return TrainingFailure("out_of_memory", description, epochs_run)
    if is_shape_error(exc):
        return TrainingFailure("shape_error", description, epochs_run)
    return TrainingFailure("error", description, epochs_run)


def release_memory(device: torch.device) -> None:
    """Give back memory a failed candidate left behind.

    Call only after the exception is gone: its traceback references the frames
    that hold the model and the activations.  ``gc.collect`` frees reference
    cycles (modules keep many), ``empty_cache`` hands the freed CUDA blocks back
    so the next candidate, possibly in another process, can use them.
    """
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
