"""Proxies read off the loss gradient of one minibatch: grad_norm and snip.

Both as defined for NAS by Abdelfattah et al., "Zero-Cost Proxies for
Lightweight NAS", ICLR 2021; snip after Lee et al., "SNIP: Single-shot
Network Pruning based on Connection Sensitivity", ICLR 2019.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from evaluators.zero_cost.layers import scored_weights, use_data_scoring_mode


def grad_norm(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Sum of the L2 norms of the loss gradients of the scored weights.

        L = mean over the batch of cross_entropy(f(x_n), y_n)
        score = sum over scored weight tensors W of ||dL/dW||_2

    (the Frobenius norm of each tensor's gradient).  Scored weights are those
    of convolution and linear layers.  Higher is better.  Mutates the model:
    pass a private copy.
    """
    score = 0.0
    for _weight, gradient in _loss_gradients(model, images, labels):
        score += float(gradient.norm(p=2))
    return score


def snip(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Sum of the SNIP connection sensitivities of the scored weights.

        L = mean over the batch of cross_entropy(f(x_n), y_n)
        score = sum over scored weight tensors W of sum_ij |W_ij * dL/dW_ij|

    SNIP's per-connection saliency |dL/dc| for a multiplicative mask c = 1
    on each weight is exactly |W * dL/dW|, so no mask is needed.  Higher is
    better.  Mutates the model: pass a private copy.
    """
    score = 0.0
    for weight, gradient in _loss_gradients(model, images, labels):
        score += float((weight.detach() * gradient).abs().sum())
    return score


def _loss_gradients(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight, dL/dweight) for every scored weight, in the data scoring mode.

    Weights the caller froze (``requires_grad=False``) are scored all the
    same: the proxy rates the architecture at initialisation, and freezing is
    a training decision.  A weight the forward pass never uses has a zero
    gradient.
    """
    use_data_scoring_mode(model)
    weights = scored_weights(model)
    for weight in weights:
        weight.requires_grad_(True)
    logits = model(images)
    _check_logits(logits, labels)
    loss = F.cross_entropy(logits, labels)
    gradients = torch.autograd.grad(loss, weights, allow_unused=True)
    return [
        (weight, gradient if gradient is not None else torch.zeros_like(weight))
        for weight, gradient in zip(weights, gradients)
    ]


def _check_logits(logits: torch.Tensor, labels: torch.Tensor) -> None:
    if logits.dim() != 2 or logits.shape[0] != labels.shape[0]:
        raise ValueError(
            f"the network must map a batch of {labels.shape[0]} images to logits of shape "
            f"({labels.shape[0]}, num_classes); got {tuple(logits.shape)}"
        )
    if labels.numel() and int(labels.max()) >= logits.shape[1]:
        raise ValueError(
            f"the dataset has a label {int(labels.max())} but the network outputs only {logits.shape[1]} classes"
        )
