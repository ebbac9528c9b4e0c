"""The `union` space: every part's known nets are its points, and a sample is exactly its part's sample."""

from __future__ import annotations

import math

import pytest

from search.spaces import FixedSuggest, RandomSuggest, SpaceContext, load_space
from search.spaces.union_space import PART_KNOB
from tests.spaces_support import check_exact_point

UNION = load_space("union")
CONTEXTS = [SpaceContext(), SpaceContext(in_channels=1, num_classes=10, resolution=160)]


def test_the_union_holds_the_known_nets_of_every_part_and_nothing_else() -> None:
    expected = set().union(*(load_space(name).baselines for name in UNION.parts))
    assert set(UNION.baselines) == expected and len(UNION.baselines) == len(expected)
    with pytest.raises(ValueError, match="not a known point"):
        UNION.known_point("vgg11")


@pytest.mark.parametrize("context", CONTEXTS)
def test_every_known_point_samples_the_zoo_net_itself(context: SpaceContext) -> None:
    for name in UNION.baselines:
        check_exact_point(UNION, name, context)


def test_a_sample_is_its_parts_sample_with_the_parts_knobs_under_its_name() -> None:
    seen = set()
    for seed in range(100):
        suggest = RandomSuggest(seed)
        net = UNION.sample(suggest, SpaceContext(resolution=64))
        part = suggest.params[PART_KNOB]
        seen.add(part)
        own = {key[len(part) + 1:]: value for key, value in suggest.params.items() if key.startswith(f"{part}.")}
        assert set(suggest.params) == {PART_KNOB} | {f"{part}.{key}" for key in own}
        again = UNION.parts[part].sample(FixedSuggest(own), SpaceContext(resolution=64))
        assert again.digest() == net.digest()
    assert seen == set(UNION.parts)  # 100 uniform draws over the thirteen parts reach each of them


def test_the_listing_and_size_add_up_over_the_parts() -> None:
    knobs = UNION.knobs()
    assert knobs[0].name == PART_KNOB and set(knobs[0].values) == set(UNION.parts)
    assert len(knobs) == 1 + sum(len(part.knobs()) for part in UNION.parts.values())
    assert all(k.when.startswith(f"{PART_KNOB} == ") for k in knobs[1:])
    depth = next(k for k in knobs if k.name == "mobile.stage0.width")
    assert depth.when == "part == mobile and mobile.stage0.depth > 0"  # conditions name the part's knobs as listed
    total = sum(10 ** part.log10_size() for part in UNION.parts.values())
    assert UNION.log10_size() == pytest.approx(math.log10(total))
