"""How much of the machine a measurement had: a fixed kernel timed before and after it.

On a shared machine another process waking up makes a net look slower (a
front member measured 49 ms during a search and 287 ms under load; the same
net varied by a CV of 29% between processes on a busy 2-core VM).  The
calibration kernel is a fixed matrix product whose speed depends only on how
much of the CPU/GPU this process gets, so timing it beside a measurement tells
a slow net from a slowed machine:

* :func:`calibration_ms` times the kernel (the fastest of a few samples, each
  long enough to span several scheduler time slices);
* :class:`QuietReference` remembers the fastest calibration ever seen on this
  machine, device and thread count (a file in the cache folder, shared by
  every process): the machine when no one else wanted it;
* a measurement's **slowdown** is its slower calibration (before or after)
  over that reference: 1.0 on a quiet machine, 2.0 when it had half of it;
* :func:`calibrated_runs` takes a timing again when it was slowed, or when
  its own passes spread too wide (a load that came and went between the two
  calibrations), and says by how much the one it keeps was.

The reference only ever moves down, so a machine first seen busy is judged
more fairly as soon as it has one quiet moment.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from evaluators.devices import device_name
from evaluators.latency.environment import torch_threads
from evaluators.latency.protocol import TimingProtocol
from evaluators.latency.result import latency_statistics
from evaluators.latency.runtimes import Forward
from evaluators.latency.timing import TimedRuns, device_synchronizer, time_runs
from evaluators.paths import cache_dir

CALIBRATION_SIZE = 256  # side of the calibration matrices: ~17M MACs, a millisecond or two on one core
# The calibration time is reported as the time of this many products, whatever number a sample ran, so that
# figures stay comparable with each other and with the quiet reference.
CALIBRATION_PRODUCTS = 16
# One calibration sample runs products back to back for at least this long: it must span several scheduler
# time slices (a few ms each), or it runs in the gaps a competing process leaves and never sees it.  Measured
# with benchmarks/latency_contention.py: a single 1-2 ms product (the fastest of five) read 1.02-1.10x while
# MobileNetV2 ran 3-4x slower beside two busy loops; later, on a faster CPU, 16 products took 3.3 ms, and
# their fastest of three read 1.0x in five of eight brackets while MobileNetV2 ran 2.2x slower beside three.
CALIBRATION_SAMPLE_MS = 20.0
CALIBRATION_RUNS = 3  # the fastest of these samples is the calibration time
REFERENCE_FILE_NAME = "calibration.json"
# A spread under this is never called unsteady, whatever its share of the median: another process shows as whole
# scheduler time slices (milliseconds) added to some passes, while the jitter of a pass of microseconds is the timer's.
UNSTEADY_FLOOR_MS = 1.0


def calibration_ms(device: torch.device, threads: int) -> float:
    """The time of :data:`CALIBRATION_PRODUCTS` matrix products on ``device`` with ``threads`` threads, from the
    fastest of a few samples that each last at least :data:`CALIBRATION_SAMPLE_MS`."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(CALIBRATION_SIZE, CALIBRATION_SIZE, generator=generator).to(device)
    b = torch.randn(CALIBRATION_SIZE, CALIBRATION_SIZE, generator=generator).to(device)
    synchronize = device_synchronizer(device)

    def sample_ms(products: int) -> float:
        synchronize()
        started = time.perf_counter()
        for _ in range(products):
            torch.mm(a, b)
        synchronize()
        return (time.perf_counter() - started) * 1e3

    with torch_threads(threads), torch.inference_mode():
        torch.mm(a, b)  # warm-up: first-call allocation and kernel selection
        # Sized once, on the spot: a loaded machine sizes a shorter sample, which still lasts long enough.
        sized_ms = max(sample_ms(CALIBRATION_PRODUCTS), 1e-6)
        products = max(CALIBRATION_PRODUCTS, math.ceil(CALIBRATION_PRODUCTS * CALIBRATION_SAMPLE_MS / sized_ms))
        best = min(sample_ms(products) for _ in range(CALIBRATION_RUNS))
    return best * CALIBRATION_PRODUCTS / products


class QuietReference:
    """The fastest calibration seen per device name and thread count, kept in the cache folder."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else cache_dir() / REFERENCE_FILE_NAME

    def slowdown(self, device: str, threads: int, calibrations_ms: tuple[float, ...]) -> float:
        """How much slower than quiet the slowest of ``calibrations_ms`` ran; records the fastest if it is a new best."""
        key = f"{device}|{threads}"
        stored = self._read()
        quietest = min(stored.get(key, float("inf")), *calibrations_ms)
        if quietest < stored.get(key, float("inf")):
            self._write({**stored, key: quietest})
        return max(calibrations_ms) / quietest

    def _read(self) -> dict[str, float]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # absent, or half-written by a process that died: start again
            return {}
        return {key: float(value) for key, value in data.items() if isinstance(value, (int, float))}

    def _write(self, data: dict[str, float]) -> None:
        # Written whole and renamed into place: a reader never sees half a file.  Two writers racing
        # can lose one's lower value, which only delays a better reference until the next quiet moment.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(partial, self.path)


def unsteady(samples_s: tuple[float, ...], protocol: TimingProtocol) -> bool:
    """Whether passes' interquartile range exceeds ``protocol.spread_tolerance`` of their median and
    :data:`UNSTEADY_FLOOR_MS`: some passes were slowed by something the calibrations did not see."""
    statistics = latency_statistics(samples_s)
    return statistics["spread_ms"] > max(protocol.spread_tolerance * statistics["median_ms"], UNSTEADY_FLOOR_MS)


@dataclass(frozen=True)
class CalibratedRuns:
    runs: TimedRuns  # the least slowed attempt
    slowdown: float | None  # of that attempt; None when the protocol is not calibrated
    discarded_runs: int  # warm-up and timed passes of the attempts taken again
    unsteady: bool = False  # the kept attempt's passes spread too wide (see unsteady())

    def contended(self, protocol: TimingProtocol) -> bool:
        """Still slowed after the retries, by the calibrations' account or by the passes' own spread."""
        return self.slowdown is not None and (self.slowdown > 1.0 + protocol.contention_tolerance or self.unsteady)


def calibrated_runs(forward: Forward, device: torch.device, threads: int, protocol: TimingProtocol) -> CalibratedRuns:
    """The protocol's timed passes, bracketed by calibrations, and the slowdown they were taken under.

    A timing whose slowdown exceeds ``protocol.contention_tolerance``, or whose
    passes are :func:`unsteady`, was taken on a slowed machine and is taken
    again, up to ``protocol.contention_retries`` times.  The attempt kept is a
    clean one, else the least slowed of the steady ones, else the least slowed:
    a result still taken under load says by how much, and is flagged.
    """
    synchronize = device_synchronizer(device)
    if not protocol.calibrated:
        return CalibratedRuns(time_runs(forward, synchronize, protocol), None, 0)
    reference, hardware = QuietReference(), device_name(device)
    attempts: list[CalibratedRuns] = []
    for _ in range(1 + protocol.contention_retries):
        before = calibration_ms(device, threads)
        runs = time_runs(forward, synchronize, protocol)
        after = calibration_ms(device, threads)
        attempts.append(CalibratedRuns(runs, reference.slowdown(hardware, threads, (before, after)), 0,
                                       unsteady(runs.samples_s, protocol)))
        if not attempts[-1].contended(protocol):
            break
    kept = min(attempts, key=lambda attempt: (attempt.contended(protocol), attempt.unsteady, attempt.slowdown))
    passes = sum(attempt.runs.warmup_runs + len(attempt.runs.samples_s) for attempt in attempts)
    return dataclasses.replace(kept, discarded_runs=passes - kept.runs.warmup_runs - len(kept.runs.samples_s))
