"""The AnyNetX A-E and RegNetX study spaces: they load by name, keep their constraints, and each refines the last."""

from __future__ import annotations

import numpy as np
import pytest

from search.explore.config import ExploreConfig
from search.explore.sampling import Sampler
from search.spaces import (
    FixedSuggest,
    RandomSuggest,
    SpaceContext,
    builtin_spaces,
    load_space,
)

SEQUENCE = ("anynetx_a", "anynetx_b", "anynetx_c", "anynetx_d", "anynetx_e")
CONTEXT = SpaceContext(num_classes=10, resolution=64)
STAGES = 4


def samples(name: str, count: int = 25):
    space = load_space(name)
    rng = np.random.default_rng(0)
    for _ in range(count):
        suggest = RandomSuggest(rng)
        yield space.sample(suggest, CONTEXT), suggest.params


def test_study_spaces_load_by_name_without_joining_the_builtins() -> None:
    for name in (*SEQUENCE, "regnetx"):
        assert load_space(name).name == name
        assert name not in builtin_spaces()
    assert set(load_space("regnetx").baselines) >= {"regnet_x_400mf", "regnet_x_800mf"}


@pytest.mark.parametrize("name", SEQUENCE)
def test_sampled_nets_keep_the_spaces_constraints(name: str) -> None:
    level = SEQUENCE.index(name)
    for net, knobs in samples(name):
        assert len(net.stages) == STAGES and all(s.block.kind == "bottleneck" for s in net.stages)
        widths = [s.block.out_channels for s in net.stages]
        depths = [s.repeats for s in net.stages]
        if level >= 1:  # B: one bottleneck ratio for every stage
            assert "stages.bottleneck_ratio" in knobs and not any(f"stage{i}.bottleneck_ratio" in knobs for i in range(STAGES))
        if level >= 2:  # C: one group width too
            assert "stages.group_width" in knobs and not any(f"stage{i}.group_width" in knobs for i in range(STAGES))
        if level >= 3:
            assert widths == sorted(widths)
        if level >= 4:
            assert depths == sorted(depths)


def _as_parent_point(knobs: dict, parent: str) -> dict:
    """A child's knob values written in the parent's knobs: a shared value becomes every stage's."""
    shared_in_parent = {"anynetx_a": (), "anynetx_b": ("bottleneck_ratio",)}.get(parent, ("bottleneck_ratio", "group_width"))
    point = {}
    for name, value in knobs.items():
        key = name.split(".", 1)[1]
        if name.startswith("stages.") and key not in shared_in_parent:
            point.update({f"stage{i}.{key}": value for i in range(STAGES)})
        else:
            point[name] = value
    return point


@pytest.mark.parametrize("parent,child", list(zip(SEQUENCE, SEQUENCE[1:])))
def test_each_refined_space_is_a_subset_of_the_previous(parent: str, child: str) -> None:
    parent_space = load_space(parent)
    for net, knobs in samples(child):
        replay = FixedSuggest(_as_parent_point(knobs, parent))
        assert parent_space.sample(replay, CONTEXT) == net
        assert not replay.unused()


def test_uniform_sampling_under_constraints_keeps_only_ordered_nets_and_counts_the_rest() -> None:
    config = ExploreConfig(name="x", spaces=("anynetx_e",), samples=3, macs=(None, 5e9), seed=1)
    draws, tally = Sampler(load_space("anynetx_e"), "anynetx_e", config, CONTEXT).draw(3)
    assert [d.index for d in draws] == [0, 1, 2] and tally.accepted == 3
    # Widths and depths both ordered: about 1 draw in (4!)^2 of the unconstrained space, minus ties.
    assert tally.rejected["constraints"] > 20 and tally.draws == 3 + sum(tally.rejected.values())
    for draw in draws:
        widths = [s.block.out_channels for s in draw.spec.stages]
        assert widths == sorted(widths) and draw.macs <= 5e9
    again, _ = Sampler(load_space("anynetx_e"), "anynetx_e", config, CONTEXT).draw(3)
    assert [d.spec for d in again] == [d.spec for d in draws]
