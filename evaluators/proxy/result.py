"""What a proxy training hands back: a measured result or a structured failure.

A search evaluates thousands of candidates and some of them are broken (they
diverge, do not fit in memory, or have layers whose shapes do not line up).
Such a candidate is an outcome to record, not a crash, so :func:`train` returns
a :class:`TrainingFailure` instead of raising.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

FailureReason = Literal["nan_loss", "out_of_memory", "shape_error", "invalid_spec", "error"]
FAILURE_REASONS: tuple[str, ...] = ("nan_loss", "out_of_memory", "shape_error", "invalid_spec", "error")


@dataclass(frozen=True)
class EpochRecord:
    """One finished training epoch.

    ``train_loss`` and ``train_accuracy`` are measured on the augmented
    training batches in training mode, as the epoch went (free to compute; no
    extra pass).  ``val_accuracy`` and ``val_loss`` (mean cross-entropy, no
    label smoothing) are only filled when per-epoch evaluation was asked for, because a validation pass per epoch costs time that a proxy
    usually does not want to spend.
    """

    epoch: int  # 1-based
    train_loss: float
    train_accuracy: float
    lr: float  # learning rate of the epoch's last step
    seconds: float  # training wall time since the first epoch began, validation passes excluded
    val_accuracy: float | None = None
    val_loss: float | None = None


@dataclass(frozen=True)
class ProxyResult:
    """A finished proxy training.

    Times are wall-clock seconds.  ``seconds`` covers everything the call did
    with the device held: ``setup_seconds`` (moving and resizing the data,
    building the model, choosing the numeric regime, compiling) +
    ``train_seconds`` (the epochs) + ``eval_seconds`` (the final validation
    pass).  ``images_per_second`` is training throughput: images trained
    divided by ``train_seconds``.

    ``peak_memory_mb`` is, on CUDA, the highest ``torch.cuda.max_memory_allocated``
    during training and evaluation minus what was allocated once the dataset
    was on the device: the model, its gradients, the optimizer state and the
    activations, but not the resident dataset.  On CPU it is ``None``: PyTorch
    keeps no allocation counter for the CPU, and process RSS also counts the
    allocator's cached free memory and everything else in the process, so any
    number there would look precise without being so.
    """

    accuracy: float  # top-1 on the validation split, 0..1
    # Mean training objective of the last epoch run: label-smoothed cross-entropy,
    # plus 0.3 x each auxiliary head's for models with auxiliary classifiers.
    train_loss: float
    seconds: float
    train_seconds: float
    images_per_second: float
    peak_memory_mb: float | None
    regime: str  # "fp32", "bf16_cl", "compiled:fp32" or "compiled:bf16_cl"
    epochs_run: int
    history: tuple[EpochRecord, ...]
    setup_seconds: float = 0.0
    eval_seconds: float = 0.0
    lr: float = 0.0  # the peak learning rate used (after scaling by batch size)
    optimizer: str = "sgd"  # "sgd" or "adamw" (ProxySettings.optimizer; "auto" chooses by batch norm)
    resolution: int = 0  # the proxy resolution trained at
    regime_note: str | None = None  # why the regime was chosen, or what fell back
    time_limited: bool = False  # True if time_limit_s stopped training early
    stopped_early: bool = False  # True if the on_epoch callback stopped it (a pruner): accuracy is the last epoch's
    # The training objective of every optimizer step, in order (the same
    # quantity as ``train_loss``).  Their sum is the training-speed estimate.
    step_losses: tuple[float, ...] = ()
    # Mean cross-entropy on the validation split (no label smoothing), from the same pass as ``accuracy``.
    val_loss: float | None = None

    @property
    def tse(self) -> float:
        """Training-speed estimate (Ru et al. 2021): the sum of the training losses of every step.

        Lower is better: a net that learns faster has a smaller area under its
        loss curve.  It ranks nets from the same steps that final accuracy
        would, but uses the whole curve, not one noisy end point.
        """
        return float(sum(self.step_losses))

    @property
    def ok(self) -> bool:
        return True

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["history"] = [asdict(record) for record in self.history]
        return data


@dataclass(frozen=True)
class TrainingFailure:
    """A candidate that could not be trained, and why.

    ``reason`` is one of :data:`FAILURE_REASONS`; ``message`` is a single line
    (the exception's type and message, whitespace collapsed) suitable for a
    results table.
    """

    reason: FailureReason
    message: str
    epochs_run: int = 0

    def __post_init__(self) -> None:
        if self.reason not in FAILURE_REASONS:
            raise ValueError(f"reason={self.reason!r} is not a failure reason (allowed: {', '.join(FAILURE_REASONS)})")

    @property
    def ok(self) -> bool:
        return False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
