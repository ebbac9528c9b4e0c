"""Issue 20: the default space of `search run` holds every zoo net that fits its 50 ms budget on the test CPU.

Two committed measurements say which nets fit: the example run's
``baselines.json`` (a baseline is ``complete`` when it fit the budget,
``infeasible`` when it did not: the rule warm start uses) and the passes of
``benchmarks/zoo_fit.py`` in ``results/benchmarks/zoo_fit*.json`` (a net
fitting or borderline there, on that pass's VM or scaled to the fastest VM
seen, must be a point).  A new example run or a rerun of the benchmark updates
the requirement.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.zoo_fit import fitting_nets, passes
from evaluators.cost import cost
from search.run.config import RunConfig
from search.run.records import TrialRecord
from search.run.rundir import RunDir
from search.spaces import RandomSuggest, SpaceContext, load_space
from searchspace import build
from tests.spaces_support import check_exact_point, exact_point_resolution
from tests.zoo_reference import meta_macs

EXAMPLE = Path(__file__).parents[1] / "results" / "examples" / "digits-50ms"
ZOO_FIT = Path(__file__).parents[1] / "results" / "benchmarks" / "zoo_fit.json"  # the pass over every zoo net
ZOO_FIT_PASSES = passes()
SPACE = load_space(RunConfig(name="default").space)
# The default job's deployment resolution, and the 32 px its proxy trains at, with the digits' one channel and ten classes.
CONTEXTS = [SpaceContext(in_channels=1, num_classes=10, resolution=224), SpaceContext(in_channels=1, num_classes=10, resolution=32)]


def _baselines() -> list[TrialRecord]:
    stored = json.loads((EXAMPLE / "baselines.json").read_text(encoding="utf-8"))
    return [TrialRecord.of(fields) for fields in stored.values()]


def _zoo_fit(path: Path = ZOO_FIT) -> list[str]:
    stored = json.loads(path.read_text(encoding="utf-8"))
    return [entry["name"] for entry in stored["nets"] if entry.get("must_be_in_space")]


FITTING = sorted(fitting_nets())


def test_the_benchmark_timed_the_nets_outside_the_example_runs_families_at_the_same_budget() -> None:
    stored = json.loads(ZOO_FIT.read_text(encoding="utf-8"))
    assert stored["budget_ms"] == RunDir.at(str(EXAMPLE)).read_config().budget_ms and stored["resolution"] == 224
    assert {"lenet5", "shufflenet_v1_g3_x1_0", "vit_tiny_patch16_224"} <= set(_zoo_fit())  # the smallest nets of the added parts


def test_the_quiet_passes_judge_nets_as_the_fastest_vm_would_run_them() -> None:
    """ResNet-50 timed in the same pass ties each pass to the example run's VM: scaled, it reads the example's time."""
    example_ms = next(record.latency_ms for record in _baselines() if record.baseline == "resnet50")
    scaled = [json.loads(path.read_text(encoding="utf-8")) for path in ZOO_FIT_PASSES if path != ZOO_FIT]
    assert scaled, "at least one pass timed ResNet-50 beside the contenders"
    for stored in scaled:
        reference = next(entry for entry in stored["nets"] if entry["name"] == "resnet50")
        assert reference["median_ms_on_fastest"] == pytest.approx(example_ms, abs=0.01)
        judged = [entry for entry in stored["nets"] if "verdict_on_fastest" in entry]
        assert all(entry["must_be_in_space"] == (entry["verdict"] != "over" or entry["verdict_on_fastest"] != "over")
                   for entry in judged)


def test_the_fitting_nets_are_the_measured_ones_within_the_example_runs_budget() -> None:
    budget = RunDir.at(str(EXAMPLE)).read_config().budget_ms
    fitting = [record for record in _baselines() if record.state == "complete"]
    assert fitting, "the example run lists known nets that fit"
    assert all(record.latency_source == "measured" and record.latency_ms <= budget for record in fitting)


@pytest.mark.parametrize("context", CONTEXTS, ids=lambda context: f"{context.resolution}px")
@pytest.mark.parametrize("name", FITTING)
def test_every_fitting_known_net_is_an_exact_point(name: str, context: SpaceContext) -> None:
    assert name in SPACE.baselines
    check_exact_point(SPACE, name, replace(context, resolution=exact_point_resolution(name, context.resolution)))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_uniform_samples_are_valid_and_their_costs_are_what_torch_counts(seed: int) -> None:
    net = SPACE.sample(RandomSuggest(seed), CONTEXTS[1])  # the spec validates its shapes
    with torch.device("meta"):
        model = build(net).eval()
    analytic = cost(net)
    assert analytic.params == sum(p.numel() for p in model.parameters())
    assert analytic.macs == meta_macs(model, net.resolution, net.in_channels)


def test_the_fitting_nets_are_the_example_runs_and_every_passs_judged_ones() -> None:
    """One list serves this test and benchmarks/known_nets_learn.py: the two sources, nothing else."""
    fitting = {record.baseline for record in _baselines() if record.state == "complete"}.union(*map(_zoo_fit, ZOO_FIT_PASSES))
    assert set(FITTING) == fitting and len(FITTING) == len(fitting_nets())
    assert {"resnetv2_50", "gcresnet50t", "convnext_tiny", "swin_t", "xception41"} <= fitting  # the quiet passes' additions
