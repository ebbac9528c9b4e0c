"""Every zoo net against its reference implementation: same parameters, same MACs, same function."""

from __future__ import annotations

import pytest
import torch

from evaluators.cost import cost
from searchspace import SpecError, build, zoo
from tests.zoo_reference import (
    assert_outputs_equal_reference,
    meta_macs,
    randomize_,
    reference_model,
    reference_resolution,
)

BUILDABLE = [n for n in zoo.names() if zoo.info(n).reference.library in ("torchvision", "timm")]
# Small resolutions keep the output comparison fast; nets that cannot take them get the next size.
TEST_RESOLUTIONS = (64, 96, 128, 160, 224, 299)


@pytest.mark.parametrize("name", BUILDABLE)
def test_params_and_macs_equal_the_reference(name: str) -> None:
    entry = zoo.info(name)
    spec = zoo.get(name)
    reference = reference_model(entry)
    assert spec.resolution == entry.reference.resolution == reference_resolution(entry)
    assert cost(spec).params == sum(p.numel() for p in reference.parameters())
    assert cost(spec).macs == meta_macs(reference, spec.resolution)
    with torch.device("meta"):
        assert sum(p.numel() for p in build(spec).parameters()) == cost(spec).params


def smallest_accepted_resolution(name: str, **options) -> int:
    for resolution in TEST_RESOLUTIONS:
        try:
            zoo.get(name, resolution=resolution, **options)
            return resolution
        except SpecError:
            continue
    raise AssertionError(f"{name} accepts none of {TEST_RESOLUTIONS}")


@pytest.mark.parametrize("name", BUILDABLE)
def test_outputs_equal_the_reference_with_converted_weights(name: str) -> None:
    assert_outputs_equal_reference(name, smallest_accepted_resolution(name))


def test_names_are_unique_and_all_resolve() -> None:
    names = zoo.names()
    assert len(names) == len(set(names))
    for name in names:
        assert zoo.get(name).digest() == zoo.get(name).digest()


def test_unknown_names_and_options_are_clear_errors() -> None:
    with pytest.raises(zoo.ZooError, match=r"zoo net 'resnet51' is not known \(did you mean resnet50"):
        zoo.get("resnet51")
    with pytest.raises(zoo.ZooError, match=r"option 'width_mult' is not allowed for resnet50 \(allowed: resolution"):
        zoo.get("resnet50", width_mult=0.5)


def test_universal_options_change_only_input_and_classes() -> None:
    spec = zoo.get("resnet18", resolution=32, num_classes=10, in_channels=1)
    base = zoo.get("resnet18")
    assert (spec.resolution, spec.num_classes, spec.in_channels) == (32, 10, 1)
    assert spec.stages == base.stages


def test_conversion_rejects_a_state_dict_of_another_net() -> None:
    other = randomize_(reference_model(zoo.info("resnet34")))
    with pytest.raises(zoo.ZooError, match=r"resnet18: the reference state dict has \d+ tensors, the zoo net \d+"):
        zoo.convert_state_dict("resnet18", other.state_dict())
    wider = randomize_(reference_model(zoo.info("wide_resnet50_2")))
    with pytest.raises(zoo.ZooError, match=r"resnet50: reference 'layer1\.0\.conv1\.weight' has shape \(128, 64, 1, 1\)"):
        zoo.convert_state_dict("resnet50", wider.state_dict())
