"""timm's names for zoo nets that carry torchvision's names (listed, torch-free, in searchspace/zoo_names.py).

Each alias is a claim the tests check: timm's model of that name has the zoo
net's parameters and, given timm's weights through the converter, its outputs.
Names that look alike but are other nets are left out on purpose: timm's
``regnetx_004``, ``regnety_008`` and ``regnety_080`` have other widths than
torchvision's ``regnet_x_400mf``, ``regnet_y_800mf`` and ``regnet_y_8gf``, and
timm's ``mnasnet_140`` another stem than ``mnasnet1_3``.  Nets both libraries
call the same (``resnet50``, ``efficientnet_b0``, ``densenet121``, ...) need
no alias: the converter takes either library's state dict.
"""

from __future__ import annotations

from searchspace.zoo.registry import Alias, Reference, register_aliases
from searchspace.zoo_names import TIMM_ALIASES


def _alias(name: str, target: str, overrides: dict) -> Alias:
    from searchspace.zoo.registry import entry

    return Alias(name, target, Reference("timm", name, entry(target).reference.resolution), overrides)


register_aliases(*(_alias(name, target, overrides) for name, (target, overrides) in TIMM_ALIASES.items()))
