"""Size baselines: parameter count and multiply-accumulates.

They are not proxies of quality in their own right; they are the yardstick a
training-free proxy has to beat, since many proxies mostly track model size.
"Higher" here means bigger, which is why they share the proxies' "higher is
better" orientation: the correlation of size with accuracy is what is studied.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def module_params(module: nn.Module) -> float:
    """Number of parameters: the sum of ``numel`` over distinct parameter tensors."""
    return float(sum(parameter.numel() for parameter in module.parameters()))


def module_macs(model: nn.Module, input_shape: tuple[int, int, int], device: torch.device, dtype: torch.dtype) -> float:
    """Multiply-accumulates of one forward pass at batch size 1.

    Counted by ``torch.utils.flop_counter.FlopCounterMode``, which counts
    2 FLOPs per multiply-accumulate of the matmul and convolution operators,
    so MACs = FLOPs / 2.  Element-wise work (activations, normalisation,
    additions) is not counted, as is usual for MACs.  Runs the model in
    evaluation mode: pass a private copy.
    """
    model.eval()
    probe = torch.ones((1, *input_shape), dtype=dtype, device=device)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(probe)
    return counter.get_total_flops() / 2


def spec_params(spec: Any) -> float:
    """Analytic parameter count of a spec (no network is built)."""
    from evaluators.cost import cost

    return float(cost(spec).params)


def spec_macs(spec: Any) -> float:
    """Analytic multiply-accumulates of a spec at its resolution, batch size 1."""
    from evaluators.cost import cost

    return float(cost(spec).macs)
