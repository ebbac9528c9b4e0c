"""Warm start: the known nets that fit are queued as the first trials and replay their baseline results."""

from __future__ import annotations

import optuna

from search.run.config import RunConfig
from search.run.records import TrialRecord
from search.run.warm_start import (
    WARM_ATTR,
    baseline_result,
    enqueue_known_points,
    known_points_to_enqueue,
    warm_trial_numbers,
)
from search.spaces import OptunaSuggest, SpaceContext, load_space
from searchspace import zoo

CONTEXT = SpaceContext(in_channels=1, num_classes=10, resolution=32)


def _baseline(name: str, state: str, accuracy: float) -> TrialRecord:
    spec = zoo.get(name, resolution=CONTEXT.resolution, num_classes=CONTEXT.num_classes, in_channels=CONTEXT.in_channels)
    return TrialRecord(state=state, baseline=name, digest=spec.digest(), accuracy=accuracy, latency_ms=4.0, seconds=12.0)


def test_the_known_points_that_fit_become_the_first_trials_with_their_baseline_results() -> None:
    space = load_space("mobile")
    baselines = [
        _baseline("mnasnet0_5", "complete", 0.61),
        _baseline("mobilenet_v3_large", "infeasible", 0.7),  # over the budget: not a trial
        _baseline("resnet50", "complete", 0.8),  # fits, but is no point of the space
        _baseline("shufflenet_v2_x0_5", "complete", 0.55),
    ]
    points = known_points_to_enqueue(space, baselines)
    assert list(points) == ["mnasnet0_5", "shufflenet_v2_x0_5"]

    study = optuna.create_study(directions=["maximize", "minimize"])
    enqueue_known_points(study, points)
    for expected in (baselines[0], baselines[3]):
        trial = study.ask()  # optuna hands out the queued trials first, in order
        assert trial.user_attrs[WARM_ATTR] == expected.baseline
        net = space.sample(OptunaSuggest(trial), CONTEXT)
        assert net.digest() == expected.digest
        copy = baseline_result(trial, baselines, net.digest())
        assert copy is not None and copy.baseline is None  # a trial of the study, not a second baseline row
        assert (copy.accuracy, copy.latency_ms, copy.digest, copy.seconds) == (expected.accuracy, 4.0, expected.digest, 0.0)
        study.tell(trial, [copy.accuracy, copy.latency_ms])
    assert warm_trial_numbers(study) == {0, 1}
    fresh = study.ask()
    assert WARM_ATTR not in fresh.user_attrs
    assert baseline_result(fresh, baselines, space.sample(OptunaSuggest(fresh), CONTEXT).digest()) is None


def test_warm_start_is_on_by_default_and_has_an_off_switch() -> None:
    assert RunConfig(name="x").warm_start
    assert not RunConfig(name="x", warm_start=False).warm_start


def test_a_warm_start_member_of_the_front_is_named_as_the_known_net_it_is() -> None:
    from search.run.outputs import summarize

    spec = "net_i1_n10 | conv_s2_c16 | mbconv_c16 | head"
    fields = dict(state="complete", accuracy=0.95, latency_ms=7.0, params=1e6, macs=5e7, spec=spec, pareto=True)
    copied = TrialRecord.of({**fields, "number": 0, "warm_start": "mobilenet_v3_small"})
    found = TrialRecord.of({**fields, "number": 12, "accuracy": 0.96, "latency_ms": 9.0})
    lines = summarize([copied, found], [], RunConfig(name="default")).splitlines()
    assert "(= known net mobilenet_v3_small, started from)" in next(line for line in lines if line.startswith("  #0 "))
    assert "known net" not in next(line for line in lines if line.startswith("  #12 "))
