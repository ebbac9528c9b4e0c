"""MobileNetV3 large and small (torchvision), with their width multiplier.

The paper's tables give every block's expanded width as a number of its own,
not as a ratio, and torchvision scales those numbers independently of the
block widths; so the width multiplier is ``scale_width`` with
``expanded="absolute"``.  The head's 1x1 conv is six times the last block
width, and the hidden linear layer (1280 or 1024) scales like any width.
"""

from __future__ import annotations

from searchspace.blocks import ConvSpec, MBConvSpec, SESpec
from searchspace.scaling import scale_width
from searchspace.spec import HeadSpec, NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register

STEM_WIDTH = 16
HEAD_CONV_PER_LAST_WIDTH = 6

# Squeeze width: a quarter of the expanded width rounded to 8, hard-sigmoid gate (the paper's section 5.3).
SQUEEZE_EXCITE = SESpec(ratio=0.25, relative_to="mid", divisor=8, gate="hardsigmoid")

# (kernel, expanded width, output width, SE, activation, first stride, repeats): Tables 1 and 2 of
# "Searching for MobileNetV3", with consecutive identical rows written once with a repeat count.
LARGE = (
    (3, 16, 16, False, "relu", 1, 1),
    (3, 64, 24, False, "relu", 2, 1),
    (3, 72, 24, False, "relu", 1, 1),
    (5, 72, 40, True, "relu", 2, 1),
    (5, 120, 40, True, "relu", 1, 2),
    (3, 240, 80, False, "hardswish", 2, 1),
    (3, 200, 80, False, "hardswish", 1, 1),
    (3, 184, 80, False, "hardswish", 1, 2),
    (3, 480, 112, True, "hardswish", 1, 1),
    (3, 672, 112, True, "hardswish", 1, 1),
    (5, 672, 160, True, "hardswish", 2, 1),
    (5, 960, 160, True, "hardswish", 1, 2),
)
SMALL = (
    (3, 16, 16, True, "relu", 2, 1),
    (3, 72, 24, False, "relu", 2, 1),
    (3, 88, 24, False, "relu", 1, 1),
    (5, 96, 40, True, "hardswish", 2, 1),
    (5, 240, 40, True, "hardswish", 1, 2),
    (5, 120, 48, True, "hardswish", 1, 1),
    (5, 144, 48, True, "hardswish", 1, 1),
    (5, 288, 96, True, "hardswish", 2, 1),
    (5, 576, 96, True, "hardswish", 1, 2),
)
# size: (table, width of the hidden linear layer)
VARIANTS = {"large": (LARGE, 1280), "small": (SMALL, 1024)}


def _stages(table: tuple[tuple, ...]) -> tuple[Stage, ...]:
    """The table as stages; specs hold expansion ratios, so each expanded width is divided by its block's input."""
    stages, in_channels = [], STEM_WIDTH
    for kernel, expanded, out, use_se, activation, stride, repeats in table:
        block = MBConvSpec(
            out_channels=out, expand_ratio=expanded / in_channels, kernel=kernel,
            activation=activation, se=SQUEEZE_EXCITE if use_se else None,
        )
        stages.append(Stage(block=block, repeats=repeats, stride=stride))
        in_channels = out
    return tuple(stages)


def mobilenet_v3_spec(size: str, width_mult: float = 1.0) -> NetSpec:
    """MobileNetV3-Large or -Small; ``width_mult`` as torchvision's (every width rounded to 8 on its own)."""
    if size not in VARIANTS:
        raise ValueError(f"MobileNetV3 size {size!r} is not known (allowed: {', '.join(VARIANTS)})")
    table, hidden_width = VARIANTS[size]
    last_width = table[-1][2]
    base = NetSpec(
        stem=(Stage(block=ConvSpec(out_channels=STEM_WIDTH, activation="hardswish"), stride=2),),
        stages=_stages(table),
        head=HeadSpec(
            conv_channels=HEAD_CONV_PER_LAST_WIDTH * last_width, activation="hardswish",
            hidden=(hidden_width,), dropout=(0.0, 0.2),
        ),
        norm_eps=1e-3,  # torchvision trains MobileNetV3 with TensorFlow's batch-norm settings
        norm_momentum=0.01,
    )
    if width_mult == 1.0:
        return base
    return scale_width(base, width_mult, head_conv=HEAD_CONV_PER_LAST_WIDTH, expanded="absolute")


def _entry(size: str) -> ZooEntry:
    name = f"mobilenet_v3_{size}"
    return ZooEntry(
        name, "mobilenet", lambda width_mult: mobilenet_v3_spec(size, width_mult),
        Reference("torchvision", name, 224), options={"width_mult": 1.0},
    )


register(_entry("large"), _entry("small"))
