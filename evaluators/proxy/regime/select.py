"""From a requested regime to the one a training uses, measuring only what is needed.

Explicit ``fp32`` and ``bf16_cl`` are used as asked.  On a CPU, ``auto`` is
``fp32``: bfloat16 autocast is slower than float32 on most CPUs and a proxy
training on a CPU is a test or a smoke run, not something to tune.  On a GPU,
``auto`` and ``compiled`` time the eager regimes once per candidate and device
(remembered in :class:`~evaluators.proxy.regime.cache.RegimeCache`) and apply
the rules of :mod:`evaluators.proxy.regime.choice`.

A compilation that fails never fails the training: the best eager regime is
used, and the failure is remembered for that candidate and device so that it
is not attempted again (delete ``proxy_regimes.json`` in the cache folder to
retry, e.g. after installing a compiler).  Every successful compilation on a
GPU, including those asked for with ``regime="compiled"``, is also recorded
as an observation of what compiling costs and saves on that device, which is
how ``auto`` learns whether compiling is worth trying for new candidates.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from evaluators.proxy.failures import one_line, release_memory
from evaluators.proxy.regime.cache import RegimeCache
from evaluators.proxy.regime.choice import (
    RegimeDecision,
    RegimeTimings,
    best_eager,
    decide_regime,
    eager_step_s,
    estimate_compile,
    should_try_compile,
)
from evaluators.proxy.regime.probe import CompiledForward, RegimeProbe
from evaluators.proxy.regime.modes import (
    AUTO,
    BF16_CL,
    COMPILED,
    EAGER_REGIMES,
    FP32,
    REGIME_CHOICES,
)
from evaluators.proxy.step import TrainingForward


@dataclass(frozen=True)
class RegimeSelection:
    decision: RegimeDecision
    compiled_forward: TrainingForward | None = None  # set iff decision.compiled


@dataclass(frozen=True)
class SelectionContext:
    """Where and how long the candidate will train, for the cache and the amortisation rule."""

    device: torch.device
    device_label: str
    cache_key: str
    planned_steps: int
    time_limit_s: float | None = None


def select_regime(requested: str, context: SelectionContext, probe: RegimeProbe, cache: RegimeCache) -> RegimeSelection:
    if requested not in REGIME_CHOICES:
        raise ValueError(f"regime={requested!r} is not supported (allowed: {', '.join(REGIME_CHOICES)})")
    if requested in EAGER_REGIMES:
        return RegimeSelection(RegimeDecision(requested, False, f"{requested}: requested"))
    if context.device.type == "cpu":
        if requested == AUTO:
            return RegimeSelection(RegimeDecision(FP32, False, "fp32: the only regime auto uses on a CPU"))
        return _compile_or_fall_back(probe, FP32, RegimeTimings(), "requested", context, cache=None)

    timings = _eager_timings(context, probe, cache)
    if requested == COMPILED:
        if timings.compile_error is not None:  # known to fail here; not retried
            return RegimeSelection(decide_regime(timings, context.planned_steps))
        return _compile_or_fall_back(probe, best_eager(timings), timings, "requested", context, cache)

    if timings.compile_error is not None or timings.compiled_step_s is not None:
        # Compiled before (maybe in another process): its measured cost decides.
        decision = decide_regime(timings, context.planned_steps, time_limit_s=context.time_limit_s)
        if not decision.compiled:
            return RegimeSelection(decision)
        return _compile_or_fall_back(probe, decision.base, timings, decision.reason, context, cache)

    estimate = estimate_compile(cache.compile_observations(context.device_label))
    if not should_try_compile(timings, context.planned_steps, estimate, context.time_limit_s):
        return RegimeSelection(decide_regime(timings, context.planned_steps, time_limit_s=context.time_limit_s))
    compiled, timings = _try_compile(probe, best_eager(timings), timings, context, cache)
    decision = decide_regime(timings, context.planned_steps, compile_paid=True, time_limit_s=context.time_limit_s)
    return RegimeSelection(decision, compiled.forward if compiled is not None and decision.compiled else None)


def _eager_timings(context: SelectionContext, probe: RegimeProbe, cache: RegimeCache) -> RegimeTimings:
    cached = cache.get(context.cache_key)
    if cached is not None and (cached.fp32_step_s is not None or cached.bf16_cl_step_s is not None):
        return cached
    timings = RegimeTimings(fp32_step_s=probe.time_eager(FP32), bf16_cl_step_s=probe.time_eager(BF16_CL))
    if timings.fp32_step_s is None and timings.bf16_cl_step_s is None:
        # Not cached: memory may have been short only because of other work.
        raise torch.OutOfMemoryError("the candidate ran out of memory in both fp32 and bf16_cl while timing its training step")
    cache.put(context.cache_key, timings)
    return timings


def _try_compile(
    probe: RegimeProbe, base: str, timings: RegimeTimings, context: SelectionContext, cache: RegimeCache | None
) -> tuple[CompiledForward | None, RegimeTimings]:
    """Compile and time on top of ``base``; on failure return ``None`` and timings that record the error.

    With a ``cache`` the outcome is remembered for the candidate and, when it
    worked, added to the device's compile observations that estimate the
    cost of compiling candidates not yet compiled.
    """
    try:
        compiled = probe.compile(base)
    except Exception as exc:  # compiler errors come in many types; any of them means "do not compile"
        error = one_line(f"{type(exc).__name__}: {exc}", limit=200)
    else:
        timings = dataclasses.replace(
            timings, compiled_base=base, compiled_step_s=compiled.step_s, compile_overhead_s=compiled.overhead_s, compile_error=None
        )
        if cache is not None:
            cache.put(context.cache_key, timings)
            eager_s = eager_step_s(timings, base)
            cache.add_compile_observation(context.device_label, compiled.overhead_s, 1.0 - compiled.step_s / eager_s)
        return compiled, timings
    release_memory(context.device)  # after the handler: its traceback held the failed attempt's tensors
    timings = dataclasses.replace(timings, compile_error=error)
    if cache is not None:
        cache.put(context.cache_key, timings)
    return None, timings


def _compile_or_fall_back(
    probe: RegimeProbe, base: str, timings: RegimeTimings, reason: str, context: SelectionContext, cache: RegimeCache | None
) -> RegimeSelection:
    """Compile on top of ``base`` for training; on failure use ``base`` eagerly."""
    compiled, timings = _try_compile(probe, base, timings, context, cache)
    if compiled is None:
        fallback = RegimeDecision(base, False, f"compile failed ({timings.compile_error}); fell back to {base}")
        return RegimeSelection(fallback)
    return RegimeSelection(RegimeDecision(base, True, f"compiled:{base}: {reason}"), compiled.forward)
