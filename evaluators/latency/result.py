"""What one latency measurement records, and how it is stored."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, kw_only=True)
class LatencyResult:
    """One measured latency, with everything needed to know what it applies to.

    ``spread_ms`` is the interquartile range (75th minus 25th percentile) of
    the per-run times.  Latency samples are skewed to the right: most runs
    cluster tightly and a few are hit by preemption, interrupts or a page
    fault.  The standard deviation is dominated by those few; the IQR ignores
    the outer quarters on each side, stays in milliseconds next to the median,
    and reads plainly as "half of all runs fell within this width".
    """

    median_ms: float
    spread_ms: float  # interquartile range of the per-run times
    min_ms: float
    max_ms: float
    mean_ms: float
    runs: int  # timed runs (warm-up excluded)
    warmup_runs: int
    threads: int  # torch intra-op threads during the measurement
    device: str  # evaluators.devices.device_name(), e.g. "cpu:Intel(R) Xeon(R) ..."
    input_shape: tuple[int, ...]
    dtype: str  # "float32", "float16", ...
    torch_version: str
    protocol_version: int
    measured_at: str  # ISO 8601, UTC
    model_key: str | None = None  # spec digest or caller's cache key; None for anonymous modules
    cached: bool = False  # True when read back from the cache instead of measured now
    # What ran the net (evaluators.latency.runtimes); results stored before runtimes existed were eager.
    runtime: str = "eager"
    # How much slower than quiet the machine ran during the timing (evaluators.latency.calibration);
    # None when the protocol was not calibrated.  contended: still slowed after the retries, by the calibrations'
    # account or by the passes' own spread (evaluators.latency.calibration.unsteady).
    slowdown: float | None = None
    contended: bool = False
    retimed_runs: int = 0  # passes of timings taken again because the machine was slowed: neither warm-up nor timed

    @property
    def estimate_ms(self) -> float:
        """The figure a net is judged by: the median, or the fastest run when the machine stayed slowed.

        Other processes only ever add time to a run.  On a quiet machine the
        median is the honest summary (the fastest run is a lucky one); on a
        machine still slowed after the retries (``contended``) the median
        measures the load as much as the net, and the fastest run is the
        closest to what the net takes alone.  Measured with
        benchmarks/latency_contention.py: MobileNetV2 27 ms quiet, a median
        of 99-121 ms beside two busy loops.
        """
        return self.min_ms if self.contended else self.median_ms

    @property
    def batch_size(self) -> int:
        return self.input_shape[0]

    @property
    def resolution(self) -> int | None:
        """Side of a square NCHW input; None for inputs that are not square images."""
        if len(self.input_shape) == 4 and self.input_shape[2] == self.input_shape[3]:
            return self.input_shape[2]
        return None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["input_shape"] = list(self.input_shape)  # JSON has no tuples
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LatencyResult:
        """Inverse of :meth:`to_dict`; keys it does not know are ignored.

        Ignoring unknown keys lets an older checkout read a cache that a newer
        one, with extra fields, has written to.
        """
        names = {field.name for field in dataclasses.fields(cls)}
        known = {name: value for name, value in data.items() if name in names}
        missing = sorted(field.name for field in dataclasses.fields(cls) if field.name not in known and _required(field))
        if missing:
            raise ValueError(f"latency result is missing field(s) {', '.join(missing)}")
        known["input_shape"] = tuple(known["input_shape"])
        return cls(**known)


def _required(field: dataclasses.Field) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def latency_statistics(samples_s: Sequence[float]) -> dict[str, float]:
    """Summary fields of :class:`LatencyResult` for per-run times given in seconds."""
    if len(samples_s) == 0:
        raise ValueError("latency statistics need at least one timed run, got none")
    samples_ms = np.asarray(samples_s, dtype=np.float64) * 1000.0
    lower_quartile, median, upper_quartile = np.percentile(samples_ms, [25.0, 50.0, 75.0])
    return {
        "median_ms": float(median),
        "spread_ms": float(upper_quartile - lower_quartile),
        "min_ms": float(samples_ms.min()),
        "max_ms": float(samples_ms.max()),
        "mean_ms": float(samples_ms.mean()),
    }
