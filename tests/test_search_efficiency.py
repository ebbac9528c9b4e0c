"""The search-efficiency benchmark's figures and the searchers it compares (issue 21)."""

from __future__ import annotations

import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna._hypervolume import compute_hypervolume

from benchmarks import search_efficiency
from benchmarks.search_stats import bootstrap_ci, summarize, trials_to_reach
from search.run.config import SEARCHERS, RunConfig
from search.run.searchers import DESCRIPTIONS, make_sampler


def test_trials_to_reach_is_the_first_trial_at_or_above_the_target() -> None:
    history = [0.1, 0.5, 0.5, 0.9]
    assert trials_to_reach(history, 0.5) == 2
    assert trials_to_reach(history, 0.9) == 4
    assert trials_to_reach(history, 0.95) == math.inf


def test_summary_by_hand() -> None:
    runs = [[0.2, 0.6, 0.8], [0.4, 0.4, 0.9], [0.3, 0.5, 0.5]]  # reach 0.6 at 2, 3 and never
    figures = summarize(runs, 0.6, checkpoints=(1, 3, 25))
    assert figures["hypervolume_share"].keys() == {"1", "3"}  # a checkpoint past the run is left out
    assert figures["hypervolume_share"]["1"]["mean"] == pytest.approx(0.3)
    low, high = figures["hypervolume_share"]["3"]["ci95"]
    assert 0.5 <= low <= (0.8 + 0.9 + 0.5) / 3 <= high <= 0.9  # a bootstrap mean lies within the data
    reach = figures["trials_to_reach"]
    assert reach["per_seed"] == [2, 3, None] and reach["median"] == 3 and reach["reached"] == "2/3"
    assert reach["ci95"][0] == 2 and reach["ci95"][1] is None  # resamples of the unreached seed never reach
    assert summarize(runs[1:], 0.6, (3,))["trials_to_reach"]["median"] is None  # the middle of (3, never) is never


def test_bootstrap_of_identical_values_is_a_point() -> None:
    assert bootstrap_ci([4.0] * 7, np.median) == (4.0, 4.0)


def test_smoke_run_on_a_small_generated_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "efficiency.json"
    monkeypatch.setattr(sys, "argv", ["search_efficiency", "--small", "--seeds", "2", "--trials", "20", "--output", str(output),
                                      "--searchers", "tpe", "tpe x4 workers", "evolution+warm"])
    search_efficiency.main()
    result = json.loads(output.read_text())
    assert result["table"]["nets"] == 512
    assert set(result["searchers"]) == {"random", "tpe", "tpe x4 workers", "evolution+warm"}
    assert result["warm_start"]["known_nets"]  # the family has members within the median latency
    for label, runs in result["histories"].items():
        assert len(runs) == 2 and all(len(h) == 20 for h in runs)
        assert all(0.0 <= a <= b + 1e-12 <= 1.0 + 2e-12 for h in runs for a, b in zip(h, h[1:])), label  # shares never fall
    random_runs = result["histories"]["random"]
    assert result["random_final_share"] == pytest.approx(np.mean([h[-1] for h in random_runs]))
    assert result["searchers"]["random"]["trials_to_reach"]["per_seed"] == [trials_to_reach(h, result["random_final_share"])
                                                                             if trials_to_reach(h, result["random_final_share"])
                                                                             != math.inf else None for h in random_runs]


def test_a_search_history_is_optunas_hypervolume_over_the_tables() -> None:
    from benchmarks.tabular_surrogate import surrogate_table
    from search.run.pareto import hypervolume_history

    table = surrogate_table(small=True)
    budget = float(np.median([r["latency_ms"] for r in table["nets"].values()]))
    setup = search_efficiency.Searcher("tpe", "tpe")
    points = search_efficiency.run_search(table, budget, setup, seed=1, trials=12, warm=[])
    history = hypervolume_history(points, (0.0, budget))
    seen = np.array([[-accuracy, latency] for accuracy, latency in filter(None, points)])
    assert history[-1] == pytest.approx(compute_hypervolume(seen, np.array([0.0, budget])))


def test_every_searcher_name_is_offered_and_checked() -> None:
    assert set(SEARCHERS) == set(DESCRIPTIONS)
    assert RunConfig(name="x").searcher in SEARCHERS
    with pytest.raises(ValueError, match="not known"):
        make_sampler("bayes", 0, 10)


@pytest.mark.parametrize("name", SEARCHERS)
def test_each_searcher_is_an_optuna_sampler_that_heeds_constraints(name: str) -> None:
    """A two-objective toy with a latency limit: the searcher runs through optuna and its front holds only feasible trials.

    Knob a in 0..7: accuracy a/7 and latency a, feasible while a <= 3.  Model-based
    searchers must also learn the limit: after the start-up, most proposals fit.
    """
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=make_sampler(name, 0, 14))  # 5 start-up trials: few GP fits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for _ in range(14):
            trial = study.ask()
            a = trial.suggest_categorical("a", list(range(8)))
            trial.set_constraint("latency", a - 3.0)
            study.tell(trial, [a / 7, float(a)])
    assert {t.params["a"] for t in study.best_trials} == {0, 1, 2, 3} & {t.params["a"] for t in study.trials}
    if name in ("tpe", "tpe-short", "gp"):
        late = [t.params["a"] <= 3 for t in study.trials[7:]]
        assert sum(late) > len(late) / 2
