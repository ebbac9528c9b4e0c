"""NASWOT: how differently an untrained network's activations code a minibatch.

Mellor et al., "Neural Architecture Search without Training", ICML 2021 (the
log-determinant score of the published version).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from evaluators.zero_cost.layers import use_data_scoring_mode

# Activations whose state the paper's binary code reads.  For ReLU and ReLU6
# "input > 0" is the same as "output > 0"; for the smooth or leaky variants
# (SiLU, GELU, Hardswish, ...) there is no exact off state and the sign of the
# input marks which side of the kink a unit is on.  Tanh, a main activation
# in this search space, is odd and zero separates its two saturating halves,
# so the same sign code applies.  Squeeze-excitation gates (Sigmoid,
# Hardsigmoid) are left out: they scale features rather than switch units,
# and counting them would let the gate's width, not the network's, dominate.
CODED_ACTIVATION_TYPES: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.RReLU,
    nn.ELU,
    nn.CELU,
    nn.SELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Hardswish,
    nn.Softplus,
    nn.Tanh,
)

# Column block for counting code agreements.  Each block's 0/1 matmul is done
# in float32, which counts exactly up to 2**24, so a block must stay below
# that; 2**20 units also bounds the float copy of a block (batch x block x 4
# bytes, 256 MiB at batch 64) for layers with millions of units.
_UNITS_PER_BLOCK = 2**20


def naswot(model: nn.Module, images: torch.Tensor) -> float:
    """NASWOT score of ``model`` on ``images`` (mutates the model: pass a private copy).

    Every activation unit a (each element of the input of each call of a
    coded activation module, over all calls) gives input i the bit
    c_i[a] = 1 if its pre-activation is > 0.  With N_A units and N inputs,

        K_H[i, j] = N_A - Hamming(c_i, c_j)        (number of agreeing bits)
        score     = log |det K_H|

    computed with ``slogdet`` in float64.  Higher is better: the more
    distinct the codes of different inputs, the closer K_H is to diagonal.

    K_H is a sum of Gram matrices, so it is positive semi-definite and its
    determinant is >= 0.  When it is singular, as when the network codes
    every input the same way (input-independent activations) or the batch
    holds duplicate images, the score is -inf: the lowest possible, since the
    network cannot tell some of the inputs apart.  A numerically non-positive
    determinant is treated the same way.  Each unit adds a matrix of rank at
    most 2 sharing the all-ones direction, so rank(K_H) <= N_A + 1: the batch
    must be smaller than that, which any real CNN satisfies by far.

    Only activation *modules* are seen (hooks); an activation applied as a
    function inside ``forward`` (``F.relu``) is invisible.  A network in which
    no coded activation module runs (all activations ``identity``, say) has
    no codes, N_A = 0 and K_H = 0: the score is -inf, and a RuntimeWarning
    says so, since the cause may as well be activations applied as functions.

    BatchNorm uses batch statistics, the state an untrained network is in
    when the paper scores it; dropout is off.
    """
    use_data_scoring_mode(model)
    agreements, units_seen = _code_agreements(model, images)
    if units_seen == 0:
        warnings.warn(
            "naswot: no activation module of the coded kinds ran in the forward pass, so no input can be told "
            "apart; returning -inf (activations applied as functions, F.relu, cannot be observed)",
            RuntimeWarning,
            stacklevel=2,
        )
        return float("-inf")
    sign, log_abs_det = torch.linalg.slogdet(agreements)
    if sign <= 0:
        return float("-inf")
    return float(log_abs_det)


def _code_agreements(model: nn.Module, images: torch.Tensor) -> tuple[torch.Tensor, int]:
    """K_H summed over every coded activation unit of one forward pass, and the number of units N_A."""
    batch = images.shape[0]
    agreements = torch.zeros((batch, batch), dtype=torch.float64, device=images.device)
    units_seen = 0

    def record_codes(_layer: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        # A pre-hook sees the input before an in-place activation overwrites it.
        nonlocal agreements, units_seen
        codes = inputs[0].detach().reshape(batch, -1) > 0
        agreements = agreements + count_agreements(codes)
        units_seen += codes.shape[1]

    coded = [layer for layer in model.modules() if isinstance(layer, CODED_ACTIVATION_TYPES)]
    handles = [layer.register_forward_pre_hook(record_codes) for layer in coded]
    try:
        with torch.no_grad():
            model(images)
    finally:
        for handle in handles:
            handle.remove()
    return agreements, units_seen


def count_agreements(codes: torch.Tensor) -> torch.Tensor:
    """K[i, j] = number of positions where boolean rows i and j agree, in float64.

    With s_i the number of ones in row i and n the row length,
    agreements = n - Hamming = n - s_i - s_j + 2 * (c_i . c_j),
    so one matrix product per block of columns suffices.
    """
    batch = codes.shape[0]
    total = torch.zeros((batch, batch), dtype=torch.float64, device=codes.device)
    for start in range(0, codes.shape[1], _UNITS_PER_BLOCK):
        block = codes[:, start : start + _UNITS_PER_BLOCK].to(torch.float32)
        ones = block.sum(dim=1, dtype=torch.float64)
        both_on = (block @ block.T).to(torch.float64)
        total += block.shape[1] - ones[:, None] - ones[None, :] + 2.0 * both_on
    return total
