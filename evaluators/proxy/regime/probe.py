"""Timing a candidate's training step in each regime, on the real model and batch.

The probe runs real optimisation steps, so it snapshots the model's state
(weights and BatchNorm statistics) and the random-number state first and puts
both back afterwards: the training that follows starts exactly where it would
have started without a probe, and a cached decision (no probe) gives the same
run as a fresh one.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass
from typing import Protocol

import torch
from torch import nn

from evaluators.proxy.failures import is_out_of_memory, release_memory
from evaluators.proxy.regime.modes import prepare_model
from evaluators.proxy.step import (
    OptimizerSettings,
    TrainingForward,
    TrainStep,
    make_optimizer,
    synchronize,
    training_forward,
)

# Warm-up steps absorb one-off costs (cuDNN autotuning, allocator growth, lazy
# compilation); the timed steps that follow are the steady state.  Ten steps of
# a CNN at batch 128-512 take 10-500 ms on a GPU: enough to average out
# launch jitter, short next to any training worth choosing a regime for.
WARMUP_STEPS = 3
TIMED_STEPS = 10


@dataclass(frozen=True)
class CompiledForward:
    forward: TrainingForward
    base: str
    overhead_s: float  # compile time net of the warm-up steps' own cost
    step_s: float  # steady-state seconds per compiled step


class RegimeProbe(Protocol):
    """What regime selection needs from the device (tests substitute a fake)."""

    def time_eager(self, regime: str) -> float | None:
        """Seconds per step in an eager regime; ``None`` if it runs out of memory."""
        ...

    def compile(self, base: str) -> CompiledForward:
        """Compile the training forward on top of ``base`` and time it; raise on failure."""
        ...


@dataclass(eq=False)
class DeviceRegimeProbe:
    """:class:`RegimeProbe` on a real model, one fixed normalised batch and a device."""

    model: nn.Module
    images: torch.Tensor
    labels: torch.Tensor
    _: KW_ONLY
    device: torch.device
    num_classes: int
    label_smoothing: float
    optimizer: OptimizerSettings
    warmup_steps: int = WARMUP_STEPS
    timed_steps: int = TIMED_STEPS

    def time_eager(self, regime: str) -> float | None:
        with self._restoring_state():
            prepare_model(self.model, regime)
            step = self._step(training_forward(self.model), regime)
            try:
                self._run(step, self.warmup_steps)
                return self._seconds_per_step(step)
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
        release_memory(self.device)  # outside the handler, once the traceback is gone
        return None

    def compile(self, base: str) -> CompiledForward:
        with self._restoring_state():
            prepare_model(self.model, base)
            forward = training_forward(self.model, compiled=True)
            step = self._step(forward, base)
            synchronize(self.device)
            started = time.perf_counter()
            self._run(step, self.warmup_steps)  # the first call compiles
            synchronize(self.device)
            warmup_s = time.perf_counter() - started
            step_s = self._seconds_per_step(step)
        overhead_s = max(0.0, warmup_s - self.warmup_steps * step_s)
        return CompiledForward(forward=forward, base=base, overhead_s=overhead_s, step_s=step_s)

    def _step(self, forward: TrainingForward, regime: str) -> TrainStep:
        optimizer = make_optimizer(self.model, self.optimizer)
        return TrainStep(
            forward, optimizer, regime=regime, device=self.device, num_classes=self.num_classes, label_smoothing=self.label_smoothing
        )

    def _run(self, step: TrainStep, count: int) -> None:
        for _ in range(count):
            step(self.images, self.labels)

    def _seconds_per_step(self, step: TrainStep) -> float:
        synchronize(self.device)
        started = time.perf_counter()
        self._run(step, self.timed_steps)
        synchronize(self.device)
        return (time.perf_counter() - started) / self.timed_steps

    @contextlib.contextmanager
    def _restoring_state(self) -> Iterator[None]:
        saved = {name: value.detach().clone() for name, value in self.model.state_dict().items()}
        rng_devices = [self.device.index or 0] if self.device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=rng_devices):
                yield
        finally:
            # In place: parameters keep their identity, so a compiled forward
            # made during the probe still applies to the model afterwards.
            self.model.load_state_dict(saved)
            self.model.zero_grad(set_to_none=True)
            del saved
