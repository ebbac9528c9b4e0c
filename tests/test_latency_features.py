"""Per-layer records of the cost walk and the latency features built from them.

The records must add up to the analytic cost (itself checked against torch's
FLOP counter by the conformance tests) and list the layers the built module
actually runs: one conv record per ``nn.Conv2d``, one residual sum per
``Residual`` module, and so on.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from evaluators.cost import cost
from evaluators.latency.features import (
    FAMILIES,
    FEATURE_NAMES,
    layer_family,
    layer_features,
    spec_features,
)
from searchspace import (
    BottleneckSpec,
    ConvSpec,
    LayerRecord,
    MBConvSpec,
    NetSpec,
    SESpec,
    SpecError,
    Stage,
    build,
    decode,
    kind_names,
    layer_records,
)
from searchspace.layers import Residual, SqueezeExcite
from tests.strategies import nets_of_kind

RECORDS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def draw_net(data: st.DataObject, kind: str) -> NetSpec:
    try:
        return NetSpec(**data.draw(nets_of_kind(kind)))
    except SpecError:
        from hypothesis import assume

        assume(False)
        raise


@pytest.mark.parametrize("kind", kind_names())
@RECORDS
@given(data=st.data())
def test_layer_records_add_up_to_the_analytic_cost(kind: str, data: st.DataObject) -> None:
    spec = draw_net(data, kind)
    layers = layer_records(spec)
    analytic = cost(spec)
    assert sum(layer.macs for layer in layers) == analytic.macs
    assert sum(layer.params for layer in layers) == analytic.params - analytic.aux_params
    # Activations count conv and linear outputs, and the two 1x1 convs of each SE unit.
    outputs = sum(layer.out_elements for layer in layers if layer.op in ("conv", "linear"))
    assert outputs + sum(layer_se_outputs(layer) for layer in layers) == analytic.activations


def layer_se_outputs(layer: LayerRecord) -> int:
    """Squeeze plus excite widths, recovered from the unit's parameters: 2*C*S + S + C."""
    if layer.op != "squeeze_excite":
        return 0
    # params = macs + squeeze + channels, and the two convs output squeeze + channels elements.
    return layer.params - layer.macs


@pytest.mark.parametrize("kind", kind_names())
@RECORDS
@given(data=st.data())
def test_layer_records_list_the_modules_that_run(kind: str, data: st.DataObject) -> None:
    spec = draw_net(data, kind)
    ops = [layer.op for layer in layer_records(spec)]
    model = build(spec)
    running = [m for part in (model.stem, model.stages, model.head) for m in part.modules()]  # not the aux heads

    def modules(*types: type) -> int:
        return sum(isinstance(m, types) for m in running)

    squeeze_excites = modules(SqueezeExcite)
    assert ops.count("squeeze_excite") == squeeze_excites
    assert ops.count("conv") == modules(nn.Conv2d) - 2 * squeeze_excites
    assert ops.count("linear") == modules(nn.Linear)
    assert ops.count("add") == modules(Residual)
    assert ops.count("pool") + ops.count("adaptive_pool") == modules(
        nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d
    )


def test_a_recording_walk_counts_what_the_plain_walk_counts() -> None:
    spec = decode("net_r96 | conv_s2_c16 | mbconv_r3_s2_e4_c24_se() bottleneck_r3_s2_c64 dense_r3_g8 transition_s2 | head_c32")
    layers = layer_records(spec)
    assert sum(layer.macs for layer in layers) == cost(spec).macs
    # Repeated blocks are listed one by one, not counted once and multiplied.
    # mbconv repeats 2 and 3 keep the shape (identity skip); every bottleneck sums, projected or not.
    assert sum(1 for layer in layers if layer.op == "add") == 2 + 3
    assert sum(1 for layer in layers if layer.op == "concat") == 3


@pytest.mark.parametrize(
    ("block", "family"),
    [
        (MBConvSpec(out_channels=16, expand_ratio=4.0), "depthwise_conv"),
        (MBConvSpec(out_channels=16, expand_ratio=4.0, group_size=8), "grouped_conv"),
        (BottleneckSpec(out_channels=32, groups=4, bottleneck_ratio=0.5), "grouped_conv"),
        (ConvSpec(out_channels=16, kernel=(1, 3)), "dense_conv"),
        (ConvSpec(out_channels=16, kernel=1), "pointwise_conv"),
    ],
)
def test_convs_are_sorted_into_the_family_of_their_kernel(block, family: str) -> None:
    spec = NetSpec(stem=(Stage(block=ConvSpec(out_channels=16), stride=2),), stages=(Stage(block=block),), resolution=32)
    families = [layer_family(layer) for layer in layer_records(spec)]
    assert family in families
    assert families[0] == "dense_conv" and families[-1] == "linear"


def test_every_layer_op_has_a_family_and_unknown_ops_are_rejected() -> None:
    spec = decode("net_r64 | conv_s2_c16 pool_s2_p1 | mbconv_r2_e4_c16_se() dense_r2_g8 | head_c32")
    assert {layer_family(layer) for layer in layer_records(spec)} <= set(FAMILIES)
    with pytest.raises(ValueError, match="'softmax'"):
        layer_family(LayerRecord("softmax", 0, 0, 10, 10))


def test_features_are_sums_over_layers() -> None:
    spec = decode("net_r128 | conv_s2_c16 | mbconv_r2_s2_e4_c24_se() fused_r2_s2_e4_c32 uib_r2_s2_c48 | head_c64")
    layers = layer_records(spec)
    whole = spec_features(spec)
    assert np.array_equal(whole, layer_features(layers[:5]) + layer_features(layers[5:]))
    column = FEATURE_NAMES.index
    macs = sum(whole[column(f"{family}.macs")] for family in ("dense_conv", "pointwise_conv", "depthwise_conv", "grouped_conv", "linear"))
    assert macs + sum(layer.macs for layer in layers if layer.op == "squeeze_excite") == cost(spec).macs
    assert sum(whole[column(f"{family}.count")] for family in FAMILIES) == len(layers)


def test_one_more_repeat_adds_one_blocks_features() -> None:
    def net(repeats: int) -> NetSpec:
        block = MBConvSpec(out_channels=24, expand_ratio=6.0, kernel=5, se=SESpec())
        return NetSpec(stem=(Stage(block=ConvSpec(out_channels=24), stride=2),), stages=(Stage(block=block, repeats=repeats),), resolution=64)

    one, two, three = (spec_features(net(r)) for r in (1, 2, 3))
    assert np.array_equal(three - two, two - one)
    assert (two - one)[FEATURE_NAMES.index("elementwise.count")] == 1  # the residual sum


def test_spec_features_rejects_what_is_not_a_spec() -> None:
    with pytest.raises(TypeError, match="NetSpec"):
        spec_features("net_r64 | conv_c8 | head")  # type: ignore[arg-type]


def test_attention_is_a_family_of_its_own_present_exactly_in_nets_with_attention() -> None:
    from searchspace import zoo

    from searchspace.registry import all_kinds

    attention = [FEATURE_NAMES.index(f"attention.{part}") for part in ("macs", "traffic", "count")]
    attending = {kind.name for kind in all_kinds() if "attention" in kind.latency_ops.values()}
    assert {"mqa", "swin"} <= attending
    for name in zoo.names():
        spec = zoo.get(name)
        has_attention = any(stage.block.kind in attending for stage in spec.stages)
        assert (spec_features(spec)[attention] > 0).all() == has_attention, name
        assert (spec_features(spec)[attention] == 0).all() == (not has_attention), name


@pytest.mark.parametrize("name", ["mobilenetv4_hybrid_medium", "mobilenetv4_hybrid_large", "mobilenetv4_conv_small", "swin_t"])
def test_attention_macs_are_the_batched_matmuls_torch_counts_in_timms_net(name: str) -> None:
    """FlopCounterMode's per-op breakdown of timm's (or torchvision's) net: its ``bmm`` are exactly the attention family's MACs."""
    import dataclasses

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from searchspace import zoo
    from tests.zoo_reference import reference_model

    resolution = 64
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        reference_model(zoo.info(name))(torch.empty(1, 3, resolution, resolution, device="meta"))
    bmm_flops = sum(flops for op, flops in counter.get_flop_counts()["Global"].items() if "bmm" in str(op))
    features = spec_features(dataclasses.replace(zoo.get(name), resolution=resolution))
    assert features[FEATURE_NAMES.index("attention.macs")] == bmm_flops // 2
