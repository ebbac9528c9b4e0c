"""Classification of what a broken candidate raises, using PyTorch's real error messages."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from evaluators.proxy.failures import (
    InvalidSpecError,
    NonFiniteLoss,
    OutputShapeError,
    failure_from_exception,
    one_line,
)


def raised_by(action) -> Exception:
    try:
        action()
    except Exception as exc:  # the point is to capture it
        return exc
    raise AssertionError("the action did not raise")


SHAPE_PROBLEMS = {
    "conv input channels": lambda: nn.Conv2d(4, 8, 3)(torch.randn(2, 3, 8, 8)),
    "linear input size": lambda: nn.Linear(10, 3)(torch.randn(2, 12)),
    "kernel larger than image": lambda: nn.Conv2d(3, 8, 5)(torch.randn(2, 3, 2, 2)),
    "pooling to nothing": lambda: nn.MaxPool2d(3)(torch.randn(1, 3, 1, 1)),
    "batchnorm on one value": lambda: nn.BatchNorm2d(3).train()(torch.randn(1, 3, 1, 1)),
    "bad view": lambda: torch.randn(2, 3).view(5),
    "residual add mismatch": lambda: torch.randn(2, 3) + torch.randn(2, 4),
    "concat mismatch": lambda: torch.cat([torch.randn(2, 3), torch.randn(3, 4)], dim=1),
    "5-d input to conv": lambda: nn.Conv2d(3, 8, 3)(torch.randn(3, 3, 8, 8, 8)),
}


@pytest.mark.parametrize("problem", sorted(SHAPE_PROBLEMS))
def test_pytorch_shape_errors_are_shape_errors(problem):
    failure = failure_from_exception(raised_by(SHAPE_PROBLEMS[problem]), epochs_run=2)
    assert failure.reason == "shape_error", failure.message
    assert failure.epochs_run == 2


@pytest.mark.parametrize(
    "error",
    [
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes"),
        RuntimeError("cuDNN error: CUDNN_STATUS_ALLOC_FAILED"),
    ],
)
def test_memory_exhaustion_is_out_of_memory(error):
    assert failure_from_exception(error, epochs_run=0).reason == "out_of_memory"


def test_own_exception_types_map_to_their_reasons():
    assert failure_from_exception(NonFiniteLoss("loss became nan"), epochs_run=1).reason == "nan_loss"
    assert failure_from_exception(InvalidSpecError("too small"), epochs_run=0).reason == "invalid_spec"
    assert failure_from_exception(OutputShapeError("logits (4, 3)"), epochs_run=0).reason == "shape_error"


def test_anything_else_is_an_error_naming_its_type():
    failure = failure_from_exception(ZeroDivisionError("division by zero"), epochs_run=0)
    assert (failure.reason, failure.message) == ("error", "ZeroDivisionError: division by zero")
    # A RuntimeError that is neither about shapes nor memory stays an error.
    assert failure_from_exception(RuntimeError("CUDA error: device-side assert triggered"), epochs_run=0).reason == "error"


def test_messages_are_one_bounded_line():
    assert one_line("a\n  b\t c") == "a b c"
    long = one_line("x" * 1000, limit=50)
    assert len(long) == 50 and long.endswith("...")
