"""Choosing a numeric regime from measured step times: pure functions, no device.

The rule:

1. Between the eager regimes, take ``bf16_cl`` if its measured training step
   is at least :data:`BF16_MIN_GAIN` faster than ``fp32``, else ``fp32``.  A
   smaller difference is within timing noise, and float32 numerics are the
   more faithful proxy when speed is a wash.
2. Compilation costs a one-off overhead ``O`` (tracing and code generation,
   tens of seconds for a CNN's forward and backward) and then saves
   ``t_eager - t_compiled`` per step.  Over ``S`` expected steps it pays off when
   ``S * (t_eager - t_compiled) > COMPILE_PAYBACK_MARGIN * O``.  The margin
   asks for a clear win, because ``O`` and the saving vary from run to run.
   ``S`` is the planned number of steps, capped by a time limit if there is one.
3. Before anything has been compiled, ``t_compiled`` and ``O`` are unknown
   and are estimated from compilations already measured on the same device
   (medians of the overhead and of the relative saving), or, with none, from
   the deliberately cautious priors :data:`PRIOR_COMPILE_OVERHEAD_S` and
   :data:`PRIOR_COMPILE_SAVING`.  With the priors, compiling is attempted only
   for trainings that would run more than about 12 minutes in eager mode,
   so a typical few-epoch proxy stays eager until real compilations on this
   device (an explicit ``regime="compiled"`` run, say) show compiling is cheap.
4. Once compiled in this process, the overhead is spent: the compiled forward
   is kept if its steady-state step is faster than the best eager one.
5. A compilation that failed falls back to the best eager regime, and the
   failure is remembered so it is not attempted again for that candidate.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from evaluators.proxy.regime.modes import BF16_CL, FP32, regime_label

BF16_MIN_GAIN = 0.03
COMPILE_PAYBACK_MARGIN = 1.25
PRIOR_COMPILE_OVERHEAD_S = 60.0
PRIOR_COMPILE_SAVING = 0.10


@dataclass(frozen=True)
class RegimeTimings:
    """Measured seconds per training step of one candidate on one device.

    ``None`` means not measured, or (for an eager regime) not usable, e.g. it
    ran out of memory.  The compile fields describe ``torch.compile`` on top of
    ``compiled_base``.
    """

    fp32_step_s: float | None = None
    bf16_cl_step_s: float | None = None
    compiled_base: str | None = None
    compiled_step_s: float | None = None
    compile_overhead_s: float | None = None
    compile_error: str | None = None


@dataclass(frozen=True)
class CompileEstimate:
    overhead_s: float
    saving: float  # fraction of the eager step time that compiling saves (may be negative)


@dataclass(frozen=True)
class RegimeDecision:
    base: str  # the eager numeric regime: fp32 or bf16_cl
    compiled: bool
    reason: str

    @property
    def label(self) -> str:
        return regime_label(self.base, self.compiled)


def best_eager(timings: RegimeTimings) -> str:
    """``bf16_cl`` if clearly faster than ``fp32`` (or the only one usable), else ``fp32``."""
    fp32, bf16 = timings.fp32_step_s, timings.bf16_cl_step_s
    if fp32 is None and bf16 is None:
        raise ValueError("no eager regime could be timed: both fp32_step_s and bf16_cl_step_s are None")
    if fp32 is None:
        return BF16_CL
    if bf16 is None:
        return FP32
    return BF16_CL if bf16 <= fp32 * (1.0 - BF16_MIN_GAIN) else FP32


def eager_step_s(timings: RegimeTimings, regime: str) -> float:
    value = timings.fp32_step_s if regime == FP32 else timings.bf16_cl_step_s
    if value is None:
        raise ValueError(f"no step time measured for regime {regime!r}")
    return value


def steps_in_budget(planned_steps: int, step_s: float, time_limit_s: float | None) -> int:
    """Steps that will actually run: the plan, or fewer if a time limit cuts it."""
    if time_limit_s is None or step_s <= 0:
        return planned_steps
    return min(planned_steps, math.ceil(time_limit_s / step_s))


def compile_pays_off(eager_s: float, compiled_s: float, overhead_s: float, steps: int) -> bool:
    """Rule 2 of the module docstring."""
    saving = steps * (eager_s - compiled_s)
    return saving > 0 and saving > COMPILE_PAYBACK_MARGIN * overhead_s


def estimate_compile(observations: Sequence[tuple[float, float]]) -> CompileEstimate:
    """Rule 3: medians of past ``(overhead_s, saving)`` on this device, else the priors."""
    if not observations:
        return CompileEstimate(PRIOR_COMPILE_OVERHEAD_S, PRIOR_COMPILE_SAVING)
    return CompileEstimate(
        overhead_s=statistics.median(overhead for overhead, _ in observations),
        saving=statistics.median(saving for _, saving in observations),
    )


def should_try_compile(timings: RegimeTimings, planned_steps: int, estimate: CompileEstimate, time_limit_s: float | None = None) -> bool:
    """Whether compiling is expected to pay off, before anything is compiled."""
    if timings.compile_error is not None:
        return False
    eager_s = eager_step_s(timings, best_eager(timings))
    steps = steps_in_budget(planned_steps, eager_s, time_limit_s)
    return compile_pays_off(eager_s, eager_s * (1.0 - estimate.saving), estimate.overhead_s, steps)


def decide_regime(
    timings: RegimeTimings, planned_steps: int, *, compile_paid: bool = False, time_limit_s: float | None = None
) -> RegimeDecision:
    """The regime to train in, given measured timings (rules 1, 2, 4, 5).

    ``compile_paid`` says the candidate has already been compiled in this
    process, so only the per-step difference matters.
    """
    base = best_eager(timings)
    eager_s = eager_step_s(timings, base)
    if timings.compile_error is not None:
        return RegimeDecision(base, False, f"compile failed ({timings.compile_error}); fell back to {base}")
    compiled_s, overhead_s = timings.compiled_step_s, timings.compile_overhead_s
    if compiled_s is None or overhead_s is None:
        return RegimeDecision(base, False, f"{base}: fastest eager regime ({_eager_summary(timings)}); not compiled")
    compiled_base = timings.compiled_base or base
    steps = steps_in_budget(planned_steps, eager_s, time_limit_s)
    if compile_pays_off(eager_s, compiled_s, 0.0 if compile_paid else overhead_s, steps):
        return RegimeDecision(
            compiled_base,
            True,
            f"compiled step {compiled_s * 1e3:.2f} ms vs {base} {eager_s * 1e3:.2f} ms over {steps} steps"
            + ("" if compile_paid else f" repays {overhead_s:.1f} s of compiling"),
        )
    return RegimeDecision(
        base, False, f"{base}: fastest eager regime ({_eager_summary(timings)}); compiling does not pay off over {steps} steps"
    )


def _eager_summary(timings: RegimeTimings) -> str:
    parts = []
    for name, value in ((FP32, timings.fp32_step_s), (BF16_CL, timings.bf16_cl_step_s)):
        parts.append(f"{name} {value * 1e3:.2f} ms/step" if value is not None else f"{name} unusable")
    return ", ".join(parts)
