"""Every zoo net is a detection backbone: feature maps at strides 4, 8, 16 and 32, with their channels.

``feature_info`` reads the maps from the spec alone (no module), so every net
is checked that way; what the built extractor returns is checked against it
for one net of each family, on the meta device (shapes only, so the nets'
own resolutions cost nothing: at 128 px the valid-padded Inception-v4 and
AlexNet end in maps too small to have a reduction of 32).
"""

from __future__ import annotations

import math

import pytest
import torch

from evaluators.cost import cost
from searchspace import create_model, feature_info, zoo

PYRAMID = (4, 8, 16, 32)
# LeNet-5 subsamples twice: its 32 px digits end as 5x5 maps, a reduction of about 8 at any resolution.
# ViT and DeiT are single-scale: their one map is the patch embedding's (1/16 or 1/32), then tokens.
NOT_BACKBONES = {"lenet5"} | {n for n in zoo.names() if zoo.info(n).family in ("vit", "deit")}
def pyramid_indices(name: str, resolution: int) -> tuple[int, ...]:
    info = feature_info(zoo.get(name, resolution=resolution))
    return tuple(info.reduction().index(r) for r in PYRAMID if r in info.reduction())


def smallest_of_each_family() -> list[str]:
    smallest: dict[str, tuple[int, str]] = {}
    for name in zoo.names():
        macs = cost(zoo.get(name)).macs
        family = zoo.info(name).family
        smallest[family] = min(smallest.get(family, (macs, name)), (macs, name))
    return sorted(name for _, name in smallest.values() if name not in NOT_BACKBONES)


@pytest.mark.parametrize("name", [n for n in zoo.names() if n not in NOT_BACKBONES])
def test_every_zoo_net_has_maps_at_strides_4_to_32(name: str) -> None:
    resolution = zoo.get(name).resolution
    info = feature_info(zoo.get(name, resolution=resolution), out_indices=pyramid_indices(name, resolution))
    assert info.reduction() == list(PYRAMID), info
    assert all(channels > 0 for channels in info.channels())


@pytest.mark.parametrize("name", smallest_of_each_family())
def test_the_extractor_returns_the_maps_feature_info_describes(name: str) -> None:
    # One net per family (its smallest): the spec walk that feature_info reads is the builder's own.
    resolution = zoo.get(name).resolution
    with torch.device("meta"):
        model = create_model(name, features_only=True, out_indices=pyramid_indices(name, resolution), resolution=resolution).eval()
        maps = model(torch.empty(1, 3, resolution, resolution))
    assert [m.shape[1] for m in maps] == model.feature_info.channels()
    # A map of h rows is at reduction resolution / h, to the nearest power of two (299 px: 35 rows is 8).
    assert [2 ** round(math.log2(resolution / m.shape[2])) for m in maps] == list(PYRAMID)


def test_only_the_nets_that_never_reach_stride_32_are_left_out() -> None:
    lacking = {n for n in zoo.names() if len(pyramid_indices(n, zoo.get(n).resolution)) < len(PYRAMID)}
    assert lacking == NOT_BACKBONES
