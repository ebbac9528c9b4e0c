"""MobileNetV4 conv-small, -medium and -large (timm's ``mobilenetv4_conv_*``).

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
"""

from __future__ import annotations

from searchspace.codec import decode
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


def mobilenet_v4_spec(resolution: int, stem_width: int, body: str) -> NetSpec:
    return decode(f"net_r{resolution} | conv_s2_c{stem_width} | {body} | {HEAD}")


def _entry(name: str) -> ZooEntry:
    resolution, stem_width, body = VARIANTS[name]
    return ZooEntry(name, "mobilenet", lambda: mobilenet_v4_spec(resolution, stem_width, body), Reference("timm", name, resolution))


register(*(_entry(name) for name in VARIANTS))
