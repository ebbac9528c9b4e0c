"""Pieces of `search run` that stand alone: quantities, configuration, fronts, the evolution sampler."""

from __future__ import annotations

import random

import numpy as np
import optuna
import pytest
from optuna._hypervolume import compute_hypervolume

from search.errors import UserError
from search.quantities import parse_count, parse_duration_s, parse_latency_ms
from search.run.config import RunConfig
from search.run.evolution import RegularizedEvolutionSampler
from search.run.pareto import hypervolume, hypervolume_history, pareto_indices

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.mark.parametrize(("text", "ms"), [("50ms", 50.0), ("0.05s", 50.0), ("50", 50.0), (" 12.5 ms", 12.5), ("500us", 0.5), ("2S", 2000.0)])
def test_latency_budgets_in_every_documented_form(text: str, ms: float) -> None:
    assert parse_latency_ms(text) == pytest.approx(ms)


@pytest.mark.parametrize("text", ["", "fast", "50 fortnights", "-5ms", "0", "0ms", "nan", "1e400"])
def test_malformed_or_non_positive_budgets(text: str) -> None:
    with pytest.raises(UserError, match="--budget"):
        parse_latency_ms(text)


def test_counts_and_durations() -> None:
    assert parse_count("5M", "--max-params") == 5_000_000
    assert parse_count("1.2G", "--max-macs") == 1_200_000_000
    assert parse_count("250k", "--max-params") == 250_000
    assert parse_duration_s("10m") == 600.0 and parse_duration_s("90s") == 90.0 and parse_duration_s("1.5h") == 5400.0
    with pytest.raises(UserError, match="--time-limit '10M' is not understood"):
        parse_duration_s("10M")  # a count, not minutes


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(searcher="bayes"), "--searcher 'bayes' is not known"),
        (dict(trials=0), "--trials 0 is not allowed"),
        (dict(scheduler="asha"), "--scheduler asha needs --backend ray"),
        (dict(workers=4), "--workers, --ray-address and --gpus-per-trial need --backend ray"),
        (dict(backend="ray", scheduler="asha", proxy="synflow"), "needs --proxy training"),
    ],
)
def test_contradictory_settings_are_rejected(settings: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        RunConfig(name="x", **settings)


def test_resume_keeps_the_configuration_but_may_extend_it() -> None:
    stored = RunConfig(name="x", budget_ms=50.0, trials=10)
    assert stored.resumed_with({"trials": 20, "budget_ms": 50.0}).trials == 20
    with pytest.raises(UserError, match=r"--budget 20\.0 differs from the run being resumed \(50\.0\)"):
        stored.resumed_with({"budget_ms": 20.0})
    assert RunConfig.from_dict(stored.to_dict()) == stored


def test_pareto_front_matches_a_brute_force_definition() -> None:
    rng = random.Random(3)
    for _ in range(100):
        points = [(round(rng.random(), 2), round(rng.random() * 10, 1)) for _ in range(rng.randint(1, 25))]
        dominated = {
            i for i, (q, lat) in enumerate(points)
            if any(q2 >= q and l2 <= lat and (q2 > q or l2 < lat) for q2, l2 in points)
        }
        assert pareto_indices(points) == [i for i in range(len(points)) if i not in dominated]


def test_hypervolume_agrees_with_optuna() -> None:
    rng = random.Random(0)
    for _ in range(100):
        points = [(rng.random(), rng.random() * 100) for _ in range(rng.randint(1, 30))]
        expected = compute_hypervolume(np.array([[-q, lat] for q, lat in points]), np.array([0.0, 100.0]))
        assert hypervolume(points, (0.0, 100.0)) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    history = hypervolume_history([(0.5, 10.0), None, (0.9, 50.0)], (0.0, 100.0))
    assert history[0] == history[1] < history[2]


def _toy_objective(trial: optuna.Trial) -> tuple[float, float]:
    width = trial.suggest_int("width", 1, 64)
    depth = trial.suggest_categorical("depth", [1, 2, 3, 4])
    quality = np.log(width) + depth
    latency = width * depth
    trial.set_constraint("latency", latency / 100.0 - 1.0)
    return quality, latency


def test_evolution_sampler_children_inherit_all_but_mutated_knobs() -> None:
    sampler = RegularizedEvolutionSampler(population_size=8, tournament_size=3, extra_mutation_rate=0.0, seed=1)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    study.optimize(_toy_objective, n_trials=40)
    trials = study.trials
    for child in trials[8:]:
        differing = [
            parent for parent in trials[: child.number]
            if sum(parent.params[k] != child.params[k] for k in child.params) == 1
        ]
        assert differing, f"trial {child.number} is not a one-knob mutation of any earlier trial"


GAINS = np.random.RandomState(0).uniform(0.5, 1.5, size=12)
COSTS = np.random.RandomState(1).uniform(0.5, 1.5, size=12)


def _many_knobs(trial: optuna.Trial) -> tuple[float, float]:
    """Twelve knobs with separable gains and costs: good partial solutions are worth inheriting."""
    levels = np.array([trial.suggest_categorical(f"k{i}", [0, 1, 2, 3]) for i in range(12)])
    quality, latency = float(np.sqrt(levels) @ GAINS), float(levels @ COSTS)
    trial.set_constraint("latency", latency / 12.0 - 1.0)
    return quality, latency


def test_evolution_beats_random_where_inheritance_matters() -> None:
    def hv(sampler) -> float:
        study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
        study.optimize(_many_knobs, n_trials=150)
        points = [(t.values[0], t.values[1]) for t in study.trials if t.constraints["latency"] <= 0]
        return hypervolume(points, (0.0, 12.0))

    evolution = [hv(RegularizedEvolutionSampler(population_size=20, tournament_size=5, seed=s)) for s in range(4)]
    random_search = [hv(optuna.samplers.RandomSampler(seed=s)) for s in range(4)]
    assert np.mean(evolution) > np.mean(random_search)
