"""Repairs that keep every knob setting a valid net: grouped bottlenecks, shuffle widths, rounding order."""

from __future__ import annotations

import itertools

from search.spaces import RandomSuggest, SpaceContext
from search.spaces.blocks import make_block, stage_width
from searchspace import BottleneckSpec
from searchspace.blocks.residual import grouped_bottleneck, nearest_multiple
from tests.spaces_support import space_from_yaml


def test_grouped_bottlenecks_always_divide_into_their_groups() -> None:
    for width, ratio, group_width in itertools.product(range(1, 260, 7), (0.25, 1 / 3, 0.5, 0.75, 1.0, 2.0), (1, 3, 8, 24, 64)):
        spec_ratio, groups = grouped_bottleneck(width, ratio, group_width)
        block = BottleneckSpec(out_channels=width, bottleneck_ratio=spec_ratio, groups=groups)
        mid, target = block.mid_channels(), max(1, round(width * ratio))
        effective = min(group_width, target)  # a group width above the 3x3's width shrinks to it
        assert mid % groups == 0 and mid // groups == effective
        assert abs(mid - target) <= effective / 2  # the nearest multiple of the group width


def test_a_bottleneck_that_needs_no_repair_keeps_its_ratio_exactly() -> None:
    assert grouped_bottleneck(440, 1.0, 8) == (1.0, 55)
    assert grouped_bottleneck(256, 0.25, None) == (0.25, 1)


def test_nearest_multiple_rounds_halves_up_and_keeps_one_unit() -> None:
    assert [nearest_multiple(v, 8) for v in (1, 4, 11, 12, 13)] == [8, 8, 8, 16, 16]


def test_shuffle_widths_are_made_even() -> None:
    assert [stage_width("shuffle", w) for w in (7, 8, 9)] == [8, 8, 10]
    assert stage_width("conv", 7) == 7
    assert make_block("shuffle", stage_width("shuffle", 15), {"kernel": 5}).out_channels == 16


def test_rounding_after_the_knobs_keeps_constrained_widths_in_order() -> None:
    # Odd widths, shuffle stages next to plain ones and width multipliers all round differently.
    space = space_from_yaml("""
        all_stages: {stride: 2, depth: 1, block: [conv, shuffle], width: {low: 9, high: 45, step: 3}}
        stages: 4
        multipliers: {width: [0.7, 1.0, 1.3]}
        constraints: {non_decreasing: [width]}
    """)
    for seed in range(200):
        net = space.sample(RandomSuggest(seed), SpaceContext(resolution=32))
        widths = [stage.block.out_channels for stage in net.stages]
        assert widths == sorted(widths)
        assert all(stage.block.out_channels % 2 == 0 for stage in net.stages if stage.block.kind == "shuffle")
