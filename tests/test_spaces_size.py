"""log10_size against an exhaustive walk of every way sampling can go, on spaces small enough to walk."""

from __future__ import annotations

import math

import pytest

from search.spaces import builtin_spaces
from tests.spaces_support import count_settings, space_from_yaml

SMALL_SPACES = {
    "two by three": """
        stages: [{stride: 2, depth: 1, block: mbconv, width: [16, 32], kernel: [3, 5, 7]}]
    """,
    "kind-specific keys": """
        stages: [{stride: 2, depth: 1, block: [conv, mbconv, basic], width: 8, expansion: [2, 4, 6], kernel: [3, 5], se: [false, true]}]
    """,
    "a stage left out": """
        stages:
          - {stride: 2, depth: [1, 2], block: conv, width: [8, 16]}
          - {stride: 1, depth: {low: 0, high: 2}, block: [conv, basic], width: [8, 16], kernel: [3, 5]}
    """,
    "squeeze-and-excitation styles": """
        stages: [{stride: 2, depth: 1, block: [basic, mbconv], width: 8, se: [false, true], se_style: [input, output], se_ratio: [0.25, 0.5]}]
    """,
    "uib variants": """
        stages:
          - {stride: 1, depth: 1, block: uib, width: 8, uib_variant: [ib, convnext, extradw, ffn], kernel: [3, 5], start_kernel: [3, 5]}
          - {stride: 2, depth: 1, block: [uib, shuffle], width: 8, uib_variant: [ib, extradw], kernel: [3, 5], start_kernel: [3, 5, 7]}
    """,
    "shared, asked only when used": """
        all_stages: {stride: 2, depth: 1, width: 64, block: [basic, bottleneck], group_width: [8, 16, 32]}
        stages: 3
        shared: [group_width]
    """,
    "shared block kind": """
        all_stages: {stride: 2, depth: [1, 2], width: 16, block: [conv, mbconv], expansion: [2, 4]}
        stages: 2
        shared: [block]
    """,
    "non-decreasing widths with a stage left out": """
        all_stages: {block: conv, width: {low: 8, high: 32, step: 8}}
        stages:
          - {stride: 2, depth: 1}
          - {stride: 1, depth: {low: 0, high: 1}}
          - {stride: 2, depth: 1, width: {low: 16, high: 40, step: 8}}
        constraints: {non_decreasing: [width]}
    """,
    "non-decreasing widths and depths, shared ratio": """
        all_stages: {stride: 2, block: bottleneck, depth: {low: 1, high: 3}, width: {low: 8, high: 24, step: 8}, bottleneck_ratio: [0.5, 1.0]}
        stages: 3
        shared: [bottleneck_ratio]
        constraints: {non_decreasing: [width, depth]}
    """,
    "stem, head, net and multipliers": """
        stem: {width: [16, 32], pool: [false, true]}
        stages: [{stride: 2, depth: 1, block: conv, width: 8}]
        head: {width: [0, 64, 128], activation: [relu, silu], dropout: [0.0, 0.2]}
        net: {drop_path_rate: [0.0, 0.1]}
        multipliers: {width: [0.5, 1.0], depth: [1.0, 2.0], resolution: [0.5, 1.0]}
    """,
    "regnet, SE always": """
        regnet: {depth: 9, w0: [16, 24, 32], wa: 20.0, wm: [2.0, 2.5], group_width: [8, 16], se: true, se_ratio: [0.25, 0.5]}
    """,
    "regnet": """
        regnet: {depth: [8, 10], w0: [16, 24], wa: [20.0, 30.0], wm: [2.0, 2.5], group_width: 8, se: [false, true], se_ratio: [0.25, 0.5]}
        multipliers: {resolution: [0.5, 1.0]}
    """,
}


@pytest.mark.parametrize("name", SMALL_SPACES)
def test_size_counts_every_way_sampling_can_go(name: str) -> None:
    space = space_from_yaml(SMALL_SPACES[name])
    assert 10 ** space.log10_size() == pytest.approx(count_settings(space))


def test_a_two_by_three_space_has_six_settings() -> None:
    assert space_from_yaml(SMALL_SPACES["two by three"]).log10_size() == pytest.approx(math.log10(6))


def test_real_knobs_count_as_a_hundred_values() -> None:
    discrete = space_from_yaml("stages: [{stride: 2, depth: 1, block: mbconv, width: [8, 16], expansion: [2, 4]}]")
    real = space_from_yaml("stages: [{stride: 2, depth: 1, block: mbconv, width: [8, 16], expansion: {low: 2.0, high: 4.0}}]")
    assert real.log10_size() - discrete.log10_size() == pytest.approx(2 - math.log10(2))


def test_builtin_sizes_are_large_and_ordered_by_freedom() -> None:
    sizes = {name: space.log10_size() for name, space in builtin_spaces().items()}
    # `xception` has four knobs around the zoo's three nets (10^2.8): a family with little to vary.
    assert all(size > 5 for name, size in sizes.items() if name != "xception") and sizes["xception"] > 2
    # every stage may use every kind; in `mobile` every block may; `union` holds mobile and twelve more
    assert sizes["unified"] == max(size for name, size in sizes.items() if name not in ("mobile", "union")) < sizes["mobile"]
    assert sizes["mobile"] <= sizes["union"]  # equal in floating point: mobile is 10^100 times the others
