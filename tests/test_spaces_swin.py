"""A search space whose convolutional stages end in Swin stages: searchable, and exactly costed."""

from __future__ import annotations

from evaluators.cost import cost
from search.spaces import FixedSuggest, RandomSuggest, SpaceContext
from searchspace.blocks import SwinSpec
from tests.spaces_support import space_from_yaml
from tests.test_conformance import measured_cost

CONV_THEN_SWIN = """
stages:
  - {stride: 2, depth: {low: 1, high: 2}, block: [mbconv, fused], width: [8, 16], expansion: [2, 4]}
  - {stride: 2, depth: {low: 1, high: 3}, block: swin, width: [24, 32], heads: [2, 4], window: [3, 4], expansion: [2, 4]}
  - {stride: 1, depth: {low: 0, high: 2}, block: swin, width: [32, 48], heads: [3, 8], window: [2, 4]}
"""


def test_uniform_samples_cost_what_torch_measures() -> None:
    space = space_from_yaml(CONV_THEN_SWIN)
    for seed in range(3):
        spec = space.sample(RandomSuggest(seed), SpaceContext(num_classes=10, resolution=32))
        assert isinstance(spec.stages[-1].block, SwinSpec)
        params, macs, activations, output_shape, _ = measured_cost(spec)
        analytic = cost(spec)
        assert (analytic.params, analytic.macs, analytic.activations) == (params, macs, activations)
        assert tuple(output_shape) == (1, *analytic.output_shape)


def test_swin_keys_are_knobs_of_the_swin_stages_only() -> None:
    names = {knob.name for knob in space_from_yaml(CONV_THEN_SWIN).knobs()}
    assert {"stage1.heads", "stage1.window", "stage1.expansion", "stage2.heads", "stage2.window"} <= names
    assert "stage0.heads" not in names and "stage2.expansion" not in names


def test_heads_that_do_not_divide_the_width_are_repaired_to_a_common_divisor() -> None:
    space = space_from_yaml(CONV_THEN_SWIN)
    point = {"stage0.depth": 1, "stage0.block": "mbconv", "stage0.width": 8, "stage0.expansion": 2.0,
             "stage1.depth": 2, "stage1.width": 24, "stage1.heads": 4, "stage1.window": 4, "stage1.expansion": 2.0,
             "stage2.depth": 1, "stage2.width": 32, "stage2.heads": 3, "stage2.window": 2}
    swin = [stage.block for stage in space.sample(FixedSuggest(point), SpaceContext(resolution=32)).stages[1:]]
    assert [(block.out_channels, block.heads, block.window) for block in swin] == [(24, 4, 4), (32, 1, 2)]
