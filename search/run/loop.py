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
import time

from search.run.config import RunConfig
from search.run.inputs import Prepared
from search.run.records import TrialRecord
from search.run.rundir import RunDir
from search.run.session import RunOutcome, SearchSession

log = logging.getLogger("search")

# A duplicate proposal is reused, not counted; this many in a row means the space is (nearly) exhausted.
MAX_DUPLICATES_IN_A_ROW = 50


class OptunaBackend:
    """Every evaluation in this process, one after the other."""

    def describe(self, config: RunConfig) -> str:
        return "run"

    def search(self, session: SearchSession) -> None:
        config, study = session.config, session.study
        deadline = session.clock.deadline("search")
        done, duplicates_in_a_row = session.new_nets(), 0
        while done < config.trials and time.monotonic() < deadline:
            if duplicates_in_a_row >= MAX_DUPLICATES_IN_A_ROW:
                log.warning("stopping: the last %d proposals were all nets already evaluated (the space may be exhausted)",
                            duplicates_in_a_row)
                break
            trial = study.ask()
            try:
                record = session.evaluate(trial)
            except KeyboardInterrupt:
                session.tell(trial, TrialRecord(state="interrupted", error="stopped by the user during this trial"))
                raise
            session.tell(trial, record)
            reused = record.duplicate_of is not None
            done, duplicates_in_a_row = done + (not reused), (duplicates_in_a_row + 1 if reused else 0)


def execute(rundir: RunDir, config: RunConfig, prepared: Prepared, *, resumed: bool, quiet: bool,
            verbose: bool = False) -> RunOutcome:
    """Run (or continue) the search described by ``config`` in ``rundir``, in this process."""
    return SearchSession(rundir, config, prepared, resumed=resumed, quiet=quiet, verbose=verbose).run(OptunaBackend())
