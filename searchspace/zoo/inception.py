"""Inception-v3 (torchvision), with or without its auxiliary classifier.

The five module types of "Rethinking the Inception Architecture" are written
as branch lists: A (35x35, factorised 5x5 and double 3x3), B and D (grid
reductions: stage stride 2, unpadded convolutions and pools), C (17x17, 7x7
factorised into 1x7 and 7x1) and E (8x8, whose 3x3 branches fork into a 1x3
and a 3x1 that are concatenated).  Equal consecutive modules share a stage.
"""

from __future__ import annotations

from searchspace.blocks import ConvSpec, InceptionBranch, InceptionSpec, PoolSpec
from searchspace.spec import AuxHeadSpec, HeadSpec, NetSpec, Stage
from searchspace.tally import Size
from searchspace.zoo.registry import Reference, ZooEntry, flag_option, register


def conv(channels: int, kernel: Size = 1, padding: int | None = None) -> ConvSpec:
    return ConvSpec(out_channels=channels, kernel=kernel, padding=padding)


def valid_conv(channels: int, kernel: int = 3) -> ConvSpec:
    """An unpadded convolution (TensorFlow's "VALID"), as the stem and the reductions use."""
    return conv(channels, kernel, padding=0)


def branch(*layers: ConvSpec | PoolSpec, tails: tuple[InceptionBranch, ...] = ()) -> InceptionBranch:
    return InceptionBranch(layers=layers, tails=tails)


def _pool_projection(channels: int) -> InceptionBranch:
    """3x3 average pool at stride 1, then a 1x1 projection (the last branch of A, C and E)."""
    return branch(PoolSpec(op="avg", kernel=3, padding=1), conv(channels))


def split_3x3(channels: int) -> tuple[InceptionBranch, ...]:
    """A 3x3 factorised side by side into a 1x3 and a 3x1, their outputs concatenated."""
    return (branch(conv(channels, (1, 3))), branch(conv(channels, (3, 1))))


def module_a(pool_features: int) -> InceptionSpec:
    return InceptionSpec(branches=(
        branch(conv(64)),
        branch(conv(48), conv(64, 5)),
        branch(conv(64), conv(96, 3), conv(96, 3)),
        _pool_projection(pool_features),
    ))


def reduction_b() -> InceptionSpec:
    """35x35 to 17x17; the stage stride lands on each branch's last spatial layer."""
    return InceptionSpec(branches=(
        branch(valid_conv(384)),
        branch(conv(64), conv(96, 3), valid_conv(96)),
        branch(PoolSpec(kernel=3)),
    ))


def module_c(channels_7x7: int) -> InceptionSpec:
    c7 = channels_7x7
    return InceptionSpec(branches=(
        branch(conv(192)),
        branch(conv(c7), conv(c7, (1, 7)), conv(192, (7, 1))),
        branch(conv(c7), conv(c7, (7, 1)), conv(c7, (1, 7)), conv(c7, (7, 1)), conv(192, (1, 7))),
        _pool_projection(192),
    ))


def reduction_d() -> InceptionSpec:
    """17x17 to 8x8."""
    return InceptionSpec(branches=(
        branch(conv(192), valid_conv(320)),
        branch(conv(192), conv(192, (1, 7)), conv(192, (7, 1)), valid_conv(192)),
        branch(PoolSpec(kernel=3)),
    ))


def module_e() -> InceptionSpec:
    return InceptionSpec(branches=(
        branch(conv(320)),
        branch(conv(384), tails=split_3x3(384)),
        branch(conv(448), conv(384, 3), tails=split_3x3(384)),
        _pool_projection(192),
    ))


# torchvision's Mixed_5b ... Mixed_7c; equal neighbours (5c/5d, 6c/6d, 7b/7c) are one stage.
BODY = (
    Stage(block=module_a(32)),  # Mixed_5b
    Stage(block=module_a(64), repeats=2),  # Mixed_5c, Mixed_5d
    Stage(block=reduction_b(), stride=2),  # Mixed_6a
    Stage(block=module_c(128)),  # Mixed_6b
    Stage(block=module_c(160), repeats=2),  # Mixed_6c, Mixed_6d
    Stage(block=module_c(192)),  # Mixed_6e
    Stage(block=reduction_d(), stride=2),  # Mixed_7a
    Stage(block=module_e(), repeats=2),  # Mixed_7b, Mixed_7c
)
AUX_AFTER = 5  # the auxiliary classifier reads Mixed_6e's 17x17 output

STEM = (
    Stage(block=valid_conv(32), stride=2),
    Stage(block=valid_conv(32)),
    Stage(block=conv(64, 3)),
    Stage(block=PoolSpec(kernel=3), stride=2),
    Stage(block=conv(80)),
    Stage(block=valid_conv(192)),
    Stage(block=PoolSpec(kernel=3), stride=2),
)

# 5x5 average pool at stride 3 (17x17 -> 5x5), 1x1 conv to 128, unpadded 5x5 conv to 768 (-> 1x1).
AUX_HEAD = AuxHeadSpec(
    after_stage=AUX_AFTER,
    stages=(
        Stage(block=PoolSpec(op="avg", kernel=5), stride=3),
        Stage(block=conv(128)),
        Stage(block=valid_conv(768, 5)),
    ),
    head=HeadSpec(),
)


def inception_v3_spec(aux_logits: bool = True) -> NetSpec:
    """Inception-v3; ``aux_logits`` keeps the auxiliary classifier used while training."""
    with_aux = flag_option("aux_logits", aux_logits)
    return NetSpec(
        stem=STEM,
        stages=BODY,
        head=HeadSpec(dropout=(0.5,)),
        aux_heads=(AUX_HEAD,) if with_aux else (),
        resolution=299,
        norm_eps=1e-3,
    )


def aux_logits_last(keys: list[str]) -> list[str]:
    """torchvision registers AuxLogits between Mixed_6e and Mixed_7a; this toolkit registers
    auxiliary heads after the whole body, just before the classifier."""
    aux = [key for key in keys if key.startswith("AuxLogits.")]
    classifier = [key for key in keys if key.startswith("fc.")]
    body = [key for key in keys if not key.startswith(("AuxLogits.", "fc."))]
    return body + aux + classifier


register(ZooEntry(
    "inception_v3", "inception", inception_v3_spec,
    Reference("torchvision", "inception_v3", 299, {"aux_logits": True, "transform_input": False, "init_weights": False}),
    options={"aux_logits": True},
    reference_order=aux_logits_last,
    note="Rethinking the Inception Architecture (Szegedy et al., 2015) as torchvision builds it. aux_logits "
         "defaults to True like torchvision's constructor; its published parameter count includes the auxiliary "
         "classifier: 27,161,264 with it, 23,834,568 without (aux_logits=False). torchvision's pretrained "
         "weights run with transform_input=True, which turns ImageNet-normalised images into (pixel - 0.5) / 0.5: "
         "give this net images normalised with mean 0.5 and std 0.5 per channel and its outputs equal "
         "torchvision's on ImageNet-normalised ones.",
))
