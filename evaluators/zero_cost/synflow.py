"""SynFlow: the synaptic flow of the network with all weights made positive.

Tanaka et al., "Pruning neural network without any data by iteratively
conserving synaptic flow", NeurIPS 2020; used as a whole-network NAS proxy by
Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import nn

from evaluators.zero_cost.layers import NORMALISATION_TYPES, scored_weights


def synflow(model: nn.Module, input_shape: tuple[int, int, int], device: torch.device) -> float:
    """SynFlow score of ``model`` (which this function mutates: pass a private copy).

    With every parameter replaced by its absolute value, |theta|, and an
    all-ones input of shape (1, C, H, W),

        R = 1^T f(1; |theta|)                      (the sum of the output)
        score = sum over scored weight tensors W of sum_ij |W_ij * dR/dW_ij|

    where the scored weights are those of convolution and linear layers.  For
    a bias-free ReLU network this is R = 1^T |W_L| ... |W_1| 1 and each
    layer's term equals R itself, which is why the score grows with depth and
    width.  Higher is better.  No data is needed: ``input_shape`` only fixes
    the size of the all-ones input.

    Normalisation layers (batch, group, layer, instance norm) pass their input
    through unchanged.  SynFlow scores the positive, linearised network; a
    normaliser subtracts a mean and so creates negative activations that break
    that picture, and with a single all-ones input its batch statistics are
    degenerate.  Skipping them is what the zero-cost NAS reference does (it
    scores a copy built without BN), and for a freshly initialised network it
    matches evaluation-mode BN (running mean 0, var 1, gamma 1, beta 0) up to
    the factor 1/sqrt(1 + eps) per layer.  Dropout is off (evaluation mode).

    Everything runs in float64, whose range (about 1e308) holds the score of
    networks far deeper than float32's (about 1e38) would.  If even float64
    overflows, the score is returned as +inf with a RuntimeWarning: all
    factors are non-negative, so an inf or NaN can only come from an
    intermediate value beyond float64's range, and the true score is then
    larger than any finite one, which is the order +inf keeps in a ranking.
    """
    _require_finite_parameters(model)
    model.eval()
    model.double()
    _bypass_normalisation(model)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.abs_()
    weights = scored_weights(model)
    for weight in weights:
        weight.requires_grad_(True)

    total_flow = model(torch.ones((1, *input_shape), dtype=torch.float64, device=device)).sum()
    if not torch.isfinite(total_flow):
        return _overflowed()
    gradients = torch.autograd.grad(total_flow, weights, allow_unused=True)
    score = 0.0
    for weight, gradient in zip(weights, gradients):
        if gradient is not None:  # a layer the forward pass never reached carries no flow
            score += float((weight.detach() * gradient).abs().sum())
    if not math.isfinite(score):
        return _overflowed()
    return score


def _bypass_normalisation(model: nn.Module) -> None:
    # Replacing ``forward`` on the private copy, rather than discarding the
    # output in a hook, also avoids computing statistics that are not used
    # (and that fail outright for a 1x1 map at batch size 1).
    for layer in model.modules():
        if isinstance(layer, NORMALISATION_TYPES):
            layer.forward = _pass_through


def _pass_through(features: torch.Tensor) -> torch.Tensor:
    return features


def _require_finite_parameters(model: nn.Module) -> None:
    # A NaN or inf already in the weights would otherwise be reported as an
    # overflow (+inf, the best possible score) instead of as a broken network.
    for name, parameter in model.named_parameters():
        if not torch.isfinite(parameter).all():
            raise ValueError(f"synflow: parameter {name!r} contains NaN or inf; the network cannot be scored")


def _overflowed() -> float:
    warnings.warn(
        "synflow overflowed float64; returning +inf (the score is larger than any finite one)",
        RuntimeWarning,
        stacklevel=3,
    )
    return float("inf")
