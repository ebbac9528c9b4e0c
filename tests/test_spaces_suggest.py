"""The define-by-run suggest implementations, with optuna's trial as the reference behaviour."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest

from search.errors import UserError
from search.spaces import (
    FixedSuggest,
    KnobValueError,
    OptunaSuggest,
    RandomSuggest,
    Suggest,
)


def test_every_implementation_satisfies_the_protocol() -> None:
    trial = optuna.create_study().ask()
    for suggest in (RandomSuggest(0), FixedSuggest({}), OptunaSuggest(trial)):
        assert isinstance(suggest, Suggest)


def test_random_values_lie_in_their_domains_and_cover_them() -> None:
    rng = np.random.default_rng(0)
    kernels, widths, logs, reals = set(), set(), [], []
    for _ in range(400):
        suggest = RandomSuggest(rng)
        kernels.add(suggest.categorical("kernel", [3, 5, 7]))
        widths.add(suggest.integer("width", 16, 64, step=16))
        logs.append(suggest.integer("depth", 1, 100, log=True))
        reals.append(suggest.real("wa", 8.0, 256.0, log=True))
    assert kernels == {3, 5, 7}
    assert widths == {16, 32, 48, 64}
    assert 1 <= min(logs) and max(logs) <= 100
    # Log-uniform: about as many values below the geometric middle (10) as above it.
    assert 0.35 < np.mean(np.array(logs) < 10) < 0.65
    assert 8.0 <= min(reals) and max(reals) <= 256.0
    assert 0.35 < np.mean(np.array(reals) < math.sqrt(8 * 256)) < 0.65


def test_random_suggest_is_reproducible_from_a_seed() -> None:
    first, second = RandomSuggest(5), RandomSuggest(5)
    draws = [(s.integer("a", 0, 1000), s.real("b", 0.0, 1.0), s.categorical("c", "xyz")) for s in (first, second)]
    assert draws[0] == draws[1]
    assert first.params == {"a": draws[0][0], "b": draws[0][1], "c": draws[0][2]}


def test_asking_a_name_again_gives_the_same_value_as_optuna_does() -> None:
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    for suggest in (RandomSuggest(1), OptunaSuggest(trial)):
        first = suggest.integer("depth", 1, 1000)
        assert all(suggest.integer("depth", 1, 1000) == first for _ in range(5))
        choice = suggest.categorical("block", ["conv", "mbconv", "fused"])
        assert suggest.categorical("block", ["conv", "mbconv", "fused"]) == choice


def test_optuna_suggest_records_the_trials_params() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    suggest = OptunaSuggest(trial)
    suggest.categorical("se", [False, True])
    suggest.integer("width", 8, 64, step=8)
    suggest.real("ratio", 0.1, 1.0, log=True)
    assert suggest.params == trial.params
    assert isinstance(trial.distributions["width"], optuna.distributions.IntDistribution)
    assert trial.distributions["width"].step == 8
    assert trial.distributions["ratio"].log


def test_optuna_suggest_refuses_choices_optuna_cannot_store() -> None:
    suggest = OptunaSuggest(optuna.create_study().ask())
    with pytest.raises(TypeError, match="optuna stores choices as JSON"):
        suggest.categorical("se", [None, ("mid", 8)])


def test_fixed_suggest_replays_values_and_reports_use() -> None:
    suggest = FixedSuggest({"kernel": 5, "width": 48, "wm": 2.5, "stale": 1})
    assert suggest.categorical("kernel", [3, 5, 7]) == 5
    assert suggest.integer("width", 16, 64, step=16) == 48
    assert suggest.real("wm", 1.5, 3.0) == 2.5
    assert suggest.used == ("kernel", "width", "wm")
    assert suggest.unused() == ["stale"]


def test_fixed_suggest_gives_the_domains_own_spelling() -> None:
    # optuna reports 6 for a choice listed as 6.0 when the trial came from JSON storage
    assert FixedSuggest({"expansion": 6}).categorical("expansion", [1.0, 6.0]) == 6.0
    assert isinstance(FixedSuggest({"depth": 3.0}).integer("depth", 1, 4), int)


@pytest.mark.parametrize(
    ("values", "ask", "message"),
    [
        ({}, lambda s: s.integer("stage2.depth", 1, 4), "no value for knob 'stage2.depth'"),
        ({"k": 4}, lambda s: s.categorical("k", [3, 5]), r"knob 'k': 4 is not allowed \(choices: 3, 5\)"),
        ({"se": 1}, lambda s: s.categorical("se", [False, True]), "knob 'se': 1 is not allowed"),
        ({"w": 20}, lambda s: s.integer("w", 16, 64, step=8), "in steps of 8 from 16"),
        ({"w": True}, lambda s: s.integer("w", 0, 4), "knob 'w': True is not allowed"),
        ({"wm": 3.5}, lambda s: s.real("wm", 1.5, 3.0), r"knob 'wm': 3.5 is not allowed \(a number from 1.5 to 3.0\)"),
    ],
)
def test_fixed_suggest_rejects_missing_and_out_of_domain_values(values, ask, message) -> None:
    with pytest.raises(KnobValueError, match=message) as caught:
        ask(FixedSuggest(values))
    assert isinstance(caught.value, UserError)


def test_malformed_domains_are_programming_errors() -> None:
    suggest = RandomSuggest(0)
    with pytest.raises(ValueError, match="low 5 is above high 3"):
        suggest.integer("x", 5, 3)
    with pytest.raises(ValueError, match="step 1"):
        suggest.integer("x", 1, 64, step=8, log=True)
    with pytest.raises(ValueError, match="positive low end"):
        suggest.real("x", 0.0, 1.0, log=True)
    with pytest.raises(ValueError, match="no choices"):
        suggest.categorical("x", [])
