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
    classic,
    densenet,
    efficientnet,
    googlenet,
    inception,
    mnasnet,
    mobilenet_v1,
    mobilenet_v2,
    mobilenet_v3,
    mobilenet_v4,
    regnet,
    resnet,
    shufflenet,
)
from searchspace.zoo.convert import convert_state_dict
from searchspace.zoo.registry import Reference, ZooEntry, ZooError, all_entries, entry


def names() -> list[str]:
    """Every zoo net, in registration order (grouped by family)."""
    return [e.name for e in all_entries()]


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


__all__ = ["Reference", "ZooEntry", "ZooError", "convert_state_dict", "get", "info", "names"]
