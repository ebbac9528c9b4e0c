"""Kernel settings under which a score is reproducible and comparable across devices.

A proxy is a single forward (and backward) pass, so the speed that cuDNN
autotuning and TF32 buy is worth nothing here, while what they cost is: with
them, grad_norm and snip of the same network and batch vary from call to call
on a GPU (atomic-add reductions in non-deterministic cuDNN kernels) and
differ from the CPU result by up to about 1e-2 relative for deep networks
(TF32 keeps 10 mantissa bits).  Rankings built from such scores would depend
on the run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def reproducible_kernels() -> Iterator[None]:
    """Deterministic, full-precision float32 kernels for the duration of the block.

    cuDNN: deterministic algorithms, no benchmarking, no TF32; matmuls: the
    "highest" float32 precision.  These are process-wide switches, restored
    on exit: another thread of the same process running CUDA work meanwhile
    would see them too (slower but not wrong).  No effect on CPU results.
    """
    matmul_precision = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        with torch.backends.cudnn.flags(
            enabled=torch.backends.cudnn.enabled, benchmark=False, deterministic=True, allow_tf32=False
        ):
            yield
    finally:
        torch.set_float32_matmul_precision(matmul_precision)
