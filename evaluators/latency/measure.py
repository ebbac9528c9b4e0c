"""Measured inference latency of a net spec or a module on a named device.

:func:`measure` is the entry point searches use: it keys the persistent cache,
builds the net only on a miss and stores what it measured.  :func:`measure_module`
times any module on an input shape, which is also how single blocks are timed
in isolation.

Order of work, and why:

1. Arguments and the device are checked first, so a typo or an absent GPU is
   one clear error before any net is built or tensor allocated.
2. A cache hit returns at once: no build, no forward pass, no device lock.
3. The module is copied to the device and the input made before the device is
   locked, so the exclusive hold is no longer than the timing itself.
4. The net is converted for its runtime (:mod:`evaluators.latency.runtimes`)
   before the lock too: an ONNX export or a ``torch.compile`` takes seconds
   that no one else needs to wait for, and is never part of a timed pass.
5. Warm-up and timing run under ``hold_device(device, exclusive=True)``: other
   measurements and trainings (which hold the device shared) never overlap the
   timed passes, in this process or any other.  A calibration kernel timed
   before and after them says whether other processes slowed the machine
   meanwhile (:mod:`evaluators.latency.calibration`); a slowed timing is
   taken again, or kept with its slowdown and flagged.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from evaluators.devicelock import hold_device
from evaluators.devices import cudnn_autotuned, device_name, resolve_device
from evaluators.latency._checks import (
    dtype_label,
    require_input_shape,
    require_int_at_least,
)
from evaluators.latency.cache import CacheKey, LatencyCache
from evaluators.latency.calibration import calibrated_runs
from evaluators.latency.environment import evaluation_mode, torch_threads
from evaluators.latency.protocol import PROTOCOL_VERSION, TimingProtocol
from evaluators.latency.result import LatencyResult, latency_statistics
from evaluators.latency.runtimes import EAGER, Forward, check_runtime, runtime_forward

_DEFAULTS = TimingProtocol()
_DEFAULT_IMAGE_CHANNELS = 3
# Fixed so two measurements of one net see identical input values.
_INPUT_SEED = 0


@dataclass(frozen=True, kw_only=True)
class InputBatch:
    """What each timed forward pass is fed, besides the resolution: part of a measurement's identity.

    ``channels`` None: the spec's own, or 3 for a plain module.
    """

    size: int = 1
    channels: int | None = None
    dtype: torch.dtype = torch.float32

    def __post_init__(self) -> None:
        require_int_at_least("batch_size", self.size, 1)
        dtype_label(self.dtype)


def measure(
    spec_or_module: object,
    device: str | torch.device = "cpu",
    resolution: int | None = None,
    threads: int | None = None,
    *,
    batch: InputBatch = InputBatch(),
    protocol: TimingProtocol = _DEFAULTS,
    cache: bool | str = True,
    runtime: str = EAGER,
) -> LatencyResult:
    """Median latency of one forward pass of a net spec or module in ``runtime``, in milliseconds.

    ``resolution`` defaults to the spec's own; a plain module needs it given.
    ``threads`` defaults to ``torch.get_num_threads()`` at call time and is
    pinned for the measurement.  ``cache``: True caches a spec by its digest
    (a module is not cached: it has no identity), a string is the key a module
    (or a spec) is cached under, False neither reads nor writes the cache.
    See :mod:`evaluators.latency.protocol` for the warm-up and stopping rules,
    :mod:`evaluators.latency.runtimes` for the runtimes; each runtime has its
    own cache entries, so an eager figure is never served for onnxruntime.
    """
    if not isinstance(protocol, TimingProtocol):
        raise TypeError(f"protocol must be a TimingProtocol, got {type(protocol).__name__}")
    if not isinstance(cache, (bool, str)) or cache == "":
        raise ValueError(f"cache must be True, False or a non-empty key, got {cache!r}")
    thread_count = _thread_count(threads)
    target_device = resolve_device(device)
    check_runtime(runtime, target_device)
    target = _Target.of(spec_or_module, resolution=resolution, in_channels=batch.channels,
                        cache_key=cache if isinstance(cache, str) else None)
    input_shape = (batch.size, target.in_channels, target.resolution, target.resolution)

    store = LatencyCache() if cache is not False and target.model_key is not None else None
    if store is not None:
        key = _cache_key(target.model_key, target_device, input_shape, thread_count, dtype_label(batch.dtype), runtime)
        stored = store.get(key)
        if stored is not None:
            return stored

    net = ready_net(target.module(), input_shape, target_device, thread_count, dtype=batch.dtype, runtime=runtime)
    result = net.time(protocol, model_key=target.model_key)
    if store is not None:
        store.put(result, spec_json=target.spec_json())
    return result


def cached_latency(
    spec: object,
    device: str | torch.device = "cpu",
    threads: int | None = None,
    *,
    batch: InputBatch = InputBatch(),
    runtime: str = EAGER,
) -> LatencyResult | None:
    """The stored measurement :func:`measure` would return for ``spec``, or None; never measures.

    Lets a caller decide how to spend time on a net it has not timed yet (a
    quick probe first, say) without repeating a full measurement it already has.
    """
    target_device = resolve_device(device)
    target = _Target.of(spec, resolution=None, in_channels=batch.channels, cache_key=None)
    input_shape = (batch.size, target.in_channels, target.resolution, target.resolution)
    key = _cache_key(target.model_key, target_device, input_shape, _thread_count(threads), dtype_label(batch.dtype), runtime)
    return LatencyCache().get(key)


# Two warm-up passes, then three timed: enough to tell a net far over a limit from one near it.
# Not calibrated: its verdict rests on the fastest pass, which load can only slow down.
PROBE_PROTOCOL = TimingProtocol(warmup_runs=2, warmup_time_s=0.0, min_runs=3, max_runs=3, min_time_s=1e-6, calibrated=False)


@dataclass(frozen=True)
class Probed:
    """What :func:`measure_unless_over` found."""

    result: LatencyResult
    rejected: bool  # True: ``result`` is the probe's, whose fastest pass alone was over the limit (not cached)


def measure_unless_over(
    spec: object,
    device: str | torch.device,
    threads: int | None,
    *,
    limit_ms: float,
    runtime: str = EAGER,
    batch: InputBatch = InputBatch(),
) -> Probed:
    """:func:`measure` of a spec, except that a net not yet cached is probed first.

    A net whose fastest probe pass (:data:`PROBE_PROTOCOL`) takes longer than
    ``limit_ms`` is rejected with the probe's figures, without the full
    protocol.  The fastest pass is a lower bound on the net's latency: other
    processes only ever slow a pass down.  Probe and full timing share one
    build and one conversion, which for ``compile`` is most of the cost.
    """
    stored = cached_latency(spec, device, threads, batch=batch, runtime=runtime)
    if stored is not None:
        return Probed(stored, rejected=False)
    target = _Target.of(spec, resolution=None, in_channels=batch.channels, cache_key=None)
    input_shape = (batch.size, target.in_channels, target.resolution, target.resolution)
    net = ready_net(target.module(), input_shape, device, threads, dtype=batch.dtype, runtime=runtime)
    probe = net.time(PROBE_PROTOCOL, model_key=target.model_key)
    if probe.min_ms > limit_ms:
        return Probed(probe, rejected=True)
    result = net.time(_DEFAULTS, model_key=target.model_key)
    LatencyCache().put(result, spec_json=target.spec_json())
    return Probed(result, rejected=False)


def _cache_key(
    model_key: str, device: torch.device, input_shape: tuple[int, ...], threads: int, dtype: str, runtime: str
) -> CacheKey:
    return CacheKey(
        model_key=model_key,
        device=device_name(device),
        input_shape=input_shape,
        threads=threads,
        dtype=dtype,
        torch_version=torch.__version__,
        protocol_version=PROTOCOL_VERSION,
        runtime=runtime,
    )


def measure_module(
    module: nn.Module,
    input_shape: Sequence[int],
    device: str | torch.device = "cpu",
    threads: int | None = None,
    *,
    protocol: TimingProtocol | None = None,
    dtype: torch.dtype = torch.float32,
    model_key: str | None = None,
    runtime: str = EAGER,
) -> LatencyResult:
    """Time ``module`` on a random input of ``input_shape`` in ``runtime``; never reads or writes the cache.

    The module is run in eval mode under ``torch.inference_mode()``; its own
    train/eval flags are restored afterwards.  If its weights are not already
    on ``device`` in ``dtype``, a copy is moved there and the caller's module
    is left where it was.  ``model_key`` is only recorded in the result (it is
    what :class:`LatencyCache` files it under).

    Do not call while this thread already holds ``hold_device`` on the same
    device: the lock excludes holders within one process too, so it would wait
    for itself.
    """
    net = ready_net(module, input_shape, device, threads, dtype=dtype, runtime=runtime)
    return net.time(protocol if protocol is not None else TimingProtocol(), model_key=model_key)


def ready_net(
    module: nn.Module,
    input_shape: Sequence[int],
    device: str | torch.device = "cpu",
    threads: int | None = None,
    *,
    dtype: torch.dtype = torch.float32,
    runtime: str = EAGER,
) -> ReadyNet:
    """``module`` placed on ``device`` and converted for ``runtime``, ready to be timed any number of times.

    Converting once and timing often is what an interleaved re-measurement
    needs (an ONNX export or a compilation per timing block would dwarf the
    timing itself).  Raises :class:`~evaluators.latency.runtimes.ConversionFailed`
    when the runtime cannot run the net.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"measure_module needs an nn.Module, got {type(module).__name__}")
    shape = require_input_shape(input_shape)
    thread_count = _thread_count(threads)
    dtype_label(dtype)
    target_device = resolve_device(device)
    check_runtime(runtime, target_device)
    runnable = _placed(module, target_device, dtype)
    example = _example_input(shape, target_device, dtype)
    with torch_threads(thread_count), evaluation_mode(runnable), torch.inference_mode():
        forward = runtime_forward(runtime, runnable, example, thread_count)
    return ReadyNet(forward=forward, module=runnable, input_shape=shape, device=target_device,
                    threads=thread_count, dtype=dtype, runtime=runtime)


@dataclass(frozen=True, kw_only=True)
class ReadyNet:
    """A net converted for its runtime, with its input: what one timing needs, and nothing to redo."""

    forward: Forward  # one inference on the fixed example input
    module: nn.Module  # put in eval mode while timed (eager and compile run it)
    input_shape: tuple[int, ...]
    device: torch.device
    threads: int
    dtype: torch.dtype
    runtime: str

    def time(self, protocol: TimingProtocol, *, model_key: str | None = None) -> LatencyResult:
        """Warm-up and timed passes under the device's exclusive lock, as ``protocol`` prescribes."""
        with (
            hold_device(self.device, exclusive=True),
            torch_threads(self.threads),
            cudnn_autotuned(self.device),
            evaluation_mode(self.module),
            torch.inference_mode(),
        ):
            calibrated = calibrated_runs(self.forward, self.device, self.threads, protocol)
        runs, slowdown = calibrated.runs, calibrated.slowdown
        return LatencyResult(
            **latency_statistics(runs.samples_s),
            runs=len(runs.samples_s),
            warmup_runs=runs.warmup_runs,
            threads=self.threads,
            device=device_name(self.device),
            input_shape=self.input_shape,
            dtype=dtype_label(self.dtype),
            torch_version=torch.__version__,
            protocol_version=PROTOCOL_VERSION,
            measured_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            model_key=model_key,
            cached=False,
            runtime=self.runtime,
            slowdown=slowdown,
            contended=calibrated.contended(protocol),
            retimed_runs=calibrated.discarded_runs,
        )


@dataclass(frozen=True)
class _Target:
    """What to measure, with the input geometry and cache identity resolved."""

    spec_or_module: object
    resolution: int
    in_channels: int
    model_key: str | None

    @classmethod
    def of(
        cls,
        spec_or_module: object,
        *,
        resolution: int | None,
        in_channels: int | None,
        cache_key: str | None,
    ) -> _Target:
        if _is_spec(spec_or_module):
            return cls._of_spec(spec_or_module, resolution, in_channels, cache_key)
        if isinstance(spec_or_module, nn.Module):
            return cls._of_module(spec_or_module, resolution, in_channels, cache_key)
        raise TypeError(f"spec_or_module must be a net spec or an nn.Module, got {type(spec_or_module).__name__}")

    @classmethod
    def _of_spec(cls, spec: object, resolution: int | None, in_channels: int | None, cache_key: str | None) -> _Target:
        spec_channels = spec.in_channels
        if in_channels is not None and in_channels != spec_channels:
            raise ValueError(f"in_channels={in_channels!r} contradicts the spec, which takes {spec_channels} channels")
        chosen = spec.resolution if resolution is None else resolution
        require_int_at_least("resolution", chosen, 1)
        return cls(spec, chosen, spec_channels, cache_key if cache_key is not None else spec.digest())

    @classmethod
    def _of_module(
        cls, module: nn.Module, resolution: int | None, in_channels: int | None, cache_key: str | None
    ) -> _Target:
        if resolution is None:
            raise ValueError("resolution is required when measuring an nn.Module (it has no spec to take it from)")
        require_int_at_least("resolution", resolution, 1)
        channels = _DEFAULT_IMAGE_CHANNELS if in_channels is None else in_channels
        require_int_at_least("in_channels", channels, 1)
        return cls(module, resolution, channels, cache_key)

    def spec_json(self) -> str | None:
        """The spec as JSON, stored with its measurement so predictors can be fitted from the cache."""
        to_json = getattr(self.spec_or_module, "to_json", None)
        if isinstance(self.spec_or_module, nn.Module) or not callable(to_json):
            return None
        return to_json(indent=None)

    def module(self) -> nn.Module:
        if isinstance(self.spec_or_module, nn.Module):
            return self.spec_or_module
        from searchspace import (
            build,  # lazily: evaluators must import without searchspace
        )

        return build(self.spec_or_module)


def _is_spec(value: object) -> bool:
    return not isinstance(value, nn.Module) and hasattr(value, "digest")


def _thread_count(threads: int | None) -> int:
    if threads is None:
        return torch.get_num_threads()
    return require_int_at_least("threads", threads, 1)


def _placed(module: nn.Module, device: torch.device, dtype: torch.dtype) -> nn.Module:
    """``module`` itself if it already lives on ``device`` in ``dtype``, else a moved copy.

    Copying instead of ``module.to(...)`` keeps a caller's model where the
    caller put it; a module already in place is used as is, without the cost
    of a copy.
    """
    tensors = [*module.parameters(), *module.buffers()]
    misplaced = any(
        tensor.device != device or (tensor.is_floating_point() and tensor.dtype != dtype) for tensor in tensors
    )
    if not misplaced:
        return module
    return copy.deepcopy(module).to(device=device, dtype=dtype)


def _example_input(shape: tuple[int, ...], device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    generator = torch.Generator().manual_seed(_INPUT_SEED)
    return torch.randn(shape, generator=generator).to(device=device, dtype=dtype)
