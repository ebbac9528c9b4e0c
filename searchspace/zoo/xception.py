"""Aligned Xception: timm's ``xception41``, ``xception65`` and ``xception71``.

"Xception: Deep Learning with Depthwise Separable Convolutions" (Chollet,
2017) in the aligned form DeepLab v3+ introduced: every entry-flow block has
three separable convs with the stride on the last one (the paper's max pools
become strided depthwise convs), and the middle flow is deeper (8 blocks in
the 41-layer net, 16 in the 65- and 71-layer ones).  The exit flow ends with a
block of separable convs, each norm followed by a ReLU, and no shortcut.
Batch norms use epsilon 1e-3, as TensorFlow's.
"""

from __future__ import annotations

from searchspace.blocks import ConvSpec, XceptionSpec
from searchspace.spec import NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register

MIDDLE = 728

# The entry flow of each net: (output width, stride) of each block.
ENTRY_FLOWS = {
    41: ((128, 2), (256, 2), (MIDDLE, 2)),
    65: ((128, 2), (256, 2), (MIDDLE, 2)),
    71: ((128, 2), (256, 1), (256, 2), (MIDDLE, 1), (MIDDLE, 2)),
}
MIDDLE_BLOCKS = {41: 8, 65: 16, 71: 16}
EXIT_FLOW = (
    Stage(block=XceptionSpec(widths=(MIDDLE, 1024, 1024)), stride=2),
    Stage(block=XceptionSpec(widths=(1536, 1536, 2048), act_first=False, skip=False)),
)


def xception_spec(depth: int) -> NetSpec:
    stem = (Stage(block=ConvSpec(out_channels=32), stride=2), Stage(block=ConvSpec(out_channels=64)))
    entry = tuple(Stage(block=XceptionSpec(widths=(width,) * 3), stride=stride) for width, stride in ENTRY_FLOWS[depth])
    middle = Stage(block=XceptionSpec(widths=(MIDDLE,) * 3), repeats=MIDDLE_BLOCKS[depth])
    return NetSpec(stem=stem, stages=(*entry, middle, *EXIT_FLOW), resolution=299, norm_eps=1e-3)


register(*(
    ZooEntry(f"xception{depth}", "xception", lambda depth=depth: xception_spec(depth), Reference("timm", f"xception{depth}", 299),
             note="Xception (Chollet, 2017), aligned as in DeepLab v3+ (Chen et al., 2018), as timm builds it")
    for depth in (41, 65, 71)
))
