"""Plain stacks of convolutions and poolings: LeNet-5, AlexNet, ZF-Net and VGG.

These nets have no blocks beyond conv(-norm)-act and pooling, so each layer
is a stage of its own; a VGG group of equal convolutions is one stage whose
repeat count is the group's depth.  Their convolutions carry a bias (none of
them was designed with batch norm, which VGG-BN adds after the fact), and
their heads pool to a fixed grid before large fully connected layers.
"""

from __future__ import annotations

from searchspace.blocks import ConvSpec, LRNSpec, PoolSpec
from searchspace.spec import HeadSpec, NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register


def _conv(channels: int, kernel: int = 3, *, stride: int = 1, padding: int | None = None,
          activation: str = "relu", norm: bool = False, repeats: int = 1) -> Stage:
    block = ConvSpec(out_channels=channels, kernel=kernel, padding=padding, activation=activation, norm=norm, bias=True)
    return Stage(block=block, repeats=repeats, stride=stride)


def _pool(kernel: int, op: str = "max") -> Stage:
    return Stage(block=PoolSpec(op=op, kernel=kernel), stride=2)


def lenet5_spec() -> NetSpec:
    """LeNet-5 in the form usually rebuilt today, the one its often-quoted 61,706 parameters describe.

    The 1998 paper connects C3 to only some of S2's maps, gives its
    subsampling layers a trainable scale and bias and ends in Euclidean RBF
    units; the common rendering has a fully connected C3, plain average
    pooling, tanh after each convolution and a linear output layer.  C5, a 5x5
    convolution on a 5x5 map, is a fully connected layer: here the first
    hidden layer of the head.
    """
    return NetSpec(
        stages=(
            _conv(6, 5, padding=0, activation="tanh"),  # C1: 6@28x28
            _pool(2, "avg"),  # S2: 6@14x14
            _conv(16, 5, padding=0, activation="tanh"),  # C3: 16@10x10
            _pool(2, "avg"),  # S4: 16@5x5
        ),
        head=HeadSpec(pool="flatten", hidden=(120, 84), activation="tanh"),  # C5, F6, output
        resolution=32,
        in_channels=1,
        num_classes=10,
    )


def alexnet_spec() -> NetSpec:
    """AlexNet as torchvision builds it: one tower instead of the paper's two GPUs, no LRN."""
    return NetSpec(
        stem=(_conv(64, 11, stride=4, padding=2), _pool(3)),
        stages=(_conv(192, 5), _pool(3), _conv(384), _conv(256), _conv(256), _pool(3)),
        # Dropout before the two hidden layers, none before the classifier.
        head=HeadSpec(pool_size=6, hidden=(4096, 4096), dropout=(0.5, 0.5, 0.0)),
    )


# ZF-Net's contrast normalisation, taken as AlexNet's local response normalisation (the paper gives no constants).
ZFNET_NORM = LRNSpec(k=2.0)


def zfnet_spec() -> NetSpec:
    """ZF-Net as the layer table of Zeiler & Fergus (2013), Fig. 3, draws it.

    Conv 7x7/2 of 96 maps (110x110), 3x3/2 max pool (55x55), contrast
    normalisation; conv 5x5/2 of 256 (26x26), pool (13x13), normalisation;
    three 3x3 convs of 384, 384 and 256 (13x13); pool (6x6); two fully
    connected layers of 4096 and the 1000-way classifier.  The figure gives
    sizes, not paddings: a padding of 1 on the first conv and ceil-mode
    pooling give its 110, 55, 26, 13 and 6.  The normalisation is taken as
    AlexNet's local response normalisation (the paper gives no constants); it
    has no parameters.  Dropout 0.5 in layers 6 and 7 (Sec. 3).
    """
    def pool() -> Stage:
        return Stage(block=PoolSpec(kernel=3, ceil_mode=True), stride=2)

    def normalise() -> Stage:
        return Stage(block=ZFNET_NORM)

    return NetSpec(
        stem=(_conv(96, 7, stride=2, padding=1), pool(), normalise()),
        stages=(_conv(256, 5, stride=2, padding=0), pool(), normalise(), _conv(384), _conv(384), _conv(256), pool()),
        head=HeadSpec(pool_size=6, hidden=(4096, 4096), dropout=(0.0, 0.5, 0.5)),
    )


# Convolutions per group of the VGG configurations (A, B, D, E in the paper); widths 64 to 512.
VGG_DEPTHS = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
VGG_WIDTHS = (64, 128, 256, 512, 512)


def vgg_spec(depth: int, batch_norm: bool = False) -> NetSpec:
    """VGG with ``depth`` weight layers; each group of 3x3 convolutions ends in a 2x2 max pool."""
    stages = []
    for width, repeats in zip(VGG_WIDTHS, VGG_DEPTHS[depth]):
        stages += [_conv(width, norm=batch_norm, repeats=repeats), _pool(2)]
    return NetSpec(
        stages=tuple(stages),
        # Dropout after each hidden layer's activation, that is before the next linear layer.
        head=HeadSpec(pool_size=7, hidden=(4096, 4096), dropout=(0.0, 0.5, 0.5)),
    )


def _vgg(depth: int, batch_norm: bool) -> ZooEntry:
    name = f"vgg{depth}" + ("_bn" if batch_norm else "")
    return ZooEntry(name, "vgg", lambda: vgg_spec(depth, batch_norm), Reference("torchvision", name, 224))


register(
    ZooEntry("lenet5", "lenet", lenet5_spec, Reference("paper", "LeNet-5", 32),
             note="Gradient-Based Learning Applied to Document Recognition (LeCun et al., 1998), in its common "
                  "modern form: fully connected C3, plain average pooling, linear output; 61,706 parameters"),
    ZooEntry("alexnet", "alexnet", alexnet_spec, Reference("torchvision", "alexnet", 224),
             note="torchvision's AlexNet, which follows One Weird Trick (Krizhevsky, 2014) rather than the 2012 "
                  "paper: one tower, no local response normalisation"),
    ZooEntry("zfnet", "zfnet", zfnet_spec, Reference("paper", "ZF-Net", 224),
             note="Visualizing and Understanding Convolutional Networks (Zeiler & Fergus, 2013), Fig. 3; "
                  "paddings chosen to give its map sizes"),
    *(_vgg(depth, batch_norm) for depth in VGG_DEPTHS for batch_norm in (False, True)),
)
