"""Parts of the proxy recipe that make short trainings rank nets fairly.

A short training compares nets of very different depth and normalisation
settings.  Two of them are not about learning at all but about what the
evaluation sees, and without them a net's proxy score says more about its
batch-norm momentum or its depth than about its architecture:

* :func:`zero_init_residual_branches`: every residual branch starts as zero,
  so a deep residual net starts as a shallow one and the full learning rate
  does not blow it up in the first steps (Goyal et al. 2017; pycls'
  ``ZERO_INIT_FINAL_GAMMA``).  RegNetY-400MF diverged to chance without it.
* :func:`recalibrate_batch_norms`: after training, the batch-norm running
  statistics are recomputed as exact averages over training images.  Nets
  with TensorFlow-style momentum 0.01 (MobileNetV3, EfficientNet) have moved
  their running averages only a third of the way after 40 steps, so eval-mode
  accuracy was at chance while training accuracy was 60%.  Once-for-All
  recalibrates its sub-nets the same way.

:func:`has_batch_norm` decides the optimizer (``ProxySettings.optimizer="auto"``):
SGD for a net with batch norm, AdamW for one without.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from searchspace.layers import Residual

# Images used to re-estimate batch-norm statistics: enough for the averages to
# settle to well under a percent, few enough to cost a fraction of training.
CALIBRATION_IMAGES = 1024


def _last_norm(module: nn.Module) -> nn.Module | None:
    last = None
    for child in module.modules():
        if isinstance(child, (_BatchNorm, nn.GroupNorm, nn.LayerNorm)) and getattr(child, "weight", None) is not None:
            last = child
    return last


def zero_init_residual_branches(model: nn.Module) -> int:
    """Zero the scale of the last norm of every residual branch; return how many were zeroed.

    Only branches with an affine norm are changed; registration order is
    forward order in every block this toolkit builds.  A block whose last norm
    feeds an activation names its own layer instead (``last_layer_to_zero``: a
    pre-activation bottleneck's last conv, as timm's ``zero_init_last``).
    """
    zeroed = 0
    for block in model.modules():
        if isinstance(block, Residual):
            own = block.last_layer_to_zero()
            if own is not None:
                nn.init.zeros_(own.weight)
                zeroed += 1
                continue
            norm = _last_norm(block.body)
            # A branch that opens with its only norm (a transformer's pre-norm) is left as built:
            # zeroing that norm would silence the branch's input, and ViTs on digits then stay at chance.
            if norm is not None and next(block.body.children(), None) is not norm:
                nn.init.zeros_(norm.weight)
                zeroed += 1
    return zeroed


def has_batch_norm(model: nn.Module) -> bool:
    """True if some layer of ``model`` is a batch norm: what ``ProxySettings.optimizer="auto"`` chooses by."""
    return any(isinstance(module, _BatchNorm) for module in model.modules())


def recalibrate_batch_norms(model: nn.Module, images: torch.Tensor, prepare, batch_size: int) -> int:
    """Replace running statistics with exact averages over ``images``; return the norms changed.

    ``prepare`` turns a slice of raw images into the model's input (normalise,
    layout).  Only the batch norms run in training mode, so dropout and
    stochastic depth stay off and the statistics are those eval mode will use.
    """
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not norms:
        return 0
    was_training = model.training
    saved_momentum = [norm.momentum for norm in norms]
    model.eval()
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over every batch seen
        norm.train()
    try:
        # Whole batches only: the cumulative average weighs every batch alike.
        count = min(images.shape[0], CALIBRATION_IMAGES)
        batch_size = min(batch_size, count)
        with torch.no_grad():
            for start in range(0, count - batch_size + 1, batch_size):
                model(prepare(images[start : start + batch_size]))
    finally:
        for norm, momentum in zip(norms, saved_momentum):
            norm.momentum = momentum
        model.train(was_training)
    return len(norms)
