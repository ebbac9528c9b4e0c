"""One optimisation step of a candidate, shared by the trainer, the regime probe
and the throughput benchmark so that all three time exactly the same work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from evaluators.optimizer_names import OPTIMIZERS
from evaluators.proxy.failures import OutputShapeError
from evaluators.proxy.regime.modes import autocast_for, prepare_input

# Weight of each auxiliary classifier's loss, as in GoogLeNet (Szegedy et al.,
# 2015): enough to feed gradient into the early layers, small enough that the
# main head still dominates what is learnt.
AUX_LOSS_WEIGHT = 0.3

# torch.compile backend; a module-level setting so that tests can exercise the
# compiled path with the cheap "eager" backend instead of inductor.
COMPILE_BACKEND = "inductor"

TrainingForward = Callable[[torch.Tensor], tuple[torch.Tensor, list[torch.Tensor]]]


def has_aux_heads(model: nn.Module) -> bool:
    return callable(getattr(model, "forward_with_aux", None))


def _as_logits_and_aux(output: object) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Split a training forward's output into main logits and auxiliary logits.

    Accepts logits alone, ``(logits, [aux, ...])`` as ``forward_with_aux``
    returns, and the flat tuples some torchvision models return in training
    mode (``(logits, aux)`` from Inception v3, ``(logits, aux2, aux1)`` from
    GoogLeNet); ``None`` entries (heads switched off) are skipped.
    """
    if isinstance(output, torch.Tensor):
        return output, []
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        aux: list[torch.Tensor] = []
        for item in output[1:]:
            items = item if isinstance(item, (tuple, list)) else [item]
            for candidate in items:
                if isinstance(candidate, torch.Tensor):
                    aux.append(candidate)
                elif candidate is not None:
                    raise TypeError(f"auxiliary output of type {type(candidate).__name__} is not a tensor")
        return output[0], aux
    raise TypeError(f"the model returned {type(output).__name__}; expected logits or (logits, list of aux logits)")


def training_forward(model: nn.Module, *, compiled: bool = False) -> TrainingForward:
    """The forward pass used for training: ``x -> (logits, aux_logits)``.

    Models with auxiliary heads are trained through ``forward_with_aux``;
    others through ``model(x)`` with no auxiliary logits.  With ``compiled``
    that callable is wrapped in ``torch.compile`` (lazily: compilation happens
    on the first call, so a compile failure surfaces there).
    """
    inner: Callable[[torch.Tensor], object] = model.forward_with_aux if has_aux_heads(model) else model
    if compiled:
        inner = torch.compile(inner, backend=COMPILE_BACKEND)

    def forward(images: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return _as_logits_and_aux(inner(images))

    return forward


def check_logits(logits: torch.Tensor, batch: int, num_classes: int) -> None:
    """Raise :class:`OutputShapeError` unless ``logits`` is (batch, num_classes).

    Caught here, on the host, because a head with the wrong number of classes
    would otherwise fail inside the loss with an index error, or worse, train
    silently with targets out of range on some backends.
    """
    if logits.dim() != 2 or logits.shape[0] != batch or logits.shape[1] != num_classes:
        raise OutputShapeError(f"the model produced logits of shape {tuple(logits.shape)}; expected ({batch}, {num_classes})")


def classification_loss(
    logits: torch.Tensor, aux_logits: Sequence[torch.Tensor], labels: torch.Tensor, label_smoothing: float
) -> torch.Tensor:
    """Cross-entropy of the main head plus :data:`AUX_LOSS_WEIGHT` times each auxiliary head's."""
    loss = F.cross_entropy(logits.float(), labels, label_smoothing=label_smoothing)
    for aux in aux_logits:
        loss = loss + AUX_LOSS_WEIGHT * F.cross_entropy(aux.float(), labels, label_smoothing=label_smoothing)
    return loss


class TrainStep:
    """Forward, loss, backward and optimizer update for one normalised batch."""

    def __init__(
        self,
        forward: TrainingForward,
        optimizer: torch.optim.Optimizer,
        *,
        regime: str,
        device: torch.device,
        num_classes: int,
        label_smoothing: float,
        max_grad_norm: float | None = None,
    ) -> None:
        self.forward = forward
        self.max_grad_norm = max_grad_norm
        # Gathered once: clipping runs every step, and the optimizer's parameters never change.
        self.parameters = [p for group in optimizer.param_groups for p in group["params"]]
        self.optimizer = optimizer
        self.regime = regime
        self.device = device
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the step; return the detached loss and main-head logits."""
        images = prepare_input(images, self.regime)
        with autocast_for(self.device, self.regime):
            logits, aux_logits = self.forward(images)
            check_logits(logits, images.shape[0], self.num_classes)
            for aux in aux_logits:
                check_logits(aux, images.shape[0], self.num_classes)
            loss = classification_loss(logits, aux_logits, labels, self.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.max_grad_norm is not None:
            # Non-finite norms are left for the NaN check to report, not hidden by a scale of NaN.
            torch.nn.utils.clip_grad_norm_(self.parameters, self.max_grad_norm)
        self.optimizer.step()
        return loss.detach(), logits.detach()


@dataclass(frozen=True)
class OptimizerSettings:
    """Which optimizer updates a candidate, and its peak rate (the schedule scales it every step)."""

    lr: float
    momentum: float
    nesterov: bool
    weight_decay: float
    kind: str = "sgd"  # one of OPTIMIZERS; "adamw" ignores momentum and nesterov (Adam keeps its own moments)
    # AdamW only: a convolution's or linear layer's weights get lr x min(ceiling, (this / fan-in) ** fan_in_power),
    # the ceiling max_rate_scale for a convolution, 1 for the rest (see adamw_rate_scales); None: lr for all.
    reference_fan_in: int | None = None
    fan_in_power: float = 1.0
    max_rate_scale: float = 1.0
    # A 1x1 convolution's ceiling, where it differs from a spatial one's (None: max_rate_scale).
    pointwise_max_rate_scale: float | None = None



def make_optimizer(model: nn.Module, settings: OptimizerSettings) -> torch.optim.Optimizer:
    """The optimizer ``settings`` name, with weight decay on the kernels of ``kernel_weights`` only.

    Biases, normalisation scales/shifts, layer-scale gains, position
    embeddings, class tokens and relative-position tables are not decayed:
    decaying them does not regularise anything useful and, for norm and
    layer scales, fights what they are for; with only a few epochs that wasted
    effort shows up as lower proxy accuracy.  (A rule on ``dim() > 1`` would
    decay ConvNeXt's (C, 1, 1) layer scales and ViT's position embeddings; DeiT
    and Swin exclude them.)  Every group carries its ``lr_scale``, the factor the
    schedule's rate is multiplied by for it (1 but for AdamW's layers wider than
    ``settings.reference_fan_in``, and above 1 for narrower ones when
    ``settings.max_rate_scale`` allows it).
    """
    if settings.kind not in OPTIMIZERS:
        raise ValueError(f"optimizer kind {settings.kind!r} is not one of {', '.join(OPTIMIZERS)}")
    kernel_list = kernel_weights(model)
    scaled = settings.kind == "adamw" and settings.reference_fan_in is not None
    scales = adamw_rate_scales(kernel_list, settings) if scaled else {}
    kernels = {id(weight) for weight in kernel_list}
    grouped: dict[tuple[bool, float], list[nn.Parameter]] = {}
    for parameter in model.parameters():
        if parameter.requires_grad:
            grouped.setdefault((id(parameter) in kernels, scales.get(id(parameter), 1.0)), []).append(parameter)
    groups = [{"params": params, "weight_decay": settings.weight_decay if decayed else 0.0, "lr_scale": scale,
               "lr": settings.lr * scale} for (decayed, scale), params in grouped.items()]
    if settings.kind == "adamw":
        return torch.optim.AdamW(groups, lr=settings.lr)
    return torch.optim.SGD(groups, lr=settings.lr, momentum=settings.momentum, nesterov=settings.nesterov)


def kernel_weights(model: nn.Module) -> list[nn.Parameter]:
    """The weights that map inputs to outputs: convolutions', linear layers' and attention's projections.

    Each row (a first-axis slice) holds one output's weights over its whole fan-in.
    """
    kernels = []
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)):
            kernels.append(module.weight)
        elif isinstance(module, nn.MultiheadAttention):  # its input projection is a bare parameter
            names = ("in_proj_weight",) if module._qkv_same_embed_dim else ("q_proj_weight", "k_proj_weight", "v_proj_weight")
            kernels.extend(getattr(module, name) for name in names)
    return [weight for weight in kernels if isinstance(weight, nn.Parameter)]


def adamw_rate_scales(kernels: list[nn.Parameter], settings: OptimizerSettings) -> dict[int, float]:
    """id of each of ``kernels`` (see ``kernel_weights``) -> min(ceiling, (reference fan-in / its fan-in) ** power).

    The ceiling is ``settings.max_rate_scale`` for a convolution (``pointwise_max_rate_scale`` for a 1x1 one,
    where set) and 1 for a linear layer or an attention projection: raising the rate of ViT-Ti's linear layers
    (fan-in 192) cut its digits accuracy from 0.94 to 0.82, since attention logits grow with the product of the
    query and key weights, whatever the fan-in.
    """
    assert settings.reference_fan_in is not None
    scales = {}
    for weight in kernels:
        fan_in = weight[0].numel()  # input channels per group x kernel area, or input features
        ceiling = _ceiling(weight, settings)
        scales[id(weight)] = min(ceiling, (settings.reference_fan_in / fan_in) ** settings.fan_in_power)
    return scales


def _ceiling(weight: nn.Parameter, settings: OptimizerSettings) -> float:
    if weight.dim() <= 2:  # a convolution's kernel has spatial axes; a linear layer's or projection's has none
        return 1.0
    if settings.pointwise_max_rate_scale is not None and weight[0, 0].numel() == 1:
        return settings.pointwise_max_rate_scale
    return settings.max_rate_scale


def synchronize(device: torch.device) -> None:
    """Wait for queued device work, so that wall-clock time measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


