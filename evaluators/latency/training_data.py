"""Training data for a latency predictor, read from the latency cache.

A usable measurement is one of the requested setting (device, runtime,
threads, batch size, dtype, torch version, protocol version) whose net spec the cache holds:
:func:`evaluators.latency.measure` stores a spec's JSON next to its
measurement.  Measurements of plain modules, and those stored before specs
were, have none and are counted as skipped.

A spec measured at a resolution other than its own (``measure(spec,
resolution=...)``) is taken at the measured resolution, since that is the net
that was timed.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field

import torch

from evaluators.devices import DeviceError, device_name
from evaluators.latency.cache import LatencyCache
from evaluators.latency.protocol import PROTOCOL_VERSION
from evaluators.latency.result import LatencyResult
from evaluators.latency.runtimes import EAGER
from searchspace import NetSpec, SpecError


@dataclass(frozen=True)
class Setting:
    """The measurement conditions a predictor is fitted for."""

    device: str  # a device_name() string, e.g. "cpu:AMD EPYC"
    threads: int
    batch_size: int = 1
    dtype: str = "float32"
    torch_version: str = field(default_factory=lambda: torch.__version__)
    protocol_version: int = PROTOCOL_VERSION
    runtime: str = EAGER  # what ran the nets: a predictor of eager latency says nothing of onnxruntime's

    def matches(self, result: LatencyResult) -> bool:
        return (
            result.device == self.device
            and result.runtime == self.runtime
            and result.threads == self.threads
            and result.batch_size == self.batch_size
            and result.dtype == self.dtype
            and result.torch_version == self.torch_version
            and result.protocol_version == self.protocol_version
        )


@dataclass(frozen=True)
class TrainingSet:
    specs: tuple[NetSpec, ...]
    latencies_ms: tuple[float, ...]
    setting: Setting
    without_spec: int  # measurements of the setting whose spec the cache lacks
    other_threads: dict[int, int]  # thread count -> measurements of this device at other counts


def stored_device_name(device: str) -> str:
    """``cpu``/``cuda:N`` as typed become this machine's hardware name; a stored name is kept as is."""
    try:
        return device_name(device)
    except DeviceError:
        # Not a device of this machine, e.g. "cpu:Intel(R) Xeon(R) ..." read from another machine's cache.
        return device


def cached_training_set(cache: LatencyCache, setting: Setting) -> TrainingSet:
    """Every usable measurement of ``setting`` in ``cache``, the latest one per net and resolution."""
    entries = cache.entries(device=setting.device, runtime=setting.runtime)
    latest: dict[tuple[str, tuple[int, ...]], LatencyResult] = {}
    for result in entries:  # oldest first, so later measurements replace earlier ones
        if setting.matches(result) and result.model_key is not None:
            latest[(result.model_key, result.input_shape)] = result
    stored = cache.spec_jsons(sorted({key for key, _ in latest}))
    specs, latencies, without_spec = [], [], 0
    for (model_key, _), result in latest.items():
        spec = _measured_spec(stored.get(model_key), result)
        if spec is None:
            without_spec += 1
            continue
        specs.append(spec)
        latencies.append(result.estimate_ms)  # a contended figure learnt as its fastest run, as decisions use it
    other_threads = Counter(result.threads for result in entries if result.threads != setting.threads)
    return TrainingSet(tuple(specs), tuple(latencies), setting, without_spec, dict(sorted(other_threads.items())))


def _measured_spec(spec_json: str | None, result: LatencyResult) -> NetSpec | None:
    """The spec that was timed, or None if it is unknown or does not fit the measured input."""
    if spec_json is None or result.resolution is None:
        return None
    try:
        spec = NetSpec.from_json(spec_json)
        if spec.in_channels != result.input_shape[1]:
            return None
        if spec.resolution != result.resolution:
            spec = dataclasses.replace(spec, resolution=result.resolution)
    except SpecError:
        # Written by a version whose specs this one cannot read, or too small at the measured resolution.
        return None
    return spec
