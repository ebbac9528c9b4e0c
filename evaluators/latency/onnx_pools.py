"""Adaptive average pools the ONNX exporter cannot write, rewritten as the same arithmetic it can.

The legacy exporter writes ``AdaptiveAvgPool2d`` only when each input side is a
multiple of the output side.  AlexNet-style heads pool to 6x6 from whatever the
stages leave (13x13 at 224 px is fine; a searched net or another resolution
gives e.g. 7x9), and export then failed.  Adaptive average pooling is linear in
its input: output cell (i, j) is the mean over rows floor(i*H/h) to
ceil((i+1)*H/h) and the same for columns, so it equals ``A @ x @ B`` with two
constant averaging matrices, which ONNX writes as two MatMuls.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


def _averaging_matrix(size_in: int, size_out: int) -> torch.Tensor:
    """Row i averages the inputs PyTorch's adaptive pooling gives output i."""
    matrix = torch.zeros(size_out, size_in)
    for i in range(size_out):
        start, end = (i * size_in) // size_out, math.ceil((i + 1) * size_in / size_out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


class RegionMean(nn.Module):
    """``AdaptiveAvgPool2d`` for one fixed input size, as two matrix products."""

    def __init__(self, in_size: tuple[int, int], out_size: tuple[int, int]) -> None:
        super().__init__()
        # Not in the state dict: they follow from the shapes, and the weights stay those of the net.
        self.register_buffer("rows", _averaging_matrix(in_size[0], out_size[0]), persistent=False)
        self.register_buffer("columns", _averaging_matrix(in_size[1], out_size[1]).t().contiguous(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(torch.matmul(self.rows, x), self.columns)


def _pair(size) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else tuple(size)


def exportable_pools(module: nn.Module, example: torch.Tensor) -> nn.Module:
    """``module`` itself when every adaptive average pool divides evenly; else a copy with those pools rewritten."""
    seen: dict[str, tuple[int, int]] = {}
    hooks = [pool.register_forward_hook(lambda m, args, out, name=name: seen.setdefault(name, tuple(args[0].shape[-2:])) and None)
             for name, pool in module.named_modules() if isinstance(pool, nn.AdaptiveAvgPool2d)]
    was_training = module.training
    module.eval()  # a probe in training mode would move batch-norm statistics
    try:
        with torch.no_grad():
            module(example)
    finally:
        module.train(was_training)
        for hook in hooks:
            hook.remove()
    uneven = {}
    for name, in_size in seen.items():
        out_size = _pair(module.get_submodule(name).output_size)
        if any(side % out for side, out in zip(in_size, out_size)):
            uneven[name] = (in_size, out_size)
    if not uneven:
        return module
    rewritten = copy.deepcopy(module)
    for name, (in_size, out_size) in uneven.items():
        parent_name, _, child = name.rpartition(".")
        setattr(rewritten.get_submodule(parent_name), child, RegionMean(in_size, out_size))
    return rewritten
