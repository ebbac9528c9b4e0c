"""Which layers the proxies read, and the state the network is scored in.

Shared by every proxy so that "the weights" and "the scoring mode" mean the
same thing for synflow, NASWOT, grad_norm and snip.
"""

from __future__ import annotations

from torch import nn

# The zero-cost NAS literature (Abdelfattah et al., 2021) sums its per-weight
# saliencies over convolution and fully connected layers only.  Normalisation
# affine parameters and biases are left out: they are a per-channel shift and
# scale, not connections between units, and including them would let a layer
# type that every candidate shares dilute the architectural signal.
SCORED_LAYER_TYPES: tuple[type[nn.Module], ...] = (
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.Linear,
)

BATCH_NORM_TYPES: tuple[type[nn.Module], ...] = (
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
    nn.SyncBatchNorm,
)

NORMALISATION_TYPES: tuple[type[nn.Module], ...] = BATCH_NORM_TYPES + (
    nn.GroupNorm,
    nn.LayerNorm,
    nn.InstanceNorm1d,
    nn.InstanceNorm2d,
    nn.InstanceNorm3d,
)


def scored_weights(model: nn.Module) -> list[nn.Parameter]:
    """The ``weight`` of every convolution and linear layer, each tensor once.

    A layer reused in several places of the forward pass (or a weight tied
    between two layers) is one set of parameters, so it is counted once; its
    gradient already accumulates every use.
    """
    weights: list[nn.Parameter] = []
    seen: set[int] = set()
    for layer in model.modules():
        if not isinstance(layer, SCORED_LAYER_TYPES):
            continue
        weight = layer.weight
        if id(weight) not in seen:
            seen.add(id(weight))
            weights.append(weight)
    return weights


def use_data_scoring_mode(model: nn.Module) -> None:
    """Put a (private) model in the state the data-driven proxies score it in.

    Batch normalisation uses the statistics of the scoring minibatch, as it
    does for an untrained network in its default training mode, which is the
    state the NASWOT and gradient-proxy papers score.  Everything else runs in
    evaluation mode so that dropout or stochastic depth cannot make the score
    depend on the global random state.  Running statistics of the model are
    updated by the forward pass, which is why proxies only see a copy.
    """
    model.eval()
    for layer in model.modules():
        if isinstance(layer, BATCH_NORM_TYPES):
            layer.train()
