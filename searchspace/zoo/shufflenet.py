"""ShuffleNetV2 at its four published widths (torchvision).

Each variant is a 3x3 stride-2 conv and a max pool, three stages of shuffle
units (4, 8 and 4 of them, the first of each at stride 2), and ``conv5``: a
1x1 conv-norm-act before global average pooling, here the head's conv.
The widths are not one rule applied to a base net but a table of the paper's
(Table 5), so each variant lists its own.
"""

from __future__ import annotations

from searchspace.blocks import ConvSpec, PoolSpec, ShuffleSpec
from searchspace.spec import HeadSpec, NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register

STEM_WIDTH = 24
REPEATS = (4, 8, 4)

# name: (widths of the three stages, width of conv5)
VARIANTS = {
    "shufflenet_v2_x0_5": ((48, 96, 192), 1024),
    "shufflenet_v2_x1_0": ((116, 232, 464), 1024),
    "shufflenet_v2_x1_5": ((176, 352, 704), 1024),
    "shufflenet_v2_x2_0": ((244, 488, 976), 2048),
}


def shufflenet_v2_spec(stage_widths: tuple[int, int, int], conv5_width: int) -> NetSpec:
    return NetSpec(
        stem=(
            Stage(block=ConvSpec(out_channels=STEM_WIDTH), stride=2),
            Stage(block=PoolSpec(kernel=3, padding=1), stride=2),
        ),
        stages=tuple(
            Stage(block=ShuffleSpec(out_channels=width), repeats=repeats, stride=2)
            for width, repeats in zip(stage_widths, REPEATS)
        ),
        head=HeadSpec(conv_channels=conv5_width),
    )


def _entry(name: str, stage_widths: tuple[int, int, int], conv5_width: int) -> ZooEntry:
    return ZooEntry(name, "shufflenet", lambda: shufflenet_v2_spec(stage_widths, conv5_width), Reference("torchvision", name, 224))


register(*(_entry(name, widths, conv5) for name, (widths, conv5) in VARIANTS.items()))
