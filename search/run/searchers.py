"""The searchers ``search run --searcher`` offers, as optuna samplers with the run's constraints."""

from __future__ import annotations

import warnings

import optuna

from search.run.evolution import RegularizedEvolutionSampler

DESCRIPTIONS = {
    "tpe": "multi-objective TPE (optuna), constraint-aware; the default",
    "nsga2": "NSGA-II (optuna): non-dominated sorting genetic algorithm with constrained domination",
    "random": "uniform random sampling; the baseline every searcher must beat",
    "evolution": "regularized (aging) evolution, Real et al. 2019, with constrained tournament selection",
}


def make_sampler(name: str, seed: int, trials: int) -> optuna.samplers.BaseSampler:
    """A sampler sized for a run of ``trials`` trials.

    Constraints reach every sampler through the trials themselves
    (``Trial.set_constraint``, optuna >= 5), so no sampler needs a callback.

    The random start-up phase (TPE) and population (NSGA-II, evolution) scale
    with the run: a 50-individual NSGA-II population would never leave its
    random first generation in a 40-trial run.
    """
    startup = max(5, min(20, trials // 4))
    if name == "tpe":
        with warnings.catch_warnings():
            # ``group`` is marked experimental; it is what makes multivariate TPE
            # work with define-by-run spaces whose knobs depend on the block kind.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, multivariate=True, group=True)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(8, min(50, trials // 5)))
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "evolution":
        population = max(8, min(50, trials // 4))
        return RegularizedEvolutionSampler(population_size=population, tournament_size=max(2, population // 4), seed=seed)
    raise ValueError(f"searcher {name!r} is not known (allowed: {', '.join(DESCRIPTIONS)})")
