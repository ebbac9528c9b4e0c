"""ConvNeXt-T, pre-activation ResNet, Xception, Inception-v4 and Inception-ResNet-v2 beyond the generic zoo tests.

tests/test_zoo.py checks each entry's parameters, MACs and outputs against
its reference.  Here: what those cannot see (training-time stochastic depth,
the multi-scale feature maps timm's ``features_only`` gives), the layer norm
in both layouts, and the rules of the new block kinds.
"""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from searchspace import InceptionBranch, NetSpec, SpecError, Stage, build, decode, feature_info, zoo
from searchspace.blocks import ConvSpec, InceptionResidualSpec, XceptionSpec
from searchspace.layers import DropPath, LayerNorm2d, Residual
from tests.zoo_reference import reference_model

# Where timm's features_only taps the same maps (for Inception-v4 and Xception it taps inside blocks).
SAME_FEATURE_MAPS_AS_TIMM = ["convnext_tiny", "resnetv2_50", "resnetv2_50d", "inception_resnet_v2"]


@pytest.mark.parametrize("name", SAME_FEATURE_MAPS_AS_TIMM)
def test_feature_channels_and_reductions_equal_timms(name: str) -> None:
    import timm

    with torch.device("meta"):
        expected = timm.create_model(name, features_only=True).feature_info
    info = feature_info(zoo.get(name))
    assert (info.channels(), info.reduction()) == (expected.channels(), expected.reduction())


def test_convnext_stochastic_depth_rates_equal_torchvisions() -> None:
    reference = reference_model(zoo.info("convnext_tiny"))
    expected = [m.p for m in reference.modules() if isinstance(m, torchvision.ops.StochasticDepth)]
    with torch.device("meta"):
        ours = build(zoo.get("convnext_tiny"))
    residuals = [m for m in ours.stages.modules() if isinstance(m, Residual)]
    rates = [m.drop_path.probability if isinstance(m.drop_path, DropPath) else 0.0 for m in residuals]
    assert len(rates) == len(expected) == 18
    assert rates == pytest.approx(expected, abs=1e-12)


def test_layer_norm_2d_is_torchvisions_and_a_channels_last_layer_norm() -> None:
    from torchvision.models.convnext import LayerNorm2d as TorchvisionLayerNorm2d

    torch.manual_seed(0)
    ours, theirs = LayerNorm2d(6, eps=1e-6), TorchvisionLayerNorm2d(6, eps=1e-6)
    nn.init.normal_(ours.weight), nn.init.normal_(ours.bias)
    theirs.load_state_dict(ours.state_dict())
    channels_last = nn.LayerNorm(6, eps=1e-6)
    channels_last.load_state_dict(ours.state_dict())
    x = torch.randn(2, 6, 5, 7)
    torch.testing.assert_close(ours(x), theirs(x))
    torch.testing.assert_close(ours(x), channels_last(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))


def test_resnet_variants_b_c_d_differ_as_named() -> None:
    b, c, d = (zoo.get(name) for name in ("resnet50", "resnet50c", "resnet50d"))
    assert b.stages == c.stages and b.stem != c.stem  # C: the deep stem only
    assert c.stem == d.stem and {s.block.downsample for s in d.stages} == {"avgpool"}  # D: and the pooled shortcut


def test_a_residual_inception_branch_must_keep_the_map_size() -> None:
    shrinking = InceptionResidualSpec(branches=(InceptionBranch(layers=(ConvSpec(out_channels=8, padding=0),)),))
    with pytest.raises(SpecError, match="residual shapes differ"):
        NetSpec(stages=(Stage(block=ConvSpec(out_channels=16)), Stage(block=shrinking)), resolution=32)


def test_an_xception_block_needs_a_separable_conv() -> None:
    with pytest.raises(SpecError, match=r"widths = \(\) is not allowed: give at least one separable conv"):
        XceptionSpec(widths=())


# A small net of every new kind: ConvNeXt's stem and head, a ConvNeXt stage with its downsampling, both xception forms.
EVERY_NEW_KIND = ("net_r32_n10 | conv_s4_c16_k4_p0_identity_nonorm_bias layernorm | convnext_r2_c16 convnext_s2_c32_k3_e2 "
                  "preact_s2_c64_avgpool xception_c32x48_actafter_noskip xception_s2_c48 "
                  "inceptionres_b[conv_c8_k1|conv_c8_k1>conv_c8]_sc0.2_identity apool layernorm | head")


def test_new_kinds_read_back_from_their_strings() -> None:
    spec = decode(EVERY_NEW_KIND)
    assert str(spec) == EVERY_NEW_KIND
    assert build(spec).eval()(torch.randn(1, 3, 32, 32)).shape == (1, 10)


@pytest.mark.parametrize("file_format", ["pt", "onnx", "torchscript", "python"])
def test_new_kinds_export_in_every_format(file_format: str, tmp_path) -> None:
    from search.export.formats import WRITERS

    spec = decode(EVERY_NEW_KIND)
    torch.manual_seed(0)
    path = tmp_path / f"net.{file_format}"
    # Each writer reads its file back and compares the outputs with PyTorch's, raising if they differ.
    WRITERS[file_format](build(spec).eval(), spec, path, {})
    assert path.stat().st_size > 0


def test_the_searchable_new_kinds_sample_and_build_from_a_space_file() -> None:
    from search.spaces import RandomSuggest, SpaceContext
    from search.spaces.files import space_from_data

    stage = {"stride": 2, "depth": [1, 2], "block": ["convnext", "preact", "xception"], "width": [16, 32],
             "kernel": [3, 7], "expansion": [2, 4], "se": [False, True], "bottleneck_ratio": [0.25, 0.5]}
    space = space_from_data({"stages": [stage, {**stage, "width": [32, 48]}]}, "space file classics.yaml", "classics")
    kinds = set()
    for seed in range(12):
        spec = space.sample(RandomSuggest(seed=seed), SpaceContext(num_classes=10, resolution=32))
        kinds |= {s.block.kind for s in spec.stages}
        assert build(spec).eval()(torch.randn(1, 3, 32, 32)).shape == (1, 10)
    assert {"convnext", "preact", "xception"} <= kinds
