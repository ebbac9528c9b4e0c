"""MobileNetV1 (timm's ``mobilenetv1_100``).

Thirteen depthwise-separable convolutions after a 32-wide stride-2 stem, each
a depthwise 3x3 and a pointwise 1x1, both followed by norm and ReLU6.  As an
MBConv that is expansion 1 with an activation after the projection and no
residual connection; there is no head conv, pooling feeds the classifier.
"""

from __future__ import annotations

from searchspace.blocks import ConvSpec, MBConvSpec
from searchspace.spec import HeadSpec, NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register

# (output width, repeats, first stride) of the separable convs, Table 1 of the MobileNet paper.
SEPARABLE_CONVS = ((64, 1, 1), (128, 2, 2), (256, 2, 2), (512, 6, 2), (1024, 2, 2))


def mobilenet_v1_spec() -> NetSpec:
    def separable(out: int) -> MBConvSpec:
        return MBConvSpec(out_channels=out, expand_ratio=1, activation="relu6", skip=False, project_activation=True)

    return NetSpec(
        stem=(Stage(block=ConvSpec(out_channels=32, activation="relu6"), stride=2),),
        stages=tuple(Stage(block=separable(c), repeats=n, stride=s) for c, n, s in SEPARABLE_CONVS),
        head=HeadSpec(),
    )


register(ZooEntry("mobilenetv1_100", "mobilenet", mobilenet_v1_spec, Reference("timm", "mobilenetv1_100", 224)))
