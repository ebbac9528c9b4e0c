"""Warm-started evolution: the known points join the first population, random draws make up at least half of it."""

from __future__ import annotations

import optuna
import pytest

from search.run.evolution import RegularizedEvolutionSampler

optuna.logging.set_verbosity(optuna.logging.WARNING)
POPULATION = 8
KNOBS = 4


def objective(trial: optuna.Trial) -> tuple[float, float]:
    levels = [trial.suggest_categorical(f"k{i}", [0, 1, 2, 3]) for i in range(KNOBS)]
    return float(sum(levels)), float(sum(level * level for level in levels))


def study_after(known: int, draws: int) -> tuple[optuna.Study, RegularizedEvolutionSampler]:
    """``known`` enqueued points (optuna's ``enqueue_trial``, as a warm start does), then ``draws`` trials."""
    sampler = RegularizedEvolutionSampler(population_size=POPULATION, tournament_size=3, seed=0)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    for index in range(known):
        study.enqueue_trial({f"k{i}": (index + i) % 4 for i in range(KNOBS)})
    study.optimize(objective, n_trials=known + draws)
    return study, sampler


def make_up(study: optuna.Study, sampler: RegularizedEvolutionSampler) -> tuple[int, int]:
    """(known points, random draws) in the population the next tournament would draw from."""
    members = sampler.population(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)))
    known = sum("fixed_params" in t.system_attrs for t in members)
    return known, len(members) - known


@pytest.mark.parametrize(("known", "draws_needed", "population"), [
    (0, POPULATION, (0, POPULATION)),  # a cold start: the population is the first POPULATION random draws
    (2, POPULATION - 2, (2, POPULATION - 2)),  # a few known points: they and random draws fill one population
    (10, POPULATION // 2, (10, POPULATION // 2)),  # more known points than a population: half a population of draws too
])
def test_the_first_population_holds_every_known_point_and_random_draws(known, draws_needed, population) -> None:
    study, sampler = study_after(known, draws_needed - 1)
    assert make_up(study, sampler) == (0, 0)  # still filling the first population
    study.optimize(objective, n_trials=1)
    assert make_up(study, sampler) == population


def test_evolution_then_ages_the_known_points_out() -> None:
    study, sampler = study_after(10, POPULATION // 2 + 14)
    assert make_up(study, sampler) == (0, 10 + POPULATION // 2)
