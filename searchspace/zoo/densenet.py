"""DenseNet-BC (torchvision): 121, 161, 169 and 201 layers.

A dense block of L layers is a stage of L ``dense`` blocks (each appends
``growth_rate`` channels behind a 1x1 bottleneck of 4 x growth), a transition
halves the channels and the resolution between blocks, and a final
norm + ReLU (``normact``) precedes the classifier.
"""

from __future__ import annotations

from searchspace.blocks import (
    ConvSpec,
    DenseLayerSpec,
    NormActSpec,
    PoolSpec,
    TransitionSpec,
)
from searchspace.spec import HeadSpec, NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register

# name: (layers per dense block, growth rate, stem width), from the DenseNet paper's Table 1.
CONFIGS = {
    "densenet121": ((6, 12, 24, 16), 32, 64),
    "densenet161": ((6, 12, 36, 24), 48, 96),
    "densenet169": ((6, 12, 32, 32), 32, 64),
    "densenet201": ((6, 12, 48, 32), 32, 64),
}
BOTTLENECK = 4  # the 1x1 conv's width as a multiple of the growth rate (torchvision's bn_size)
COMPRESSION = 0.5  # fraction of channels a transition keeps (the "C" of DenseNet-BC)


def densenet_spec(block_layers: tuple[int, ...], growth_rate: int, stem_width: int, bottleneck: int = BOTTLENECK) -> NetSpec:
    """DenseNet-BC; ``bottleneck`` (the paper's 4) is what the `densenet` space searches besides the table's numbers."""
    layer = DenseLayerSpec(growth_rate=growth_rate, bottleneck=bottleneck)
    stages: list[Stage] = []
    for index, layers in enumerate(block_layers):
        if index:
            stages.append(Stage(block=TransitionSpec(compression=COMPRESSION), stride=2))
        stages.append(Stage(block=layer, repeats=layers))
    # The layers are pre-activation, so the last block's output still needs its norm and ReLU.
    stages.append(Stage(block=NormActSpec()))
    return NetSpec(
        stem=(
            Stage(block=ConvSpec(out_channels=stem_width, kernel=7), stride=2),
            Stage(block=PoolSpec(kernel=3, padding=1), stride=2),
        ),
        stages=tuple(stages),
        head=HeadSpec(),
    )


def _entry(name: str, config: tuple) -> ZooEntry:
    return ZooEntry(name, "densenet", lambda: densenet_spec(*config), Reference("torchvision", name, 224))


register(*(_entry(name, config) for name, config in CONFIGS.items()))
