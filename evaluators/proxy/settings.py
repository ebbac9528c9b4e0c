"""The hyper-parameters of a proxy training, as one validated object.

``ProxySettings(...)`` checks every value when it is made, and an invalid one
raises ``ValueError`` naming the setting, the value and what is allowed (see
:mod:`evaluators.validate`): a wrong setting is the caller's bug, unlike a
broken candidate, which becomes a ``TrainingFailure``.  The settings whose
default depends on the data (``lr``, ``warmup_epochs``, ``resolution``,
``flip``, and ``epochs`` when ``steps`` is given) stay ``None`` until
:meth:`ProxySettings.for_dataset` fills them in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from evaluators import validate
from evaluators.data.base import ImageDataset
from evaluators.proxy.augment import flip_by_default
from evaluators.proxy.regime.modes import REGIME_CHOICES
from evaluators.optimizer_names import AUTO, DEFAULT_OPTIMIZER, OPTIMIZER_CHOICES
from evaluators.proxy.step import OptimizerSettings

# What a net scores under the same settings also depends on the recipe's inner rules: the optimizer
# chosen per net, how weights start, how a net is taken to the proxy's resolution.  Results kept
# across runs (a known net's, search.run.baseline_cache) name this, so a change to those rules,
# which must bump it, never reuses a score the old rules gave (LeNet-5 scored 0.25 before AdamW).
# .2: no decay on layer scales, position embeddings, tokens or relative-position tables.
# 2026-12-05: AdamW for every net by default, narrow convolutions' rates raised (adamw_fan_in_power, _max_rate_scale).
# 2026-12-06: a 1x1 convolution's ceiling 5 (adamw_pointwise_max_rate_scale), a spatial one's still 3.
# 2026-12-06.2: a net without batch norm has its gradients clipped to norm 1 (max_grad_norm_without_batch_norm).
RECIPE_VERSION = "2026-12-06.2"

# Learning-rate schedules (see evaluators.proxy.train.learning_rate).
SCHEDULES: tuple[str, ...] = ("cosine", "constant", "step")

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


@dataclass(frozen=True, kw_only=True)
class ProxySettings:
    """How a candidate is trained; every default is explained beside it."""

    # Short enough to evaluate many candidates, long enough for accuracy to
    # separate good architectures from bad ones (a cosine run of a few epochs
    # ranks CIFAR networks far better than one epoch does).
    epochs: int = 5
    # The CIFAR standard; fills a GPU for small networks without the
    # large-batch generalisation gap.  The last incomplete batch of every epoch
    # is dropped, so BatchNorm never sees a batch of one and every step has the
    # same shape (cuDNN autotuning and torch.compile then work on one shape).
    batch_size: int = 128
    # None: 0.1 * batch_size / 128, the linear scaling rule anchored at the usual CIFAR rate.
    lr: float | None = None
    # momentum, nesterov, weight_decay: the standard CIFAR SGD settings; weight
    # decay applies to the kernels of convolutions, linear layers and attention,
    # not to biases, norms, layer scales or position embeddings (see
    # evaluators.proxy.step.make_optimizer).
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    # "cosine" anneals to ~0 by the last step, so the final accuracy is that of
    # a settled model, not a noisy snapshot at high rate; "constant" and "step"
    # (x0.1 at 50% and 75%) are also accepted.
    schedule: str = "cosine"
    # None: min(1, epochs / 5) epochs of linear warm-up, which lets untested
    # candidates survive the scaled rate.
    warmup_epochs: float | None = None
    # Slightly better-calibrated, less overconfident training; the common ImageNet/CIFAR value.
    label_smoothing: float = 0.1
    # None: the dataset's own.  A different value resizes the data once, on the device, before training.
    resolution: int | None = None
    # Seeds weight initialisation (for specs), batch order, augmentation and
    # dropout.  On a CPU the same seed gives bit-identical results; on a GPU
    # cuDNN autotuning picks kernels whose summation order varies, so results
    # agree only to within float rounding effects.
    seed: int = 0
    # "auto": see evaluators.proxy.regime.select; fp32 on a CPU, the measured
    # fastest of fp32/bf16_cl (and compiled when it pays off) on a GPU.
    # "fp32", "bf16_cl" and "compiled" force one.
    regime: str = "auto"
    # Random translation by up to 1/8 of the side; proxies without augmentation
    # overfit within a few epochs on small data sets.
    augment: bool = True
    # None: horizontal flips with the augmentation (never without it), except
    # for 1-channel and digit/character data sets, where a mirror image is not
    # an image of the same class (see evaluators.proxy.augment.flip_by_default).
    flip: bool | None = None
    # None: no limit.  Otherwise training stops after the first epoch at whose end
    # the call's time (set-up included) exceeds it, or would by the last epoch at
    # the pace so far; the schedule is not shortened.
    time_limit_s: float | None = None
    # None: full epochs; a cap makes quicker proxies.
    max_steps_per_epoch: int | None = None
    # False: validate only at the end; True adds a validation accuracy to every
    # history entry (for learning curves, and for schedulers such as ASHA).
    eval_each_epoch: bool = False
    # None: ``epochs`` full epochs.  A number trains exactly that many optimizer
    # steps (the last epoch partial), which compares nets at equal optimisation
    # effort whatever the data set's size or the batch size.
    steps: int | None = None
    # A built spec starts with every residual branch at zero (see
    # evaluators.proxy.recipe); a module passed in keeps its weights.
    zero_init_residual: bool = True
    # Batch-norm statistics are re-estimated on training images before
    # validation, so eval mode sees the statistics of the final weights
    # whatever the net's batch-norm momentum.
    recalibrate_norms: bool = True
    # Gradients are rescaled to at most this L2 norm (None: never), so that a rate
    # high enough to train most nets fast cannot throw the touchier ones off.
    max_grad_norm: float | None = None
    # The limit for a net without batch norm where max_grad_norm is None (None: no clipping for it either).  Nothing
    # bounds such a net's step the way batch norm's scale invariance does, and a transformer's gradient norm spikes
    # to 3.5x its running median in a short AdamW run: Swin-T's spikes threw it to 0.87 and 0.90 on digits on two of five
    # seeds; clipped at 1, as ViT's paper trains (Dosovitskiy et al. 2021), its five seeds give 0.94-0.96 (docs/proxy.md,
    # "Clipping the nets without batch norm").  Adam's steps do not scale with the gradient, so clipping only evens
    # each step's weight in its moment estimates.  The fidelity sets' nets all have batch norm: untouched.
    max_grad_norm_without_batch_norm: float | None = 1.0
    # "adamw" (the default): AdamW with the settings below for every net.  "auto": SGD with the rate, momentum and
    # decay above for a net with batch norm, AdamW for one without; "sgd" forces SGD.  SGD's one rate suits batch-norm
    # nets, whose scale invariance keeps each layer's effective step in proportion, but without batch norm it barely
    # moves LeNet-5 (0.25 on digits in 176 steps), and transformers and ConvNeXt are trained with AdamW by their own
    # papers.  AdamW for every net is what ranks the harder fidelity set: against its 4x reference (39 nets) "auto"
    # ranks at 0.00 and its picks within a latency budget land 6.4 points under the best, as a random pick does
    # (6.0), where this recipe ranks at 0.43 and picks within 0.5 (docs/proxy.md, sixteenth session).
    optimizer: str = DEFAULT_OPTIMIZER
    # AdamW's peak rate, not scaled with the batch; measured on digits in 176 steps
    # (docs/proxy.md, "Nets without batch norm"; benchmarks/adamw_rate.py): LeNet-5 needs
    # more than 1e-3 (0.88 on seed 0), Swin-T died at 2e-3 on seed 1; 1.5e-3 trains both.
    adamw_lr: float = 1.5e-3
    # Decoupled weight decay, DeiT's and ConvNeXt's value (on weights only, as above).
    adamw_weight_decay: float = 0.05
    # AdamW moves every weight by about its rate whatever the gradient's size, so a layer's output moves in
    # proportion to its fan-in, and its weights' relative step is rate / weight size, largest for wide layers and
    # smallest for narrow ones (a depthwise 3x3 kernel's He-initialised weights are about 0.47).  So each
    # convolution's or linear layer's weights get adamw_lr x min(ceiling, (this / fan-in) ** power), as muP
    # prescribes for Adam's hidden layers (Yang et al. 2021, "Tensor Programs V") when power is 1.  None: no scaling.
    adamw_reference_fan_in: int | None = 512
    # The rule's exponent and a convolution's ceiling; the ceiling is 1 for linear layers and attention, whose
    # tolerance is not set by fan-in (evaluators.proxy.step.adamw_rate_scales).  Power 1 with a ceiling of 1 (the rule
    # until 2026-12-05) trains AlexNet (fan-ins of 4,096 and 9,216) but leaves ShuffleNetV2 x0.5 at 0.76 on digits;
    # power 0.5 with a ceiling of 3 lifts it to 0.91 and every known net to 0.90 or more (benchmarks/known_nets_learn.py)
    # and ranks the fidelity sets as well (docs/proxy.md, "A rate rule for narrow convolutions" and sixteenth session).
    adamw_fan_in_power: float = 0.5
    adamw_max_rate_scale: float = 3.0
    # A 1x1 convolution's ceiling where it differs (None: adamw_max_rate_scale).  ShuffleNetV2 x0.5's pointwise
    # convolutions (fan-in 24-96) are the narrowest of any known net's: on the default job's two threads it reached
    # 0.89-0.92 on digits over five seeds at ceiling 3, two of them under 0.90, and clears 0.90 on every seed at 5.
    # Ceiling 5 everywhere lifted it too, but raised depthwise kernels' rates and ranked both fidelity sets worse; 5
    # for 1x1 convolutions alone ranks them within noise of 3, and every known net reaches 0.90 on one thread and on
    # two; MobileNetV1 pays 2 points (docs/proxy.md, "The 1x1 ceiling becomes the default").
    adamw_pointwise_max_rate_scale: float | None = 5.0

    def __post_init__(self) -> None:
        validate.integer("epochs", self.epochs, 1)
        validate.integer("batch_size", self.batch_size, 1)
        validate.optional(validate.number, "lr", self.lr, 0.0, open_ends="low")
        validate.number("momentum", self.momentum, 0.0, 1.0, open_ends="high")
        validate.flag("nesterov", self.nesterov)
        if self.nesterov and self.momentum == 0.0:
            raise validate.invalid("nesterov", self.nesterov, "False when momentum is 0 (Nesterov momentum needs momentum > 0)")
        validate.number("weight_decay", self.weight_decay, 0.0)
        validate.choice("schedule", self.schedule, SCHEDULES)
        if self.steps is None:  # with a step count, the epochs it spans are known only with the data
            validate.optional(validate.number, "warmup_epochs", self.warmup_epochs, 0.0, float(self.epochs))
        validate.number("label_smoothing", self.label_smoothing, 0.0, 1.0, open_ends="high")
        validate.optional(validate.integer, "resolution", self.resolution, 1)
        validate.integer("seed", self.seed, 0)
        validate.choice("regime", self.regime, REGIME_CHOICES)
        validate.flag("augment", self.augment)
        validate.optional(validate.flag, "flip", self.flip)
        validate.optional(validate.number, "time_limit_s", self.time_limit_s, 0.0, open_ends="low")
        validate.optional(validate.integer, "max_steps_per_epoch", self.max_steps_per_epoch, 1)
        validate.flag("eval_each_epoch", self.eval_each_epoch)
        validate.optional(validate.integer, "steps", self.steps, 1)
        validate.flag("zero_init_residual", self.zero_init_residual)
        validate.flag("recalibrate_norms", self.recalibrate_norms)
        validate.optional(validate.number, "max_grad_norm", self.max_grad_norm, 0.0, open_ends="low")
        validate.optional(validate.number, "max_grad_norm_without_batch_norm", self.max_grad_norm_without_batch_norm, 0.0,
                          open_ends="low")
        validate.choice("optimizer", self.optimizer, OPTIMIZER_CHOICES)
        validate.number("adamw_lr", self.adamw_lr, 0.0, open_ends="low")
        validate.number("adamw_weight_decay", self.adamw_weight_decay, 0.0)
        validate.optional(validate.integer, "adamw_reference_fan_in", self.adamw_reference_fan_in, 1)
        validate.number("adamw_fan_in_power", self.adamw_fan_in_power, 0.0)
        validate.number("adamw_max_rate_scale", self.adamw_max_rate_scale, 1.0)
        validate.optional(validate.number, "adamw_pointwise_max_rate_scale", self.adamw_pointwise_max_rate_scale, 1.0)

    def for_dataset(self, dataset: ImageDataset) -> ProxySettings:
        """These settings with every data-dependent default filled in for ``dataset``."""
        if not isinstance(dataset, ImageDataset):
            raise TypeError(f"dataset must be an ImageDataset, got {type(dataset).__name__}")
        if self.batch_size > len(dataset):
            # Partial batches are dropped, so there would be nothing to train on.
            raise validate.invalid("batch_size", self.batch_size, f"at most the {len(dataset)} training images of {dataset.name}")
        span, epochs = float(self.epochs), self.epochs
        if self.steps is not None:
            # With a step count, "epochs" are what the steps span (warm-up, history).
            span = self.steps / max(1, len(dataset) // self.batch_size)
            epochs = math.ceil(span)
        warmup = min(MAX_DEFAULT_WARMUP_EPOCHS, WARMUP_FRACTION * span) if self.warmup_epochs is None else self.warmup_epochs
        return replace(
            self,
            epochs=epochs,
            lr=REFERENCE_LR * self.batch_size / REFERENCE_BATCH_SIZE if self.lr is None else float(self.lr),
            warmup_epochs=validate.number("warmup_epochs", warmup, 0.0, float(epochs)),
            resolution=dataset.resolution if self.resolution is None else self.resolution,
            flip=flip_by_default(dataset) if self.flip is None else self.flip,
        )

    def optimizer_for(self, has_batch_norm: bool) -> OptimizerSettings:
        """The optimizer of a net with or without batch norm (see ``optimizer``); call on filled-in settings."""
        kind = self.optimizer if self.optimizer != AUTO else ("sgd" if has_batch_norm else "adamw")
        if kind == "adamw":
            return OptimizerSettings(self.adamw_lr, self.momentum, self.nesterov, self.adamw_weight_decay, kind="adamw",
                                     reference_fan_in=self.adamw_reference_fan_in, fan_in_power=self.adamw_fan_in_power,
                                     max_rate_scale=self.adamw_max_rate_scale,
                                     pointwise_max_rate_scale=self.adamw_pointwise_max_rate_scale)
        if self.lr is None:
            raise ValueError("the SGD rate is filled in by for_dataset(); call it first")
        return OptimizerSettings(self.lr, self.momentum, self.nesterov, self.weight_decay, kind="sgd")

    def grad_norm_limit_for(self, has_batch_norm: bool) -> float | None:
        """The gradient norm a net with or without batch norm is clipped to (see ``max_grad_norm``); None: not clipped."""
        if self.max_grad_norm is not None or has_batch_norm:
            return self.max_grad_norm
        return self.max_grad_norm_without_batch_norm

    def total_steps(self, steps_per_epoch: int) -> int:
        return self.steps if self.steps is not None else self.epochs * steps_per_epoch

    def epochs_to_run(self, steps_per_epoch: int) -> int:
        return -(-self.total_steps(steps_per_epoch) // steps_per_epoch)
