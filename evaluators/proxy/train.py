"""Short proxy training of one candidate network: the public entry point.

A proxy training ranks candidates, so it has to be cheap, reproducible and
unbreakable: the data sit on the device and are augmented there, every random
choice comes from the seed, and whatever a broken candidate does ends as a
:class:`~evaluators.proxy.result.TrainingFailure` rather than an exception.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from evaluators.data.base import ImageDataset
from evaluators.devicelock import hold_device
from evaluators.devices import cudnn_autotuned, device_name, resolve_device
from evaluators.proxy.augment import BatchAugmenter, Normaliser, translation_for
from evaluators.proxy.candidate import check_candidate_type, materialise
from evaluators.proxy.device_data import DeviceData
from evaluators.proxy.failures import (
    NonFiniteLoss,
    failure_from_exception,
    release_memory,
)
from evaluators.proxy.memory import PeakMemory
from evaluators.proxy.regime_cache import RegimeCache, regime_cache_key
from evaluators.proxy.regime_probe import DeviceRegimeProbe, OptimizerSettings
from evaluators.proxy.regime_select import (
    RegimeSelection,
    SelectionContext,
    select_regime,
)
from evaluators.proxy.recipe import recalibrate_batch_norms, zero_init_residual_branches
from evaluators.proxy.regimes import autocast_for, prepare_input, prepare_model
from evaluators.proxy.result import EpochRecord, ProxyResult, TrainingFailure
from evaluators.proxy.schedule import learning_rate
from evaluators.proxy.settings import ProxySettings, resolve_settings
from evaluators.proxy.step import TrainStep, make_optimizer, training_forward
from evaluators.proxy.validation import top1_accuracy

# How often the running loss is checked for NaN/inf.  On a CPU the check is
# free.  On a GPU it is a host sync that stalls the launch queue, so it runs
# every few steps: a diverged candidate's weights are NaN after its first bad
# step anyway, so nothing is lost by noticing a few steps later.
_NAN_CHECK_EVERY_CUDA = 8


def train(
    spec_or_module: object,
    dataset: ImageDataset,
    *,
    epochs: int = 5,
    batch_size: int = 128,
    lr: float | None = None,
    momentum: float = 0.9,
    nesterov: bool = True,
    weight_decay: float = 5e-4,
    schedule: str = "cosine",
    warmup_epochs: float | None = None,
    label_smoothing: float = 0.1,
    resolution: int | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    regime: str = "auto",
    augment: bool = True,
    flip: bool | None = None,
    time_limit_s: float | None = None,
    max_steps_per_epoch: int | None = None,
    eval_each_epoch: bool = False,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    steps: int | None = None,
    zero_init_residual: bool = True,
    recalibrate_norms: bool = True,
    max_grad_norm: float | None = None,
) -> ProxyResult | TrainingFailure:
    """Train a candidate briefly on ``dataset`` and measure validation accuracy.

    ``spec_or_module``: a ``NetSpec`` (adapted to the data's channels and
    classes and to ``resolution``, then built with weights drawn from
    ``seed``) or an ``nn.Module`` (trained in place: moved to ``device``, its
    weights updated; it must map ``(N, C, R, R)`` to ``(N, num_classes)``).

    Defaults, and why:

    * ``epochs=5``: short enough to evaluate many candidates, long enough for
      accuracy to separate good architectures from bad ones (a cosine run of
      a few epochs ranks CIFAR networks far better than one epoch does).
    * ``batch_size=128``: the CIFAR standard; fills a GPU for small networks
      without the large-batch generalisation gap.  The last incomplete batch
      of every epoch is dropped, so BatchNorm never sees a batch of one and
      every step has the same shape (cuDNN autotuning and ``torch.compile``
      then work on one shape).
    * ``lr=None``: ``0.1 * batch_size / 128``, the linear scaling rule
      anchored at the usual CIFAR rate.
    * ``momentum=0.9``, ``nesterov=True``, ``weight_decay=5e-4``: the standard
      CIFAR SGD settings; weight decay applies to weight matrices and kernels,
      not to biases and normalisation parameters.
    * ``schedule="cosine"``: anneals to ~0 by the last step, so the final
      accuracy is that of a settled model, not a noisy snapshot at high rate.
      ``"constant"`` and ``"step"`` (x0.1 at 50% and 75%) are also accepted.
    * ``warmup_epochs=None``: ``min(1, epochs / 5)`` epochs of linear warm-up,
      which lets untested candidates survive the scaled rate.
    * ``label_smoothing=0.1``: slightly better-calibrated, less overconfident
      training; the common ImageNet/CIFAR value.
    * ``resolution=None``: the dataset's own.  A different value resizes the
      data once, on the device, before training.
    * ``seed=0``: seeds weight initialisation (for specs), batch order,
      augmentation and dropout.  On a CPU the same seed gives bit-identical
      results; on a GPU cuDNN autotuning picks kernels whose summation order
      varies, so results agree only to within float rounding effects.
    * ``device="cpu"``: the one device every machine has; pass ``"cuda"``.
    * ``regime="auto"``: see :mod:`evaluators.proxy.regime_select`; fp32 on a
      CPU, the measured fastest of fp32/bf16_cl (and compiled when it pays
      off) on a GPU.  ``"fp32"``, ``"bf16_cl"`` and ``"compiled"`` force one.
    * ``augment=True``: random translation by up to 1/8 of the side; proxies
      without augmentation overfit within a few epochs on small data sets.
    * ``flip=None``: horizontal flips with the augmentation (never without
      it), except for
      1-channel and digit/character data sets, where a mirror image is not an
      image of the same class (see :func:`evaluators.proxy.augment.flip_by_default`).
    * ``time_limit_s=None``: no limit.  Otherwise training stops after the
      epoch during which the call's time (set-up included) exceeded it; the
      schedule is not shortened.
    * ``max_steps_per_epoch=None``: full epochs; a cap makes quicker proxies.
    * ``eval_each_epoch=False``: validate only at the end; ``True`` adds a
      validation accuracy to every history entry (for learning curves).
    * ``steps=None``: ``epochs`` full epochs; a number trains exactly that many
      optimizer steps (the last epoch partial), which compares nets at equal
      optimisation effort whatever the data set's size.
    * ``zero_init_residual=True``: a built spec starts with every residual
      branch at zero (see :mod:`evaluators.proxy.recipe`); a module passed in
      keeps its weights.
    * ``recalibrate_norms=True``: batch-norm statistics are re-estimated on
      training images before validation, so eval mode sees the statistics of
      the final weights whatever the net's batch-norm momentum.
    * ``max_grad_norm=None``: no clipping; a number rescales each step's
      gradient to at most that L2 norm.
    * ``on_epoch=None``: called with each finished epoch's :class:`EpochRecord`
      (a scheduler such as ASHA reads the learning curve as it grows; pass
      ``eval_each_epoch=True`` for its validation accuracy).  What it raises
      ends the training like any other failure.

    The device is held shared (:func:`evaluators.devicelock.hold_device`) for
    the whole call, so latency measurements never overlap a training.

    Invalid arguments raise ``ValueError``/``TypeError``; an unusable device
    raises ``DeviceError``.  Problems of the candidate itself never raise:
    they return a :class:`TrainingFailure` (``KeyboardInterrupt`` propagates).
    """
    check_candidate_type(spec_or_module)
    settings = resolve_settings(
        dataset,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=weight_decay,
        schedule=schedule,
        warmup_epochs=warmup_epochs,
        label_smoothing=label_smoothing,
        resolution=resolution,
        seed=seed,
        regime=regime,
        augment=augment,
        flip=flip,
        time_limit_s=time_limit_s,
        max_steps_per_epoch=max_steps_per_epoch,
        eval_each_epoch=eval_each_epoch,
        steps=steps,
        zero_init_residual=zero_init_residual,
        recalibrate_norms=recalibrate_norms,
        max_grad_norm=max_grad_norm,
    )
    target = resolve_device(device)
    progress = _Progress(on_epoch=on_epoch)
    with hold_device(target, exclusive=False):
        try:
            return _ProxyRun(spec_or_module, dataset, settings, target, progress).run()
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
    on_epoch: Callable[[EpochRecord], None] | None = None


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


@dataclass
class _Timeline:
    """Where the wall time went and what the epochs produced."""

    started: float
    train_started: float = 0.0
    eval_seconds: float = 0.0
    images_trained: int = 0
    time_limited: bool = False
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
            accuracy = timeline.history[-1].val_accuracy
            if accuracy is None:
                self._recalibrate(trainee)
                accuracy = self._timed_validation(trainee, timeline)
            return self._result(trainee, timeline, accuracy, train_seconds, memory)

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

        selection = self._select_regime(model, candidate.fingerprint, data, normaliser, steps_per_epoch)
        base = selection.decision.base
        prepare_model(model, base)
        optimizer = make_optimizer(
            model, lr=settings.lr, momentum=settings.momentum, nesterov=settings.nesterov, weight_decay=settings.weight_decay
        )
        step = TrainStep(
            selection.compiled_forward or training_forward(model),
            optimizer,
            regime=base,
            device=device,
            num_classes=dataset.num_classes,
            label_smoothing=settings.label_smoothing,
            max_grad_norm=settings.max_grad_norm,
        )
        generator = torch.Generator(device=device)
        generator.manual_seed(settings.seed)
        augmenter = BatchAugmenter(
            normaliser,
            max_shift=translation_for(settings.resolution) if settings.augment else 0,
            flip=settings.augment and settings.flip,
            generator=generator,
        )
        return _Trainee(model, data, normaliser, step, augmenter, generator, selection, steps_per_epoch)

    def _train_epochs(self, trainee: _Trainee, timeline: _Timeline) -> None:
        settings = self.settings
        epochs = settings.epochs_to_run(trainee.steps_per_epoch)
        for epoch in range(epochs):
            totals = self._train_epoch(trainee, first_step=epoch * trainee.steps_per_epoch, losses=timeline.step_losses)
            if settings.eval_each_epoch:
                self._recalibrate(trainee)
            timeline.images_trained += totals.images
            val_accuracy = self._timed_validation(trainee, timeline) if settings.eval_each_epoch else None
            timeline.history.append(
                EpochRecord(
                    epoch=epoch + 1,
                    train_loss=float(totals.loss_sum.item()) / totals.steps,
                    train_accuracy=int(totals.correct.item()) / totals.images,
                    lr=totals.last_lr,
                    seconds=time.perf_counter() - timeline.train_started - timeline.eval_seconds,
                    val_accuracy=val_accuracy,
                )
            )
            self.progress.epochs_run = epoch + 1
            if self.progress.on_epoch is not None:
                self.progress.on_epoch(timeline.history[-1])
            over_time = settings.time_limit_s is not None and time.perf_counter() - timeline.started > settings.time_limit_s
            if over_time and epoch + 1 < epochs:
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
                first_step + index, base_lr=settings.lr, total_steps=total_steps, warmup_steps=warmup_steps, schedule=settings.schedule
            )
            for group in trainee.step.optimizer.param_groups:
                group["lr"] = rate
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

    def _timed_validation(self, trainee: _Trainee, timeline: _Timeline) -> float:
        started = time.perf_counter()
        accuracy = top1_accuracy(
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
        return accuracy

    def _result(self, trainee: _Trainee, timeline: _Timeline, accuracy: float, train_seconds: float, memory: PeakMemory) -> ProxyResult:
        decision = trainee.selection.decision
        return ProxyResult(
            accuracy=accuracy,
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
            lr=self.settings.lr,
            resolution=self.settings.resolution,
            regime_note=decision.reason,
            time_limited=timeline.time_limited,
            step_losses=tuple(torch.stack(timeline.step_losses).float().cpu().tolist()) if timeline.step_losses else (),
        )

    def _select_regime(
        self, model: nn.Module, fingerprint: str, data: DeviceData, normaliser: Normaliser, steps_per_epoch: int
    ) -> RegimeSelection:
        settings, device = self.settings, self.device
        probe = DeviceRegimeProbe(
            model,
            normaliser(data.train_images[: settings.batch_size]),
            data.train_labels[: settings.batch_size],
            device=device,
            num_classes=self.dataset.num_classes,
            label_smoothing=settings.label_smoothing,
            optimizer=OptimizerSettings(settings.lr, settings.momentum, settings.nesterov, settings.weight_decay),
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


def _raise_if_not_finite(loss_sum: torch.Tensor, step: int) -> None:
    # A sum is finite only if every term was: one NaN or inf step poisons it.
    if not bool(torch.isfinite(loss_sum).item()):
        raise NonFiniteLoss(f"training loss became {loss_sum.item()} by step {step + 1}")
