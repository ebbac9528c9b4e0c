"""Every registered block kind, on hypothesis-generated specs, against the built model.

The analytic cost must equal what PyTorch itself says about the built module:
``sum(p.numel())`` for parameters, ``torch.utils.flop_counter.FlopCounterMode``
for MACs, forward hooks for activations and feature-map shapes.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from evaluators.cost import cost
from searchspace import NetSpec, SpecError, build, decode, encode, kind_names
from tests.strategies import SPATIAL_STAGES, SPATIAL_VARIANTS, STAGES, nets_of_kind

KINDS = kind_names()
CONFORMANCE = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def draw_net(data: st.DataObject, kind: str, stage_strategy=None) -> NetSpec:
    kwargs = data.draw(nets_of_kind(kind, stage_strategy))
    try:
        return NetSpec(**kwargs)
    except SpecError:
        # Invalid draws must be rejected with a SpecError (anything else fails the test).
        assume(False)
        raise


def test_every_registered_kind_has_a_strategy() -> None:
    assert set(STAGES) == set(KINDS)


def measured_cost(spec: NetSpec) -> tuple[int, int, int, torch.Size, list[tuple[int, ...]]]:
    model = build(spec).eval()
    activations = 0
    stage_shapes: list[tuple[int, ...]] = []

    def count(module: nn.Module, inputs, output) -> None:
        nonlocal activations
        activations += output.numel()

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    hooks += [s.register_forward_hook(lambda m, i, o: stage_shapes.append(tuple(o.shape[1:]))) for s in model.stages]
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        output = model(torch.randn(1, spec.in_channels, spec.resolution, spec.resolution))
    for hook in hooks:
        hook.remove()
    params = sum(p.numel() for p in model.parameters())
    return params, counter.get_total_flops() // 2, activations, output.shape, stage_shapes


@pytest.mark.parametrize("kind", KINDS)
@CONFORMANCE
@given(data=st.data())
def test_analytic_cost_equals_built_model(kind: str, data: st.DataObject) -> None:
    assert_analytic_cost_is_measured(draw_net(data, kind))


def assert_analytic_cost_is_measured(spec: NetSpec) -> None:
    params, macs, activations, output_shape, stage_shapes = measured_cost(spec)
    analytic = cost(spec)
    assert analytic.params == params
    assert analytic.macs == macs
    assert analytic.activations == activations
    assert tuple(output_shape) == (1, *analytic.output_shape)
    assert stage_shapes == list(analytic.stage_shapes[len(spec.stem):])


@pytest.mark.parametrize("variant", list(SPATIAL_VARIANTS))
@pytest.mark.parametrize("kind", list(SPATIAL_STAGES))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_every_spatial_conv_variant_in_every_kind_that_takes_it(kind: str, variant: str, data: st.DataObject) -> None:
    # The kinds' own strategies draw the variants too, among plain convs; here each pair is drawn every time.
    spec = draw_net(data, kind, SPATIAL_STAGES[kind](SPATIAL_VARIANTS[variant]))
    assert all(stage.block.spatial.kind == variant for stage in spec.stages)
    assert_analytic_cost_is_measured(spec)
    assert decode(encode(spec)) == spec and NetSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize("kind", KINDS)
@CONFORMANCE
@given(data=st.data())
def test_forward_and_backward_are_finite(kind: str, data: st.DataObject) -> None:
    spec = draw_net(data, kind)
    torch.manual_seed(0)
    model = build(spec).train()
    logits = model(torch.randn(2, spec.in_channels, spec.resolution, spec.resolution))
    assert logits.shape == (2, spec.num_classes)
    nn.functional.cross_entropy(logits, torch.tensor([0, 1])).backward()
    assert torch.isfinite(logits).all()
    for name, parameter in model.named_parameters():
        assert parameter.grad is None or torch.isfinite(parameter.grad).all(), name


@pytest.mark.parametrize("kind", KINDS)
@CONFORMANCE
@given(data=st.data())
def test_string_and_json_round_trips(kind: str, data: st.DataObject) -> None:
    spec = draw_net(data, kind)
    text = encode(spec)
    assert decode(text) == spec
    assert encode(decode(text)) == text
    assert NetSpec.from_json(spec.to_json()) == spec
    assert NetSpec.from_json(spec.to_json()).digest() == spec.digest()
    assert decode(text).digest() == spec.digest()


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_digest_tells_specs_apart(kind: str, data: st.DataObject) -> None:
    first, second = draw_net(data, kind), draw_net(data, kind)
    assert (first.digest() == second.digest()) == (first == second)
    assert (hash(first) == hash(second)) or first != second


def test_block_level_costs_add_up_to_the_net() -> None:
    from searchspace import block_costs

    spec = decode("net_r64 | conv_s2_c16 | mbconv_r3_s2_e4_c24_se() bottleneck_r2_s2_c64 dense_r3_g8 | head_c32")
    blocks = block_costs(spec)
    assert len(blocks) == 1 + 3 + 2 + 3
    net = cost(spec)
    total_blocks = sum(b.params for b in blocks)
    # The head is a 1x1 conv-norm-act (c32) then the classifier on 32 features.
    head_in = blocks[-1].out_shape[0]
    head_params = 32 * head_in + 2 * 32 + 32 * 1000 + 1000
    assert total_blocks + head_params == net.params
    assert blocks[0].in_shape == (3, 64, 64) and blocks[0].out_shape == (16, 32, 32)
    assert all(previous.out_shape == block.in_shape for previous, block in zip(blocks, blocks[1:]))
