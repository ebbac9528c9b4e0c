"""Short proxy training of one candidate network: the entry point :func:`train` and its loop.

A proxy training ranks candidates, so it has to be cheap, reproducible and
unbreakable: the data sit on the device and are augmented there, every random
choice comes from the seed, and whatever a broken candidate does ends as a
:class:`~evaluators.proxy.result.TrainingFailure` rather than an exception.
The loop's own pieces live here too: the learning-rate schedule, the
device-resident data, the peak-memory figure and the validation pass; what
the settings mean is in :mod:`evaluators.proxy.settings`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from evaluators.data.base import ImageDataset
from evaluators.devicelock import hold_device
from evaluators.devices import cudnn_autotuned, device_name, resolve_device
from evaluators.proxy.augment import BatchAugmenter, Normaliser, resize_images, translation_for
from evaluators.proxy.candidate import check_candidate_type, materialise
from evaluators.proxy.failures import (
    NonFiniteLoss,
    failure_from_exception,
    release_memory,
)
from evaluators.proxy.recipe import has_batch_norm, recalibrate_batch_norms, zero_init_residual_branches
from evaluators.proxy.regime.cache import RegimeCache, regime_cache_key
from evaluators.proxy.regime.modes import autocast_for, prepare_input, prepare_model
from evaluators.proxy.regime.probe import DeviceRegimeProbe
from evaluators.proxy.regime.select import (
    RegimeSelection,
    SelectionContext,
    select_regime,
)
from evaluators.proxy.result import EpochRecord, ProxyResult, TrainingFailure
from evaluators.proxy.settings import SCHEDULES, ProxySettings
from evaluators.proxy.step import OptimizerSettings, TrainStep, check_logits, make_optimizer, training_forward

# How often the running loss is checked for NaN/inf.  On a CPU the check is
# free.  On a GPU it is a host sync that stalls the launch queue, so it runs
# every few steps: a diverged candidate's weights are NaN after its first bad
# step anyway, so nothing is lost by noticing a few steps later.
_NAN_CHECK_EVERY_CUDA = 8


def train(
    candidate: object,
    dataset: ImageDataset,
    settings: ProxySettings | None = None,
    *,
    device: str | torch.device = "cpu",
    on_epoch: Callable[[EpochRecord], bool | None] | None = None,
) -> ProxyResult | TrainingFailure:
    """Train a candidate briefly on ``dataset`` and measure validation accuracy.

    ``candidate``: a ``NetSpec`` (adapted to the data's channels and classes
    and to the settings' resolution, then built with weights drawn from the
    seed) or an ``nn.Module`` (trained in place: moved to ``device``, its
    weights updated; it must map ``(N, C, R, R)`` to ``(N, num_classes)``).

    ``settings``: how to train (:class:`ProxySettings`, whose defaults are
    explained beside its fields); None: ``ProxySettings()``.
    ``device``: where to train; ``"cpu"`` is the one device every machine has.
    ``on_epoch``: called with each finished epoch's :class:`EpochRecord` (a
    scheduler such as ASHA reads the learning curve as it grows; set
    ``eval_each_epoch=True`` for its validation accuracy).  When it returns
    True, training stops after that epoch and the result says
    ``stopped_early`` (a multi-fidelity pruner's decision; its accuracy is the
    last epoch's).  What it raises ends the training like any other failure.

    The device is held shared (:func:`evaluators.devicelock.hold_device`) for
    the whole call, so latency measurements never overlap a training.

    Invalid settings raise ``ValueError``/``TypeError``; an unusable device
    raises ``DeviceError``.  Problems of the candidate itself never raise:
    they return a :class:`TrainingFailure` (``KeyboardInterrupt`` propagates).
    """
    check_candidate_type(candidate)
    if settings is None:
        settings = ProxySettings()
    elif not isinstance(settings, ProxySettings):
        raise TypeError(f"settings must be a ProxySettings, got {type(settings).__name__}")
    resolved = settings.for_dataset(dataset)
    target = resolve_device(device)
    progress = _Progress(on_epoch=on_epoch)
    with hold_device(target, exclusive=False):
        try:
            return _ProxyRun(candidate, dataset, resolved, target, progress).run()
        except Exception as exc:  # a broken candidate is a result, not a crash
            failure = failure_from_exception(exc, epochs_run=progress.epochs_run)
        # Outside the handler: the exception's traceback kept the model and
        # activations alive until here.
        release_memory(target)
        return failure


@dataclass
class _Progress:
    """Epochs finished so far; survives the exception that ends a failed run."""

    epochs_run: int = 0
    on_epoch: Callable[[EpochRecord], bool | None] | None = None


@dataclass
class _EpochTotals:
    """Running sums of one epoch, kept on the device so that no step waits for the host."""

    loss_sum: torch.Tensor
    correct: torch.Tensor
    steps: int = 0
    images: int = 0
    last_lr: float = 0.0


@dataclass
class _Trainee:
    """Everything a run trains and evaluates with, once set up."""

    model: nn.Module
    data: DeviceData
    normaliser: Normaliser
    step: TrainStep
    augmenter: BatchAugmenter
    generator: torch.Generator
    selection: RegimeSelection
    steps_per_epoch: int
    optimizer: OptimizerSettings  # the kind and peak rate chosen for this net (ProxySettings.optimizer_for)


@dataclass
class _Timeline:
    """Where the wall time went and what the epochs produced."""

    started: float
    train_started: float = 0.0
    eval_seconds: float = 0.0
    images_trained: int = 0
    time_limited: bool = False
    stopped_early: bool = False  # the on_epoch callback asked to stop
    history: list[EpochRecord] = field(default_factory=list)
    step_losses: list[torch.Tensor] = field(default_factory=list)  # on the device until the end


class _ProxyRun:
    """One call of :func:`train`, with the device held."""

    def __init__(
        self, candidate: object, dataset: ImageDataset, settings: ProxySettings, device: torch.device, progress: _Progress
    ) -> None:
        self.candidate = candidate
        self.dataset = dataset
        self.settings = settings
        self.device = device
        self.progress = progress

    def run(self) -> ProxyResult:
        timeline = _Timeline(started=time.perf_counter())
        rng_devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=rng_devices), cudnn_autotuned(self.device):
            torch.manual_seed(self.settings.seed)
            memory = PeakMemory(self.device)
            trainee = self._set_up(memory)
            memory.start_peak()
            timeline.train_started = time.perf_counter()
            self._train_epochs(trainee, timeline)
            train_seconds = time.perf_counter() - timeline.train_started - timeline.eval_seconds
            last = timeline.history[-1]
            validation = Validation(last.val_accuracy, last.val_loss) if last.val_accuracy is not None else None
            if validation is None:
                self._recalibrate(trainee)
                validation = self._timed_validation(trainee, timeline)
            return self._result(trainee, timeline, validation, train_seconds, memory)

    def _set_up(self, memory: PeakMemory) -> _Trainee:
        settings, dataset, device = self.settings, self.dataset, self.device
        data = DeviceData.load(dataset, device, settings.resolution)
        memory.set_baseline()  # the resident dataset is not the candidate's memory
        candidate = materialise(
            self.candidate, in_channels=dataset.in_channels, num_classes=dataset.num_classes, resolution=settings.resolution
        )
        model = candidate.module.to(device)
        if settings.zero_init_residual and not isinstance(self.candidate, nn.Module):
            zero_init_residual_branches(model)  # fresh weights only: never overwrite a given module's
        model.train()
        normaliser = Normaliser(dataset.mean, dataset.std, device)
        steps_per_epoch = len(dataset) // settings.batch_size  # the last partial batch is dropped
        if settings.max_steps_per_epoch is not None:
            steps_per_epoch = min(steps_per_epoch, settings.max_steps_per_epoch)

        with_batch_norm = has_batch_norm(model)
        chosen = settings.optimizer_for(with_batch_norm)
        selection = self._select_regime(model, candidate.fingerprint, data, normaliser, steps_per_epoch, chosen)
        base = selection.decision.base
        prepare_model(model, base)
        optimizer = make_optimizer(model, chosen)
        step = TrainStep(
            selection.compiled_forward or training_forward(model),
            optimizer,
            regime=base,
            device=device,
            num_classes=dataset.num_classes,
            label_smoothing=settings.label_smoothing,
            max_grad_norm=settings.grad_norm_limit_for(with_batch_norm),
        )
        generator = torch.Generator(device=device)
        generator.manual_seed(settings.seed)
        augmenter = BatchAugmenter(
            normaliser,
            max_shift=translation_for(settings.resolution) if settings.augment else 0,
            flip=settings.augment and settings.flip,
            generator=generator,
        )
        return _Trainee(model, data, normaliser, step, augmenter, generator, selection, steps_per_epoch, chosen)

    def _train_epochs(self, trainee: _Trainee, timeline: _Timeline) -> None:
        settings = self.settings
        epochs = settings.epochs_to_run(trainee.steps_per_epoch)
        for epoch in range(epochs):
            totals = self._train_epoch(trainee, first_step=epoch * trainee.steps_per_epoch, losses=timeline.step_losses)
            if settings.eval_each_epoch:
                self._recalibrate(trainee)
            timeline.images_trained += totals.images
            validation = self._timed_validation(trainee, timeline) if settings.eval_each_epoch else None
            timeline.history.append(
                EpochRecord(
                    epoch=epoch + 1,
                    train_loss=float(totals.loss_sum.item()) / totals.steps,
                    train_accuracy=int(totals.correct.item()) / totals.images,
                    lr=totals.last_lr,
                    seconds=time.perf_counter() - timeline.train_started - timeline.eval_seconds,
                    val_accuracy=validation.accuracy if validation else None,
                    val_loss=validation.loss if validation else None,
                )
            )
            self.progress.epochs_run = epoch + 1
            stop = self.progress.on_epoch is not None and bool(self.progress.on_epoch(timeline.history[-1]))
            if stop and epoch + 1 < epochs:
                timeline.stopped_early = True
                return
            if settings.time_limit_s is not None and epoch + 1 < epochs and _cannot_finish(timeline, epoch + 1, epochs, settings.time_limit_s):
                timeline.time_limited = True
                return

    def _train_epoch(self, trainee: _Trainee, first_step: int, losses: list[torch.Tensor]) -> _EpochTotals:
        settings, device = self.settings, self.device
        total_steps = settings.total_steps(trainee.steps_per_epoch)
        batch, steps = settings.batch_size, min(trainee.steps_per_epoch, total_steps - first_step)
        warmup_steps = round(settings.warmup_epochs * trainee.steps_per_epoch)
        check_every = 1 if device.type == "cpu" else _NAN_CHECK_EVERY_CUDA
        images, labels_all = trainee.data.train_images, trainee.data.train_labels
        order = torch.randperm(images.shape[0], generator=trainee.generator, device=device)
        totals = _EpochTotals(
            loss_sum=torch.zeros((), dtype=torch.float32, device=device),
            correct=torch.zeros((), dtype=torch.int64, device=device),
        )
        for index in range(steps):
            rate = learning_rate(
                first_step + index, base_lr=trainee.optimizer.lr, total_steps=total_steps, warmup_steps=warmup_steps, schedule=settings.schedule
            )
            for group in trainee.step.optimizer.param_groups:
                group["lr"] = rate * group["lr_scale"]
            chosen = order[index * batch : (index + 1) * batch]
            labels = labels_all[chosen]
            loss, logits = trainee.step(trainee.augmenter(images[chosen]), labels)
            totals.loss_sum += loss
            losses.append(loss)
            totals.correct += (logits.argmax(dim=1) == labels).sum()
            totals.steps += 1
            totals.images += batch
            totals.last_lr = rate
            if (index + 1) % check_every == 0 or index + 1 == steps:
                _raise_if_not_finite(totals.loss_sum, first_step + index)
        return totals

    def _recalibrate(self, trainee: _Trainee) -> None:
        if not self.settings.recalibrate_norms:
            return
        regime = trainee.selection.decision.base

        def prepare(images: torch.Tensor) -> torch.Tensor:
            return prepare_input(trainee.normaliser(images), regime)

        with autocast_for(self.device, regime):
            recalibrate_batch_norms(trainee.model, trainee.data.train_images, prepare, 2 * self.settings.batch_size)

    def _timed_validation(self, trainee: _Trainee, timeline: _Timeline) -> Validation:
        started = time.perf_counter()
        validation = evaluate(
            trainee.model,
            trainee.data.val_images,
            trainee.data.val_labels,
            normaliser=trainee.normaliser,
            regime=trainee.selection.decision.base,
            device=self.device,
            num_classes=self.dataset.num_classes,
            batch_size=2 * self.settings.batch_size,  # no activations kept for backward: twice the batch fits
        )
        timeline.eval_seconds += time.perf_counter() - started
        return validation

    def _result(
        self, trainee: _Trainee, timeline: _Timeline, validation: Validation, train_seconds: float, memory: PeakMemory
    ) -> ProxyResult:
        decision = trainee.selection.decision
        return ProxyResult(
            accuracy=validation.accuracy,
            val_loss=validation.loss,
            train_loss=timeline.history[-1].train_loss,
            seconds=time.perf_counter() - timeline.started,
            train_seconds=train_seconds,
            images_per_second=timeline.images_trained / train_seconds if train_seconds > 0 else 0.0,
            peak_memory_mb=memory.peak_mb(),
            regime=decision.label,
            epochs_run=len(timeline.history),
            history=tuple(timeline.history),
            setup_seconds=timeline.train_started - timeline.started,
            eval_seconds=timeline.eval_seconds,
            lr=trainee.optimizer.lr,
            optimizer=trainee.optimizer.kind,
            resolution=self.settings.resolution,
            regime_note=decision.reason,
            time_limited=timeline.time_limited,
            stopped_early=timeline.stopped_early,
            step_losses=tuple(torch.stack(timeline.step_losses).float().cpu().tolist()) if timeline.step_losses else (),
        )

    def _select_regime(
        self, model: nn.Module, fingerprint: str, data: DeviceData, normaliser: Normaliser, steps_per_epoch: int,
        optimizer: OptimizerSettings,
    ) -> RegimeSelection:
        settings, device = self.settings, self.device
        probe = DeviceRegimeProbe(
            model,
            normaliser(data.train_images[: settings.batch_size]),
            data.train_labels[: settings.batch_size],
            device=device,
            num_classes=self.dataset.num_classes,
            label_smoothing=settings.label_smoothing,
            optimizer=optimizer,
        )
        label = device_name(device)
        context = SelectionContext(
            device=device,
            device_label=label,
            cache_key=regime_cache_key(fingerprint, label, settings.batch_size, settings.resolution),
            planned_steps=settings.epochs * steps_per_epoch,
            time_limit_s=settings.time_limit_s,
        )
        return select_regime(settings.regime, context, probe, RegimeCache())


def _cannot_finish(timeline: _Timeline, epochs_done: int, epochs: int, limit_s: float) -> bool:
    """Whether the time limit has passed, or the set-up plus the epochs' pace so far would carry the run past it.

    The second stops a net at its first epoch's end that would otherwise train until the limit and
    be thrown away there: a ViT whose proxy kept its 224-px token grid (the rule until 2026-12-03) trained
    ten times slower than the CNNs around it (5 min against 12-30 s); a wide or deep net still can.
    """
    now = time.perf_counter()
    set_up, training = timeline.train_started - timeline.started, now - timeline.train_started
    return now - timeline.started > limit_s or set_up + training * epochs / epochs_done > limit_s


def _raise_if_not_finite(loss_sum: torch.Tensor, step: int) -> None:
    # A sum is finite only if every term was: one NaN or inf step poisons it.
    if not bool(torch.isfinite(loss_sum).item()):
        raise NonFiniteLoss(f"training loss became {loss_sum.item()} by step {step + 1}")


# --- the learning-rate schedule: set per step, not per epoch, since a proxy run is short
# (with 5 epochs, a per-epoch cosine would be a five-step staircase).

# "step" divides the rate by 10 at these fractions of the post-warm-up steps,
# the classic ResNet recipe (30/60/90 of 90 epochs) compressed to two drops.
_STEP_MILESTONES = (0.5, 0.75)
_STEP_FACTOR = 0.1


def learning_rate(step: int, *, base_lr: float, total_steps: int, warmup_steps: int, schedule: str) -> float:
    """Rate for 0-based ``step`` of ``total_steps``.

    A linear warm-up from ``base_lr / warmup_steps`` to ``base_lr`` over the
    first ``warmup_steps`` steps, then: ``cosine`` decays towards zero, reached
    one step after the last, ``constant`` stays at ``base_lr``, ``step`` drops tenfold at 50% and
    again at 75% of the remaining steps.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule={schedule!r} is not supported (allowed: {', '.join(SCHEDULES)})")
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if schedule == "constant":
        return base_lr
    decay_steps = max(1, total_steps - warmup_steps)
    # The first post-warm-up step runs at base_lr; the last one just above zero
    # (a step at exactly zero would be wasted).
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    if schedule == "cosine":
        return base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))
    drops = sum(progress >= milestone for milestone in _STEP_MILESTONES)
    return base_lr * _STEP_FACTOR**drops


# --- what the loop trains on, what it measures


@dataclass(frozen=True)
class DeviceData:
    """The dataset, resident on the training device as ``uint8`` at the proxy resolution."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor

    @classmethod
    def load(cls, dataset: ImageDataset, device: torch.device, resolution: int) -> DeviceData:
        """Copy once to ``device`` (still ``uint8``, a quarter of float32's size), then resize there."""
        return cls(
            train_images=resize_images(dataset.train_images.to(device), resolution),
            train_labels=dataset.train_labels.to(device),
            val_images=resize_images(dataset.val_images.to(device), resolution),
            val_labels=dataset.val_labels.to(device),
        )


class PeakMemory:
    """CUDA memory the candidate needed beyond a baseline; ``None`` on a CPU.

    ``set_baseline`` is called once the dataset is resident, so the figure
    covers what differs between candidates: weights, gradients, optimizer
    state, activations and workspace.  ``start_peak`` resets PyTorch's peak
    counter (per process and device: concurrent trainings in one process
    would share it) after regime probing, whose snapshot copies are not part
    of training.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.baseline = 0

    def set_baseline(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.baseline = torch.cuda.memory_allocated(self.device)

    def start_peak(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)

    def peak_mb(self) -> float | None:
        if self.device.type != "cuda":
            return None
        torch.cuda.synchronize(self.device)
        return max(0, torch.cuda.max_memory_allocated(self.device) - self.baseline) / 2**20


@dataclass(frozen=True)
class Validation:
    """A model's figures on the validation split."""

    accuracy: float  # top-1, 0..1
    # Mean cross-entropy without label smoothing: unlike accuracy it sees how confident the right and the wrong
    # answers are, so it still tells nets apart where their accuracies tie on a small split.
    loss: float


def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    normaliser: Normaliser,
    regime: str,
    device: torch.device,
    num_classes: int,
    batch_size: int,
) -> Validation:
    """Top-1 accuracy and mean cross-entropy of ``model`` on ``images``, in eval mode.

    Runs the eager module even when training used a compiled forward:
    evaluation mode and the smaller last batch would each make the compiler
    trace again, which costs more than the short validation pass saves.
    Sums accumulate on the device; one host sync at the end.
    """
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    try:
        with torch.inference_mode(), autocast_for(device, regime):
            for start in range(0, images.shape[0], batch_size):
                batch = prepare_input(normaliser(images[start : start + batch_size]), regime)
                logits = model(batch)
                check_logits(logits, batch.shape[0], num_classes)
                expected = labels[start : start + batch_size]
                correct += (logits.argmax(dim=1) == expected).sum()
                loss_sum += nn.functional.cross_entropy(logits.float(), expected, reduction="sum")
    finally:
        model.train(was_training)
    count = max(1, images.shape[0])
    return Validation(accuracy=int(correct.item()) / count, loss=float(loss_sum.item()) / count)
