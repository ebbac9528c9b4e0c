"""Known nets as exact points of the space.

``get(name)`` gives the spec; ``build(get(name))`` has the same parameters,
MACs and (with ``convert_state_dict``'s weights) outputs as the reference
implementation named in ``info(name).reference``.

    from searchspace import build, zoo
    net = build(zoo.get("resnet50"))
    net.load_state_dict(zoo.convert_state_dict("resnet50", torchvision_state_dict))
"""

from __future__ import annotations

from typing import Any

from searchspace.spec import NetSpec
from searchspace.zoo import (  # noqa: F401  (each registers its entries)
    attention_resnets,
    classic,
    convnext,
    densenet,
    efficientnet,
    googlenet,
    inception,
    inception_resnet_v2,
    inception_v4,
    mnasnet,
    mobilenet_v1,
    mobilenet_v2,
    mobilenet_v3,
    mobilenet_v4,
    regnet,
    resnet,
    resnetv2,
    shufflenet,
    shufflenet_v1,
    sknet_resnest,
    swin,
    xception,
)
from searchspace.zoo import aliases as _aliases  # noqa: F401  (registers other libraries' names, after the nets)
from searchspace.zoo.convert import convert_state_dict
from searchspace.zoo.registry import Alias, Reference, ZooEntry, ZooError, all_aliases, all_entries, entry


def names() -> list[str]:
    """Every zoo net, in registration order (grouped by family)."""
    return [e.name for e in all_entries()]


def aliases() -> dict[str, str]:
    """Other libraries' names for zoo nets (timm's ``mobilenetv3_large_100``), each to its zoo name.

    ``get``, ``info`` and ``convert_state_dict`` take an alias wherever they take
    a zoo name; an alias gives that library's net exactly (see ``info(alias).reference``).
    """
    return {a.name: a.target for a in all_aliases()}


def get(name: str, **options: Any) -> NetSpec:
    """The spec of a known net.

    Options: ``resolution``, ``num_classes`` and ``in_channels`` for every net,
    plus the family's own (``width_mult`` for MobileNets and MnasNet,
    ``aux_logits`` for GoogLeNet and Inception-v3); ``info(name).options``
    lists them with their defaults.
    """
    return entry(name).spec(**options)


def info(name: str) -> ZooEntry:
    return entry(name)


__all__ = ["Alias", "Reference", "ZooEntry", "ZooError", "aliases", "convert_state_dict", "get", "info", "names"]
