"""EfficientNet B0-B7 and EfficientNetV2 S/M/L (torchvision).

B1-B7 are B0 scaled: widths by the published width coefficient (rounded to
8, the head conv four times the last width), depths by the depth coefficient
(rounded up), each at its own resolution and dropout.  The largest three also
use TensorFlow's batch-norm settings, as torchvision does for them.

Every MBConv has squeeze-and-excitation with a quarter of the block's input
width and SiLU inside; stochastic depth rises linearly to 0.2 over the blocks.
"""

from __future__ import annotations

from dataclasses import replace

from searchspace.blocks import ConvSpec, FusedMBConvSpec, MBConvSpec, SESpec
from searchspace.scaling import scale_depth, scale_width
from searchspace.spec import HeadSpec, NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register

HEAD_CONV_PER_LAST_WIDTH = 4
STOCHASTIC_DEPTH = 0.2
SQUEEZE_EXCITE = SESpec(ratio=0.25, relative_to="in", activation="silu")

# (expansion, kernel, first stride, output width, repeats): Table 1 of the EfficientNet paper, after a 32-wide stem.
B0_STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))

# name: (width coefficient, depth coefficient, resolution, dropout).  Coefficients and dropout as published;
# the resolution is the crop of torchvision's default weights (B2's is 288 there, 260 in the paper).
B_VARIANTS = {
    "efficientnet_b0": (1.0, 1.0, 224, 0.2),
    "efficientnet_b1": (1.0, 1.1, 240, 0.2),
    "efficientnet_b2": (1.1, 1.2, 288, 0.3),
    "efficientnet_b3": (1.2, 1.4, 300, 0.3),
    "efficientnet_b4": (1.4, 1.8, 380, 0.4),
    "efficientnet_b5": (1.6, 2.2, 456, 0.4),
    "efficientnet_b6": (1.8, 2.6, 528, 0.5),
    "efficientnet_b7": (2.0, 3.1, 600, 0.5),
}
# torchvision's B5-B7 carry weights ported from TensorFlow, with its batch-norm epsilon and decay 0.99.
TENSORFLOW_NORM = {"norm_eps": 1e-3, "norm_momentum": 0.01}
TENSORFLOW_NORM_VARIANTS = ("efficientnet_b5", "efficientnet_b6", "efficientnet_b7")


def _mbconv(expansion: float, kernel: int, out: int) -> MBConvSpec:
    return MBConvSpec(out_channels=out, expand_ratio=expansion, kernel=kernel, activation="silu", se=SQUEEZE_EXCITE)


def efficientnet_b0_spec() -> NetSpec:
    return NetSpec(
        stem=(Stage(block=ConvSpec(out_channels=32, activation="silu"), stride=2),),
        stages=tuple(Stage(block=_mbconv(t, k, c), repeats=n, stride=s) for t, k, s, c, n in B0_STAGES),
        head=HeadSpec(conv_channels=HEAD_CONV_PER_LAST_WIDTH * B0_STAGES[-1][3], activation="silu", dropout=(0.2,)),
        drop_path_rate=STOCHASTIC_DEPTH,
    )


def efficientnet_b_spec(width: float, depth: float, resolution: int, dropout: float, tensorflow_norm: bool = False) -> NetSpec:
    """B0 scaled by a width and a depth coefficient (torchvision's ``width_mult``/``depth_mult``)."""
    spec = scale_depth(scale_width(efficientnet_b0_spec(), width, head_conv=HEAD_CONV_PER_LAST_WIDTH), depth)
    norm = TENSORFLOW_NORM if tensorflow_norm else {}
    return replace(spec, resolution=resolution, head=replace(spec.head, dropout=(dropout,)), **norm)


# EfficientNetV2 as torchvision configures it (S is Table 4 of the EfficientNetV2 paper):
# (fused, expansion, first stride, output width, repeats), all 3x3, after the stem.
V2_VARIANTS = {
    "efficientnet_v2_s": (24, ((True, 1, 1, 24, 2), (True, 4, 2, 48, 4), (True, 4, 2, 64, 4),
                               (False, 4, 2, 128, 6), (False, 6, 1, 160, 9), (False, 6, 2, 256, 15))),
    "efficientnet_v2_m": (24, ((True, 1, 1, 24, 3), (True, 4, 2, 48, 5), (True, 4, 2, 80, 5),
                               (False, 4, 2, 160, 7), (False, 6, 1, 176, 14), (False, 6, 2, 304, 18), (False, 6, 1, 512, 5))),
    "efficientnet_v2_l": (32, ((True, 1, 1, 32, 4), (True, 4, 2, 64, 7), (True, 4, 2, 96, 7),
                               (False, 4, 2, 192, 10), (False, 6, 1, 224, 19), (False, 6, 2, 384, 25), (False, 6, 1, 640, 7))),
}
V2_RESOLUTION_AND_DROPOUT = {"efficientnet_v2_s": (384, 0.2), "efficientnet_v2_m": (480, 0.3), "efficientnet_v2_l": (480, 0.4)}
V2_HEAD_CONV = 1280


def efficientnet_v2_spec(stem_width: int, stages: tuple[tuple, ...], resolution: int, dropout: float) -> NetSpec:
    """Fused-MBConv stages (no SE) then MBConv stages; batch-norm epsilon 1e-3 as in torchvision."""
    def block(fused: bool, expansion: float, out: int):
        if fused:
            return FusedMBConvSpec(out_channels=out, expand_ratio=expansion, activation="silu")
        return _mbconv(expansion, 3, out)

    return NetSpec(
        stem=(Stage(block=ConvSpec(out_channels=stem_width, activation="silu"), stride=2),),
        stages=tuple(Stage(block=block(f, t, c), repeats=n, stride=s) for f, t, s, c, n in stages),
        head=HeadSpec(conv_channels=V2_HEAD_CONV, activation="silu", dropout=(dropout,)),
        resolution=resolution,
        norm_eps=1e-3,
        drop_path_rate=STOCHASTIC_DEPTH,
    )


def _b_entry(name: str) -> ZooEntry:
    width, depth, resolution, dropout = B_VARIANTS[name]
    tensorflow_norm = name in TENSORFLOW_NORM_VARIANTS
    return ZooEntry(
        name, "efficientnet", lambda: efficientnet_b_spec(width, depth, resolution, dropout, tensorflow_norm),
        Reference("torchvision", name, resolution),
    )


def _v2_entry(name: str) -> ZooEntry:
    stem_width, stages = V2_VARIANTS[name]
    resolution, dropout = V2_RESOLUTION_AND_DROPOUT[name]
    return ZooEntry(
        name, "efficientnet", lambda: efficientnet_v2_spec(stem_width, stages, resolution, dropout),
        Reference("torchvision", name, resolution),
    )


register(*(_b_entry(name) for name in B_VARIANTS), *(_v2_entry(name) for name in V2_VARIANTS))
