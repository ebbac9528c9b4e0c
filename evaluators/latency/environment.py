"""Process-wide settings a measurement pins for its duration and then puts back.

Each context manager restores what it changed even when the model raises, so a
failed measurement never leaves the caller's process with a different thread
count, cuDNN mode or train/eval state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run with ``count`` intra-op threads; CPU latency scales with it, so it is explicit."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def evaluation_mode(module: nn.Module) -> Iterator[None]:
    """Put every submodule in eval mode, then restore each one's own flag.

    Restoring per submodule (not ``module.train(previous)``) keeps a caller's
    deliberately mixed state, such as frozen batch-norm layers, intact.
    """
    previous = [(submodule, submodule.training) for submodule in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for submodule, was_training in previous:
            submodule.training = was_training
