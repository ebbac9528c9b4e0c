"""ResNet, ResNeXt and Wide ResNet (torchvision); SE-ResNet-50 and ResNet-50-D (timm).

torchvision describes a bottleneck by ``planes``, ``groups`` and
``width_per_group``: the 3x3 has ``int(planes * width_per_group / 64) * groups``
channels and the block outputs ``4 * planes``.  Here the same block is an
output width and the 3x3's width as a fraction of it (``bottleneck_ratio``),
which is exact for every variant (1/4, 1/2 or 1).
"""

from __future__ import annotations

from searchspace.blocks import BasicSpec, BottleneckSpec, ConvSpec, PoolSpec, SESpec
from searchspace.blocks.spatial import SpatialConvSpec
from searchspace.spec import HeadSpec, NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register

PLANES = (64, 128, 256, 512)
DEPTHS = {14: (1, 1, 1, 1), 18: (2, 2, 2, 2), 26: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
BASIC_DEPTHS = (18, 34)  # the others are bottleneck nets: depth = 2 + 3 * blocks (14, 26, 50, ...)


def _stem(deep: bool = False) -> tuple[Stage, ...]:
    if deep:  # ResNet-C/D: three 3x3 convs instead of one 7x7
        convs = (Stage(block=ConvSpec(out_channels=32), stride=2), Stage(block=ConvSpec(out_channels=32)), Stage(block=ConvSpec(out_channels=64)))
    else:
        convs = (Stage(block=ConvSpec(out_channels=64, kernel=7), stride=2),)
    return (*convs, Stage(block=PoolSpec(kernel=3, padding=1), stride=2))


def resnet_spec(
    depth: int,
    *,
    groups: int = 1,
    width_per_group: int = 64,
    se: SESpec | None = None,
    deep_stem: bool = False,
    downsample: str = "conv1x1",
    spatial: SpatialConvSpec | None = None,
) -> NetSpec:
    """ResNet of the given depth; ``groups``/``width_per_group`` as torchvision's constructor.

    ``deep_stem`` and ``downsample="avgpool"`` make the ``d`` variant (timm's
    ``stem_type="deep", stem_width=32, avg_down=True``); ``spatial`` replaces
    the 3x3 of every block (SKNet, ResNeSt).
    """
    stages = []
    for index, (planes, repeats) in enumerate(zip(PLANES, DEPTHS[depth])):
        stride = 1 if index == 0 else 2
        if depth in BASIC_DEPTHS:
            block = BasicSpec(out_channels=planes, se=se, downsample=downsample, spatial=spatial)
        else:
            mid = int(planes * width_per_group / 64) * groups
            block = BottleneckSpec(
                out_channels=4 * planes, bottleneck_ratio=mid / (4 * planes), groups=groups,
                se=se, se_position="seout", downsample=downsample, spatial=spatial,
            )
        stages.append(Stage(block=block, repeats=repeats, stride=stride))
    return NetSpec(stem=_stem(deep_stem), stages=tuple(stages), head=HeadSpec())


def _torchvision(name: str, depth: int, **kwargs) -> ZooEntry:
    return ZooEntry(name, "resnet", lambda: resnet_spec(depth, **kwargs), Reference("torchvision", name, 224))


# SENet's squeeze width: a sixteenth of the block output, rounded to 8 (timm's SEModule).
SENET_SE = SESpec(ratio=1 / 16, relative_to="out", divisor=8)

register(
    _torchvision("resnet18", 18),
    _torchvision("resnet34", 34),
    _torchvision("resnet50", 50),
    _torchvision("resnet101", 101),
    _torchvision("resnet152", 152),
    _torchvision("resnext50_32x4d", 50, groups=32, width_per_group=4),
    _torchvision("resnext101_32x8d", 101, groups=32, width_per_group=8),
    _torchvision("resnext101_64x4d", 101, groups=64, width_per_group=4),
    _torchvision("wide_resnet50_2", 50, width_per_group=128),
    _torchvision("wide_resnet101_2", 101, width_per_group=128),
    ZooEntry("seresnet50", "resnet", lambda: resnet_spec(50, se=SENET_SE), Reference("timm", "seresnet50", 224),
             note="Squeeze-and-Excitation Networks (Hu et al.): SE after the last 1x1 of every bottleneck"),
    ZooEntry("resnet50d", "resnet", lambda: resnet_spec(50, deep_stem=True, downsample="avgpool"), Reference("timm", "resnet50d", 224),
             note="Bag of Tricks (He et al.): deep stem, average-pool shortcut"),
)
