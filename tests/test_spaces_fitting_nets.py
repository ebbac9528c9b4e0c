"""Issue 20: the default space of `search run` holds every known net that fit the budget in the committed default run.

The list of nets is read from the example run's ``baselines.json`` (a baseline
is ``complete`` when it fit the budget, ``infeasible`` when it did not: the
rule warm start uses), so a new example run updates the requirement.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluators.cost import cost
from search.run.config import RunConfig
from search.run.records import TrialRecord
from search.run.rundir import RunDir
from search.spaces import FixedSuggest, RandomSuggest, SpaceContext, load_space
from searchspace import build, zoo
from tests.zoo_reference import meta_macs

EXAMPLE = Path(__file__).parents[1] / "results" / "examples" / "digits-50ms"
SPACE = load_space(RunConfig(name="default").space)
# The default job's deployment resolution, and the 32 px its proxy trains at, with the digits' one channel and ten classes.
CONTEXTS = [SpaceContext(in_channels=1, num_classes=10, resolution=224), SpaceContext(in_channels=1, num_classes=10, resolution=32)]


def _baselines() -> list[TrialRecord]:
    stored = json.loads((EXAMPLE / "baselines.json").read_text(encoding="utf-8"))
    return [TrialRecord.of(fields) for fields in stored.values()]


FITTING = sorted({record.baseline for record in _baselines() if record.state == "complete"})


def test_the_fitting_nets_are_the_measured_ones_within_the_example_runs_budget() -> None:
    budget = RunDir.at(str(EXAMPLE)).read_config().budget_ms
    fitting = [record for record in _baselines() if record.state == "complete"]
    assert fitting, "the example run lists known nets that fit"
    assert all(record.latency_source == "measured" and record.latency_ms <= budget for record in fitting)


@pytest.mark.parametrize("context", CONTEXTS, ids=lambda context: f"{context.resolution}px")
@pytest.mark.parametrize("name", FITTING)
def test_every_fitting_known_net_is_an_exact_point(name: str, context: SpaceContext) -> None:
    assert name in SPACE.baselines
    replay = FixedSuggest(SPACE.known_point(name))
    net = SPACE.sample(replay, context)
    expected = zoo.get(name, resolution=context.resolution, num_classes=context.num_classes, in_channels=context.in_channels)
    assert net.digest() == expected.digest()
    assert replay.unused() == []


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_uniform_samples_are_valid_and_their_costs_are_what_torch_counts(seed: int) -> None:
    net = SPACE.sample(RandomSuggest(seed), CONTEXTS[1])  # the spec validates its shapes
    with torch.device("meta"):
        model = build(net).eval()
    analytic = cost(net)
    assert analytic.params == sum(p.numel() for p in model.parameters())
    assert analytic.macs == meta_macs(model, net.resolution, net.in_channels)
