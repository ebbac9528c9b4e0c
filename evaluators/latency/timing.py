"""The timing loop: warm-up, then timed forward passes until the protocol is satisfied.

Each pass is timed on its own, between two synchronisations of the device, so
a sample is the wall-clock latency of one inference as a caller sees it: on
CUDA that includes the host's kernel-launch overhead and all queued GPU work,
which is what a deployed eager-mode model costs.  (CUDA events would time only
the GPU side and hide launch-bound nets' real cost.)
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from evaluators.latency.protocol import TimingProtocol

Clock = Callable[[], float]


@dataclass(frozen=True)
class TimedRuns:
    samples_s: tuple[float, ...]  # one wall-clock duration per timed pass
    warmup_runs: int


def device_synchronizer(device: torch.device) -> Callable[[], None]:
    """A call that returns once all work queued on ``device`` has finished."""
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    # CPU operators run synchronously: when forward() returns, the work is done.
    return lambda: None


@contextlib.contextmanager
def _garbage_collection_paused() -> Iterator[None]:
    # A collection triggered mid-pass would add milliseconds to one sample for
    # reasons unrelated to the model; collect up front instead.
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def time_runs(
    forward: Callable[[], object],
    synchronize: Callable[[], None],
    protocol: TimingProtocol,
    clock: Clock = time.perf_counter,
) -> TimedRuns:
    """Run ``forward`` through warm-up and timed passes as ``protocol`` prescribes."""
    warmup_runs = 0
    warmup_start = clock()
    while warmup_runs < protocol.warmup_runs or clock() - warmup_start < protocol.warmup_time_s:
        forward()
        # Synchronising each pass makes the time floor count executed work,
        # not merely work enqueued on an asynchronous device.
        synchronize()
        warmup_runs += 1

    samples: list[float] = []
    measured_s = 0.0
    with _garbage_collection_paused():
        while len(samples) < protocol.max_runs and (
            len(samples) < protocol.min_runs or measured_s < protocol.min_time_s
        ):
            synchronize()
            start = clock()
            forward()
            synchronize()
            elapsed = clock() - start
            samples.append(elapsed)
            measured_s += elapsed
    return TimedRuns(samples_s=tuple(samples), warmup_runs=warmup_runs)
