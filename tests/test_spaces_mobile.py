"""The `mobile` space: every fast known net is an exact point; uniform samples are valid and costed exactly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.spaces import FixedSuggest, RandomSuggest, SpaceContext, load_space
from search.spaces.mobile_layout import ATTENTION_KIND, DOWNSAMPLING_KINDS
from search.spaces.mobile_points import NotAPoint, point_of
from search.spaces.mobile_space import KNOWN_NETS
from evaluators.cost import cost
from searchspace import build, decode, zoo
from tests.zoo_reference import meta_macs

SPACE = load_space("mobile")

# The nets issue 20 names: each must be a point (the space may hold more).
REQUIRED = {
    "mobilenet_v3_small", "mobilenet_v3_large", "mobilenetv4_conv_small", "mobilenetv4_conv_medium", "mnasnet1_0",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", "mobilenetv1_100", "regnet_x_400mf",
}
UNIFIED = set(load_space("unified").baselines)  # mobile holds the default space's known nets too


def test_the_space_lists_every_required_net_as_a_baseline() -> None:
    assert REQUIRED | UNIFIED <= set(SPACE.baselines) == set(KNOWN_NETS)


@pytest.mark.parametrize("zoo_name", KNOWN_NETS)
@pytest.mark.parametrize("context", [SpaceContext(), SpaceContext(in_channels=1, num_classes=10, resolution=160)])
def test_a_known_point_samples_the_zoo_net_itself(zoo_name: str, context: SpaceContext) -> None:
    replay = FixedSuggest(SPACE.known_point(zoo_name))
    net = SPACE.sample(replay, context)
    expected = zoo.get(zoo_name, resolution=context.resolution, num_classes=context.num_classes, in_channels=context.in_channels)
    assert net.digest() == expected.digest()
    assert replay.unused() == []


def test_a_net_the_layout_cannot_hold_is_refused_by_name() -> None:
    with pytest.raises(NotAPoint, match="gives the stem"):
        point_of(zoo.get("alexnet"))  # an 11x11 stride-4 stem conv
    with pytest.raises(NotAPoint, match="stage0 has 3 blocks of width 256"):
        point_of(zoo.get("resnet50"))
    with pytest.raises(NotAPoint, match="width None"):
        point_of(zoo.get("densenet121"))
    five_downsamplings = decode("net | conv_s2_c16 | mbconv_s2_c16 mbconv_s2_c24 mbconv_s2_c40 mbconv_s2_c80 mbconv_s2_c160 | head")
    with pytest.raises(NotAPoint, match="strides"):
        point_of(five_downsamplings)
    with pytest.raises(NotAPoint, match="stage6 has 14 blocks of width 176"):
        point_of(zoo.get("efficientnet_v2_m"))


class _Steered:
    """Random values, except the knobs named in ``prefer`` (by suffix), which take the given value when they can."""

    def __init__(self, seed: int, prefer: dict[str, Any]) -> None:
        self.inner, self.prefer, self.asked = RandomSuggest(seed), prefer, set()

    def _preferred(self, name: str, options: Sequence[Any]) -> Any:
        self.asked.add(name)
        for suffix, value in self.prefer.items():
            if name.endswith(suffix):
                wanted = options[-1] if value == "largest" else value
                if wanted in options:
                    return wanted
        return None

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        wanted = self._preferred(name, list(choices))
        return self.inner.categorical(name, choices) if wanted is None else wanted

    def integer(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        wanted = self._preferred(name, list(range(low, high + 1, step)))
        return self.inner.integer(name, low, high, step=step, log=log) if wanted is None else wanted


def test_every_listed_knob_is_asked_by_some_net() -> None:
    """Random draws rarely reach a 12th block's UIB knobs; steering every stage to its deepest reaches them all."""
    asked: set[str] = set()
    for kind in (*DOWNSAMPLING_KINDS, ATTENTION_KIND):
        for pool in (False, True):
            prefer = {".depth": "largest", ".repeat": False, ".kind": kind, "uib_variant": "extradw", ".se": True, "stem.pool": pool,
                      "head.width": 1280, "head.hidden": 1280}
            steered = _Steered(len(asked), prefer)
            SPACE.sample(steered, SpaceContext(resolution=32))
            asked |= steered.asked
    assert asked == {knob.name for knob in SPACE.knobs()}


def test_blocks_of_one_stage_mix_kinds() -> None:
    mixed = 0
    for seed in range(10):
        net = SPACE.sample(RandomSuggest(seed), SpaceContext(resolution=32))
        mixed += any(len({run.block.kind for run in net.stages[i:i + 2]}) > 1 for i in range(len(net.stages) - 1))
    assert mixed >= 5


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_uniform_samples_are_valid_and_their_costs_are_what_torch_counts(seed: int) -> None:
    net = SPACE.sample(RandomSuggest(seed), SpaceContext(num_classes=10, resolution=32))  # the spec validates its shapes
    with torch.device("meta"):
        model = build(net).eval()  # batch norm after a hidden layer cannot train on one pooled sample
    analytic = cost(net)
    assert analytic.params == sum(p.numel() for p in model.parameters())
    assert analytic.macs == meta_macs(model, net.resolution)
