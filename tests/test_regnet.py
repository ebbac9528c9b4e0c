"""RegNet's quantized linear generator agrees with torchvision's for any valid parameters."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torchvision.models.regnet import BlockParams, RegNet

from evaluators.cost import cost
from searchspace import SpecError
from searchspace.regnet import regnet_spec, regnet_stages

regnet_parameters = st.fixed_dictionaries({
    "depth": st.integers(1, 40),
    "w0": st.integers(1, 40).map(lambda n: 8 * n),
    "wa": st.floats(0.0, 200.0, allow_nan=False),
    "wm": st.floats(1.01, 3.5, allow_nan=False),
    "group_width": st.sampled_from([1, 2, 4, 8, 16, 24, 32, 48, 56, 64, 112, 232]),
    "bottleneck_ratio": st.sampled_from([0.25, 0.5, 1.0, 2.0, 4.0]),
})


def torchvision_params(p: dict) -> BlockParams:
    return BlockParams.from_init_params(
        depth=p["depth"], w_0=p["w0"], w_a=p["wa"], w_m=p["wm"], group_width=p["group_width"],
        bottleneck_multiplier=p["bottleneck_ratio"],
    )


@settings(max_examples=300, deadline=None)
@given(parameters=regnet_parameters)
def test_stage_widths_depths_and_groups_match_torchvision(parameters: dict) -> None:
    reference = torchvision_params(parameters)
    ours = regnet_stages(**parameters)
    assert [s.width for s in ours] == reference.widths
    assert [s.depth for s in ours] == reference.depths
    assert [s.group_width for s in ours] == reference.group_widths


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(parameters=regnet_parameters, se_ratio=st.sampled_from([None, 0.25]))
def test_built_regnet_matches_torchvision_params_and_macs(parameters: dict, se_ratio: float | None) -> None:
    # Keep nets small enough to build quickly; torchvision itself rejects group counts that do not divide.
    assume(parameters["depth"] <= 16 and parameters["w0"] <= 128 and parameters["wa"] <= 64)
    reference_params = BlockParams.from_init_params(
        depth=parameters["depth"], w_0=parameters["w0"], w_a=parameters["wa"], w_m=parameters["wm"],
        group_width=parameters["group_width"], bottleneck_multiplier=parameters["bottleneck_ratio"], se_ratio=se_ratio,
    )
    try:
        with torch.device("meta"):
            reference = RegNet(reference_params).eval()
    except (ValueError, RuntimeError):
        with pytest.raises(SpecError):
            regnet_spec(**parameters, se_ratio=se_ratio, resolution=64)
        return
    spec = regnet_spec(**parameters, se_ratio=se_ratio, resolution=64)
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        reference(torch.empty(1, 3, 64, 64, device="meta"))
    assert cost(spec).params == sum(p.numel() for p in reference.parameters())
    assert cost(spec).macs == counter.get_total_flops() // 2


@pytest.mark.parametrize(
    "bad",
    [dict(w0=12), dict(wa=-1.0), dict(wm=1.0), dict(depth=0), dict(group_width=0)],
)
def test_invalid_parameters_are_rejected(bad: dict) -> None:
    parameters = dict(depth=16, w0=48, wa=27.89, wm=2.09, group_width=8) | bad
    with pytest.raises(SpecError, match="not allowed"):
        regnet_stages(**parameters)
