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

    A trial still training at the deadline is cut there and lost, so it is better not started: the last
    trial once ran 32 s past the search's deadline into the time kept for the final protocol (a first
    default run, 2026-12-02), which left 135 s for a member whose three final seeds needed 142 s, and
    the final protocol trained nothing.  Only trained trials count: one judged over budget before
    training ends in seconds.
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
        deadline = session.clock.deadline("search")
        # A trial still training at the search's deadline stops there and fails with its reason: a net that
        # trains 10 times slower than the median (a ViT at the default run's proxy resolution took 5 min
        # where CNNs took 12-30 s) would otherwise eat the final protocol's share of the time limit.
        with session.evaluator.trainings_end_by(deadline):
            self._trials(session, deadline)

    @staticmethod
    def _trials(session: SearchSession, deadline: float) -> None:
        config, study = session.config, session.study
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
