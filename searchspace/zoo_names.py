"""The zoo's names and other libraries' aliases for them, torch-free.

The zoo's nets are defined in modules that import torch (0.9 GB); the command
line checks a name here first, so an unknown one is refused in little memory.
Registering a net whose name is not listed here fails at import, and a test
checks the list equals ``searchspace.zoo.names()``, so the two cannot drift.
"""

from __future__ import annotations

import difflib

from searchspace.fields import SpecError

# Every zoo net, in registration order (grouped by family).
ZOO_NAMES: tuple[str, ...] = (
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
    "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2", "seresnet50", "resnet50c", "resnet50d",
    "ecaresnet50d", "cbam_resnet50", "ge_resnet50", "gcresnet50t", "bam_resnet50",
    "lenet5",
    "alexnet",
    "zfnet",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "convnext_tiny",
    "densenet121", "densenet161", "densenet169", "densenet201",
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4",
    "efficientnet_b5", "efficientnet_b6", "efficientnet_b7", "efficientnet_v2_s", "efficientnet_v2_m",
    "efficientnet_v2_l",
    "googlenet", "inception_v3",
    "inception_v4",
    "inception_resnet_v2",
    "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
    "mobilenetv1_100", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "mobilenetv4_conv_small",
    "mobilenetv4_conv_medium", "mobilenetv4_conv_large", "mobilenetv4_hybrid_medium", "mobilenetv4_hybrid_large",
    "regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf", "regnet_x_8gf", "regnet_x_16gf",
    "regnet_x_32gf", "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf", "regnet_y_8gf",
    "regnet_y_16gf", "regnet_y_32gf", "regnet_y_128gf",
    "resnetv2_50", "resnetv2_50d",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
    "shufflenet_v1_g1_x0_5", "shufflenet_v1_g2_x0_5", "shufflenet_v1_g3_x0_5", "shufflenet_v1_g4_x0_5",
    "shufflenet_v1_g8_x0_5", "shufflenet_v1_g1_x1_0", "shufflenet_v1_g2_x1_0", "shufflenet_v1_g3_x1_0",
    "shufflenet_v1_g4_x1_0", "shufflenet_v1_g8_x1_0", "shufflenet_v1_g1_x2_0", "shufflenet_v1_g2_x2_0",
    "shufflenet_v1_g3_x2_0", "shufflenet_v1_g4_x2_0", "shufflenet_v1_g8_x2_0",
    "skresnet18", "skresnet34", "skresnet50",
    "resnest14d", "resnest26d", "resnest50d",
    "swin_t", "swin_s", "swin_v2_t",
    "vit_b_16", "vit_b_32", "vit_l_16", "vit_tiny_patch16_224",
    "deit_tiny_patch16_224", "deit_small_patch16_224", "deit_tiny_distilled_patch16_224",
    "xception41", "xception65", "xception71",
)

# timm's names for zoo nets that carry torchvision's names (searchspace/zoo/aliases.py says which are left out and why).
# timm builds these with PyTorch's batch-norm defaults; torchvision with TensorFlow's.
_PYTORCH_NORM = {"norm_eps": 1e-5, "norm_momentum": 0.1}
_PYTORCH_MOMENTUM = {"norm_momentum": 0.1}
TIMM_ALIASES: dict[str, tuple[str, dict[str, float]]] = {
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


class ZooError(SpecError):
    """An unknown zoo name or option, or a reference state dict that does not fit."""


def is_zoo_name(name: str) -> bool:
    """A zoo net's name or an alias of one."""
    return name in ZOO_NAMES or name in TIMM_ALIASES


def check_zoo_name(name: str) -> None:
    """Raise :class:`ZooError` for a name that is neither a zoo net nor an alias."""
    if not is_zoo_name(name):
        raise ZooError(f"zoo net {name!r} is not known{close_names_hint(name)}")


def close_names_hint(name: str) -> str:
    close = difflib.get_close_matches(str(name), [*ZOO_NAMES, *TIMM_ALIASES], n=3)
    return f" (did you mean {', '.join(close)}?)" if close else f" (see searchspace.zoo.names(): {len(ZOO_NAMES)} nets)"
