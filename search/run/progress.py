"""The terminal view of a running search: what it is doing, how far it is, and how long it will take.

Two forms, one set of events:

* on a terminal, one live bar: the phase (known nets, search, re-measure,
  final protocol), done/total, feasible count, best objective, the net in
  hand, elapsed time and an ETA;
* piped to a file, or with ``--verbose``, plain lines flushed as they happen:
  one per finished trial (number, state, objective, latency, front size,
  ETA) and one per step of the other phases (each known net as it starts
  training), because a live bar written to a file shows nothing until the
  end.

The ETA of the search is its pace so far (this session's trials only: a
resumed run's earlier trials took their time in another process) times the
trials left, never beyond the phase's deadline under ``--time-limit``; the
other phases, whose length is not known in advance, show the most they may
take.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from search.run.records import TrialRecord

# The phase names of search.run.phases, as a person reads them.
PHASE_LABELS = {"baselines": "known nets", "": "run"}
ACTIVITY_WIDTH = 60  # characters of the current step the bar shows


class SearchProgress:
    """Progress of a run or an exploration; silent with ``quiet``; plain lines when ``lines`` (default: not a tty)."""

    def __init__(self, total: int | None, objective: str, *, quiet: bool, done: int = 0, lines: bool | None = None,
                 time_left: Callable[[str], float | None] = lambda phase: None, phase: str = "search") -> None:
        self.quiet, self.objective, self.time_left = quiet, objective, time_left
        self.lines = (not sys.stderr.isatty()) if lines is None else lines
        self.feasible, self.best = 0, None
        self.name, self.total, self.done = "starting", total, done
        self.phase_started, self.done_at_start = time.monotonic(), done
        self._progress = None
        if not quiet and not self.lines:
            self._progress = Progress(
                TextColumn("[bold]{task.fields[phase]}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TextColumn("{task.fields[eta]}"),
                TextColumn("[dim]{task.fields[activity]}"), console=Console(stderr=True), transient=False,
            )
            self._task = self._progress.add_task("run", total=total, completed=done, phase="starting", status="",
                                                 eta="", activity="")
            self._progress.start()
        if total is not None:
            self.phase(phase, total=total, done=done)

    # ---- events ------------------------------------------------------------------------

    def phase(self, name: str, *, total: int | None = None, done: int = 0) -> None:
        """A phase begins (``total``: its steps, when known)."""
        self.name, self.total, self.done = name, total, done
        self.phase_started, self.done_at_start = time.monotonic(), done
        self._write(f"[{self._label()}] started" + (f": {done}/{total} done" if total is not None else "") + self._eta_text(", "))
        self._refresh(activity="")

    def phase_ended(self) -> None:
        """Between phases: only warnings are steps worth a line (the log's accounting is the summary's)."""
        self.name, self.total = "", None
        self._refresh(activity="")

    def activity(self, text: str, *, line: bool = True) -> None:
        """What the run does now (the net in hand); a line of its own unless ``line`` is False."""
        if line:
            self._write(f"[{self._label()}] {text}")
        self._refresh(activity=text)

    def note(self, record: TrialRecord, *, advance: bool = True, number: int | None = None, front: int | None = None) -> None:
        """A trial finished (``advance``: it counts towards the total; a reused duplicate does not)."""
        if record.state == "complete":
            self.feasible += 1
            value = record.objective
            if value is not None and (self.best is None or value > self.best):
                self.best = value
        self.done += 1 if advance else 0
        self._write(self._trial_line(record, number, front))
        self._refresh(activity="")

    def message(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text)
        else:
            self._write(text)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    # ---- what is shown -------------------------------------------------------------------

    def _label(self) -> str:
        return PHASE_LABELS.get(self.name, self.name)

    def _status(self) -> str:
        best = _figure(self.best)
        return f"feasible {self.feasible}  best {self.objective} {best}"

    def _trial_line(self, record: TrialRecord, number: int | None, front: int | None) -> str:
        value = record.objective
        figures = [record.state if number is None else f"trial {number} {record.state}", f"{self.objective} {_figure(value)}"]
        if number is not None or record.latency_ms is not None:
            figures.append(f"latency {'-' if record.latency_ms is None else f'{record.latency_ms:.1f} ms'}")
        if front is not None:
            figures.append(f"front {front}")
        if record.duplicate_of is not None:
            figures.append(f"same net as trial {record.duplicate_of}")
        count = f"{self.done}/{self.total}" if self.total is not None else str(self.done)
        return f"[{self._label()}] " + "  ".join(figures) + f"  ({count}{self._eta_text(', ')})"

    def eta_s(self) -> float | None:
        """Seconds the phase still needs: its pace times the steps left, capped by its deadline; None if unknown."""
        left = self.time_left(self.name)
        finished = self.done - self.done_at_start
        if self.total is not None and finished > 0:
            pace = (time.monotonic() - self.phase_started) / finished
            estimate = pace * max(0, self.total - self.done)
            return estimate if left is None else min(estimate, max(0.0, left))
        return None if left is None else max(0.0, left)

    def _eta_text(self, prefix: str = "") -> str:
        eta = self.eta_s()
        if eta is None:
            return ""
        paced = self.total is not None and self.done > self.done_at_start
        return f"{prefix}{'ETA' if paced else 'at most'} {_clock(eta)}"

    def _write(self, line: str) -> None:
        if self.lines and not self.quiet:
            print(line, file=sys.stderr, flush=True)

    def _refresh(self, *, activity: str) -> None:
        if self._progress is None:
            return
        shown = activity if len(activity) <= ACTIVITY_WIDTH else activity[:ACTIVITY_WIDTH - 3] + "..."
        self._progress.update(self._task, total=self.total, completed=self.done, phase=self._label(),
                              status=self._status(), eta=self._eta_text(), activity=shown)


def _figure(value: float | None) -> str:
    """An objective: accuracy to 4 decimals, a training-free score (a parameter count) to 4 digits."""
    if value is None:
        return "-"
    return f"{value:.4f}" if abs(value) < 1000 else f"{value:.4g}"


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


class ActivityLog(logging.Handler):
    """The run's log as the progress view's current step: each known net and final training as it starts.

    Inside phases other than the search (there each trial is a line of its own), warnings excepted.
    """

    def __init__(self, progress: SearchProgress) -> None:
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.WARNING and self.progress.name in ("search", ""):
            return
        self.progress.activity(record.getMessage())
