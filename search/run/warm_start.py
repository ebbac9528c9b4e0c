"""Warm start: the known nets that fit the run are the study's first trials.

After the baseline phase, every evaluated known net that is a point of the
space and fits the run's limits (its record is ``complete``) is enqueued with
its knob values (``study.enqueue_trial``) and told at once with the baseline's
own result: each net is evaluated once, as a baseline, and a searcher that
mutates or recombines trials (NSGA-II, evolution, multivariate TPE) starts
from those nets instead of random draws.  Without a baseline phase
(``--no-baselines``: do not evaluate the known nets) there is no warm start.

Warm-start trials carry the user attribute ``warm_start`` (the zoo name) and
are not counted by ``--trials``, like the baselines they copy.
"""

from __future__ import annotations

import logging

import optuna

from search.run.records import TrialRecord

log = logging.getLogger("search")

WARM_ATTR = "warm_start"


def known_points_to_enqueue(space, baselines: list[TrialRecord]) -> dict[str, dict]:
    """Zoo name -> knob values: the evaluated known nets that fit and are points of the space."""
    names = [r.baseline for r in baselines if r.state == "complete" and r.baseline in space.baselines]
    return {name: space.known_point(name) for name in dict.fromkeys(names)}


def enqueue_known_points(study: optuna.Study, points: dict[str, dict]) -> None:
    for name, params in points.items():
        study.enqueue_trial(params, user_attrs={WARM_ATTR: name}, skip_if_exists=True)
    log.info("warm start: %d known net(s) queued as the first trials: %s", len(points), ", ".join(points) or "none")


def baseline_result(trial: optuna.Trial, baselines: list[TrialRecord], digest: str) -> TrialRecord | None:
    """The baseline record an enqueued warm-start trial reuses: same net, evaluated once."""
    name = trial.user_attrs.get(WARM_ATTR)
    for record in baselines:
        if name is not None and record.baseline == name and record.digest == digest:
            return record.but(baseline=None, number=None, pareto=False, remeasured_latency_ms=None, seconds=0.0,
                              warm_start=name)
    return None


def warm_trial_numbers(study: optuna.Study) -> set[int]:
    return {t.number for t in study.get_trials(deepcopy=False) if WARM_ATTR in t.user_attrs}
