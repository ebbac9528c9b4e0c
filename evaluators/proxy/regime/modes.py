"""The numeric regimes a candidate can be trained in, and how each is applied.

* ``fp32``: float32 weights and activations, NCHW.  PyTorch's defaults apply
  (on Ampere and newer GPUs cuDNN may use TF32 for convolutions).
* ``bf16_cl``: ``torch.autocast`` to bfloat16 with the model and its inputs in
  channels-last memory format, the layout tensor cores want for convolutions.
  bfloat16 has float32's exponent range, so no loss scaling is needed.
* ``compiled``: ``torch.compile`` of the training forward pass, on top of
  whichever of the two above is faster for the candidate.
* ``auto``: choose per candidate (see :mod:`evaluators.proxy.regime.choice`).

Which regime is fastest depends on the network: channels-last bfloat16 wins big
on dense 3x3 convolutions and can lose on depthwise-heavy networks, whose
depthwise kernels are slower in that layout.  Hence ``auto``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

FP32 = "fp32"
BF16_CL = "bf16_cl"
COMPILED = "compiled"
AUTO = "auto"
EAGER_REGIMES: tuple[str, ...] = (FP32, BF16_CL)
REGIME_CHOICES: tuple[str, ...] = (AUTO, FP32, BF16_CL, COMPILED)


def regime_label(base: str, compiled: bool) -> str:
    """The name a result reports: ``fp32``, ``bf16_cl``, ``compiled:fp32``, ..."""
    return f"{COMPILED}:{base}" if compiled else base


def _check_eager(regime: str) -> None:
    if regime not in EAGER_REGIMES:
        raise ValueError(f"regime={regime!r} is not an eager numeric regime (allowed: {', '.join(EAGER_REGIMES)})")


def memory_format_for(regime: str) -> torch.memory_format:
    _check_eager(regime)
    return torch.channels_last if regime == BF16_CL else torch.contiguous_format


def prepare_model(model: nn.Module, regime: str) -> None:
    """Put ``model``'s 4-D weights in the regime's memory format, in place.

    Parameters keep their identity (only their storage layout changes), so an
    optimizer or a compiled graph made for the model stays valid.
    """
    model.to(memory_format=memory_format_for(regime))


def prepare_input(images: torch.Tensor, regime: str) -> torch.Tensor:
    return images.contiguous(memory_format=memory_format_for(regime))


@contextlib.contextmanager
def autocast_for(device: torch.device, regime: str) -> Iterator[None]:
    """Mixed precision for ``bf16_cl``; plain float32 otherwise."""
    _check_eager(regime)
    if regime == BF16_CL:
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            yield
    else:
        yield
