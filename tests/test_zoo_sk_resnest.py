"""Selective Kernel and split-attention convs against timm's layers, and the SKNet and ResNeSt zoo nets.

tests/test_zoo.py checks every zoo net, these six included, against timm
(parameters, MACs at 224 px, outputs with converted weights).  Here: the two
convs alone against ``timm.layers.SelectiveKernel`` and ``SplitAttn`` at
settings no zoo net uses (groups, more paths, radix 1 and 4, no input split),
what the zoo nets are (ResNets with only their 3x3 replaced), that nets
without the variants keep their stored JSON, and the unified space choosing them.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from timm.layers import SelectiveKernel, SplitAttn
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from search.spaces import RandomSuggest, SpaceContext, load_space
from searchspace import NetSpec, SelectiveKernelSpec, SpecError, SplitAttentionSpec, decode, zoo
from searchspace.layers import BuildContext
from searchspace.tally import Tally
from searchspace.zoo.resnet import resnet_spec
from tests.test_conformance import assert_analytic_cost_is_measured
from tests.zoo_reference import randomize_

RESOLUTION = 12

# (in, out, stride, groups, spec, timm's keyword arguments for the same conv)
SK_CASES = [
    (32, 64, 2, 1, SelectiveKernelSpec(ratio=1 / 8, divisor=16), dict(rd_ratio=1 / 8, rd_divisor=16)),
    (48, 48, 1, 4, SelectiveKernelSpec(paths=3, split_input=False), dict(kernel_size=[3, 5, 7], split_input=False)),
    (64, 32, 2, 2, SelectiveKernelSpec(ratio=0.5, divisor=4), dict(rd_ratio=0.5, rd_divisor=4)),
]
SPLAT_CASES = [
    (64, 64, 1, 1, SplitAttentionSpec(avd=False), dict(radix=2)),
    (64, 96, 2, 4, SplitAttentionSpec(radix=4, ratio=0.5, avd=False), dict(radix=4, rd_ratio=0.5)),
    (48, 48, 2, 2, SplitAttentionSpec(radix=1, avd=False), dict(radix=1)),
]


def _load_in_order(ours: nn.Module, theirs: nn.Module) -> None:
    """timm's tensors in registration order, which is forward order in both (shapes checked by the strict load)."""
    ours.load_state_dict(dict(zip(ours.state_dict(), theirs.state_dict().values(), strict=True)), strict=True)


def _macs(module: nn.Module, images: torch.Tensor) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(images)
    return counter.get_total_flops() // 2


def _assert_same_conv(ours: nn.Module, theirs: nn.Module, spec, in_channels: int, out_channels: int, stride: int, groups: int) -> None:
    randomize_(theirs.eval())
    _load_in_order(ours.eval(), theirs)
    images = torch.randn(2, in_channels, RESOLUTION, RESOLUTION, generator=torch.Generator().manual_seed(0))
    tally = Tally(in_channels, RESOLUTION, RESOLUTION)
    spec.cost(tally, out_channels, stride, groups)
    assert tally.params == sum(p.numel() for p in theirs.parameters())
    assert tally.macs == _macs(theirs, images[:1])
    with torch.no_grad():
        torch.testing.assert_close(ours(images), theirs(images), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("in_channels", "out_channels", "stride", "groups", "spec", "timm_kwargs"), SK_CASES)
def test_selective_kernel_conv_equals_timms(in_channels, out_channels, stride, groups, spec, timm_kwargs) -> None:
    theirs = SelectiveKernel(in_channels, out_channels, stride=stride, groups=groups, **timm_kwargs)
    ours = spec.module(in_channels, out_channels, stride, groups, "relu", BuildContext())
    _assert_same_conv(ours, theirs, spec, in_channels, out_channels, stride, groups)


@pytest.mark.parametrize(("in_channels", "out_channels", "stride", "groups", "spec", "timm_kwargs"), SPLAT_CASES)
def test_split_attention_conv_equals_timms(in_channels, out_channels, stride, groups, spec, timm_kwargs) -> None:
    theirs = SplitAttn(in_channels, out_channels, stride=stride, groups=groups, norm_layer=nn.BatchNorm2d, **timm_kwargs)
    ours = spec.module(in_channels, out_channels, stride, groups, "relu", BuildContext())
    _assert_same_conv(ours, theirs, spec, in_channels, out_channels, stride, groups)


def _without_spatial(spec: NetSpec) -> NetSpec:
    stages = tuple(dataclasses.replace(s, block=dataclasses.replace(s.block, spatial=None)) for s in spec.stages)
    return dataclasses.replace(spec, stages=stages)


@pytest.mark.parametrize(("name", "plain"), [
    ("skresnet18", resnet_spec(18)), ("skresnet34", resnet_spec(34)), ("skresnet50", resnet_spec(50)),
    ("resnest14d", resnet_spec(14, deep_stem=True, downsample="avgpool")),
    ("resnest26d", resnet_spec(26, deep_stem=True, downsample="avgpool")),
    ("resnest50d", zoo.get("resnet50d")),
])
def test_zoo_nets_are_resnets_with_only_their_3x3_replaced(name: str, plain: NetSpec) -> None:
    spec = zoo.get(name)
    assert {type(s.block.spatial) for s in spec.stages} == {SplitAttentionSpec if "resnest" in name else SelectiveKernelSpec}
    assert _without_spatial(spec) == plain


def test_nets_without_a_variant_keep_their_stored_json() -> None:
    # The slot is written only when filled, so every stored net keeps its JSON and digest.
    assert all("spatial" not in s["block"] for s in zoo.get("resnet50").to_dict()["stages"])
    spec = zoo.get("skresnet18")
    assert spec.to_dict()["stages"][0]["block"]["spatial"] == {"kind": "sk", "paths": 2, "ratio": 0.125, "divisor": 16, "split_input": True}
    assert NetSpec.from_json(spec.to_json()) == spec and decode(str(spec)) == spec


@pytest.mark.parametrize(("text", "message"), [
    ("net_r32 | conv_s2_c16 | basic_c16_sk(p9) | head", "sk.paths = 9 is not allowed"),
    ("net_r32 | conv_s2_c15 | basic_c16_sk() | head", "the input's 15 channels do not split into 2 paths"),
    ("net_r32 | conv_s2_c16 | bottleneck_c32_splat(x2) | head", "unknown field 'x2' for splat"),
])
def test_impossible_variants_are_one_line_spec_errors(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        decode(text)


def test_the_unified_space_chooses_sk_and_split_attention() -> None:
    space = load_space("unified")
    listed = {knob.name: knob for knob in space.knobs()}
    assert listed["stage2.spatial_conv"].values == ("plain", "sk", "splat")
    seen = {}
    for seed in range(40):
        net = space.sample(RandomSuggest(seed=seed), SpaceContext(num_classes=10, resolution=32))
        for stage in net.stages:
            spatial = getattr(stage.block, "spatial", None)
            if spatial is not None and spatial.kind not in seen:
                seen[spatial.kind] = net
    assert set(seen) == {"sk", "splat"}
    for net in seen.values():
        assert_analytic_cost_is_measured(net)


@pytest.mark.parametrize("variant", ["sk(rd0.125_d16)", "sk(p3_nosplit)", "splat()", "splat(r4)"])
def test_every_variant_survives_torchscript_as_the_export_writes_it(variant: str) -> None:
    import torch

    from searchspace import build, decode

    spec = decode(f"net_r32_i3_n10 | conv_s2_c16 | basic_c32_{variant} bottleneck_s2_c64_{variant} | head")
    net = build(spec).eval()
    scripted = torch.jit.script(net)
    image = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(scripted(image), net(image))
