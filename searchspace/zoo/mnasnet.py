"""MnasNet-B1 (torchvision's MNASNet), with its width multiplier alpha.

torchvision rounds every width with ``_round_to_multiple_of(c * alpha, 8)``:
round to the nearest multiple of 8, then add 8 if that lost over 10% -- the
same rule as ``make_divisible``, so alpha is ``scale_width``.  Since its
version 2 the stem follows alpha too; the 1280-wide head conv never does.
Expanded widths are exact multiples of the (already rounded) input width,
which is what expansion ratios give.
"""

from __future__ import annotations

from searchspace.blocks import ConvSpec, MBConvSpec
from searchspace.scaling import scale_width
from searchspace.spec import HeadSpec, NetSpec, Stage
from searchspace.zoo.registry import Reference, ZooEntry, register

# TensorFlow's batch-norm decay 0.9997, in PyTorch's momentum convention.
BN_MOMENTUM = 1 - 0.9997

# (expansion, output width, repeats, first stride, kernel) of MnasNet-B1's inverted-residual stacks at alpha 1.
STACKS = ((3, 24, 3, 2, 3), (3, 40, 3, 2, 5), (6, 80, 3, 2, 5), (6, 96, 2, 1, 3), (6, 192, 4, 2, 5), (6, 320, 1, 1, 3))


def mnasnet_spec(width_mult: float = 1.0) -> NetSpec:
    """MnasNet-B1; ``width_mult`` is torchvision's ``MNASNet(alpha=...)``."""
    # A depthwise-separable conv follows the stem.  torchvision never adds its input back,
    # even at the small alphas that round its input and output widths to the same number.
    separable = Stage(block=MBConvSpec(out_channels=16, expand_ratio=1, skip=False))
    base = NetSpec(
        stem=(Stage(block=ConvSpec(out_channels=32), stride=2),),
        stages=(separable, *(
            Stage(block=MBConvSpec(out_channels=c, expand_ratio=t, kernel=k), repeats=n, stride=s)
            for t, c, n, s, k in STACKS
        )),
        head=HeadSpec(conv_channels=1280, dropout=(0.2,)),
        norm_momentum=BN_MOMENTUM,
    )
    return base if width_mult == 1.0 else scale_width(base, width_mult, head_conv="keep")


def _entry(name: str, alpha: float) -> ZooEntry:
    return ZooEntry(
        name, "mnasnet", mnasnet_spec, Reference("torchvision", name, 224), options={"width_mult": alpha},
        note="width_mult is the alpha of torchvision.models.MNASNet (the named constructors fix it)",
    )


register(_entry("mnasnet0_5", 0.5), _entry("mnasnet0_75", 0.75), _entry("mnasnet1_0", 1.0), _entry("mnasnet1_3", 1.3))
