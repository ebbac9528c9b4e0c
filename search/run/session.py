"""One search run, whichever backend evaluates it: prepare -> evaluate -> tell -> finalize.

:class:`SearchSession` owns everything a run knows: the study, the candidate
evaluator and its latency predictor, the nets already evaluated, the phase
clock, the tables and the progress bar.  A backend only decides *where* an
evaluation runs: the in-process optuna backend (:mod:`search.run.loop`) asks
the session to evaluate each net here; the Ray backend
(:mod:`search.run.ray_backend`) asks it to decide what it can in the driver
(reuse, cheap rejections with the predictor) and evaluates the rest on
workers.  Both tell the session every result, so both refit the predictor,
rewrite the tables after each trial, stop cleanly on Ctrl-C or SIGTERM, and
end the same way (:mod:`search.run.closing`).
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import optuna

from search.run.baselines import evaluate_baselines
from search.run.closing import Ending, close_run
from search.run.config import RunConfig
from search.run.evaluate import CandidateEvaluator
from search.run.final_study import write_final_study
from search.run.inputs import Prepared
from search.run.latency_model import PredictorRefresher
from search.run.outputs import finalize
from search.run.phases import PhaseClock, threads_of_run
from search.run.progress import ActivityLog, SearchProgress
from search.run.pruning import learning_curves
from search.run.records import TrialRecord
from search.run.rundir import RunDir, environment
from search.run.stops import RunInterrupted
from search.run.study import COUNTED, counted_trials, open_study, recover_interrupted, tell_study
from search.run.warm_start import baseline_result, enqueue_known_points, known_points_to_enqueue, warm_trial_numbers
from searchspace import NetSpec, encode

log = logging.getLogger("search")


@dataclass
class RunOutcome:
    rundir: RunDir
    config: RunConfig
    trials: list[TrialRecord] = field(default_factory=list)
    baselines: list[TrialRecord] = field(default_factory=list)
    front: list[TrialRecord] = field(default_factory=list)
    summary: str = ""
    clock: PhaseClock | None = None


class Backend(Protocol):
    """Where a session's evaluations run."""

    def describe(self, config: RunConfig) -> str:
        """What the log's first line says about this backend."""

    def search(self, session: SearchSession) -> None:
        """Evaluate nets until the session has enough new ones or the search phase's time is up."""


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


def failed_record(stage: str, error: Exception, spec: NetSpec | None = None) -> TrialRecord:
    """A trial whose ``stage`` raised: the traceback goes to search.log, the reason to the trial."""
    log.warning("%s", stage, exc_info=error)
    reason = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
    return TrialRecord(state="failed", error=f"{stage}: {reason[:300]}", spec=None if spec is None else encode(spec))


class SearchSession:
    """A run's search, driven by a backend: see the module's docstring."""

    def __init__(self, rundir: RunDir, config: RunConfig, prepared: Prepared, *, resumed: bool, quiet: bool,
                 verbose: bool = False) -> None:
        self.rundir, self.config, self.prepared, self.resumed, self.quiet = rundir, config, prepared, resumed, quiet
        self.verbose = verbose  # one line per finished trial even on a terminal
        self.clock = PhaseClock(config.time_limit_s, final_on=bool(config.final_seeds), allowance_s=config.known_nets_time_s,
                                own_threads=threads_of_run(config))
        self.outcome = RunOutcome(rundir, config, clock=self.clock)
        self.evaluator = CandidateEvaluator(config, prepared.dataset, prepared.train_device)
        self.predictor = PredictorRefresher(self.evaluator, config, rundir)
        self.known: dict[str, TrialRecord] = {}  # digest -> the record of the trial that evaluated it
        self.warm_baselines: list[TrialRecord] = []  # the baselines warm-start trials reuse
        self.progress: SearchProgress | None = None
        self.curves = None  # the learning curves --pruner judges (search.run.pruning), opened with the study

    # ---- the four steps ---------------------------------------------------------------

    def prepare(self, backend: Backend) -> None:
        """Run folder, log, study (interrupted trials queued again), predictor, the nets already evaluated."""
        from search.spaces import SpaceContext

        config, dataset = self.config, self.prepared.dataset
        self.rundir.write_config(config, environment(config), space=self.prepared.space_record)
        setup_logging(self.rundir)
        log.info("%s %s %s: space %s, searcher %s, dataset %s", "resumed" if self.resumed else "new",
                 backend.describe(config), self.rundir.path, self.prepared.space.name, config.searcher, dataset.describe())
        self.study, self.storage = open_study(self.rundir, config, resumed=self.resumed)
        recover_interrupted(self.study, self.storage)
        self.curves = learning_curves(self.storage, config)
        self.predictor.refresh()
        self.context = SpaceContext(in_channels=dataset.in_channels, num_classes=dataset.num_classes,
                                    resolution=config.resolution)
        for record in counted_trials(self.study):
            self._remember(record)

    def evaluate(self, trial: optuna.Trial) -> TrialRecord:
        """The trial's record, evaluated in this process; whatever goes wrong is the trial's failure, not the run's."""
        spec, record = self.propose(trial, screen=False)
        if record is not None:
            return record
        if self.progress is not None:
            self.progress.activity(f"trial {trial.number}: {encode(spec)}", line=False)
        try:
            if self.curves is None:
                return self.evaluator.evaluate(spec)
            return self.curves.follow(trial.number, lambda watch: self.evaluator.evaluate(spec, on_epoch=watch))
        except Exception as error:  # noqa: BLE001  (left RUNNING, the trial would be stranded and the run lost)
            return failed_record("evaluation failed", error, spec)

    def propose(self, trial: optuna.Trial, *, screen: bool) -> tuple[NetSpec | None, TrialRecord | None]:
        """The trial's net, and its record when no evaluation is needed: the space failed to produce a net, the
        net was evaluated before (its result is reused), or, with ``screen``, the cheap checks reject it."""
        from search.spaces import OptunaSuggest

        try:
            spec = self.prepared.space.sample(OptunaSuggest(trial), self.context)
        except Exception as error:  # noqa: BLE001  (a space that produced an invalid net)
            return None, failed_record("sampling failed", error)
        warm = baseline_result(trial, self.warm_baselines, spec.digest())
        if warm is not None:
            return spec, warm
        earlier = self.known.get(spec.digest())
        if earlier is not None:
            return spec, earlier.reused_by()
        if not screen:
            return spec, None
        try:
            return spec, self.evaluator.screen(spec)
        except Exception as error:  # noqa: BLE001
            return spec, failed_record("evaluation failed", error, spec)

    def tell(self, trial: optuna.Trial, record: TrialRecord) -> None:
        """Record a trial's result: the study, the progress bar, the log, the tables, and a refit when due."""
        tell_study(self.study, trial, record, self.config)
        if record.state in COUNTED and record.duplicate_of is None:
            self._remember(record.but(number=trial.number))
        log.info("trial %d %s %s", trial.number, record.state, record.spec or record.error or "")
        finalize(self.study, self.rundir, self.config, self.outcome)
        if record.state in COUNTED and self.progress is not None:
            self.progress.note(record, advance=record.duplicate_of is None, number=trial.number, front=len(self.outcome.front))
        self.predictor.after_trial()  # the backend's measurements are in the latency cache: refit on them

    def finalize(self, *, interrupted: bool) -> RunOutcome:
        """Re-measure, final protocol, tables, report; raise :class:`RunInterrupted` after writing all of it."""
        close_run(self.study, self.rundir, self.config, self.outcome,
                  Ending(self.prepared.dataset, self.prepared.train_device, self.clock), interrupted=interrupted)
        write_final_study(self.storage, self.config, self.outcome.front, self.outcome.baselines)
        log.info("finished: %d trials, %d on the front", len(self.outcome.trials), len(self.outcome.front))
        write_report_safely(self.outcome)
        if interrupted:
            raise RunInterrupted(self.rundir)
        return self.outcome

    # ---- the run as a whole ---------------------------------------------------------------

    def run(self, backend: Backend) -> RunOutcome:
        """Prepare, evaluate the known nets, let ``backend`` search, finalize; Ctrl-C or SIGTERM stop cleanly."""
        self.prepare(backend)
        interrupted = False
        with self._shown_progress():
            with sigterm_as_interrupt():
                try:
                    if self.config.baselines:  # here, before any trial trains: their latencies are not disturbed
                        self.outcome.baselines = evaluate_baselines(self.prepared.space, self.evaluator, self.rundir, self.clock)
                        write_final_study(self.storage, self.config, [], self.outcome.baselines)
                        self.predictor.refresh()  # the baselines' measurements may complete the first fit
                        if self.config.warm_start:
                            self.warm_baselines = self.outcome.baselines  # also for queued copies a resumed run finds
                            if not self.study.get_trials(deepcopy=False):
                                self.warm_start()
                    self._search(backend)
                except KeyboardInterrupt:
                    interrupted = True
                    log.warning("interrupted by the user")
            return self.finalize(interrupted=interrupted)

    @contextlib.contextmanager
    def _shown_progress(self) -> Iterator[None]:
        """The progress view for the whole run: told each phase by the clock, each known net by the log."""
        limited = bool(self.config.time_limit_s)  # as PhaseClock.deadline reads it
        self.progress = SearchProgress(None, self.config.objective_name, quiet=self.quiet, lines=True if self.verbose else None,
                                       time_left=lambda phase: self.clock.remaining(phase) if limited else None)
        self.clock.on_phase = self._phase_started
        handler = ActivityLog(self.progress)
        log.addHandler(handler)
        try:
            yield
        finally:
            log.removeHandler(handler)
            self.clock.on_phase = None
            self.progress.close()

    def _phase_started(self, name: str | None) -> None:
        if name is None:
            self.progress.phase_ended()
            return
        searching = name == "search"
        done = min(self.new_nets(), self.config.trials) if searching else 0
        self.progress.phase(name, total=self.config.trials if searching else None, done=done)

    def warm_start(self) -> None:
        """The known nets that fit, as the first trials, told with their baseline results (search.run.warm_start)."""
        points = known_points_to_enqueue(self.prepared.space, self.outcome.baselines)
        enqueue_known_points(self.study, points)
        for _ in points:
            trial = self.study.ask()
            self.tell(trial, self.evaluate(trial))

    def new_nets(self) -> int:
        """Finished trials that evaluated a net of their own: what --trials counts (a reused duplicate, a warm-start
        copy of a baseline, does not)."""
        warm = warm_trial_numbers(self.study)
        return sum(1 for r in counted_trials(self.study) if r.duplicate_of is None and r.number not in warm)

    def _search(self, backend: Backend) -> None:
        config = self.config
        with self.clock.phase("search") as phase:
            backend.search(self)
            if self.new_nets() < config.trials:
                phase.limited = f"{self.new_nets()} of {config.trials} trials finished"

    def _remember(self, record: TrialRecord) -> None:
        # A pruned net is known too: proposed again, it keeps its result instead of training again.
        if record.digest and record.state in ("complete", "infeasible", "pruned") and record.duplicate_of is None:
            self.known[record.digest] = record


def write_report_safely(outcome: RunOutcome) -> None:
    """Write report.html; the run's tables are already on disk, so a broken report only logs a warning."""
    try:
        from search.report import write_report

        outcome.summary += f"\nreport: {write_report(outcome.rundir.path)}"
    except Exception as error:  # noqa: BLE001  (any report bug must not cost the run its results)
        log.warning("report not written: %s: %s", type(error).__name__, error)
