"""The parts issue 20 added to the default space: `vit`, `shufflenet_v1`, `classic`, `googlenet`, `densenet`,
`convnext`, `swin` and `xception`.

Each known net is an exact point at 224 px and at 32 px (64 px for the nets
the zoo itself cannot build at 32: AlexNet and ZF-Net pool their map away);
uniform samples build at small resolutions and their analytic costs are what
torch counts; the classic space's size is its settings counted one by one.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluators.cost import cost
from search.spaces import FixedSuggest, RandomSuggest, SpaceContext, load_space
from search.spaces import classic_layout
from search.spaces.domains import Domain
from searchspace import build, zoo
from tests.spaces_support import check_exact_point, count_settings, exact_point_resolution
from tests.zoo_reference import meta_macs

PARTS = ("vit", "shufflenet_v1", "classic", "googlenet", "densenet", "convnext", "swin", "xception")
SMALL = 32


@pytest.mark.parametrize("resolution", [224, SMALL])
@pytest.mark.parametrize("part", PARTS)
def test_every_known_net_of_an_added_part_is_an_exact_point_of_the_default_space(part: str, resolution: int) -> None:
    union = load_space("union")
    assert load_space(part).baselines, part
    for name in load_space(part).baselines:
        assert union.known_point(name)["part"] == part  # no earlier part held it
        context = SpaceContext(in_channels=1, num_classes=10, resolution=exact_point_resolution(name, resolution))
        check_exact_point(union, name, context)


def test_the_parts_hold_the_families_they_were_added_for() -> None:
    assert set(load_space("classic").baselines) == {"lenet5", "alexnet", "zfnet"}
    assert load_space("googlenet").baselines == ("googlenet",)
    assert set(load_space("densenet").baselines) == {n for n in zoo.names() if zoo.info(n).family == "densenet"}
    assert set(load_space("shufflenet_v1").baselines) == {n for n in zoo.names() if n.startswith("shufflenet_v1_")}
    assert {"vit_tiny_patch16_224", "deit_tiny_patch16_224", "deit_tiny_distilled_patch16_224"} <= set(load_space("vit").baselines)
    for family in ("convnext", "swin", "xception"):  # every zoo net of these families is inside the ranges
        assert set(load_space(family).baselines) == {n for n in zoo.names() if zoo.info(n).family == family}


def _check_cost_is_what_torch_counts(part: str, seed: int, resolution: int) -> None:
    net = load_space(part).sample(RandomSuggest(seed), SpaceContext(in_channels=1, num_classes=10, resolution=resolution))
    with torch.device("meta"):
        model = build(net).eval()
    analytic = cost(net)
    assert analytic.params == sum(p.numel() for p in model.parameters())
    assert analytic.macs == meta_macs(model, net.resolution, net.in_channels)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), part=st.sampled_from(PARTS), resolution=st.sampled_from([16, 32, 64]))
def test_uniform_samples_build_and_their_costs_are_what_torch_counts(seed: int, part: str, resolution: int) -> None:
    _check_cost_is_what_torch_counts(part, seed, resolution)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("part", ["convnext", "swin", "xception"])
def test_each_of_the_last_three_parts_costs_what_torch_counts(part: str, seed: int) -> None:
    """convnext, swin and xception, whatever the draws above picked; at 16 px ConvNeXt is raised to the 32 it builds at."""
    _check_cost_is_what_torch_counts(part, seed, (16, 32, 64)[seed])


def test_classic_repairs_keep_every_draw_buildable_at_a_tiny_resolution() -> None:
    space = load_space("classic")
    for seed in range(60):
        cost(space.sample(RandomSuggest(seed), SpaceContext(resolution=8)))  # the spec checks every map size


def test_a_large_flattened_map_is_pooled_instead() -> None:
    point = {**load_space("classic").known_point("lenet5"), "group0.width": 128, "group0.pooled": False, "group1.pooled": False}
    head = load_space("classic").sample(FixedSuggest(point), SpaceContext(resolution=224)).head
    assert (head.pool, head.pool_size) == ("avg", classic_layout.FLATTEN_FALLBACK_GRID)


def test_the_classic_size_counts_every_way_sampling_can_go(monkeypatch) -> None:
    """On narrowed ranges, so that every setting can be walked; the structure (conditions, depths, head) is the space's."""
    one, two = Domain.choices((1,)), Domain.choices((1, 2))
    narrowed = {
        "NET_KNOBS": {**{name: Domain.choices((domain.values[0],)) for name, domain in classic_layout.NET_KNOBS.items()},
                      "lrn": classic_layout.FLAGS},
        "DEPTH": (None, Domain.integers(1, 1), Domain.integers(0, 1), Domain.integers(0, 2), Domain.integers(0, 1)),
        "WIDTH": (Domain.choices((8,)),) * 5,
        "KERNEL": (Domain.choices((3, 5)),) + (Domain.choices((3,)),) * 4,
        "STRIDE": (two, one, None, None, None),
        "PADDING": (Domain.choices((classic_layout.SAME,)), Domain.choices((classic_layout.SAME, 0)), *(Domain.choices((0,)),) * 3),
        "HEAD_POOL_SIZE": two,
        "HEAD_DEPTH": Domain.integers(0, 1),
        "HEAD_WIDTH": Domain.integers(16, 17),
        "RESOLUTION_MULT": Domain.choices((0.5, 1.0)),
    }
    for name, value in narrowed.items():
        monkeypatch.setattr(classic_layout, name, value)
    space = load_space("classic")
    assert 10 ** space.log10_size() == pytest.approx(count_settings(space, SpaceContext(resolution=64)))
