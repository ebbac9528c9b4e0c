"""ShuffleNet (v1) with g = 1, 2, 3, 4, 8 groups at 0.5x, 1x and 2x, from the paper.

Zhang, Zhou, Lin and Sun, "ShuffleNet: An Extremely Efficient Convolutional
Neural Network for Mobile Devices", CVPR 2018, Table 1: a 3x3 stride-2 conv of
24 channels and a 3x3 stride-2 max pool, three stages of 4, 8 and 4 ShuffleNet
units (the first of each at stride 2) whose widths depend on g, global average
pooling and a 1000-way fully connected layer.  "ShuffleNet s x" scales the
number of filters of 1x by s (Sec. 4.1.1).  Two choices the paper leaves open:

* the stem's 24·s channels are rounded down to a multiple of g, so that the
  first unit's branch (stage width − stem width) splits into g groups (only
  0.5x with g = 8 is affected: 8 channels instead of 12);
* a bottleneck of a quarter of the output that g does not divide is rounded to
  the nearest multiple of g (0.5x with g = 2 and 4 in stage 2: 26 and 36).

The first 1x1 of stage 2's first unit is dense: its input has only 24·s
channels (Sec. 3.3).  No maintained implementation exists to compare with;
tests/test_zoo_shufflenet_v1.py checks the complexities the paper gives.
"""

from __future__ import annotations

from searchspace.blocks import ConvSpec, PoolSpec, ShuffleV1Spec
from searchspace.spec import HeadSpec, NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register

STEM_WIDTH = 24
REPEATS = (4, 8, 4)
# Table 1: output channels of stage 2 at 1x for each number of groups (stages 3 and 4 double it each time).
STAGE2_WIDTHS = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}
SCALES = {"0_5": 0.5, "1_0": 1.0, "2_0": 2.0}


def shufflenet_v1_spec(groups: int, scale: float, repeats: tuple[int, int, int] = REPEATS, kernel: int = 3) -> NetSpec:
    """ShuffleNet s x with g groups; ``repeats`` (units per stage, at least 2 in stage 2) and ``kernel``
    (the depthwise conv's) default to the paper's and are what the `shufflenet_v1` space searches."""
    stem = int(STEM_WIDTH * scale) // groups * groups
    widths = [int(STAGE2_WIDTHS[groups] * scale) * 2**i for i in range(3)]
    unit = {"groups": groups, "kernel": kernel}
    stages = [Stage(block=ShuffleV1Spec(out_channels=widths[0], group_first=False, **unit), stride=2)]
    stages.append(Stage(block=ShuffleV1Spec(out_channels=widths[0], **unit), repeats=repeats[0] - 1))
    stages += [
        Stage(block=ShuffleV1Spec(out_channels=width, **unit), repeats=count, stride=2)
        for width, count in zip(widths[1:], repeats[1:])
    ]
    return NetSpec(
        stem=(
            Stage(block=ConvSpec(out_channels=stem), stride=2),
            Stage(block=PoolSpec(kernel=3, padding=1), stride=2),
        ),
        stages=tuple(stages),
        head=HeadSpec(),
    )


def _entry(groups: int, suffix: str, scale: float) -> ZooEntry:
    name = f"shufflenet_v1_g{groups}_x{suffix}"
    return ZooEntry(name, "shufflenet_v1", lambda: shufflenet_v1_spec(groups, scale), Reference("paper", f"ShuffleNet {scale:g}x (g = {groups})", 224),
                    note="ShuffleNet (Zhang et al., CVPR 2018), Table 1; complexities checked against Tables 1, 2 and 5")


register(*(_entry(groups, suffix, scale) for suffix, scale in SCALES.items() for groups in STAGE2_WIDTHS))
