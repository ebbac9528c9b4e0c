"""The search loop: ask the sampler for a net, evaluate it, tell the result; resumable and interruptible.

Resume rules:

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

import contextlib
import hashlib
import logging
import math
import signal
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import TrialState

from search.errors import shown
from search.run.baselines import evaluate_baselines
from search.run.claim import mark_started
from search.run.closing import Ending, close_run
from search.run.config import RunConfig
from search.run.preflight import check_batch_size, check_latency_cache, check_storage, storage_errors
from search.run.evaluate import CONSTRAINT_NAMES, CandidateEvaluator, constraint_values
from search.run.latency_model import PredictorRefresher
from search.run.outputs import finalize
from search.run.phases import PhaseClock
from search.run.progress import SearchProgress
from search.run.records import (
    RECORD_ATTR,
    annotate,
    annotations,
    objective_value,
    trial_record,
)
from search.run.rundir import RunDir, environment
from search.run.searchers import make_sampler
from search.run.space_check import space_record
from searchspace import encode

log = logging.getLogger("search")

STUDY_NAME = "search"
FINISHED = ("complete", "infeasible", "failed")
# A duplicate proposal is reused, not counted; this many in a row means the space is (nearly) exhausted.
MAX_DUPLICATES_IN_A_ROW = 50


class RunInterrupted(Exception):
    """The run stopped on Ctrl-C or SIGTERM; every file was written first."""

    def __init__(self, rundir: RunDir) -> None:
        super().__init__(f"interrupted; results so far are in {rundir.path} (continue with --resume)")
        self.rundir = rundir


@dataclass
class RunOutcome:
    rundir: RunDir
    config: RunConfig
    trials: list[dict[str, Any]] = field(default_factory=list)
    baselines: list[dict[str, Any]] = field(default_factory=list)
    front: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""
    clock: PhaseClock | None = None


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler's or ``kill``'s stop) takes the same graceful path as Ctrl-C."""
    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, raise_interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def setup_logging(rundir: RunDir) -> None:
    logger = logging.getLogger("search")
    logger.setLevel(logging.INFO)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    handler = logging.FileHandler(rundir.log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def open_study(rundir: RunDir, config: RunConfig, *, resumed: bool) -> tuple[optuna.Study, optuna.storages.BaseStorage]:
    with storage_errors(f"the run's study ({shown(rundir.storage_url(config))}) cannot be opened"):
        storage = optuna.storages.RDBStorage(rundir.storage_url(config))
        sampler = make_sampler(config.searcher, config.seed, config.trials)
        study = optuna.create_study(
            storage=storage, study_name=STUDY_NAME, sampler=sampler, directions=["maximize", "minimize"], load_if_exists=resumed,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([config.objective_name, "latency_ms"])
    earlier = len(study.get_trials(deepcopy=False))
    if earlier:  # the same seed again would replay the first session's draws, proposing nets already evaluated
        study.sampler = make_sampler(config.searcher, session_seed(config.seed, earlier), config.trials)
    mark_started(rundir)  # configuration written, study open: a run it replaces may go now
    return study, storage


def session_seed(seed: int, earlier_trials: int) -> int:
    """The sampler's seed for a session that continues a study of ``earlier_trials`` trials: new draws, reproducibly."""
    digest = hashlib.sha256(f"{seed}:{earlier_trials}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def recover_interrupted(study: optuna.Study, storage: optuna.storages.BaseStorage) -> int:
    """Mark trials left running by a dead process as interrupted; queue their knobs again."""
    requeued = 0
    notes = annotations(study)
    for trial in study.get_trials(deepcopy=False):
        stranded = trial.state == TrialState.RUNNING
        interrupted = trial.user_attrs.get(RECORD_ATTR, {}).get("state") == "interrupted"
        if not (stranded or interrupted) or notes.get(str(trial.number), {}).get("requeued"):
            continue
        if stranded:  # still RUNNING, so its attributes can be set before it is closed
            record = dict(trial.user_attrs.get(RECORD_ATTR, {}), state="interrupted", error="the process stopped during this trial")
            storage.set_trial_user_attr(trial._trial_id, RECORD_ATTR, record)
            storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        if trial.params:
            study.enqueue_trial(trial.params, skip_if_exists=False)
            requeued += 1
        annotate(study, trial.number, requeued=True)
    if requeued:
        log.info("queued %d interrupted trial(s) again", requeued)
    return requeued


def finished_trials(study: optuna.Study) -> list[dict[str, Any]]:
    return [r for r in (trial_record(t) for t in study.get_trials(deepcopy=False)) if r["state"] in FINISHED]


def new_net_trials(study: optuna.Study) -> int:
    """Finished trials that evaluated a net of their own: what --trials counts (a reused duplicate does not)."""
    return sum(1 for r in finished_trials(study) if r.get("duplicate_of") is None)


def tell(study: optuna.Study, trial: optuna.Trial, record: dict[str, Any], config: RunConfig) -> None:
    trial.set_user_attr(RECORD_ATTR, _jsonable(record))
    if record["state"] in ("complete", "infeasible"):
        for limit, value in zip(CONSTRAINT_NAMES, constraint_values(record, config)):
            trial.set_constraint(limit, value)
    if record["state"] in ("complete", "infeasible"):
        # Infeasible nets are not trained: their quality is a placeholder the
        # samplers never compare with feasible values (constrained domination).
        quality = objective_value(record) if record["state"] == "complete" else None
        latency = record.get("latency_ms") or config.budget_ms or 0.0
        study.tell(trial, [_finite(quality if quality is not None else 0.0), _finite(latency)])
    else:
        study.tell(trial, state=TrialState.FAIL)


def _finite(value: float) -> float:
    return value if math.isfinite(value) else math.copysign(1e300, value)


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None if math.isnan(value) else math.copysign(1e300, value)
        return value

    return {k: clean(v) for k, v in record.items()}


def search_loop(
    study: optuna.Study, space, context, evaluator: CandidateEvaluator, config: RunConfig,
    progress: SearchProgress, deadline: float, on_trial,
) -> None:
    from search.spaces import OptunaSuggest

    known = {r["digest"]: r for r in finished_trials(study) if r.get("digest") and r["state"] in ("complete", "infeasible")}
    done, duplicates_in_a_row = new_net_trials(study), 0
    while done < config.trials and time.monotonic() < deadline:
        if duplicates_in_a_row >= MAX_DUPLICATES_IN_A_ROW:
            log.warning("stopping: the last %d proposals were all nets already evaluated (the space may be exhausted)",
                        duplicates_in_a_row)
            break
        trial = study.ask()
        record: dict[str, Any] = {"state": "interrupted"}
        try:
            record = _sample_and_evaluate(space, OptunaSuggest(trial), context, known, evaluator)
        except KeyboardInterrupt:
            record.update(state="interrupted", error="stopped by the user during this trial")
            tell(study, trial, record, config)
            raise
        tell(study, trial, record, config)
        if record.get("digest") and record["state"] in ("complete", "infeasible") and record.get("duplicate_of") is None:
            known[record["digest"]] = dict(record, number=trial.number)
        reused = record.get("duplicate_of") is not None
        done, duplicates_in_a_row = done + (not reused), (duplicates_in_a_row + 1 if reused else 0)
        progress.note(record, advance=not reused)
        log.info("trial %d %s %s", trial.number, record["state"], record.get("spec", ""))
        on_trial()


def _sample_and_evaluate(space, suggest, context, known: dict[str, dict[str, Any]], evaluator: CandidateEvaluator) -> dict[str, Any]:
    """One trial's record; whatever goes wrong in it is recorded as the trial's failure, and the run goes on."""
    try:
        spec = space.sample(suggest, context)
    except Exception as error:  # noqa: BLE001  (a space that produced an invalid net)
        return _failed("sampling failed", error)
    try:
        return _evaluate_or_reuse(spec, known, evaluator)
    except Exception as error:  # noqa: BLE001  (left RUNNING, the trial would be stranded and the run lost)
        return dict(_failed("evaluation failed", error), spec=encode(spec))


def _failed(stage: str, error: Exception) -> dict[str, Any]:
    log.warning("%s", stage, exc_info=error)  # the traceback goes to search.log, the reason to the trial
    reason = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
    return {"state": "failed", "error": f"{stage}: {reason[:300]}"}


def _evaluate_or_reuse(spec, known: dict[str, dict[str, Any]], evaluator: CandidateEvaluator) -> dict[str, Any]:
    digest = spec.digest()
    if digest in known:
        earlier = known[digest]
        reused = {k: v for k, v in earlier.items() if k not in ("number", "pareto", "remeasured_latency_ms")}
        reused.update(duplicate_of=earlier["number"], seconds=0.0)
        return reused
    return evaluator.evaluate(spec)


@dataclass(frozen=True)
class Prepared:
    """Everything a run needs that can fail on bad input, resolved before any folder is touched."""

    space: Any
    dataset: Any
    train_device: str
    space_record: dict[str, Any] = field(default_factory=dict)  # stored in run.json: a resume must find the same space


def prepare(config: RunConfig) -> Prepared:
    from evaluators.data import load_dataset
    from evaluators.devices import resolve_device
    from search.spaces import load_space
    from searchspace import zoo

    for name in config.baseline_names:
        zoo.info(name.removeprefix("+"))  # an unknown baseline is a user error, before any work
    resolve_device(config.device)
    train_device = config.train_device or ("cuda" if _cuda() else "cpu")
    resolve_device(train_device)
    space = load_space(config.space)
    dataset = load_dataset(config.dataset, resolution=config.proxy_resolution or default_proxy_resolution(config.dataset),
                           data_root=config.data_root, download=config.download, seed=config.seed,
                           **config.dataset_options)
    check_batch_size(config, len(dataset), dataset.name)
    check_latency_cache()
    if config.storage:
        check_storage(config.storage)
    return Prepared(space, dataset, train_device, space_record(space, config.space))


def execute(rundir: RunDir, config: RunConfig, prepared: Prepared, *, resumed: bool, quiet: bool) -> RunOutcome:
    """Run (or continue) the search described by ``config`` in ``rundir``."""
    from search.spaces import SpaceContext

    clock = PhaseClock(config.time_limit_s, final_on=bool(config.final_seeds))
    space, dataset, train_device = prepared.space, prepared.dataset, prepared.train_device
    rundir.write_config(config, environment(config), space=prepared.space_record)
    setup_logging(rundir)
    log.info("%s run %s: space %s, searcher %s, dataset %s", "resumed" if resumed else "new", rundir.path, space.name,
             config.searcher, dataset.describe())

    study, storage = open_study(rundir, config, resumed=resumed)
    recover_interrupted(study, storage)
    evaluator = CandidateEvaluator(config, dataset, train_device)
    predictor = PredictorRefresher(evaluator, config, rundir)
    predictor.refresh()
    context = SpaceContext(in_channels=dataset.in_channels, num_classes=dataset.num_classes, resolution=config.resolution)
    done = new_net_trials(study)
    outcome = RunOutcome(rundir, config, clock=clock)
    interrupted = False
    with sigterm_as_interrupt():
        try:
            if config.baselines:
                outcome.baselines = evaluate_baselines(space, evaluator, rundir, clock)
                predictor.refresh()  # the baselines' measurements may complete the first fit

            def after_trial() -> None:
                finalize(study, rundir, config, outcome)
                predictor.after_trial()

            progress = SearchProgress(config.trials, config.objective_name, quiet=quiet, done=min(done, config.trials))
            try:
                with clock.phase("search") as phase:
                    search_loop(study, space, context, evaluator, config, progress, clock.deadline("search"), on_trial=after_trial)
                    if new_net_trials(study) < config.trials:
                        phase.limited = f"{new_net_trials(study)} of {config.trials} trials finished"
            finally:
                progress.close()
        except KeyboardInterrupt:
            interrupted = True
            log.warning("interrupted by the user")
    close_run(study, rundir, config, outcome, Ending(dataset, train_device, clock), interrupted=interrupted)
    log.info("finished: %d trials, %d on the front", len(outcome.trials), len(outcome.front))
    write_report_safely(outcome)
    if interrupted:
        raise RunInterrupted(rundir)
    return outcome


def write_report_safely(outcome: RunOutcome) -> None:
    """Write report.html; the run's tables are already on disk, so a broken report only logs a warning."""
    try:
        from search.report import write_report

        outcome.summary += f"\nreport: {write_report(outcome.rundir.path)}"
    except Exception as error:  # noqa: BLE001  (any report bug must not cost the run its results)
        log.warning("report not written: %s: %s", type(error).__name__, error)


def default_proxy_resolution(dataset: str) -> int | None:
    """Digits are 8x8: ImageNet-style nets downsample 32x, so they are trained upsampled to 32."""
    return 32 if dataset == "digits" else None


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()
