"""The attention modules against their references: timm's modules one by one, and the BAM paper.

The zoo nets built from them (ecaresnet50d, cbam_resnet50, ge_resnet50,
gcresnet50t) are checked whole against timm by tests/test_zoo.py; here each
module, on a small map, has timm's parameters, MACs (FlopCounterMode / 2) and
outputs given timm's weights, so a wrong rule shows where it is.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from evaluators.cost import cost
from searchspace import build, zoo
from searchspace.blocks.bam import BAMSpec, BottleneckAttention
from searchspace.blocks.cbam import CBAMSpec
from searchspace.blocks.eca import ECASpec, adaptive_kernel
from searchspace.blocks.gather_excite import GESpec
from searchspace.blocks.global_context import GCSpec
from searchspace.layers import BuildContext
from searchspace.registry import kind_by_name
from searchspace.tally import Tally
from tests.zoo_reference import _gather_excite_constructible, meta_macs, randomize_

CHANNELS, SIZE = 64, 14


# (label, our spec, timm's get_attn name, its constructor arguments besides the channels)
TIMM_MODULES = [
    ("eca", ECASpec(), "eca", {}),
    ("eca_k5", ECASpec(kernel=5), "eca", {"kernel_size": 5, "channels": None}),
    ("cbam", CBAMSpec(), "cbam", {}),
    ("cbam_k3_quarter", CBAMSpec(ratio=0.25, spatial_kernel=3), "cbam", {"rd_ratio": 0.25, "spatial_kernel_size": 3}),
    ("ge_global", GESpec(), "ge", {}),
    ("ge_extent4", GESpec(extent=4), "ge", {"extent": 4}),
    ("ge_extent2_nomlp", GESpec(extent=2, mlp=False), "ge", {"extent": 2, "use_mlp": False}),
    ("gc_add", GCSpec(), "gca", {}),
    ("gc_avg_scale", GCSpec(pooling="avg", fusion="scale"), "gc", {"use_attn": False}),
]


def timm_module(name: str, kwargs: dict) -> nn.Module:
    from timm.layers import get_attn

    arguments = {"channels": CHANNELS, **kwargs}
    with _gather_excite_constructible(), torch.device("meta"):
        module = get_attn(name)(**arguments)
    return randomize_(module).eval()


@pytest.mark.parametrize(("label", "spec", "timm_name", "kwargs"), TIMM_MODULES, ids=[m[0] for m in TIMM_MODULES])
def test_each_module_equals_timms(label, spec, timm_name, kwargs) -> None:
    reference = timm_module(timm_name, kwargs)
    ours = spec.module(CHANNELS, CHANNELS, CHANNELS, CHANNELS).eval()
    # Both register their tensors in forward order; the load is strict by key (ECA's 1-D kernel is reshaped, as the zoo's converter does).
    state = {key: tensor.reshape(mine.shape) for (key, mine), tensor in zip(ours.state_dict().items(), reference.state_dict().values())}
    ours.load_state_dict(state, strict=True)

    tally = Tally(CHANNELS, SIZE, SIZE)
    spec.cost(tally, CHANNELS, CHANNELS, CHANNELS)
    assert tally.shape == (CHANNELS, SIZE, SIZE)
    assert tally.params == sum(p.numel() for p in reference.parameters()) == sum(p.numel() for p in ours.parameters())
    images = torch.randn(2, CHANNELS, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        reference(images[:1])
    assert tally.macs == counter.get_total_flops() // 2
    with torch.no_grad():
        torch.testing.assert_close(ours(images), reference(images), rtol=1e-4, atol=1e-5)


def test_eca_kernel_rule_is_timms_for_every_width() -> None:
    from timm.layers import get_attn

    with torch.device("meta"):
        for channels in [*range(1, 300), 511, 512, 513, 1024, 2047, 2048, 4096, 8192]:
            assert adaptive_kernel(channels) == get_attn("eca")(channels).conv.kernel_size[0], channels


# ---- BAM: no reference implementation is installed; the paper is the reference -------------------


def bam_parameters_by_hand(channels: int, reduction: int = 16) -> int:
    """One BAM's parameters, written from the paper's definition (Park et al. 2018, section 3).

    Channel branch ``BN(MLP(AvgPool(F)))``: linear C -> C/r (weights and bias),
    batch norm and ReLU on the hidden layer, linear C/r -> C, then the batch
    norm on C.  Spatial branch ``BN(f3(f2(f1(f0(F)))))``: 1x1 conv C -> C/r,
    two 3x3 convs C/r -> C/r, each with bias, batch norm and ReLU, then a 1x1
    conv C/r -> 1 with bias and the batch norm on the single map.  Each batch
    norm has a scale and a shift per channel.
    """
    hidden = channels // reduction
    channel_branch = (channels * hidden + hidden) + 2 * hidden + (hidden * channels + channels) + 2 * channels
    reduce = channels * hidden + hidden + 2 * hidden
    dilated = 2 * (9 * hidden * hidden + hidden + 2 * hidden)
    project = hidden + 1 + 2
    return channel_branch + reduce + dilated + project


@pytest.mark.parametrize("channels", [256, 512, 1024])
def test_bam_module_parameters_follow_the_paper(channels: int) -> None:
    module = BottleneckAttention(channels, BAMSpec(), BuildContext())
    assert sum(p.numel() for p in module.parameters()) == bam_parameters_by_hand(channels)
    tally = Tally(channels, 7, 7)
    kind_by_name("bam").cost(BAMSpec(), tally, 1)
    assert tally.params == bam_parameters_by_hand(channels)
    assert tally.shape == (channels, 7, 7)


def test_bam_resnet50_has_the_papers_parameters_and_added_flops() -> None:
    """The paper's ImageNet table: ResNet-50 25.56M / 3.86 GFLOPs, ResNet-50 + BAM 25.92M / 3.94 GFLOPs.

    The three BAMs (after stages of 256, 512 and 1024 channels) add 361,657
    parameters to torchvision's 25,557,032: 25,918,689, which the paper rounds
    to 25.92M.  (24.07M, a figure sometimes quoted, is below ResNet-50's own
    count, so it cannot be ResNet-50 + BAM.)  The paper's "GFLOPs" are
    multiply-accumulates; the BAMs add 0.08 G of them at 224 px.
    """
    from torchvision.models import resnet50

    spec, plain = zoo.get("bam_resnet50"), zoo.get("resnet50")
    with torch.device("meta"):
        reference = resnet50()
        ours = build(spec).eval()
    reference_params = sum(p.numel() for p in reference.parameters())
    assert cost(spec).params == sum(p.numel() for p in ours.parameters())
    assert cost(spec).params == reference_params + sum(bam_parameters_by_hand(c) for c in (256, 512, 1024))
    assert round(cost(spec).params / 1e6, 2) == 25.92
    assert cost(spec).macs == meta_macs(ours, 224)
    assert round((cost(spec).macs - cost(plain).macs) / 1e9, 2) == round(3.94 - 3.86, 2)


def test_bam_refines_by_one_plus_a_gate() -> None:
    """``F * (1 + sigmoid(...))``: every positive input is kept and scaled by a factor strictly between 1 and 2."""
    torch.manual_seed(0)
    module = BottleneckAttention(32, BAMSpec(), BuildContext()).eval()
    inputs = torch.rand(2, 32, 9, 9) + 0.1
    with torch.no_grad():
        factor = module(inputs) / inputs
    assert bool(((factor > 1) & (factor < 2)).all())
    assert isinstance(module.channel.norm2, nn.BatchNorm1d) and isinstance(module.spatial.project.norm, nn.BatchNorm2d)
