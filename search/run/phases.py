"""Where a run's time went: one clock per phase, the time limit split between them, and what it cut short.

``--time-limit`` covers the whole run.  Left to itself, the first phase can
eat it all (on a busy machine the known nets once used the whole default
limit and no search trial ran), so each phase has its own deadline:

* the known nets (baselines) may use at most :data:`BASELINE_SHARE` of it,
  plus ``--known-nets-time``: evaluating a known net for the first time is a
  once-per-machine cost (its results are cached), so it has an allowance of
  its own.  What the known nets used of that allowance is added to the run's
  time (``granted_s``) and every later deadline moves by it: a first run ends
  within ``--time-limit`` plus the allowance, a cached run within the limit;
* the search runs until the time kept for the end is all that is left;
* the final protocol (re-measurement and training with several seeds) uses
  what remains, less :data:`FILES_RESERVE` for writing the tables and report.

A phase that a deadline ends early says so; the terminal, the log, the report
and ``phases.json`` all show the same accounting.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

BASELINE_SHARE = 0.25
FINAL_SHARE = 0.30  # kept back from the search for the final protocol, when it is on
FILES_RESERVE = 0.05
PHASES_FILE = "phases.json"


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    limited: str = ""  # why the time limit ended it early; empty when it finished
    # The higher 1-minute load average seen at its start and end: a phase that ran with more runnable
    # processes than cores timed nets on a busy machine, which its latencies alone may not show (a
    # calibration reference first taken under load reads that load as quiet).
    load_average: float | None = None


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # not every platform has one
        return None


def core_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# A load this far above the run's own threads is another whole process wanting a core: the run's own
# training and timing threads count in the load average too (a quiet 2-core machine running a
# 2-thread search reads 2.0-2.1).
OTHER_LOAD_BUSY = 1.0


def is_busy(load: float | None, own_threads: int) -> bool:
    return load is not None and load - own_threads >= OTHER_LOAD_BUSY


def threads_of_run(config) -> int:
    """The threads a run keeps busy: torch's for training, ``--threads`` for timing, whichever is more."""
    import torch

    return max(torch.get_num_threads(), config.threads or 1)


def machine_busy(own_threads: int) -> bool:
    """Whether other processes are wanting the machine now (judged by the 1-minute load average)."""
    return is_busy(load_average(), own_threads)


@dataclass
class PhaseClock:
    """Deadlines per phase from one start and one limit (``None``: no limit)."""

    limit_s: float | None
    final_on: bool
    started: float = field(default_factory=time.monotonic)
    phases: list[Phase] = field(default_factory=list)
    allowance_s: float = 0.0  # --known-nets-time: the known nets' own extra time
    granted_s: float = 0.0  # what they used of it, added to the run's time
    # Told each phase's name as it begins and None as it ends (the progress view).
    on_phase: Callable[[str | None], None] | None = None
    cores: int = field(default_factory=core_count)
    own_threads: int = field(default_factory=core_count)  # the run's own share of the load average

    def deadline(self, name: str) -> float:
        if not self.limit_s:
            return float("inf")
        if name == "baselines":
            return self.started + self.allowance_s + self.limit_s * BASELINE_SHARE
        share = {"search": 1.0 - FILES_RESERVE - (FINAL_SHARE if self.final_on else 0.0)}
        return self.started + self.granted_s + self.limit_s * share.get(name, 1.0 - FILES_RESERVE)

    def grant(self, seconds: float) -> None:
        """Charge up to ``seconds`` of the known nets' time to their allowance instead of the limit."""
        self.granted_s = min(self.allowance_s, max(0.0, seconds))

    def remaining(self, name: str) -> float:
        return self.deadline(name) - time.monotonic()

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[Phase]:
        entry = Phase(name)
        self.phases.append(entry)
        if self.on_phase is not None:
            self.on_phase(name)
        began, load_at_start = time.monotonic(), load_average()
        try:
            yield entry
        finally:
            entry.seconds += time.monotonic() - began
            seen = [value for value in (entry.load_average, load_at_start, load_average()) if value is not None]
            entry.load_average = max(seen) if seen else None
            if self.on_phase is not None:
                self.on_phase(None)

    def total_s(self) -> float:
        return time.monotonic() - self.started

    def lines(self) -> list[str]:
        """The accounting as the terminal and report show it."""
        limit = f" of the {_duration(self.limit_s) if self.limit_s >= 0.1 else f'{self.limit_s:.2g} s'} time limit" if self.limit_s else " (no time limit)"
        if self.limit_s and self.granted_s >= 1.0:  # a cached run spends a fraction of a second: not worth a mention
            limit += f" + {_duration(self.granted_s)} for known nets evaluated for the first time"
        if self.limit_s and self.total_s() > self.limit_s + self.granted_s:
            limit += " (over it: the limit stops phases between evaluations, never in the middle of one)"
        lines = [f"Time: {_duration(self.total_s())}{limit}"]
        for entry in self.phases:
            lines.append(f"  {entry.name:<14} {_duration(entry.seconds):>8}" + (f"  ended by the time limit: {entry.limited}" if entry.limited else "")
                         + (f"  busy machine: load average {entry.load_average:.1f} on {self.cores} cores, "
                            f"{self.own_threads} of it this run's" if self._busy(entry) else ""))
        if any(self._busy(entry) for entry in self.phases):
            lines.append("Latencies timed on a busy machine read high (flagged ones are in latency_protocol.json); "
                         "time the front again on a quiet machine before trusting a figure near the budget.")
        return lines

    def _busy(self, entry: Phase) -> bool:
        return is_busy(entry.load_average, self.own_threads)

    def write(self, folder: Path) -> None:
        from search.run.rundir import write_atomic

        data = {"limit_s": self.limit_s, "granted_s": round(self.granted_s, 1), "total_s": round(self.total_s(), 1),
                "cores": self.cores, "own_threads": self.own_threads, "phases": [dict(asdict(p), seconds=round(p.seconds, 1)) for p in self.phases]}
        write_atomic(folder / PHASES_FILE, json.dumps(data, indent=2) + "\n")


def names_text(names: list[str], shown: int = 6) -> str:
    """A list of names for a one-line message: the first few, then how many more."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def read_lines(folder: Path) -> list[str]:
    """The accounting of a finished run, from its ``phases.json`` (none for older runs)."""
    path = folder / PHASES_FILE
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    clock = PhaseClock(data.get("limit_s"), final_on=False, phases=[Phase(**p) for p in data.get("phases", [])],
                       granted_s=data.get("granted_s", 0.0), cores=data.get("cores") or core_count(),
                       own_threads=data.get("own_threads") or data.get("cores") or core_count())
    clock.started = time.monotonic() - data.get("total_s", 0.0)
    return clock.lines()


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{seconds:.1f} s"
