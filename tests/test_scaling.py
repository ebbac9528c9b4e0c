"""Scaling rules on specs, checked against the arithmetic they claim and against torchvision."""

from __future__ import annotations

import math

import pytest

from evaluators.cost import cost
from searchspace import SpecError, decode, zoo
from searchspace.scaling import compound, scale_depth, scale_resolution, scale_width


def test_depth_scaling_ceils_block_stages_and_leaves_structure_alone() -> None:
    vgg = zoo.get("vgg11")
    deeper = scale_depth(vgg, 1.5)
    for before, after in zip(vgg.stages, deeper.stages):
        expected = math.ceil(before.repeats * 1.5) if before.block.kind == "conv" else before.repeats
        assert after.repeats == expected
    assert [s.block.kind for s in deeper.stages] == [s.block.kind for s in vgg.stages]


def test_width_scaling_rounds_every_width_to_the_divisor() -> None:
    spec = decode("net_r64 | conv_s2_c32 | mbconv_r2_s2_e6_c24 basic_c40 | head_c1280")
    half = scale_width(spec, 0.5)
    assert half.stem[0].block.out_channels == 16
    assert [s.block.out_channels for s in half.stages] == [16, 24]  # 12 rounds up to 16; 20 to 24
    assert half.head.conv_channels == 640
    assert half.stages[0].block.expand_ratio == 6.0  # ratios kept in the default mode
    assert scale_width(spec, 0.5, head_conv="keep").head.conv_channels == 1280
    assert scale_width(spec, 0.5, head_conv="at_least").head.conv_channels == 1280
    assert scale_width(spec, 0.5, head_conv=4).head.conv_channels == 4 * 24


def test_resolution_and_invalid_multipliers() -> None:
    spec = zoo.get("mobilenet_v2")
    assert scale_resolution(spec, 0.5).resolution == 112
    for function in (scale_width, scale_depth, scale_resolution):
        with pytest.raises(SpecError, match="multiplier = -1 is not allowed"):
            function(spec, -1)


@pytest.mark.parametrize("phi", [0.0, 1.0, 2.0])
def test_compound_scaling_grows_macs_about_twofold_per_step(phi: float) -> None:
    b0 = zoo.get("efficientnet_b0") if "efficientnet_b0" in zoo.names() else zoo.get("mobilenet_v2")
    scaled = compound(b0, phi, head_conv="scale")
    ratio = cost(scaled).macs / cost(b0).macs
    # alpha * beta**2 * gamma**2 = 1.92: each step roughly doubles the MACs (rounding aside).
    assert ratio == pytest.approx(1.92**phi, rel=0.35)
