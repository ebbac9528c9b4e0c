"""Pre-activation ResNet (ResNet v2): timm's ``resnetv2_50`` and ``resnetv2_50d``.

"Identity Mappings in Deep Residual Networks" (He et al., 2016) moves each
norm and activation before its convolution (blocks/preact.py).  The stem is
therefore a bare convolution (no norm: the first block's pre-activation
normalises its output) and a max pool, and a final norm-act closes the body
before the head.  The "d" variant takes ResNet-D's two changes: a deep stem of
three 3x3 convolutions (ResNet-C; the last one bare) and average pooling
before each strided projection.
"""

from __future__ import annotations

from searchspace.blocks import ConvSpec, NormActSpec, PoolSpec, PreActBottleneckSpec
from searchspace.spec import NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register
from searchspace.zoo.resnet import DEPTHS, PLANES

BOTTLENECK_EXPANSION = 4


def _bare_conv(channels: int, kernel: int = 3) -> ConvSpec:
    return ConvSpec(out_channels=channels, kernel=kernel, norm=False, activation="identity")


def _stem(deep: bool) -> tuple[Stage, ...]:
    if deep:
        convs = (Stage(block=ConvSpec(out_channels=32), stride=2), Stage(block=ConvSpec(out_channels=32)), Stage(block=_bare_conv(64)))
    else:
        convs = (Stage(block=_bare_conv(64, 7), stride=2),)
    return (*convs, Stage(block=PoolSpec(kernel=3, padding=1), stride=2))


def resnetv2_spec(depth: int, deep: bool = False) -> NetSpec:
    downsample = "avgpool" if deep else "conv1x1"
    stages = tuple(
        Stage(block=PreActBottleneckSpec(out_channels=BOTTLENECK_EXPANSION * planes, downsample=downsample), repeats=repeats, stride=1 if i == 0 else 2)
        for i, (planes, repeats) in enumerate(zip(PLANES, DEPTHS[depth]))
    )
    return NetSpec(stem=_stem(deep), stages=(*stages, Stage(block=NormActSpec())))


register(
    ZooEntry("resnetv2_50", "resnetv2", lambda: resnetv2_spec(50), Reference("timm", "resnetv2_50", 224),
             note="Identity Mappings in Deep Residual Networks (He et al., 2016): pre-activation bottlenecks, stride on the 3x3"),
    ZooEntry("resnetv2_50d", "resnetv2", lambda: resnetv2_spec(50, deep=True), Reference("timm", "resnetv2_50d", 224),
             note="resnetv2_50 with ResNet-D's deep stem and average-pool shortcut"),
)
