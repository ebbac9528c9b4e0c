"""The in-process optuna backend: ask the sampler for a net, evaluate it here, tell the session.

Resume rules (kept by :class:`search.run.session.SearchSession`, the same for every backend):

* completed trials (feasible, infeasible or failed) are kept and never redone;
* a net whose digest was already evaluated is not trained again: the new
  trial reuses the earlier result, records ``duplicate_of`` and does not
  count towards ``--trials``, so N more trials evaluate N new nets;
* a resumed session's sampler is seeded from the seed and the trial count,
  so it does not replay the first session's draws;
* a trial that was running when the process died (``kill -9``) is marked
  interrupted and its knob values are queued again, so the candidate is
  evaluated exactly once;
* Ctrl-C or SIGTERM stops after recording the trial in flight as interrupted
  and writing every file.
"""

from __future__ import annotations

import logging
import statistics
import time

from search.run.config import RunConfig
from search.run.inputs import Prepared
from search.run.records import TrialRecord
from search.run.rundir import RunDir
from search.run.session import RunOutcome, SearchSession

log = logging.getLogger("search")

# A duplicate proposal is reused, not counted; this many in a row means the space is (nearly) exhausted.
MAX_DUPLICATES_IN_A_ROW = 50


class TrialPace:
    """How long a trained trial takes here, so the search starts none it cannot finish before its deadline.

    A trial in flight is never cut, so the last one used to run past the search's deadline into the
    time kept for the final protocol: in a first default run (2026-12-02) by 32 s, which left
    135 s for a member whose three final seeds needed 142 s, and the final protocol trained
    nothing.  Only trained trials count: one judged over budget before training ends in seconds.
    """

    def __init__(self) -> None:
        self.trained_seconds: list[float] = []

    def record(self, seconds: float, trained: bool) -> None:
        if trained:
            self.trained_seconds.append(seconds)

    def fits(self, seconds_left: float) -> bool:
        """Whether time is left and a typical trained trial (the median so far) ends within it; any time left does
        before the first."""
        return seconds_left > 0 and (not self.trained_seconds or statistics.median(self.trained_seconds) <= seconds_left)


class OptunaBackend:
    """Every evaluation in this process, one after the other."""

    def describe(self, config: RunConfig) -> str:
        return "run"

    def search(self, session: SearchSession) -> None:
        config, study = session.config, session.study
        deadline = session.clock.deadline("search")
        done, duplicates_in_a_row, pace = session.new_nets(), 0, TrialPace()
        while done < config.trials and pace.fits(deadline - time.monotonic()):
            if duplicates_in_a_row >= MAX_DUPLICATES_IN_A_ROW:
                log.warning("stopping: the last %d proposals were all nets already evaluated (the space may be exhausted)",
                            duplicates_in_a_row)
                break
            trial, started = study.ask(), time.monotonic()
            try:
                record = session.evaluate(trial)
            except KeyboardInterrupt:
                session.tell(trial, TrialRecord(state="interrupted", error="stopped by the user during this trial"))
                raise
            session.tell(trial, record)
            pace.record(time.monotonic() - started, trained=record.accuracy is not None)
            reused = record.duplicate_of is not None
            done, duplicates_in_a_row = done + (not reused), (duplicates_in_a_row + 1 if reused else 0)


def execute(rundir: RunDir, config: RunConfig, prepared: Prepared, *, resumed: bool, quiet: bool,
            verbose: bool = False) -> RunOutcome:
    """Run (or continue) the search described by ``config`` in ``rundir``, in this process."""
    return SearchSession(rundir, config, prepared, resumed=resumed, quiet=quiet, verbose=verbose).run(OptunaBackend())
