"""``search run --backend ray``: the same search as trials of a Ray Tune ``Tuner``.

The driver (this process) owns the study: Ray's ``OptunaSearch`` wraps the run's
own optuna study (``study.db``, the sampler ``--searcher`` names) and asks it
for each trial, calling our define-by-run ``space.sample`` on the optuna
trial.  Workers only evaluate (:mod:`search.run.ray_trainable`).  When a
trial ends, :class:`RunSearcher` tells the study exactly what the optuna
backend would (record, constraints, objective values), so ``finalize``,
reports and ``--resume`` work unchanged on the run folder; Ray keeps its own
files under ``<run>/ray/``.

Latency under parallelism: a trial's measurement holds its device exclusively
and a training holds it shared, through the ``flock`` reader-writer lock of
:mod:`evaluators.devicelock` (with a gate that gives measurements priority).
All Ray workers of one node are processes started by that node's raylet with
the same environment, hence the same cache folder and the same lock files, so
the lock serialises every measurement on a node against every training and
measurement of that node's device; the kernel drops the lock of a killed
worker.  Trials on other nodes use other devices and need no exclusion, so
no cluster-wide actor is needed.  (Two GPUs of one node that Ray gives to two
trials both appear as ``cuda:0`` inside their workers and share a lock: safe,
only less parallel.)

The driver's session decides what it can before a worker is used: a net
evaluated before is reused, and one over an analytic limit or clearly predicted
over the budget by the latency predictor is rejected (the predictor is refitted
from the latency cache as workers measure, as in the optuna backend; the cache
is per node, so on a cluster the driver fits on its own node's measurements).

Stopping: Ctrl-C or SIGTERM asks Tune to stop (a ``Stopper``), the trials in
flight are recorded ``interrupted``, every file is written, and the run exits
as the optuna backend does (130, continue with ``--resume``).

Faults: a worker that dies (``kill -9``, out of memory, a lost node) makes
Tune report the trial as errored; it is recorded ``failed`` with Ray's reason
and the run goes on.  A trial stopped by ASHA is recorded ``pruned`` with the
epochs it ran.  Trials still running when the run stops (``--time-limit``,
Ctrl-C, a dead driver) are ``interrupted`` and queued again by ``--resume``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

from ray import tune
from ray.tune import Callback
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
from ray.tune.search.optuna import OptunaSearch
from ray.tune.stopper import Stopper

from search.run.config import RunConfig
from search.run.inputs import Prepared
from search.run.ray_trainable import DECIDED, NUMBER, SPEC, evaluate_trial
from search.run.pruning import FIRST_RUNG_EPOCHS, REDUCTION_FACTOR
from search.run.records import TrialRecord, annotate
from search.run.rundir import RunDir
from search.run.session import RunOutcome, SearchSession

log = logging.getLogger("search")

LATENCY_METRIC = "latency_ms"
# Set by Ctrl-C or SIGTERM while Tune runs; read by Tune through StopRequested (module state: Tune may copy its stopper).
_STOP = threading.Event()


class RayBackend:
    """Each evaluation a trial of a Ray Tune ``Tuner``, on a local runtime or a cluster."""

    def describe(self, config: RunConfig) -> str:
        return f"ray run ({config.workers} workers, scheduler {config.scheduler})"

    def search(self, session: SearchSession) -> None:
        from search.run.ray_runtime import ray_runtime

        config = session.config
        remaining = config.trials - session.new_nets()
        budget = session.clock.remaining("search") if config.time_limit_s else None
        if remaining <= 0 or (budget is not None and budget <= 0):
            return
        with ray_runtime(config):
            _tune(session, remaining, budget)


def execute_ray(rundir: RunDir, config: RunConfig, prepared: Prepared, *, resumed: bool, quiet: bool,
                verbose: bool = False) -> RunOutcome:
    """Run (or continue) the search on Ray; the same files as :func:`search.run.loop.execute`."""
    return SearchSession(rundir, config, prepared, resumed=resumed, quiet=quiet, verbose=verbose).run(RayBackend())


def _tune(session: SearchSession, remaining: int, budget_s: float | None) -> None:
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Ray's own tables would interleave with our progress bar
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"  # Ctrl-C is ours (stop_requests), as SIGTERM is
    config = session.config
    searcher = RunSearcher(session)
    scheduler = FIFOScheduler()
    if config.scheduler == "asha":
        # Proxy epochs are the resource: every trial gets one epoch, half go on to two, and so on, by the run's score.
        scheduler = ASHAScheduler(time_attr="epoch", metric=config.objective_name, mode="max", max_t=config.proxy_epochs,
                                  grace_period=FIRST_RUNG_EPOCHS, reduction_factor=REDUCTION_FACTOR)
    trainable = tune.with_parameters(evaluate_trial, run_config=config.to_dict(), dataset=session.prepared.dataset)
    trainable = tune.with_resources(trainable, {"cpu": config.cpus_per_trial, "gpu": config.gpus_per_trial})
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=searcher, scheduler=scheduler, num_samples=remaining,
                                    max_concurrent_trials=config.workers, time_budget_s=budget_s, reuse_actors=True),
        run_config=tune.RunConfig(name="tune", storage_path=str((session.rundir.path / "ray").resolve()), verbose=0,
                                  failure_config=tune.FailureConfig(max_failures=0), stop=StopRequested(),
                                  callbacks=[FailureReasons(searcher)]),
    )
    try:
        with stop_requests():
            tuner.fit()
    finally:
        searcher.close_unfinished()
    if _STOP.is_set():
        raise KeyboardInterrupt  # the session's graceful end: files written, exit 130, --resume continues


@contextlib.contextmanager
def stop_requests() -> Iterator[None]:
    """Ctrl-C and SIGTERM while Tune runs: ask Tune to stop between two of its steps, not in the middle of one."""
    _STOP.clear()

    def request_stop(signum, frame) -> None:
        log.warning("stop requested (signal %d): stopping the trials in flight", signum)
        _STOP.set()

    previous = {number: signal.signal(number, request_stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class StopRequested(Stopper):
    """Stops the whole experiment once Ctrl-C or SIGTERM asked for it (trials then end as interrupted)."""

    def __call__(self, trial_id: str, result: dict) -> bool:
        return False

    def stop_all(self) -> bool:
        return _STOP.is_set()


class RunSearcher(OptunaSearch):
    """Ray's ``OptunaSearch`` on the run's study, proposing and telling through the run's session."""

    def __init__(self, session: SearchSession) -> None:
        self.session = session
        config = session.config
        super().__init__(space=self.sample, metric=[config.objective_name, LATENCY_METRIC], mode=["max", "min"],
                         sampler=session.study.sampler, study_name=config.optuna_study, storage=session.storage)

    def sample(self, trial) -> dict[str, Any]:
        """The define-by-run space: the session samples our space on the optuna trial; the net goes to the worker as
        text, or, when the driver already knows the result (reused, rejected, unsampleable), the record itself."""
        from searchspace import encode

        spec, decided = self.session.propose(trial, screen=True)
        if decided is not None:
            return {NUMBER: trial.number, DECIDED: json.dumps(decided.stored())}
        return {NUMBER: trial.number, SPEC: encode(spec)}

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if trial_id in self._completed_trials or trial_id not in self._ot_trials:
            return
        self._completed_trials.add(trial_id)
        self.session.tell(self._ot_trials[trial_id], self._record(result, error))

    def _record(self, result: dict | None, error: bool) -> TrialRecord:
        if error:  # the worker died or raised; FailureReasons adds Ray's own words
            return TrialRecord(state="failed", error="the trial's Ray worker failed")
        if not result or "record_json" not in result:
            return TrialRecord(state="interrupted", error="the run stopped before this trial reported")
        record = TrialRecord.of(json.loads(result["record_json"]))
        if not result.get("final"):  # stopped by the scheduler between two epochs
            record.update(state="pruned",  # with the figures of the epoch it stopped after
                          error=f"stopped by ASHA after {record.epochs} of {self.session.config.proxy_epochs} epochs")
        return record

    # The run's state is study.db, which --resume reopens; Ray's experiment
    # restore is not used.  Tune still pickles its searcher (Tuner set-up,
    # experiment checkpoints), and a live session does not pickle: it gets an
    # empty state and an empty checkpoint.
    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def save(self, checkpoint_path: str) -> None:
        pass

    def number_of(self, trial_id: str) -> int | None:
        trial = self._ot_trials.get(trial_id)
        return None if trial is None else trial.number

    def close_unfinished(self) -> None:
        """Trials Tune never finished (time budget, Ctrl-C, SIGTERM): interrupted, queued again on resume."""
        for trial_id in list(self._ot_trials):
            self.on_trial_complete(trial_id, result=None, error=False)


class FailureReasons(Callback):
    """Adds Ray's reason to a failed trial's record (Tune gives the error to callbacks, not to searchers)."""

    def __init__(self, searcher: RunSearcher) -> None:
        self.searcher = searcher

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        number = self.searcher.number_of(trial.trial_id)
        if number is None:
            return
        reason = _last_line(trial.get_error()) or "the trial's Ray worker failed"
        annotate(self.searcher.session.study, number, error=f"worker failed: {reason}")
        log.warning("trial %d failed on its worker: %s", number, reason)


def _last_line(error: Exception | None) -> str:
    lines = [line.strip() for line in str(error or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""
