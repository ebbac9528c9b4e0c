"""Re-measuring the front's latencies in a way a busy machine cannot fool.

A search-time latency is one measurement taken whenever the trial ran; another
process waking up during it makes a net look slower (287 ms against 49 ms was
seen on a loaded 2-core VM).  At the end of a run the front is therefore timed
again under this protocol:

* members are timed in **blocks**: one short timing of every member, in an
  order rotated from block to block, so a slow spell of the machine hits every
  member alike instead of one member entirely;
* each block is bracketed by a **calibration kernel** (a fixed matrix product
  whose speed depends only on how much of the CPU/GPU this process gets),
  timed before and after;
* a block whose calibration is more than :data:`CONTENTION_TOLERANCE` slower
  than the quietest calibration of the whole re-measurement was **contended**:
  it is discarded and another block is taken, up to :data:`MAX_EXTRA_BLOCKS`;
* a member's latency is the median of its clean blocks' medians; if too few
  blocks were clean, it is the quietest block's median, and the result is
  flagged ``latency_contended`` so the table says so instead of hiding it.
  The quietest block, because other processes only ever add time: one busy
  default run saw a member's blocks at 1,404, 34 and 125 ms, and a median of
  them would have judged the machine, not the net.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from evaluators.latency.calibration import calibration_ms

BLOCKS = 5  # clean blocks wanted per member
MAX_EXTRA_BLOCKS = 4  # blocks taken beyond BLOCKS to replace contended ones
# Calibration this much slower than the quietest block's: someone else had the machine.  Looser
# than a single measurement's (evaluators.latency.protocol): here every member shares each block's
# slowdown, so a block is only thrown away when the machine was clearly taken.
CONTENTION_TOLERANCE = 0.25
# One member's share of a block: short, so blocks are many and close together in time.
BLOCK_RUNS = 5
BLOCK_MIN_TIME_S = 0.1


@dataclass(frozen=True)
class Remeasured:
    latency_ms: float  # median of the clean blocks' medians; when contended, the quietest block's median
    spread_ms: float  # half the range of those block medians
    blocks: int  # clean blocks (all blocks when none was clean)
    contended: bool  # True when fewer than BLOCKS clean blocks could be had
    block_medians_ms: tuple[float, ...] = ()  # the medians the figure is taken from: its repeatability


@dataclass
class _Block:
    medians_ms: dict[int, float]
    calibration_ms: float  # the slower of the before and after calibrations


def remeasure(specs: Mapping[int, object], device: str, threads: int | None, runtime: str = "eager",
              deadline: float | None = None) -> dict[int, Remeasured]:
    """Interleaved, calibrated latencies of ``specs`` (keyed by trial number) at batch 1, in ``runtime``.

    Each member is converted for the runtime once, then timed in every block.  Past ``deadline``
    (``time.monotonic()``) no further block is started: on a starved machine one block can take
    a minute, and the blocks taken so far are summarised (flagged, if too few were clean) rather
    than eat the time the final protocol's training needs.
    """
    from evaluators.devices import resolve_device
    from evaluators.latency import TimingProtocol, ready_net
    from searchspace import build

    target = resolve_device(device)
    thread_count = threads or torch.get_num_threads()
    nets = {key: ready_net(build(spec), (1, spec.in_channels, spec.resolution, spec.resolution), target, thread_count,
                           runtime=runtime)
            for key, spec in specs.items()}
    # Not calibrated member by member: each block is calibrated as a whole, before and after.
    protocol = TimingProtocol(warmup_runs=2, warmup_time_s=0.0, min_runs=BLOCK_RUNS, min_time_s=BLOCK_MIN_TIME_S, max_runs=100,
                              calibrated=False)
    keys = list(nets)
    blocks: list[_Block] = []
    while len(blocks) < BLOCKS + MAX_EXTRA_BLOCKS and _clean_count(blocks) < BLOCKS:
        if blocks and deadline is not None and time.monotonic() > deadline:
            break
        shift = len(blocks) % len(keys)
        order = keys[shift:] + keys[:shift]  # rotated: no member always runs first, or right after the same one
        before = calibration_ms(target, thread_count)
        medians = {key: nets[key].time(protocol).median_ms for key in order}
        after = calibration_ms(target, thread_count)
        blocks.append(_Block(medians, max(before, after)))
    return {key: _summarise(key, blocks) for key in keys}


def _quietest(blocks: list[_Block]) -> float:
    return min(block.calibration_ms for block in blocks)


def _is_clean(block: _Block, quietest: float) -> bool:
    return block.calibration_ms <= quietest * (1.0 + CONTENTION_TOLERANCE)


def _clean_count(blocks: list[_Block]) -> int:
    if not blocks:
        return 0
    quietest = _quietest(blocks)
    return sum(_is_clean(block, quietest) for block in blocks)


def _summarise(key: int, blocks: list[_Block]) -> Remeasured:
    # Judged against the quietest calibration of the whole re-measurement, not of the blocks
    # before it, so an early block taken while the machine was busy is caught too.
    quietest = _quietest(blocks)
    clean = [block for block in blocks if _is_clean(block, quietest)]
    used = clean or blocks
    values = [block.medians_ms[key] for block in used]
    contended = len(clean) < BLOCKS
    figure = min(block.medians_ms[key] for block in blocks) if contended else statistics.median(values)
    return Remeasured(figure, (max(values) - min(values)) / 2, len(values), contended, tuple(values))
