"""The run's answer as a second optuna study, ``<study>.final``: the known nets and the delivered front.

optuna-dashboard shows a run's search study; this companion study shows what
the run concluded, on the same two objectives, so one Pareto plot holds the
delivered nets and the known nets they are compared with:

* each known net is a trial with the user attribute ``baseline=<zoo name>``;
* each front member is a trial with ``trial=<its number in the search study>``;
* values are the final figures (final-protocol accuracy, re-measured latency)
  where the run has them, else the proxy's accuracy (an accuracy either way,
  whatever ``--proxy-score`` the search maximised; a training-free proxy's
  score where nothing was trained), constraints are computed on those figures,
  and the other user attributes are the record's (:meth:`TrialRecord.user_attrs`).

Why a second study rather than baseline trials in the search study: there,
the samplers would learn from trials that have no knobs, ``--trials``, resume
and the front would all have to skip them, and finished trials are read-only,
so the figures a run learns at its end could not be added.  This study is
rewritten whole each time (after the known nets, at the end of the run); the
search never reads it.
"""

from __future__ import annotations

import warnings

import optuna
from optuna.trial import TrialState

from search.run.config import TRAINING_PROXY, RunConfig
from search.run.evaluate import CONSTRAINT_NAMES, constraint_values
from search.run.final_front import final_latency, reported_accuracy
from search.run.records import TrialRecord
from search.run.study import CONSTRAINTS_KEY

FINAL_SUFFIX = ".final"


def final_study_name(config: RunConfig) -> str:
    return config.optuna_study + FINAL_SUFFIX


def write_final_study(storage: optuna.storages.BaseStorage, config: RunConfig, front: list[TrialRecord],
                      baselines: list[TrialRecord]) -> None:
    """Replace ``<study>.final`` with ``baselines`` and ``front`` (either may be empty)."""
    name = final_study_name(config)
    try:
        optuna.delete_study(study_name=name, storage=storage)
    except KeyError:  # not written yet
        pass
    study = optuna.create_study(storage=storage, study_name=name, directions=["maximize", "minimize"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(["accuracy" if config.proxy == TRAINING_PROXY else config.objective_name, "latency_ms"])
    study.set_user_attr("constraint_names", list(CONSTRAINT_NAMES))
    study.set_user_attr("search_study", config.optuna_study)
    study.add_trials([_answer_trial(record, config) for record in [*baselines, *front]])


def _answer_trial(record: TrialRecord, config: RunConfig) -> optuna.trial.FrozenTrial:
    attributes = record.user_attrs()
    if record.baseline is None:
        attributes["trial"] = record.number
    latency, quality = final_latency(record), _answer_quality(record)
    if record.state not in ("complete", "infeasible") or latency is None:
        return optuna.trial.create_trial(state=TrialState.FAIL, user_attrs=attributes)
    # A known net over the budget that was not trained has no quality: the placeholder the search study uses too.
    values = [quality if quality is not None else 0.0, latency]
    constraints = constraint_values(record.but(latency_ms=latency), config)
    return optuna.trial.create_trial(values=values, user_attrs=attributes, system_attrs={CONSTRAINTS_KEY: constraints})


def _answer_quality(record: TrialRecord) -> float | None:
    """The accuracy the answer states, else a training-free score."""
    accuracy = reported_accuracy(record)
    return accuracy if accuracy is not None or record.score is None else float(record.score)
