"""Necks built and costed like blocks: FPN against torchvision, SPPF against SPP, PAN and the backbone + neck spec."""

from __future__ import annotations

import json
from collections import OrderedDict

import pytest
import torch
from hypothesis import given, settings
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.ops import FeaturePyramidNetwork
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

from search.cli import main
from searchspace import SpecError, build, create_model, zoo
from searchspace.layers import BuildContext
from searchspace.necks import (
    BackboneNeckSpec,
    FPNSpec,
    PANSpec,
    SPPFSpec,
    SPPSpec,
    backbone_neck_cost,
    build_backbone_neck,
    decode_backbone_neck,
    neck_of,
)
from searchspace.necks.cost import neck_cost
from tests.strategies import neck_chains
from tests.zoo_reference import assert_logits_close, randomize_

# Three levels whose sizes do not halve exactly, so FPN's upsampling must go to the finer map's size.
LEVELS = ((24, 15, 15), (40, 8, 8), (64, 4, 4))


def random_maps(shapes, seed: int = 0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(2, *shape, generator=generator) for shape in shapes]


def built_neck(spec, shapes=LEVELS) -> nn.Module:
    return neck_of(spec).build(spec, [c for c, _, _ in shapes], BuildContext()).eval()


def counted_macs(module: nn.Module, *inputs) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(*inputs)
    return counter.get_total_flops() // 2


def assert_costed_exactly(spec, shapes=LEVELS) -> None:
    """The analytic cost of a neck equals the built module's parameters, torch's MAC count and output shapes."""
    module, maps = built_neck(spec, shapes), random_maps(shapes)
    analytic = neck_cost(spec, shapes, "neck")
    assert analytic.params == sum(p.numel() for p in module.parameters())
    assert analytic.macs == counted_macs(module, [m[:1] for m in maps])
    with torch.no_grad():
        assert [tuple(m.shape[1:]) for m in module(maps)] == list(analytic.out_shapes)


# ---- FPN against torchvision.ops.FeaturePyramidNetwork ----------------------------------------


def reference_fpn(out_channels: int, extra_pool: bool = False) -> FeaturePyramidNetwork:
    extra = LastLevelMaxPool() if extra_pool else None
    return randomize_(FeaturePyramidNetwork([c for c, _, _ in LEVELS], out_channels, extra_blocks=extra).to("meta")).eval()


@pytest.mark.parametrize("extra_pool", [False, True])
def test_fpn_has_torchvisions_parameters_and_macs(extra_pool: bool) -> None:
    spec, reference = FPNSpec(out_channels=32, extra_pool=extra_pool), reference_fpn(32, extra_pool)
    names = [str(i) for i in range(len(LEVELS))]
    maps = OrderedDict(zip(names, (m[:1] for m in random_maps(LEVELS))))
    analytic = neck_cost(spec, LEVELS, "neck")
    assert analytic.params == sum(p.numel() for p in reference.parameters())
    assert analytic.macs == counted_macs(reference, maps)
    assert_costed_exactly(spec)


@pytest.mark.parametrize("extra_pool", [False, True])
def test_fpn_computes_torchvisions_outputs_with_its_weights(extra_pool: bool) -> None:
    reference = reference_fpn(32, extra_pool)
    ours = built_neck(FPNSpec(out_channels=32, extra_pool=extra_pool))
    # Both register the lateral (inner) convs, then the output (layer) convs, level by level.
    weights = dict(zip(ours.state_dict(), reference.state_dict().values(), strict=True))
    ours.load_state_dict(weights, strict=True)
    maps = random_maps(LEVELS)
    with torch.no_grad():
        expected = list(reference(OrderedDict((str(i), m) for i, m in enumerate(maps))).values())
        actual = ours(maps)
    assert len(actual) == len(expected) == len(LEVELS) + extra_pool
    for a, e in zip(actual, expected):
        assert_logits_close(a, e)


# ---- SPP and SPPF -------------------------------------------------------------------------------


def test_sppf_computes_spp_5_9_13_with_the_same_weights() -> None:
    # YOLOv5's reason for SPPF: a 5x5 max pool applied twice is a 9x9 one, three times a 13x13 one.
    shapes = ((16, 13, 13),)
    spp, sppf = built_neck(SPPSpec(kernels=(5, 9, 13)), shapes), built_neck(SPPFSpec(kernel=5), shapes)
    randomize_(spp.to("meta"))
    sppf.load_state_dict(spp.state_dict(), strict=True)
    maps = random_maps(shapes)
    with torch.no_grad():
        torch.testing.assert_close(sppf.eval()(maps)[0], spp.eval()(maps)[0])
    fast, plain = neck_cost(SPPFSpec(), shapes, "neck"), neck_cost(SPPSpec(), shapes, "neck")
    assert (fast.params, fast.macs, fast.out_shapes) == (plain.params, plain.macs, plain.out_shapes)


@pytest.mark.parametrize("spec", [SPPSpec(), SPPSpec(kernels=(3, 7), hidden_ratio=0.25, out_channels=48, activation="relu"),
                                  SPPFSpec(), SPPFSpec(kernel=3, out_channels=8)])
def test_pooling_necks_are_costed_exactly_and_change_only_the_deepest_level(spec) -> None:
    assert_costed_exactly(spec)
    module, maps = built_neck(spec), random_maps(LEVELS)
    with torch.no_grad():
        out = module(maps)
    assert all(torch.equal(a, b) for a, b in zip(out[:-1], maps[:-1]))


def test_pool_kernels_must_be_odd() -> None:
    with pytest.raises(SpecError, match=r"spp.kernels = \(5, 8\) is not allowed: pool kernels must be odd"):
        SPPSpec(kernels=(5, 8))


# ---- PAN ---------------------------------------------------------------------------------------


PYRAMID = ((32, 16, 16), (32, 8, 8), (32, 4, 4))


@pytest.mark.parametrize("spec", [PANSpec(), PANSpec(norm=True, activation="silu")])
def test_pan_is_costed_exactly(spec) -> None:
    assert_costed_exactly(spec, PYRAMID)


def test_pan_keeps_the_finest_level_and_aggregates_bottom_up() -> None:
    # PANet Sec. 3.1: N2 is P2; N3 depends on P2 (through the stride-2 conv), P3 does not feed N2.
    module = built_neck(PANSpec(), PYRAMID)
    maps = [m.requires_grad_() for m in random_maps(PYRAMID)]
    out = module(maps)
    assert out[0] is maps[0]
    out[2].sum().backward()
    assert all(m.grad is not None and m.grad.abs().sum() > 0 for m in maps)


def test_pan_needs_equal_widths_and_halving_sizes() -> None:
    with pytest.raises(SpecError, match="pan needs the same channels at every level, got 24, 40, 64: put an fpn before it"):
        neck_cost(PANSpec(), LEVELS, "neck")
    with pytest.raises(SpecError, match=r"turns the 15x15 level into 8x8, but the next level is 7x7"):
        neck_cost(PANSpec(), ((8, 15, 15), (8, 7, 7)), "neck")


# ---- a backbone with necks ---------------------------------------------------------------------


def detector(**fields) -> BackboneNeckSpec:
    necks = (SPPFSpec(), FPNSpec(out_channels=32), PANSpec())
    return BackboneNeckSpec(backbone=zoo.get("mobilenet_v2", resolution=96), **{"necks": necks, **fields})


def test_string_and_json_forms_read_back() -> None:
    spec = detector(strides=(4, 8, 16, 32))
    text = str(spec)
    assert text.endswith("=> features_s4x8x16x32 sppf fpn_c32 pan")
    assert decode_backbone_neck(text) == spec
    assert BackboneNeckSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json())["necks"][1] == {"kind": "fpn", "out_channels": 32, "extra_pool": False}
    assert spec.digest() == decode_backbone_neck(text).digest() != detector().digest()


def test_the_parts_add_up_to_the_built_module() -> None:
    spec = detector()
    cost = backbone_neck_cost(spec)
    model = build_backbone_neck(spec).eval()
    images = torch.randn(1, 3, 96, 96)
    assert cost.params == sum(p.numel() for p in model.parameters())
    assert cost.macs == counted_macs(model, images)
    with torch.no_grad():
        assert [tuple(m.shape[1:]) for m in model(images)] == list(cost.out_shapes) == [(32, 12, 12), (32, 6, 6), (32, 3, 3)]
    # The backbone's part is exactly its feature extractor (the classifier head does not run).
    backbone = create_model(spec.backbone, features_only=True, out_indices=(2, 3, 4))
    assert [p.name for p in cost.parts] == ["backbone", "sppf", "fpn", "pan"]
    assert cost.parts[0].params == sum(p.numel() for p in backbone.parameters())
    assert cost.parts[0].macs == counted_macs(backbone, images)
    assert cost.parts[0].params < sum(p.numel() for p in build(spec.backbone).parameters())


def test_strides_the_backbone_lacks_are_refused() -> None:
    with pytest.raises(SpecError, match=r"strides = \(8, 64\) is not allowed: the backbone has maps at reductions 2, 4, 8, 16, 32, not 64"):
        detector(strides=(8, 64))
    with pytest.raises(SpecError, match="must increase"):
        detector(strides=(16, 8))


def test_describe_prints_the_cost_of_each_part(capsys: pytest.CaptureFixture, tmp_path) -> None:
    spec = detector()
    cost = backbone_neck_cost(spec)
    for given in (str(spec), tmp_path / "detector.json"):
        (tmp_path / "detector.json").write_text(spec.to_json())
        assert main(["describe", str(given)]) == 0
        lines = capsys.readouterr().out.splitlines()
        rows = {line.split()[0]: line for line in lines[2:]}
        assert list(rows) == ["backbone", "sppf", "fpn", "pan", "total"]
        for part in cost.parts:
            assert f"params {part.params:>13,}" in rows[part.name] and f"MACs {part.macs:>15,}" in rows[part.name]
        assert f"{cost.macs:,}" in rows["total"]


def test_describe_refuses_a_bad_neck_in_one_line(capsys: pytest.CaptureFixture) -> None:
    assert main(["describe", str(detector().backbone) + " => features fpn_c32 nope"]) == 2
    assert "neck kind 'nope' is not known (allowed: fpn, pan, spp, sppf)" in capsys.readouterr().err


# ---- conformance on hypothesis-drawn chains ---------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(neck_chains())
def test_drawn_neck_chains_are_costed_exactly(chain) -> None:
    levels, necks = chain
    shapes, modules = levels, []
    params = macs = 0
    for neck in necks:
        part = neck_cost(neck, shapes, "neck")
        modules.append(built_neck(neck, shapes))
        params, macs, shapes = params + part.params, macs + part.macs, part.out_shapes
    chained = nn.Sequential(*modules)
    maps = [m[:1] for m in random_maps(levels)]
    assert params == sum(p.numel() for p in chained.parameters())
    assert macs == counted_macs(chained, maps)
    with torch.no_grad():
        assert [tuple(m.shape[1:]) for m in chained(maps)] == list(shapes)
