"""Regularized ("aging") evolution as an optuna sampler, for constrained multi-objective search.

Real et al., "Regularized Evolution for Image Classifier Architecture Search"
(2019): keep the most recent ``population_size`` trials; to make a child, draw
``tournament_size`` of them at random, take the best as the parent, and mutate
it.  Old trials age out whatever their quality, which keeps the search from
over-exploiting early lucky evaluations.

Adapted here to several objectives and constraints: "best" in a tournament is
decided by constrained domination (feasible before infeasible; infeasible by
smaller violation; feasible by non-dominated rank, ties broken at random).
A mutation changes exactly one of the parent's knobs, chosen at random, plus
each other knob with a small probability; knobs the parent did not have (a
block kind switch opens new conditional knobs) are drawn at random.

Warm start (``study.enqueue_trial``, :mod:`search.run.warm_start`): the known
points are members of the first population, never all of it.  Evolution
starts once at least ``max(population_size - known, ceil(population_size / 2))``
of the sampler's own random draws have finished, and the population keeps
``max(population_size, known + that many)`` members: every known point plus
at least half a population of random draws.  A population of known points
alone would only ever mutate them, one knob at a time, and the search would
stay in their neighbourhood (with a few known points, as in a cold start, the
first population is simply ``population_size`` trials).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

# Where optuna keeps an enqueued trial's values (``Study.enqueue_trial``): such a trial is a known point, not a draw.
ENQUEUED_ATTR = "fixed_params"


class RegularizedEvolutionSampler(optuna.samplers.BaseSampler):
    def __init__(
        self,
        *,
        population_size: int = 20,
        tournament_size: int = 5,
        extra_mutation_rate: float = 0.05,
        seed: int | None = None,
    ) -> None:
        if tournament_size > population_size or tournament_size < 2:
            raise ValueError(f"tournament_size = {tournament_size} is not allowed: 2 <= tournament_size <= population_size")
        self._population_size = population_size
        self._tournament_size = tournament_size
        self._extra_mutation_rate = extra_mutation_rate
        self._rng = np.random.RandomState(seed)
        self._random = optuna.samplers.RandomSampler(seed=seed)
        self._plans: dict[int, tuple[dict[str, Any], dict[str, BaseDistribution], str]] = {}

    def reseed_rng(self) -> None:
        self._rng.seed()
        self._random.reseed_rng()

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return {}

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        population = self.population(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        if not population:
            return  # still filling the first population: random sampling
        picks = self._rng.choice(len(population), size=self._tournament_size, replace=False)
        parent = self._winner(study, [population[i] for i in picks])
        forced = str(self._rng.choice(sorted(parent.params)))
        self._plans[trial.number] = (parent.params, parent.distributions, forced)

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution) -> Any:
        plan = self._plans.get(trial.number)
        if plan is None:
            return self._random.sample_independent(study, trial, param_name, param_distribution)
        params, distributions, forced = plan
        inherited = param_name in params and distributions[param_name] == param_distribution
        if inherited and param_name != forced and self._rng.rand() >= self._extra_mutation_rate:
            return params[param_name]
        return self._mutate(study, trial, param_name, param_distribution, params.get(param_name) if inherited else None)

    def _mutate(self, study: Study, trial: FrozenTrial, name: str, distribution: BaseDistribution, current: Any) -> Any:
        # A mutation should change the value when the knob has more than one.
        for _ in range(10):
            value = self._random.sample_independent(study, trial, name, distribution)
            if value != current:
                return value
        return value

    def population(self, finished: Sequence[FrozenTrial]) -> list[FrozenTrial]:
        """The members tournaments draw from (``finished``: the complete trials, in order), or [] while the
        first population is still being filled with random draws (see the module's docstring)."""
        finished = [t for t in finished if t.params]
        known = sum(1 for t in finished if ENQUEUED_ATTR in t.system_attrs)
        draws = max(self._population_size - known, math.ceil(self._population_size / 2))
        if len(finished) - known < draws:
            return []
        return finished[-max(self._population_size, known + draws):]

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        self._plans.pop(trial.number, None)

    # ---- tournament -------------------------------------------------------------------

    @staticmethod
    def _violation(trial: FrozenTrial) -> float:
        """Total constraint violation, from the values the objective set with ``Trial.set_constraint``."""
        return float(sum(max(0.0, c) for c in trial.constraints.values()))

    def _winner(self, study: Study, contestants: list[FrozenTrial]) -> FrozenTrial:
        feasible = [t for t in contestants if self._violation(t) <= 0]
        if not feasible:
            return min(contestants, key=self._violation)
        signs = np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in study.directions])
        losses = np.array([np.asarray(t.values) * signs for t in feasible])
        front = [i for i in range(len(feasible)) if not any(_dominates(losses[j], losses[i]) for j in range(len(feasible)))]
        return feasible[int(self._rng.choice(front))]


def _dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a <= b) and np.any(a < b))
