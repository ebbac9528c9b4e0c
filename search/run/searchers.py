"""The searchers ``search run --searcher`` offers, as optuna samplers with the run's constraints.

Which is the default, and why, is measured by ``benchmarks/search_efficiency.py``
(README, Performance): hypervolume against trials over 20 seeds on two tabular spaces.
"""

from __future__ import annotations

import warnings

import optuna

from search.run.evolution import RegularizedEvolutionSampler

DESCRIPTIONS = {
    "tpe": "multi-objective TPE (optuna), constraint-aware, up to 20 random start-up trials",
    "tpe-short": "TPE as above with at most 10 random start-up trials: it starts modelling sooner; the default",
    # GPSampler models the knobs every trial has (optuna's intersection search space); the knobs that depend
    # on a block kind are drawn at random.  About 1 s per trial after 100 trials, on one core.
    "gp": "Gaussian-process Bayesian optimization (optuna's GPSampler), constraint-aware; slow per trial",
    "nsga2": "NSGA-II (optuna): non-dominated sorting genetic algorithm with constrained domination",
    "random": "uniform random sampling; the baseline every searcher must beat",
    "evolution": "regularized (aging) evolution, Real et al. 2019, with constrained tournament selection",
}


def startup_trials(name: str, trials: int) -> int:
    """Random trials before a model-based searcher models: a quarter of a short run, at most 20 (10 for tpe-short)."""
    return max(5, min(10 if name == "tpe-short" else 20, trials // 4))


def make_sampler(name: str, seed: int, trials: int, *, constant_liar: bool = True) -> optuna.samplers.BaseSampler:
    """A sampler sized for a run of ``trials`` trials.

    Constraints reach every sampler through the trials themselves
    (``Trial.set_constraint``, optuna >= 5), so no sampler needs a callback.

    The random start-up phase (TPE, GP) and population (NSGA-II, evolution)
    scale with the run: a 50-individual NSGA-II population would never leave
    its random first generation in a 40-trial run.  TPE's constant liar
    (optuna 5's default, kept explicit) counts running trials as bad results,
    so parallel Ray workers do not propose the same region; in-process runs
    have no other running trial, so it changes nothing there.  The benchmark
    turns it off to measure what it buys.
    """
    if name in ("tpe", "tpe-short"):
        with warnings.catch_warnings():
            # ``group`` is marked experimental; it is what makes multivariate TPE
            # work with define-by-run spaces whose knobs depend on the block kind.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials(name, trials), multivariate=True,
                                              group=True, constant_liar=constant_liar)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=startup_trials(name, trials),
                                         deterministic_objective=False, warn_independent_sampling=False)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(8, min(50, trials // 5)))
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "evolution":
        population = max(8, min(50, trials // 4))
        return RegularizedEvolutionSampler(population_size=population, tournament_size=max(2, population // 4), seed=seed)
    raise ValueError(f"searcher {name!r} is not known (allowed: {', '.join(DESCRIPTIONS)})")
