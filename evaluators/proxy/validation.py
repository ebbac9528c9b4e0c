"""Top-1 accuracy on the validation split."""

from __future__ import annotations

import torch
from torch import nn

from evaluators.proxy.augment import Normaliser
from evaluators.proxy.regimes import autocast_for, prepare_input
from evaluators.proxy.step import check_logits


def top1_accuracy(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    normaliser: Normaliser,
    regime: str,
    device: torch.device,
    num_classes: int,
    batch_size: int,
) -> float:
    """Fraction of ``images`` whose highest logit is the label, in eval mode.

    Runs the eager module even when training used a compiled forward:
    evaluation mode and the smaller last batch would each make the compiler
    trace again, which costs more than the short validation pass saves.
    Correct counts accumulate on the device; one host sync at the end.
    """
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=device)
    try:
        with torch.inference_mode(), autocast_for(device, regime):
            for start in range(0, images.shape[0], batch_size):
                batch = prepare_input(normaliser(images[start : start + batch_size]), regime)
                logits = model(batch)
                check_logits(logits, batch.shape[0], num_classes)
                correct += (logits.argmax(dim=1) == labels[start : start + batch_size]).sum()
    finally:
        model.train(was_training)
    return int(correct.item()) / max(1, images.shape[0])
