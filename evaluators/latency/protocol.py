"""How a latency measurement is taken: warm-up, number of timed runs, stopping rule.

Defaults and the reasons for them:

* Warm-up lasts at least ``warmup_runs`` = 5 forward passes *and* at least
  ``warmup_time_s`` = 0.5 s.  The first pass pays one-time costs (oneDNN
  primitive creation on CPU, cuDNN's kernel search when autotuning, the caching
  allocator growing to its working set); a few more fill instruction and data
  caches.  The time floor is there for the hardware rather than the software:
  CPU frequency governors and GPU boost clocks need a few hundred milliseconds
  of load to leave their idle state, and a model fast enough to finish five
  passes in a millisecond would otherwise be timed at idle clocks.
* Timed runs continue until at least ``min_runs`` = 10 runs *and*
  ``min_time_s`` = 0.5 s of measured time, capped at ``max_runs`` = 1000.
  The run minimum makes the median meaningful for slow nets (one pass of a big
  net on a laptop CPU can take a second); the time minimum collects enough
  samples of fast nets to average out scheduler noise; the cap bounds the
  cost for microsecond-scale blocks, where 1000 samples already pin the median.

* Contention (:mod:`evaluators.latency.calibration`): with ``calibrated``, a
  fixed calibration kernel is timed before and after the passes; a timing
  taken while it ran more than ``contention_tolerance`` = 10% slower than
  this machine's quietest calibration is taken again, at most
  ``contention_retries`` = 2 times, and one still slowed after that is kept
  with its slowdown and flagged.  10% because that is the error a budget can
  bear (issue 21: a loaded measurement must stay within 10% of the quiet one,
  or say it did not); two retries bound the cost on a machine that stays busy.
* Steadiness: a timing whose passes spread (interquartile range) over more
  than ``spread_tolerance`` = 30% of their median, and over a millisecond, is
  taken again within the same retries, and flagged if it stays so.  The
  calibrations only bracket the passes; a load that comes and goes between
  them shows in the passes alone.  A default search's baseline read
  MobileNetV2 at 20.52 ms with an IQR of 16.85 ms beside quiet calibrations,
  where quiet timings of that net spread about 10%
  (results/benchmarks/latency_repeatability_quiet.json).

These numbers trade precision for cost; they change *how well* a latency is
known, not *what* is measured, so they are not part of the cache key.
:data:`PROTOCOL_VERSION` is: bump it whenever a change would make new numbers
incomparable with stored ones (a different timer, a different synchronisation).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from evaluators import validate
from evaluators.latency._checks import require_int_at_least, require_seconds

PROTOCOL_VERSION = 1
CONTENTION_TOLERANCE = 0.10
SPREAD_TOLERANCE = 0.30


@dataclass(frozen=True, kw_only=True)
class TimingProtocol:
    warmup_runs: int = 5
    warmup_time_s: float = 0.5
    min_runs: int = 10
    min_time_s: float = 0.5
    max_runs: int = 1000
    calibrated: bool = True
    contention_tolerance: float = CONTENTION_TOLERANCE
    contention_retries: int = 2
    spread_tolerance: float = SPREAD_TOLERANCE

    def __post_init__(self) -> None:
        require_int_at_least("warmup_runs", self.warmup_runs, 0)
        require_seconds("warmup_time_s", self.warmup_time_s, allow_zero=True)
        require_int_at_least("min_runs", self.min_runs, 1)
        require_seconds("min_time_s", self.min_time_s, allow_zero=False)
        require_int_at_least("max_runs", self.max_runs, 1)
        validate.flag("calibrated", self.calibrated, fail=validate.must_be)
        validate.number("contention_tolerance", self.contention_tolerance, 0.0, open_ends="low", fail=validate.must_be)
        require_int_at_least("contention_retries", self.contention_retries, 0)
        validate.number("spread_tolerance", self.spread_tolerance, 0.0, open_ends="low", fail=validate.must_be)
        if self.max_runs < self.min_runs:
            raise ValueError(f"max_runs must be >= min_runs ({self.min_runs}), got {self.max_runs}")

    def to_dict(self) -> dict[str, float | bool]:
        return asdict(self)
