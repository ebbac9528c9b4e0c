"""The terminal view of a running search: a progress bar with what matters so far."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from search.run.records import TrialRecord


class SearchProgress:
    """Trials done, feasible count, best objective so far, elapsed time; silent with ``quiet``."""

    def __init__(self, total: int, objective: str, *, quiet: bool, done: int = 0) -> None:
        self.quiet = quiet
        self.objective = objective
        self.feasible = 0
        self.best: float | None = None
        self.started = time.monotonic()
        self._progress = None
        if not quiet:
            self._progress = Progress(
                TextColumn("[bold]search"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                console=Console(stderr=True), transient=False,
            )
            self._task = self._progress.add_task("search", total=total, completed=done, status=self._status())
            self._progress.start()

    def _status(self) -> str:
        best = "-" if self.best is None else f"{self.best:.4f}"
        return f"feasible {self.feasible}  best {self.objective} {best}"

    def note(self, record: TrialRecord, *, advance: bool = True) -> None:
        if record.state == "complete":
            self.feasible += 1
            value = record.objective
            if value is not None and (self.best is None or value > self.best):
                self.best = value
        if self._progress is not None:
            self._progress.update(self._task, advance=1 if advance else 0, status=self._status())

    def message(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
