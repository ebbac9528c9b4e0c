"""timm's names for zoo nets that carry torchvision's names.

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

# timm builds these with PyTorch's batch-norm defaults; torchvision with TensorFlow's.
_PYTORCH_NORM = {"norm_eps": 1e-5, "norm_momentum": 0.1}
_PYTORCH_MOMENTUM = {"norm_momentum": 0.1}

_TIMM = {
    # timm name: (zoo name, net-wide settings where timm's model differs)
    "mobilenetv3_large_100": ("mobilenet_v3_large", _PYTORCH_NORM),
    "mobilenetv3_small_100": ("mobilenet_v3_small", _PYTORCH_NORM),
    "mobilenetv2_100": ("mobilenet_v2", {}),
    "mnasnet_050": ("mnasnet0_5", _PYTORCH_MOMENTUM),
    "mnasnet_075": ("mnasnet0_75", _PYTORCH_MOMENTUM),
    "mnasnet_100": ("mnasnet1_0", _PYTORCH_MOMENTUM),
    "regnetx_008": ("regnet_x_800mf", {}),
    "regnetx_016": ("regnet_x_1_6gf", {}),
    "regnetx_032": ("regnet_x_3_2gf", {}),
    "regnetx_080": ("regnet_x_8gf", {}),
    "regnetx_160": ("regnet_x_16gf", {}),
    "regnetx_320": ("regnet_x_32gf", {}),
    "regnety_004": ("regnet_y_400mf", {}),
    "regnety_016": ("regnet_y_1_6gf", {}),
    "regnety_032": ("regnet_y_3_2gf", {}),
    "regnety_160": ("regnet_y_16gf", {}),
    "regnety_320": ("regnet_y_32gf", {}),
    "regnety_1280": ("regnet_y_128gf", {}),
}


def _alias(name: str, target: str, overrides: dict) -> Alias:
    from searchspace.zoo.registry import entry

    return Alias(name, target, Reference("timm", name, entry(target).reference.resolution), overrides)


register_aliases(*(_alias(name, target, overrides) for name, (target, overrides) in _TIMM.items()))
