"""Checking and completing the hyper-parameters of a proxy training.

Every argument is validated before any work starts, and an invalid one raises
``ValueError`` (``TypeError`` for the wrong kind of object) naming the
argument, the value and what is allowed: a wrong setting is the caller's bug,
unlike a broken candidate, which becomes a ``TrainingFailure``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from evaluators.data.base import ImageDataset
from evaluators.proxy.augment import flip_by_default
from evaluators.proxy.regimes import REGIME_CHOICES
from evaluators.proxy.schedule import SCHEDULES

# The linear scaling rule (Goyal et al., 2017): SGD's rate grows with the batch,
# anchored at 0.1 for 128 images, the usual CIFAR ResNet setting.
REFERENCE_LR = 0.1
REFERENCE_BATCH_SIZE = 128

# Warm-up takes 1/5 of the run, at most one epoch: enough for BatchNorm
# statistics and the momentum buffer to settle before the full rate hits a
# freshly initialised (and possibly badly conditioned) candidate, little
# enough not to eat a short proxy budget.
WARMUP_FRACTION = 0.2
MAX_DEFAULT_WARMUP_EPOCHS = 1.0


@dataclass(frozen=True)
class ProxySettings:
    """Validated, fully resolved settings (no ``None`` left where a default applies)."""

    epochs: int
    batch_size: int
    lr: float
    momentum: float
    nesterov: bool
    weight_decay: float
    schedule: str
    warmup_epochs: float
    label_smoothing: float
    resolution: int
    seed: int
    regime: str
    augment: bool
    flip: bool
    time_limit_s: float | None
    max_steps_per_epoch: int | None
    eval_each_epoch: bool
    # Optimizer steps in all; None: ``epochs`` full epochs.  A step count makes
    # nets comparable across data-set sizes and batch sizes.
    steps: int | None = None
    zero_init_residual: bool = True
    recalibrate_norms: bool = True
    # Gradients are rescaled to at most this L2 norm (None: never), so that a rate
    # high enough to train most nets fast cannot throw the touchier ones off.
    max_grad_norm: float | None = None

    def total_steps(self, steps_per_epoch: int) -> int:
        return self.steps if self.steps is not None else self.epochs * steps_per_epoch

    def epochs_to_run(self, steps_per_epoch: int) -> int:
        return -(-self.total_steps(steps_per_epoch) // steps_per_epoch)


def _fail(name: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"{name}={value!r} is invalid (allowed: {allowed})")


def _int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(name, value, f"an integer >= {minimum}")
    return value


def _real(name: str, value: object, low: float, high: float, *, high_open: bool = False, low_open: bool = False) -> float:
    interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(name, value, f"a finite number in {interval}")
    if value < low or (low_open and value == low) or value > high or (high_open and value == high):
        raise _fail(name, value, f"a number in {interval}")
    return float(value)


def _bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _fail(name, value, "True or False")
    return value


def _choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _fail(name, value, ", ".join(repr(choice) for choice in choices))
    return str(value)


def resolve_settings(
    dataset: ImageDataset,
    *,
    epochs: int,
    batch_size: int,
    lr: float | None,
    momentum: float,
    nesterov: bool,
    weight_decay: float,
    schedule: str,
    warmup_epochs: float | None,
    label_smoothing: float,
    resolution: int | None,
    seed: int,
    regime: str,
    augment: bool,
    flip: bool | None,
    time_limit_s: float | None,
    max_steps_per_epoch: int | None,
    eval_each_epoch: bool,
    steps: int | None = None,
    zero_init_residual: bool = True,
    recalibrate_norms: bool = True,
    max_grad_norm: float | None = None,
) -> ProxySettings:
    if not isinstance(dataset, ImageDataset):
        raise TypeError(f"dataset must be an ImageDataset, got {type(dataset).__name__}")
    epochs = _int("epochs", epochs, 1)
    batch_size = _int("batch_size", batch_size, 1)
    if batch_size > len(dataset):
        # Partial batches are dropped, so there would be nothing to train on.
        raise _fail("batch_size", batch_size, f"at most the {len(dataset)} training images of {dataset.name}")
    momentum = _real("momentum", momentum, 0.0, 1.0, high_open=True)
    nesterov = _bool("nesterov", nesterov)
    if nesterov and momentum == 0.0:
        raise _fail("nesterov", nesterov, "False when momentum is 0 (Nesterov momentum needs momentum > 0)")
    span = float(epochs)
    if steps is not None:
        steps = _int("steps", steps, 1)
        # With a step count, "epochs" are what the steps span (warm-up, history).
        span = steps / max(1, len(dataset) // batch_size)
        epochs = math.ceil(span)
    if warmup_epochs is None:
        warmup_epochs = min(MAX_DEFAULT_WARMUP_EPOCHS, WARMUP_FRACTION * span)
    if resolution is not None:
        resolution = _int("resolution", resolution, 1)
    return ProxySettings(
        epochs=epochs,
        batch_size=batch_size,
        lr=REFERENCE_LR * batch_size / REFERENCE_BATCH_SIZE if lr is None else _real("lr", lr, 0.0, math.inf, low_open=True, high_open=True),
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=_real("weight_decay", weight_decay, 0.0, math.inf, high_open=True),
        schedule=_choice("schedule", schedule, SCHEDULES),
        warmup_epochs=_real("warmup_epochs", warmup_epochs, 0.0, float(epochs)),
        label_smoothing=_real("label_smoothing", label_smoothing, 0.0, 1.0, high_open=True),
        resolution=dataset.resolution if resolution is None else resolution,
        seed=_int("seed", seed, 0),
        regime=_choice("regime", regime, REGIME_CHOICES),
        augment=_bool("augment", augment),
        flip=flip_by_default(dataset) if flip is None else _bool("flip", flip),
        time_limit_s=None if time_limit_s is None else _real("time_limit_s", time_limit_s, 0.0, math.inf, low_open=True, high_open=True),
        max_steps_per_epoch=None if max_steps_per_epoch is None else _int("max_steps_per_epoch", max_steps_per_epoch, 1),
        eval_each_epoch=_bool("eval_each_epoch", eval_each_epoch),
        steps=steps,
        zero_init_residual=_bool("zero_init_residual", zero_init_residual),
        recalibrate_norms=_bool("recalibrate_norms", recalibrate_norms),
        max_grad_norm=None if max_grad_norm is None else _real("max_grad_norm", max_grad_norm, 0.0, math.inf, low_open=True, high_open=True),
    )
