"""ResNet-50 with each attention module of the slot (timm) and with BAM between its stages (paper).

timm puts ECA, CBAM and Gather-Excite after the last 1x1 of every bottleneck
(``ResNet(block_args=dict(attn_layer=...))``); its GCNet net, ``gcresnet50t``,
is a ByobNet with the context block after the 3x3, a "tiered" stem of three
3x3 convs (24, 32, 64 channels) whose last one downsamples instead of a max
pool, and projection shortcuts registered before the block's main path.
"""

from __future__ import annotations

from dataclasses import replace

from searchspace.blocks import BAMSpec, ConvSpec
from searchspace.blocks.attention import AttentionSpec
from searchspace.blocks.cbam import CBAMSpec
from searchspace.blocks.eca import ECASpec
from searchspace.blocks.gather_excite import GESpec
from searchspace.blocks.global_context import GCSpec
from searchspace.spec import NetSpec, Stage
from searchspace.zoo.convert import module_last
from searchspace.zoo.registry import Reference, ZooEntry, register
from searchspace.zoo.resnet import resnet_spec


def attention_resnet50(attention: AttentionSpec, *, position: str = "seout", deep_stem: bool = False, downsample: str = "conv1x1") -> NetSpec:
    """ResNet-50 (v1.5) with ``attention`` in every bottleneck, after the 3x3 (``semid``) or the last 1x1 (``seout``)."""
    spec = resnet_spec(50, se=attention, deep_stem=deep_stem, downsample=downsample)
    return replace(spec, stages=tuple(replace(s, block=replace(s.block, se_position=position)) for s in spec.stages))


def strided_stem(widths: tuple[int, int, int]) -> tuple[Stage, ...]:
    """Three 3x3 conv-norm-relus, the first and the last with stride 2 (timm's ByobNet stems without a pool)."""
    first, middle, last = widths
    return (
        Stage(block=ConvSpec(out_channels=first), stride=2),
        Stage(block=ConvSpec(out_channels=middle)),
        Stage(block=ConvSpec(out_channels=last), stride=2),
    )


def gcresnet50t_spec() -> NetSpec:
    spec = attention_resnet50(GCSpec(), position="semid")
    return replace(spec, stem=strided_stem((24, 32, 64)), resolution=256)


def bam_resnet50_spec() -> NetSpec:
    """ResNet-50 with a BAM after each of its first three stages, where the next one downsamples."""
    spec = resnet_spec(50)
    bam = Stage(block=BAMSpec())
    stages = []
    for stage in spec.stages[:-1]:
        stages += [stage, bam]
    return replace(spec, stages=(*stages, spec.stages[-1]))


def _timm_resnet50(name: str, attention_layer: str, make) -> ZooEntry:
    reference = Reference("timm", "resnet50", 224, {"block_args": {"attn_layer": attention_layer}})
    return ZooEntry(name, "resnet", make, reference, note=f"timm's ResNet-50 with attn_layer={attention_layer!r} in every bottleneck")


register(
    ZooEntry("ecaresnet50d", "resnet", lambda: attention_resnet50(ECASpec(), deep_stem=True, downsample="avgpool"),
             Reference("timm", "ecaresnet50d", 224),
             note="ECA-Net (Wang et al.): ResNet-50-D with efficient channel attention after the last 1x1"),
    _timm_resnet50("cbam_resnet50", "cbam", lambda: attention_resnet50(CBAMSpec())),
    _timm_resnet50("ge_resnet50", "ge", lambda: attention_resnet50(GESpec())),
    ZooEntry("gcresnet50t", "resnet", gcresnet50t_spec, Reference("timm", "gcresnet50t", 256),
             reference_order=module_last(r"stages\.\d+\.\d+", "shortcut"),
             note="GCNet (Cao et al.): global context after the 3x3 of every bottleneck, timm's tiered stem"),
    ZooEntry("bam_resnet50", "resnet", bam_resnet50_spec, Reference("paper", "BAM", 224),
             note="BAM: Bottleneck Attention Module (Park et al., 2018): 25.92M parameters in the paper's ImageNet table"),
)
