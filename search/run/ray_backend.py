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

Faults: a worker that dies (``kill -9``, out of memory, a lost node) makes
Tune report the trial as errored; it is recorded ``failed`` with Ray's reason
and the run goes on.  A trial stopped by ASHA is recorded ``pruned`` with the
epochs it ran.  Trials still running when the run stops (``--time-limit``,
Ctrl-C, a dead driver) are ``interrupted`` and queued again by ``--resume``.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import optuna
from optuna.trial import TrialState
from ray import tune
from ray.tune import Callback
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
from ray.tune.search.optuna import OptunaSearch

from search.run.baselines import evaluate_baselines
from search.run.closing import Ending, close_run
from search.run.config import RunConfig
from search.run.evaluate import CandidateEvaluator
from search.run.loop import (
    Prepared,
    RunOutcome,
    _jsonable,
    finished_trials,
    open_study,
    recover_interrupted,
    setup_logging,
    tell,
    write_report_safely,
)
from search.run.outputs import finalize
from search.run.phases import PhaseClock
from search.run.progress import SearchProgress
from search.run.ray_trainable import NUMBER, REUSE, SAMPLING_ERROR, SPEC, evaluate_trial
from search.run.records import RECORD_ATTR, annotate, trial_record
from search.run.rundir import RunDir, environment
from search.run.searchers import make_sampler

log = logging.getLogger("search")

STUDY_NAME = "search"
# Trials that count towards --trials (a pruned trial was evaluated, at a lower fidelity).
COUNTED = ("complete", "infeasible", "failed", "pruned")
LATENCY_METRIC = "latency_ms"


def counted_trials(study: optuna.Study) -> list[dict[str, Any]]:
    return [r for r in (trial_record(t) for t in study.get_trials(deepcopy=False)) if r["state"] in COUNTED]


def execute_ray(rundir: RunDir, config: RunConfig, prepared: Prepared, *, resumed: bool, quiet: bool) -> RunOutcome:
    """Run (or continue) the search on Ray; the same files as :func:`search.run.loop.execute`."""
    from search.run.ray_runtime import ray_runtime

    clock = PhaseClock(config.time_limit_s, final_on=bool(config.final_seeds))
    rundir.write_config(config, environment(config), space=prepared.space_record)
    setup_logging(rundir)
    log.info("%s ray run %s: space %s, searcher %s, %d workers, scheduler %s", "resumed" if resumed else "new",
             rundir.path, prepared.space.name, config.searcher, config.workers, config.scheduler)
    study, storage = open_study(rundir, config, resumed=resumed)
    recover_interrupted(study, storage)
    outcome = RunOutcome(rundir, config, clock=clock)
    if config.baselines:  # in the driver, before any trial trains: their latencies are not disturbed
        evaluator = CandidateEvaluator(config, prepared.dataset, prepared.train_device)
        outcome.baselines = evaluate_baselines(prepared.space, evaluator, rundir, clock)
    remaining = config.trials - len(counted_trials(study))
    budget = clock.remaining("search") if config.time_limit_s else None
    if remaining > 0 and (budget is None or budget > 0):
        with ray_runtime(config), clock.phase("search"):
            _tune(rundir, config, prepared, study, storage, outcome, remaining, budget, quiet)
    close_run(study, rundir, config, outcome, Ending(prepared.dataset, prepared.train_device, clock), interrupted=False)
    write_report_safely(outcome)  # as the optuna backend does
    log.info("finished: %d trials, %d on the front", len(outcome.trials), len(outcome.front))
    return outcome


def _tune(rundir, config, prepared, study, storage, outcome, remaining, budget_s, quiet) -> None:
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Ray's own tables would interleave with our progress bar
    progress = SearchProgress(config.trials, config.objective_name, quiet=quiet, done=config.trials - remaining)
    searcher = RunSearcher(config, prepared, study, storage, rundir, outcome, progress)
    scheduler = FIFOScheduler()
    if config.scheduler == "asha":
        # Proxy epochs are the resource: every trial gets one epoch, half go on to two, and so on.
        scheduler = ASHAScheduler(time_attr="epoch", metric="accuracy", mode="max", max_t=config.proxy_epochs,
                                  grace_period=1, reduction_factor=2)
    trainable = tune.with_parameters(evaluate_trial, run_config=config.to_dict(), dataset=prepared.dataset)
    trainable = tune.with_resources(trainable, {"cpu": config.cpus_per_trial, "gpu": config.gpus_per_trial})
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=searcher, scheduler=scheduler, num_samples=remaining,
                                    max_concurrent_trials=config.workers, time_budget_s=budget_s, reuse_actors=True),
        run_config=tune.RunConfig(name="tune", storage_path=str((rundir.path / "ray").resolve()), verbose=0,
                                  failure_config=tune.FailureConfig(max_failures=0),
                                  callbacks=[FailureReasons(searcher)]),
    )
    try:
        tuner.fit()
    finally:
        searcher.close_unfinished()
        progress.close()


class RunSearcher(OptunaSearch):
    """Ray's ``OptunaSearch`` on the run's study, telling it what the optuna backend would."""

    def __init__(self, config: RunConfig, prepared: Prepared, study: optuna.Study, storage, rundir: RunDir,
                 outcome: RunOutcome, progress: SearchProgress) -> None:
        from search.spaces import SpaceContext

        dataset = prepared.dataset
        self.config, self.space, self.study, self.rundir, self.outcome, self.progress = (
            config, prepared.space, study, rundir, outcome, progress)
        self.context = SpaceContext(in_channels=dataset.in_channels, num_classes=dataset.num_classes,
                                    resolution=config.resolution)
        self.known = {r["digest"]: r for r in finished_trials(study)
                      if r.get("digest") and r["state"] in ("complete", "infeasible") and r.get("duplicate_of") is None}
        # A resumed run's sampler must not replay the random draws of the first
        # start: with several trials in flight, a replayed net would be trained
        # again before the reuse of known digests could catch it.
        seed = config.seed + len(study.get_trials(deepcopy=False))
        super().__init__(space=self.sample, metric=[config.objective_name, LATENCY_METRIC], mode=["max", "min"],
                         sampler=make_sampler(config.searcher, seed, config.trials), study_name=STUDY_NAME,
                         storage=storage)

    def sample(self, trial) -> dict[str, Any]:
        """The define-by-run space: our space, sampled on the optuna trial; the net goes to the worker as text."""
        from search.spaces import OptunaSuggest
        from searchspace import encode

        try:
            spec = self.space.sample(OptunaSuggest(trial), self.context)
        except ValueError as error:  # a space that produced an invalid net: the trial records it
            return {NUMBER: trial.number, SAMPLING_ERROR: str(error)}
        earlier = self.known.get(spec.digest())
        if earlier is not None:  # evaluated before: reuse, as the optuna backend does
            reused = {k: v for k, v in earlier.items() if k not in ("number", "pareto", "remeasured_latency_ms")}
            reused.update(duplicate_of=earlier["number"], seconds=0.0)
            return {NUMBER: trial.number, REUSE: json.dumps(_jsonable(reused))}
        return {NUMBER: trial.number, SPEC: encode(spec)}

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if trial_id in self._completed_trials or trial_id not in self._ot_trials:
            return
        self._completed_trials.add(trial_id)
        trial = self._ot_trials[trial_id]
        record = self._record(result, error)
        self.record(trial, record)

    def _record(self, result: dict | None, error: bool) -> dict[str, Any]:
        if error:  # the worker died or raised; FailureReasons adds Ray's own words
            return {"state": "failed", "error": "the trial's Ray worker failed"}
        if not result or "record_json" not in result:
            return {"state": "interrupted", "error": "the run stopped before this trial reported"}
        record = json.loads(result["record_json"])
        if not result.get("final"):  # stopped by the scheduler between two epochs
            record.update(state="pruned", accuracy=result.get("accuracy"),
                          error=f"stopped by ASHA after {record.get('epochs')} of {self.config.proxy_epochs} epochs")
        return record

    def record(self, trial: optuna.Trial, record: dict[str, Any]) -> None:
        if record["state"] == "pruned":
            trial.set_user_attr(RECORD_ATTR, _jsonable(record))
            self.study.tell(trial, state=TrialState.PRUNED)
        else:
            tell(self.study, trial, record, self.config)
        if record.get("digest") and record["state"] in ("complete", "infeasible") and record.get("duplicate_of") is None:
            self.known[record["digest"]] = dict(record, number=trial.number)
        if record["state"] in COUNTED:
            self.progress.note(record)
        log.info("trial %d %s %s", trial.number, record["state"], record.get("spec") or record.get("error", ""))
        finalize(self.study, self.rundir, self.config, self.outcome)

    # The run's state is study.db, which --resume reopens; Ray's experiment
    # restore is not used.  Tune still pickles its searcher (Tuner set-up,
    # experiment checkpoints), and a live study, storage and progress bar do
    # not pickle: it gets an empty state and an empty checkpoint.
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
        """Trials Tune never finished (time budget, Ctrl-C): interrupted, queued again on resume."""
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
        annotate(self.searcher.study, number, error=f"worker failed: {reason}")
        log.warning("trial %d failed on its worker: %s", number, reason)


def _last_line(error: Exception | None) -> str:
    lines = [line.strip() for line in str(error or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""
