"""Inception-ResNet-v2 (timm's ``inception_resnet_v2``).

"Inception-v4, Inception-ResNet and the Impact of Residual Connections on
Learning" (Szegedy et al., 2016): residual Inception modules
(blocks/inception_residual.py) at three grid sizes, 10 x Block35 (scale
0.17), 20 x Block17 (0.1) and 10 x Block8 (0.2; the last one with scale 1
and no ReLU after the sum), between Inception-v4's reduction A (with the
widths of the paper's Table 1 for this net) and a four-branch reduction B.
The stem is Inception-v3's, followed by the Mixed 5b module; a 1x1 conv to
1536 channels closes the body.  Batch norms use epsilon 1e-3.
"""

from __future__ import annotations

from searchspace.blocks import ConvSpec, InceptionResidualSpec, InceptionSpec
from searchspace.spec import NetSpec, Stage
from searchspace.zoo.inception import STEM, branch, conv, valid_conv
from searchspace.zoo.inception_v4 import MAX_POOL, pool_then_1x1, reduction_a
from searchspace.zoo.registry import Reference, ZooEntry, register

MIXED_5B = InceptionSpec(branches=(
    branch(conv(96)),
    branch(conv(48), conv(64, 5)),
    branch(conv(64), conv(96, 3), conv(96, 3)),
    pool_then_1x1(64),
))

BLOCK_35 = InceptionResidualSpec(scale=0.17, branches=(
    branch(conv(32)),
    branch(conv(32), conv(32, 3)),
    branch(conv(32), conv(48, 3), conv(64, 3)),
))

BLOCK_17 = InceptionResidualSpec(scale=0.1, branches=(
    branch(conv(192)),
    branch(conv(128), conv(160, (1, 7)), conv(192, (7, 1))),
))

BLOCK_8_BRANCHES = (
    branch(conv(192)),
    branch(conv(192), conv(224, (1, 3)), conv(256, (3, 1))),
)

# Mixed 7a, 17x17 to 8x8 (the paper's Figure 18).
REDUCTION_B = InceptionSpec(branches=(
    branch(conv(256), valid_conv(384)),
    branch(conv(256), valid_conv(288)),
    branch(conv(256), conv(288, 3), valid_conv(320)),
    branch(MAX_POOL),
))


def inception_resnet_v2_spec() -> NetSpec:
    body = (
        Stage(block=MIXED_5B),
        Stage(block=BLOCK_35, repeats=10),
        Stage(block=reduction_a(256, 256, 384, 384), stride=2),  # Mixed 6a
        Stage(block=BLOCK_17, repeats=20),
        Stage(block=REDUCTION_B, stride=2),
        Stage(block=InceptionResidualSpec(scale=0.2, branches=BLOCK_8_BRANCHES), repeats=9),
        Stage(block=InceptionResidualSpec(branches=BLOCK_8_BRANCHES, activation="identity")),
        Stage(block=ConvSpec(out_channels=1536, kernel=1)),
    )
    return NetSpec(stem=STEM, stages=body, resolution=299, norm_eps=1e-3)


register(ZooEntry(
    "inception_resnet_v2", "inception_resnet", inception_resnet_v2_spec, Reference("timm", "inception_resnet_v2", 299),
    note="Inception-ResNet-v2 (Szegedy et al., 2016) as timm builds it",
))
