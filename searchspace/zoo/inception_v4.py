"""Inception-v4 (timm's ``inception_v4``): every module, stem included, as Inception branch lists.

"Inception-v4, Inception-ResNet and the Impact of Residual Connections on
Learning" (Szegedy et al., 2016), Figures 3 to 9.  The stem's Mixed 3a, 4a and
5a are small Inception modules (a strided max pool beside a strided conv, then
two branches of unpadded convs); modules A, B and C repeat 4, 7 and 3 times
between the two grid reductions.  Their pooling branches average a 3x3 window
at stride 1 without counting the padding.  Batch norms use epsilon 1e-3.
"""

from __future__ import annotations

from searchspace.blocks import InceptionBranch, InceptionSpec, PoolSpec
from searchspace.spec import NetSpec, Stage
from searchspace.zoo.inception import branch, conv, split_3x3, valid_conv
from searchspace.zoo.registry import Reference, ZooEntry, register

# Unpadded 3x3 max pool: at the stage stride 2 in the stem and the reductions.
MAX_POOL = PoolSpec(kernel=3)


def pool_then_1x1(channels: int) -> InceptionBranch:
    """3x3 average pool at stride 1 that leaves the padding out of the mean, then a 1x1 conv."""
    return branch(PoolSpec(op="avg", kernel=3, padding=1, count_include_pad=False), conv(channels))


def mixed_4a() -> InceptionSpec:
    return InceptionSpec(branches=(
        branch(conv(64), valid_conv(96)),
        branch(conv(64), conv(64, (1, 7)), conv(64, (7, 1)), valid_conv(96)),
    ))


def inception_a() -> InceptionSpec:
    return InceptionSpec(branches=(
        branch(conv(96)),
        branch(conv(64), conv(96, 3)),
        branch(conv(64), conv(96, 3), conv(96, 3)),
        pool_then_1x1(96),
    ))


def reduction_a(bottleneck: int, middle: int, double_out: int, single_out: int) -> InceptionSpec:
    """35x35 to 17x17 (Figure 7): the paper's Table 1 calls the widths k, l, m, n (Inception-v4: 192, 224, 256, 384)."""
    return InceptionSpec(branches=(
        branch(valid_conv(single_out)),
        branch(conv(bottleneck), conv(middle, 3), valid_conv(double_out)),
        branch(MAX_POOL),
    ))


def inception_b() -> InceptionSpec:
    return InceptionSpec(branches=(
        branch(conv(384)),
        branch(conv(192), conv(224, (1, 7)), conv(256, (7, 1))),
        branch(conv(192), conv(192, (7, 1)), conv(224, (1, 7)), conv(224, (7, 1)), conv(256, (1, 7))),
        pool_then_1x1(128),
    ))


def reduction_b() -> InceptionSpec:
    """17x17 to 8x8 (Figure 8)."""
    return InceptionSpec(branches=(
        branch(conv(192), valid_conv(192)),
        branch(conv(256), conv(256, (1, 7)), conv(320, (7, 1)), valid_conv(320)),
        branch(MAX_POOL),
    ))


def inception_c() -> InceptionSpec:
    return InceptionSpec(branches=(
        branch(conv(256)),
        branch(conv(384), tails=split_3x3(256)),
        branch(conv(384), conv(448, (3, 1)), conv(512, (1, 3)), tails=split_3x3(256)),
        pool_then_1x1(256),
    ))


STEM = (Stage(block=valid_conv(32), stride=2), Stage(block=valid_conv(32)), Stage(block=conv(64, 3)))
# Mixed 3a, 4a and 5a (Figure 3): the rest of the paper's stem, Inception modules in form.
STEM_MODULES = (
    Stage(block=InceptionSpec(branches=(branch(MAX_POOL), branch(valid_conv(96)))), stride=2),
    Stage(block=mixed_4a()),
    Stage(block=InceptionSpec(branches=(branch(valid_conv(192)), branch(MAX_POOL))), stride=2),
)


def inception_v4_spec() -> NetSpec:
    body = (
        *STEM_MODULES,
        Stage(block=inception_a(), repeats=4),
        Stage(block=reduction_a(192, 224, 256, 384), stride=2),
        Stage(block=inception_b(), repeats=7),
        Stage(block=reduction_b(), stride=2),
        Stage(block=inception_c(), repeats=3),
    )
    return NetSpec(stem=STEM, stages=body, resolution=299, norm_eps=1e-3)


register(ZooEntry(
    "inception_v4", "inception_v4", inception_v4_spec, Reference("timm", "inception_v4", 299),
    note="Inception-v4 (Szegedy et al., 2016) as timm builds it",
))
