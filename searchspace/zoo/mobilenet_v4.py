"""MobileNetV4 conv-small, -medium and -large and hybrid-medium and -large (timm's ``mobilenetv4_conv_*``, ``mobilenetv4_hybrid_*``).

The bodies are written in this toolkit's own spec language, one token per
stage, because MobileNetV4's blocks are a long list of universal inverted
bottlenecks that differ in which depthwise convs they have:
``uib_c160_a3_k5`` has a 3x3 depthwise conv at the start and a 5x5 one in the
middle (ExtraDW), ``k0`` removes the middle one (ConvNeXt-like), ``a`` absent
and ``k0`` leave a feed-forward block; the expansion is 4 unless ``e`` says
otherwise.  ``fused`` is timm's EdgeResidual (a fused-MBConv with expansion 4),
``conv`` its ConvBnAct.

The head pools first and then applies timm's 1x1 ``conv_head`` (960 to 1280,
no bias, norm and ReLU) to the pooled 1x1 map, which is a hidden linear layer
with batch norm; the weight converter reshapes the conv weight onto it.

The hybrid nets put Mobile MQA blocks (``mqa_c160_h4_d64_v2``: 4 query heads of
width 64, keys and values from a map shrunk by a stride-2 depthwise conv) among
the UIBs of the last two stages.  timm gives every UIB and MQA block of them a
layer scale starting at 1e-5, and the large one GELU everywhere in place of ReLU;
both are applied to the whole body rather than written on each token.
"""

from __future__ import annotations

from dataclasses import fields, replace

from searchspace.blocks import MobileMQASpec, UIBSpec
from searchspace.codec import decode
from searchspace.fields import SpecBase
from searchspace.spec import NetSpec
from searchspace.zoo.registry import Reference, ZooEntry, register

HEAD = "head_h1280_hnorm_nohbias"

# name: (resolution of timm's pretrained weights, stem width, body stages), as timm defines the conv models.
VARIANTS = {
    "mobilenetv4_conv_small": (224, 32, """
        conv_s2_c32 conv_c32_k1
        conv_s2_c96 conv_c64_k1
        uib_s2_c96_e3_a5_k5 uib_r4_c96_e2 uib_c96_a3_k0
        uib_s2_c128_e6_a3 uib_c128_a5_k5 uib_c128_k5 uib_c128_e3_k5 uib_r2_c128
        conv_c960_k1
    """),
    "mobilenetv4_conv_medium": (256, 32, """
        fused_s2_c48_e4
        uib_s2_c80_a3_k5 uib_c80_e2_a3
        uib_s2_c160_e6_a3_k5 uib_r2_c160_a3 uib_c160_a3_k5 uib_c160_a3 uib_c160_a3_k0 uib_c160_e2_k0 uib_c160_a3_k0
        uib_s2_c256_e6_a5_k5 uib_c256_a5_k5 uib_r2_c256_a3_k5 uib_c256_k0 uib_c256_a3_k0 uib_c256_e2_a3_k5
        uib_c256_a5_k5 uib_r2_c256_k0 uib_c256_e2_a5_k0
        conv_c960_k1
    """),
    "mobilenetv4_conv_large": (384, 24, """
        fused_s2_c48_e4
        uib_s2_c96_a3_k5 uib_c96_a3
        uib_s2_c192_a3_k5 uib_r3_c192_a3 uib_c192_a3_k5 uib_r5_c192_a5 uib_c192_a3_k0
        uib_r4_s2_c512_a5_k5 uib_c512_a5_k0 uib_c512_a5 uib_r2_c512_a5_k0 uib_c512_a5 uib_c512_a5_k5 uib_r3_c512_a5_k0
        conv_c960_k1
    """),
}


# name: (resolution, stem width, activation, body stages) of timm's hybrid models.
HYBRID_VARIANTS = {
    "mobilenetv4_hybrid_medium": (256, 32, "relu", """
        fused_s2_c48_e4
        uib_s2_c80_a3_k5 uib_c80_e2_a3
        uib_s2_c160_e6_a3_k5 uib_c160_e2_k0 uib_c160_a3 uib_c160_a3_k5 mqa_c160_h4_d64_v2 uib_c160_a3 mqa_c160_h4_d64_v2
        uib_c160_a3_k0 mqa_c160_h4_d64_v2 uib_c160_a3 mqa_c160_h4_d64_v2 uib_c160_a3_k0
        uib_s2_c256_e6_a5_k5 uib_c256_a5_k5 uib_r2_c256_a3_k5 uib_c256_e2_k0 uib_c256_e2_a3_k5 uib_c256_e2_k0 uib_c256_k0
        mqa_c256_h4_d64 uib_c256_a3_k0 mqa_c256_h4_d64 uib_c256_a5_k5 mqa_c256_h4_d64 uib_c256_a5_k0 mqa_c256_h4_d64 uib_c256_a5_k0
        conv_c960_k1
    """),
    "mobilenetv4_hybrid_large": (384, 24, "gelu", """
        fused_s2_c48_e4
        uib_s2_c96_a3_k5 uib_c96_a3
        uib_s2_c192_a3_k5 uib_r3_c192_a3 uib_c192_a3_k5 uib_r2_c192_a5 mqa_c192_h8_d48_v2 uib_c192_a5 mqa_c192_h8_d48_v2
        uib_c192_a5 mqa_c192_h8_d48_v2 uib_c192_a5 mqa_c192_h8_d48_v2 uib_c192_a3_k0
        uib_r4_s2_c512_a5_k5 uib_c512_a5_k0 uib_c512_a5 uib_r2_c512_a5_k0 uib_c512_a5 uib_c512_a5_k5
        mqa_c512_h8_d64 uib_c512_a5_k0 mqa_c512_h8_d64 uib_c512_a5_k0 mqa_c512_h8_d64 uib_c512_a5_k0 mqa_c512_h8_d64 uib_c512_a5_k0
        conv_c960_k1
    """),
}
HYBRID_LAYER_SCALE = 1e-5


def mobilenet_v4_spec(resolution: int, stem_width: int, body: str) -> NetSpec:
    return decode(f"net_r{resolution} | conv_s2_c{stem_width} | {body} | {HEAD}")


def _as_timm_hybrid(block: SpecBase, activation: str) -> SpecBase:
    changes = {"activation": activation} if any(f.name == "activation" for f in fields(block)) else {}
    if isinstance(block, (UIBSpec, MobileMQASpec)):
        changes["layer_scale_init"] = HYBRID_LAYER_SCALE
    return replace(block, **changes)


def mobilenet_v4_hybrid_spec(resolution: int, stem_width: int, activation: str, body: str) -> NetSpec:
    spec = mobilenet_v4_spec(resolution, stem_width, body)
    stem, stages = (tuple(replace(s, block=_as_timm_hybrid(s.block, activation)) for s in part) for part in (spec.stem, spec.stages))
    return replace(spec, stem=stem, stages=stages, head=replace(spec.head, activation=activation))


def _entry(name: str) -> ZooEntry:
    resolution, stem_width, body = VARIANTS[name]
    return ZooEntry(name, "mobilenet", lambda: mobilenet_v4_spec(resolution, stem_width, body), Reference("timm", name, resolution))


def _hybrid_entry(name: str) -> ZooEntry:
    resolution, stem_width, activation, body = HYBRID_VARIANTS[name]
    return ZooEntry(name, "mobilenet", lambda: mobilenet_v4_hybrid_spec(resolution, stem_width, activation, body), Reference("timm", name, resolution))


register(*(_entry(name) for name in VARIANTS), *(_hybrid_entry(name) for name in HYBRID_VARIANTS))
