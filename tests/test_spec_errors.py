"""Specs that cannot be built are rejected with a ValueError that says what and where."""

from __future__ import annotations

import pytest

from searchspace import (
    BottleneckSpec,
    ConvSpec,
    HeadSpec,
    MBConvSpec,
    NetSpec,
    PoolSpec,
    SpecError,
    SpecStringError,
    Stage,
    decode,
)


def net(*stages: Stage, resolution: int = 32, **kwargs) -> NetSpec:
    return NetSpec(stages=stages, resolution=resolution, **kwargs)


def conv(**fields) -> Stage:
    stride = fields.pop("stride", 1)
    return Stage(block=ConvSpec(**fields), stride=stride)


def test_errors_are_value_errors() -> None:
    assert issubclass(SpecError, ValueError) and issubclass(SpecStringError, SpecError)


@pytest.mark.parametrize("width", [0, -8])
def test_non_positive_width_names_field_value_and_rule(width: int) -> None:
    with pytest.raises(SpecError, match=rf"conv\.out_channels = {width} is not allowed: must be an integer >= 1"):
        ConvSpec(out_channels=width)


def test_non_integer_width_is_rejected() -> None:
    with pytest.raises(SpecError, match=r"mbconv\.out_channels = 8\.5"):
        MBConvSpec(out_channels=8.5)


def test_stride_outside_one_and_two_for_residual_kinds() -> None:
    with pytest.raises(SpecError, match=r"stage\.stride = 3 is not allowed: mbconv blocks allow stride 1, 2"):
        Stage(block=MBConvSpec(out_channels=8), stride=3)
    # Plain convolutions keep AlexNet's stride 4 expressible.
    assert Stage(block=ConvSpec(out_channels=8, kernel=11, padding=2), stride=4).stride == 4


def test_groups_that_do_not_divide_the_channels() -> None:
    with pytest.raises(SpecError, match=r"stages\[1\] block 0 \(conv.*groups = 3 is not allowed: it must divide both the input \(8\)"):
        net(conv(out_channels=8), conv(out_channels=9, groups=3))
    with pytest.raises(SpecError, match=r"stages\[0\] block 0 \(bottleneck.*groups = 3"):
        net(Stage(block=BottleneckSpec(out_channels=32, groups=3)))


def test_even_kernel_needs_explicit_padding() -> None:
    with pytest.raises(SpecError, match=r"conv\.kernel = 4 is not allowed: an even kernel cannot keep the size"):
        ConvSpec(out_channels=8, kernel=4)
    patchify = net(conv(out_channels=8, kernel=4, padding=0, stride=4))
    assert patchify.stages[0].block.kernel == 4
    with pytest.raises(SpecError, match=r"mbconv\.kernel = 4 is not allowed: must be odd"):
        MBConvSpec(out_channels=8, kernel=4)


def test_feature_map_shrinking_below_one_pixel() -> None:
    # Unpadded 3x3 pooling at stride 2: 8 -> 3 -> 1 -> nothing.
    stages = [conv(out_channels=8)] + [Stage(block=PoolSpec(kernel=3), stride=2) for _ in range(3)]
    with pytest.raises(SpecError, match=r"stages\[3\] block 0 \(pool, input 8x1x1\): the feature map shrinks below 1x1: "
                                        r"a 3x3 pooling with stride 2 turns 1x1 into 0x0"):
        net(*stages, resolution=8)
    assert net(*stages, resolution=16).resolution == 16


def test_unknown_kind_and_activation() -> None:
    with pytest.raises(SpecError, match=r"block kind 'resnext' is not known \(allowed: conv, pool"):
        NetSpec.from_dict({"stages": [{"block": {"kind": "resnext", "out_channels": 8}}]})
    with pytest.raises(SpecError, match=r"mbconv\.activation = 'mish' is not allowed: allowed: relu, relu6, silu"):
        MBConvSpec(out_channels=8, activation="mish")
    assert MBConvSpec(out_channels=8, activation="swish").activation == "silu"


def test_head_dropout_must_match_the_linear_layers() -> None:
    with pytest.raises(SpecError, match=r"head\.dropout = \(0\.5,\) is not allowed: give one rate per linear layer \(3\)"):
        HeadSpec(hidden=(64, 64), dropout=(0.5,))


def test_pooling_padding_over_half_the_window() -> None:
    with pytest.raises(SpecError, match=r"pool\.padding = 2 is not allowed: at most half the kernel \(3\)"):
        PoolSpec(kernel=3, padding=2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("net | | mbconv_c8_q5 | head", r"token 'mbconv_c8_q5'.*unknown field 'q5' for mbconv"),
        ("net | | mbconv_cX | head", r"token 'mbconv_cX'.*'X' is not a number"),
        ("net | | mbconv_c8_e6_e4 | head", r"token 'mbconv_c8_e6_e4'.*field 'expand_ratio' is given twice"),
        ("net | | mbconv_e6 | head", r"token 'mbconv_e6'.*missing required field\(s\) out_channels"),
        ("net | | resnext_c8 | head", r"block kind 'resnext' is not known"),
        ("net | | mbconv_c8_se(r0.25 | head", r"unbalanced brackets"),
        ("net | mbconv_c8 | head", r"expected 4 or 5 sections separated by '\|'"),
        ("net | | | head", r"the stages section is empty"),
        ("nett | | conv_c8 | head", r"the first section must be one 'net_\.\.\.' token"),
        ("net | | conv_c8 | head_c8 head", r"the head section must be one 'head_\.\.\.' token"),
        ("net_r0 | | conv_c8 | head", r"net\.resolution = 0 is not allowed"),
        ("net | | mbconv_s3_c8 | head", r"token 'mbconv_s3_c8'.*stage\.stride = 3"),
    ],
)
def test_malformed_strings_name_the_offending_token(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        decode(text)


def test_json_errors_name_the_field() -> None:
    good = net(conv(out_channels=8))
    with pytest.raises(SpecError, match=r"unknown field 'width' for conv"):
        NetSpec.from_json(good.to_json().replace('"out_channels"', '"width"'))
    with pytest.raises(SpecError, match=r"spec JSON is malformed"):
        NetSpec.from_json("{not json")
    with pytest.raises(SpecError, match=r"spec JSON format = 99 is not allowed"):
        NetSpec.from_json(good.to_json().replace('"format": 1', '"format": 99'))
    with pytest.raises(SpecError, match=r"net\.resolution = '32' is not allowed"):
        NetSpec.from_json(good.to_json().replace('"resolution": 32', '"resolution": "32"'))
