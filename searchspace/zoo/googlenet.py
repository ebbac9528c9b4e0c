"""GoogLeNet (Inception v1) as torchvision builds it, with or without its auxiliary classifiers.

torchvision's version differs from the 2014 paper in three ways that change
the architecture, and the zoo follows torchvision, its reference: a batch norm
(epsilon 1e-3) after every convolution, no local response normalisation, and
a 3x3 convolution where the paper's "5x5" branch has a 5x5 (a known slip kept
for its pretrained weights, pytorch/vision#906).
"""

from __future__ import annotations

from searchspace.blocks import (
    AdaptivePoolSpec,
    ConvSpec,
    InceptionBranch,
    InceptionSpec,
    PoolSpec,
)
from searchspace.spec import AuxHeadSpec, HeadSpec, NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, flag_option, register

# Widths of each Inception module, from the paper's Table 1:
# (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
MODULE_WIDTHS = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
# Max pools between the module groups, by their window (torchvision's maxpool3 and maxpool4).
POOL_WINDOWS = {"pool3": 3, "pool4": 2}
BODY = ("3a", "3b", "pool3", "4a", "4b", "4c", "4d", "4e", "pool4", "5a", "5b")
# The paper's two auxiliary classifiers read the outputs of modules 4a and 4d.
AUX_AFTER = ("4a", "4d")


def _conv(channels: int, kernel: int = 1) -> ConvSpec:
    return ConvSpec(out_channels=channels, kernel=kernel)


def max_pool(window: int) -> Stage:
    # Caffe rounded pooled sizes up; torchvision keeps that with ceil_mode.
    return Stage(block=PoolSpec(kernel=window, ceil_mode=True), stride=2)


def inception_module(ch1x1: int, ch3x3_reduce: int, ch3x3: int, ch5x5_reduce: int, ch5x5: int, pool_proj: int,
                     long_kernel: int = 3) -> InceptionSpec:
    """One Inception module; its "5x5" branch convolves ``long_kernel`` wide: 3 as torchvision's does, 5 as the paper's."""
    return InceptionSpec(branches=(
        InceptionBranch(layers=(_conv(ch1x1),)),
        InceptionBranch(layers=(_conv(ch3x3_reduce), _conv(ch3x3, 3))),
        InceptionBranch(layers=(_conv(ch5x5_reduce), _conv(ch5x5, long_kernel))),
        InceptionBranch(layers=(PoolSpec(kernel=3, padding=1, ceil_mode=True), _conv(pool_proj))),
    ))


def _body_stage(name: str) -> Stage:
    if name in POOL_WINDOWS:
        return max_pool(POOL_WINDOWS[name])
    return Stage(block=inception_module(*MODULE_WIDTHS[name]))


def _aux_head(after: str) -> AuxHeadSpec:
    """Pool to 4x4, 1x1 conv to 128, then 2048 -> 1024 -> classes with dropout 0.7 before the last."""
    return AuxHeadSpec(
        after_stage=BODY.index(after),
        stages=(Stage(block=AdaptivePoolSpec(size=4)), Stage(block=_conv(128))),
        head=HeadSpec(pool="flatten", hidden=(1024,), dropout=(0.0, 0.7)),
    )


def googlenet_spec(aux_logits: bool = False) -> NetSpec:
    """GoogLeNet; ``aux_logits`` adds the two auxiliary classifiers used while training."""
    with_aux = flag_option("aux_logits", aux_logits)
    body = tuple(_body_stage(name) for name in BODY)
    return googlenet_layout(body, tuple(_aux_head(after) for after in AUX_AFTER) if with_aux else ())


def googlenet_layout(body: tuple[Stage, ...], aux_heads: tuple[AuxHeadSpec, ...] = ()) -> NetSpec:
    """GoogLeNet's stem and head around ``body`` (its modules and pools; the `googlenet` space draws other bodies)."""
    return NetSpec(
        stem=(
            Stage(block=_conv(64, 7), stride=2),
            max_pool(3),
            Stage(block=_conv(64)),
            Stage(block=_conv(192, 3)),
            max_pool(3),
        ),
        stages=body,
        head=HeadSpec(dropout=(0.2,)),
        aux_heads=aux_heads,
        norm_eps=1e-3,
    )


register(ZooEntry(
    "googlenet", "inception", googlenet_spec,
    # torchvision's constructor adds the auxiliary heads by default; its published
    # weights and parameter count (6,624,904) are without them.
    Reference("torchvision", "googlenet", 224, {"aux_logits": False, "transform_input": False, "init_weights": False}),
    options={"aux_logits": False},
    note="Going Deeper with Convolutions (Szegedy et al., 2014) as torchvision builds it: batch norm, no LRN, "
         "3x3 in the '5x5' branch. aux_logits=True adds the two auxiliary classifiers (13,004,888 parameters "
         "instead of 6,624,904). torchvision's pretrained weights run with transform_input=True, which turns "
         "ImageNet-normalised images into (pixel - 0.5) / 0.5: give this net images normalised with mean 0.5 "
         "and std 0.5 per channel and its outputs equal torchvision's on ImageNet-normalised ones.",
))
