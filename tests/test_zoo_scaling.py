"""Width multipliers and compound scaling against the reference implementations' own scaling.

A zoo entry's ``width_mult`` must give torchvision's net for every multiplier
torchvision accepts, not only the published ones, so the multipliers are drawn
by hypothesis; EfficientNet's compound scaling must give the net torchvision
builds from the same width and depth coefficients.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from evaluators.cost import cost
from searchspace import zoo
from searchspace.scaling import compound
from tests.zoo_reference import (
    assert_outputs_equal_reference,
    meta_macs,
    reference_model,
)

# One entry per family with a width option; MnasNet's reference is torchvision's MNASNet(alpha=...).
WIDTH_SCALED = ("mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "mnasnet1_0")
PUBLISHED_MULTIPLIERS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)


def with_published_multipliers(test):
    """Run the published multipliers every time, besides the drawn ones."""
    for width_mult in PUBLISHED_MULTIPLIERS:
        test = example(width_mult=width_mult)(test)
    return test


@pytest.mark.parametrize("name", WIDTH_SCALED)
@settings(max_examples=10, deadline=None)
@with_published_multipliers
@given(width_mult=st.floats(0.1, 2.0))
def test_any_width_multiplier_gives_the_references_params_and_macs(name: str, width_mult: float) -> None:
    spec = zoo.get(name, width_mult=width_mult)
    reference = reference_model(zoo.info(name), width_mult=width_mult)
    assert cost(spec).params == sum(p.numel() for p in reference.parameters())
    assert cost(spec).macs == meta_macs(reference, spec.resolution)


# At 0.2 many widths round to the minimum of 8: blocks whose scaled input and output widths
# become equal gain a skip connection or (MnasNet's first separable conv) must not, and
# MobileNetV3's expansions may collapse to none.  1.3 rounds up.
@pytest.mark.parametrize("name", WIDTH_SCALED)
@pytest.mark.parametrize("width_mult", [0.2, 1.3])
def test_width_scaled_nets_compute_the_references_outputs(name: str, width_mult: float) -> None:
    assert_outputs_equal_reference(name, 64, width_mult=width_mult)


def torchvision_efficientnet(width_mult: float, depth_mult: float) -> torch.nn.Module:
    """torchvision's EfficientNet from B0's table at the given coefficients (its B1-B7 use the same path)."""
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf

    blocks, last_channel = _efficientnet_conf("efficientnet_b0", width_mult=width_mult, depth_mult=depth_mult)
    with torch.device("meta"):
        return EfficientNet(blocks, dropout=0.2, last_channel=last_channel).eval()


@pytest.mark.parametrize("phi", [0.5, 1, 2, 3])
def test_compound_scaling_of_b0_equals_torchvision_at_the_same_coefficients(phi: float) -> None:
    alpha, beta, gamma = 1.2, 1.1, 1.15
    spec = compound(zoo.get("efficientnet_b0"), phi, alpha=alpha, beta=beta, gamma=gamma, head_conv=4)
    reference = torchvision_efficientnet(width_mult=beta**phi, depth_mult=alpha**phi)
    assert spec.resolution == round(224 * gamma**phi)
    assert cost(spec).params == sum(p.numel() for p in reference.parameters())
    assert cost(spec).macs == meta_macs(reference, spec.resolution)
