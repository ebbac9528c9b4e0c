"""The run's optuna study: opening it, recovering trials a dead process left, and telling it a record.

The study database alone holds a run's search: each trial's record is kept in
its user attributes (:mod:`search.run.records`: the whole record, and each
figure under its own name for optuna-dashboard), its constraints and objective
values where optuna's samplers read them.  Both backends tell the study through
:func:`tell_study`, so a run's study does not depend on where it was evaluated.

Constraints are stored as one list under the trial's ``constraints`` system
attribute, in :data:`CONSTRAINT_NAMES` order: the form optuna itself writes
for a sampler's ``constraints_func`` and reads back into ``trial.constraints``,
and the one form optuna-dashboard shows (optuna 5's ``Trial.set_constraint``
writes one ``constraints:<name>`` key per value, which the dashboard ignores).
The names are in the study's ``constraint_names`` user attribute.
"""

from __future__ import annotations

import hashlib
import logging
import math
import warnings

import optuna
from optuna.trial import TrialState

from search.errors import UserError, shown
from search.run.claim import mark_started
from search.run.config import RunConfig
from search.run.evaluate import CONSTRAINT_NAMES, constraint_values
from search.run.preflight import storage_errors, study_exists
from search.run.records import RECORD_ATTR, TrialRecord, annotate, annotations, study_records
from search.run.rundir import RunDir
from search.run.searchers import make_sampler

log = logging.getLogger("search")

CONSTRAINTS_KEY = "constraints"  # optuna's system attribute (optuna.study._constrained_optimization)
FINISHED = ("complete", "infeasible", "failed")
# Trials that count towards --trials (a pruned trial was evaluated, at a lower fidelity).
COUNTED = (*FINISHED, "pruned")


def open_study(rundir: RunDir, config: RunConfig, *, resumed: bool) -> tuple[optuna.Study, optuna.storages.BaseStorage]:
    with storage_errors(f"the run's study ({shown(rundir.storage_url(config))}) cannot be opened"):
        storage = optuna.storages.RDBStorage(rundir.storage_url(config))
        sampler = make_sampler(config.searcher, config.seed, config.trials)
        try:
            study = optuna.create_study(storage=storage, study_name=config.optuna_study, sampler=sampler,
                                        directions=["maximize", "minimize"], load_if_exists=resumed)
        except optuna.exceptions.DuplicatedStudyError:  # another process created it since the preflight check
            raise UserError(study_exists(config)) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([config.objective_name, "latency_ms"])
    study.set_user_attr("constraint_names", list(CONSTRAINT_NAMES))
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
            record = TrialRecord.of(trial.user_attrs.get(RECORD_ATTR, {}))
            record.update(state="interrupted", error="the process stopped during this trial")
            for key, value in record.user_attrs().items():
                storage.set_trial_user_attr(trial._trial_id, key, value)
            storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        if trial.params:
            study.enqueue_trial(trial.params, skip_if_exists=False)
            requeued += 1
        annotate(study, trial.number, requeued=True)
    if requeued:
        log.info("queued %d interrupted trial(s) again", requeued)
    return requeued


def counted_trials(study: optuna.Study) -> list[TrialRecord]:
    """Records of the trials that ended with a result (failures included), in trial order."""
    return [r for r in study_records(study, with_notes=False) if r.state in COUNTED]


def tell_study(study: optuna.Study, trial: optuna.Trial, record: TrialRecord, config: RunConfig) -> None:
    """Store ``record`` on its trial and close the trial with what the samplers compare."""
    for key, value in record.user_attrs().items():
        trial.set_user_attr(key, value)
    if record.state == "pruned":  # only nets within every limit are trained: its constraints say so to the samplers
        trial.storage.set_trial_system_attr(trial._trial_id, CONSTRAINTS_KEY, constraint_values(record, config))
        study.tell(trial, state=TrialState.PRUNED)
    elif record.state in ("complete", "infeasible"):
        trial.storage.set_trial_system_attr(trial._trial_id, CONSTRAINTS_KEY, constraint_values(record, config))
        # Infeasible nets are not trained: their quality is a placeholder the
        # samplers never compare with feasible values (constrained domination).
        quality = record.objective if record.state == "complete" else None
        latency = record.latency_ms or config.budget_ms or 0.0
        study.tell(trial, [_finite(quality if quality is not None else 0.0), _finite(latency)])
    else:
        study.tell(trial, state=TrialState.FAIL)


def _finite(value: float) -> float:
    return value if math.isfinite(value) else math.copysign(1e300, value)
