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

from collections.abc import Callable

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
STEM = (32, 64)
# The exit flow: the widths of each block's separable convs; the last block has no shortcut.
EXIT_WIDTHS = ((MIDDLE, 1024, 1024), (1536, 1536, 2048))


def xception_spec(depth: int) -> NetSpec:
    return xception_layout(ENTRY_FLOWS[depth], MIDDLE_BLOCKS[depth])


def xception_layout(entry_flow: tuple[tuple[int, int], ...], middle_blocks: int, width: Callable[[int], int] = int) -> NetSpec:
    """The aligned Xception with this entry flow ((width, stride) per block) and middle flow depth;
    ``width`` maps each of the paper's widths to the net's (the xception space scales them)."""
    stem = (Stage(block=ConvSpec(out_channels=width(STEM[0])), stride=2), Stage(block=ConvSpec(out_channels=width(STEM[1]))))
    entry = tuple(Stage(block=XceptionSpec(widths=(width(channels),) * 3), stride=stride) for channels, stride in entry_flow)
    middle = Stage(block=XceptionSpec(widths=(width(MIDDLE),) * 3), repeats=middle_blocks)
    exit_flow = (
        Stage(block=XceptionSpec(widths=tuple(map(width, EXIT_WIDTHS[0]))), stride=2),
        Stage(block=XceptionSpec(widths=tuple(map(width, EXIT_WIDTHS[1])), act_first=False, skip=False)),
    )
    return NetSpec(stem=stem, stages=(*entry, middle, *exit_flow), resolution=299, norm_eps=1e-3)


register(*(
    ZooEntry(f"xception{depth}", "xception", lambda depth=depth: xception_spec(depth), Reference("timm", f"xception{depth}", 299),
             note="Xception (Chollet, 2017), aligned as in DeepLab v3+ (Chen et al., 2018), as timm builds it")
    for depth in (41, 65, 71)
))
