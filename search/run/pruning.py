"""Multi-fidelity search in the optuna backend: ``--pruner asha|hyperband`` stops poor proxy trainings early.

Proxy epochs are the resource, as for Ray's ``--scheduler asha``: after each
epoch the candidate's score under ``--proxy-score`` is reported (``Trial.report(value,
step=epochs trained)``) and optuna's pruner (``SuccessiveHalvingPruner``,
i.e. asynchronous successive halving, or ``HyperbandPruner``) decides through
``Trial.should_prune`` whether the training goes on.  The first rung is after
:data:`FIRST_RUNG_EPOCHS` epoch and about one in :data:`REDUCTION_FACTOR`
trainings goes on to each next rung.

Why a second study, ``<study>.curves``: the run's study has two objectives
(quality up, latency down), and optuna 5 supports neither ``Trial.report`` nor
``Trial.should_prune`` there (both raise ``NotImplementedError``); its pruners
read ``study.direction``, which a multi-objective study refuses.  Writing the
learning curve into the search study's trials would also break its TPE
sampler: ``_get_pruned_trial_score`` reads ``study.direction`` for a pruned
trial that has intermediate values.  So each trained candidate gets a trial in
a single-objective (the proxy's score, maximize) study in the same storage, linked by
the user attribute ``trial`` (the search trial's number); the pruner's rung
records live there, so a resumed run's pruner remembers every earlier rung.

A pruned candidate's search trial is told ``TrialState.PRUNED`` (its record:
state ``pruned``, the accuracy and epochs at which it stopped, its latency and
cost).  How pruned trials still inform the samplers (optuna 5.0 source):

* TPE (``samplers/_tpe/sampler.py``) samples from COMPLETE and PRUNED trials;
  ``_split_trials`` fills the "good" group with complete trials first (by
  non-domination rank), then pruned ones ordered by their last step and its
  intermediate value (none here, so they tie after every complete trial): a
  pruned net joins the "bad" group, the density ``g(x)`` TPE steers away
  from, unless the run has fewer complete trials than the "good" group holds.
  Its constraints (all satisfied: only nets within the limits are trained)
  keep it out of the infeasible group.
* NSGA-II and this project's evolution use COMPLETE trials only: pruned nets
  neither become parents nor enter the population.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import optuna
from optuna.trial import TrialState

from search.run.config import RunConfig
from search.run.records import TrialRecord
from search.run.scores import proxy_quality

if TYPE_CHECKING:
    from evaluators.proxy import EpochRecord

log = logging.getLogger("search")

CURVES_SUFFIX = ".curves"
TRIAL_ATTR = "trial"  # the search trial a learning curve belongs to
# The same rungs as Ray's ASHAScheduler in search.run.ray_backend: judged after one epoch, half go on.
FIRST_RUNG_EPOCHS = 1
REDUCTION_FACTOR = 2


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    """The optuna pruner ``--pruner`` names, with proxy epochs as the resource (``epochs``: the full training)."""
    if name == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=FIRST_RUNG_EPOCHS, reduction_factor=REDUCTION_FACTOR)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=FIRST_RUNG_EPOCHS, max_resource=epochs,
                                              reduction_factor=REDUCTION_FACTOR)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"pruner {name!r} is not known (allowed: none, asha, hyperband)")


def curves_study_name(config: RunConfig) -> str:
    return config.optuna_study + CURVES_SUFFIX


@dataclass
class EpochWatch:
    """The ``on_epoch`` callback of one training: reports each epoch, answers whether to stop there."""

    study: optuna.Study
    number: int  # the search trial
    epochs: int
    score: str  # --proxy-score: what each epoch reports
    trial: optuna.Trial | None = field(default=None, init=False)  # asked at the first epoch: untrained nets leave none

    def __call__(self, epoch: EpochRecord) -> bool:
        value = proxy_quality(epoch.val_accuracy, epoch.val_loss, self.score)
        if value is None:
            return False
        if self.trial is None:
            self.trial = self.study.ask()
            self.trial.set_user_attr(TRIAL_ATTR, self.number)
        self.trial.report(value, epoch.epoch)
        # After the last epoch there is nothing left to save: the training completes.
        return epoch.epoch < self.epochs and self.trial.should_prune()

    def close(self, record: TrialRecord | None) -> None:
        """Tell the curve's trial how the training ended (None: it raised or was interrupted)."""
        if self.trial is None:
            return
        state = record.state if record is not None else None
        if state == "pruned":
            self.study.tell(self.trial, state=TrialState.PRUNED)
        elif state in ("complete", "infeasible") and record.objective is not None:
            self.study.tell(self.trial, record.objective)
        else:
            self.study.tell(self.trial, state=TrialState.FAIL)


class LearningCurves:
    """The run's ``<study>.curves`` study and its pruner (see the module's docstring)."""

    def __init__(self, storage: optuna.storages.BaseStorage, config: RunConfig) -> None:
        self.epochs, self.score, self.storage = config.proxy_epochs, config.proxy_score, storage
        self.study = optuna.create_study(
            storage=storage, study_name=curves_study_name(config), direction="maximize", load_if_exists=True,
            sampler=optuna.samplers.RandomSampler(seed=config.seed),  # the curves have no knobs to sample
            pruner=make_pruner(config.pruner, config.proxy_epochs))
        self._close_stranded()

    def follow(self, number: int, train: Callable[[EpochWatch], TrialRecord]) -> TrialRecord:
        """``train(watch)``'s record, its epochs reported to the pruner as search trial ``number``."""
        watch = EpochWatch(self.study, number, self.epochs, self.score)
        try:
            record = train(watch)
        except BaseException:
            watch.close(None)
            raise
        watch.close(record)
        return record

    def _close_stranded(self) -> None:
        """A curve a killed process left running ends failed: its search trial is evaluated again on resume."""
        for trial in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            self.storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)


def learning_curves(storage: optuna.storages.BaseStorage, config: RunConfig) -> LearningCurves | None:
    """The run's learning curves when ``--pruner`` asks for pruning, else None (every net trains in full)."""
    return None if config.pruner == "none" else LearningCurves(storage, config)
