"""MobileNetV2 (torchvision), with its width multiplier."""

from __future__ import annotations

from searchspace.blocks import ConvSpec, MBConvSpec
from searchspace.scaling import scale_width
from searchspace.spec import HeadSpec, NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register

# (expansion t, output channels c, repeats n, first stride s), from the MobileNetV2 paper's Table 2.
INVERTED_RESIDUALS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def mobilenet_v2_spec(width_mult: float = 1.0) -> NetSpec:
    """MobileNetV2; ``width_mult`` as torchvision's (widths rounded to 8, head conv never below 1280)."""
    base = NetSpec(
        stem=(Stage(block=ConvSpec(out_channels=32, activation="relu6"), stride=2),),
        stages=tuple(
            Stage(block=MBConvSpec(out_channels=c, expand_ratio=t, activation="relu6"), repeats=n, stride=s)
            for t, c, n, s in INVERTED_RESIDUALS
        ),
        head=HeadSpec(conv_channels=1280, activation="relu6", dropout=(0.2,)),
    )
    return base if width_mult == 1.0 else scale_width(base, width_mult, head_conv="at_least")


register(ZooEntry("mobilenet_v2", "mobilenet", mobilenet_v2_spec, Reference("torchvision", "mobilenet_v2", 224), options={"width_mult": 1.0}))
