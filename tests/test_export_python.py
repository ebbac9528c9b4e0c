"""The standalone Python export against build(spec): every block kind, zoo nets and random nets of the unified space."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.export.formats import load_python_model
from search.export.python_source import python_source
from search.spaces import RandomSuggest, SpaceContext, load_space
from searchspace import build, decode, kind_names, zoo
from tests.test_conformance import draw_net

# One net per family, small enough to build and run in a fraction of a second at these resolutions.
ZOO = {
    "lenet5": 32, "densenet121": 32, "googlenet": 64, "mobilenetv1_100": 32,
    "mobilenet_v3_small": 32, "mobilenetv4_conv_medium": 32, "efficientnet_v2_s": 32, "mnasnet0_5": 32,
    "regnet_y_400mf": 32, "resnext50_32x4d": 32, "seresnet50": 32, "resnet50d": 32, "shufflenet_v2_x0_5": 32,
    "inception_v3": 75, "skresnet18": 32, "resnest14d": 32,
}
RANDOM_SEEDS = range(6)
# What the zoo nets above leave out (every kind is also exported on random nets, below): LRN, adaptive pooling, basic blocks with SE and a ResNet-D shortcut, SE after the last 1x1.
HAND_WRITTEN = ("net_r32_n10 | conv_c16 lrn | basic_r2_c16 basic_s2_c32_se()_avgpool bottleneck_s2_c64_g4_se()_seout "
                "normact apool_o2 | head",)


def assert_same_net(spec, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build(spec).eval()
    path = tmp_path / "exported.py"
    path.write_text(python_source(model, spec))
    generated = load_python_model(path).eval()
    generated.load_state_dict(model.state_dict(), strict=True)
    assert list(generated.state_dict()) == list(model.state_dict())
    images = torch.randn(2, spec.in_channels, spec.resolution, spec.resolution)
    with torch.no_grad():
        torch.testing.assert_close(generated(images), model(images), rtol=0, atol=0)


def zoo_spec(name: str, resolution: int):
    spec = zoo.get(name)
    if name == "inception_v3":  # its auxiliary head needs 299 pixels; GoogLeNet's covers aux heads
        spec = dataclasses.replace(spec, aux_heads=())
    return dataclasses.replace(spec, resolution=resolution, num_classes=10)


@pytest.mark.parametrize("name", list(ZOO))
def test_zoo_nets_export_to_the_same_module(name: str, tmp_path: Path) -> None:
    assert_same_net(zoo_spec(name, ZOO[name]), tmp_path)


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_unified_nets_export_to_the_same_module(seed: int, tmp_path: Path) -> None:
    spec = load_space("unified").sample(RandomSuggest(seed=seed), SpaceContext(num_classes=10, resolution=32))
    assert_same_net(spec, tmp_path)


@pytest.mark.parametrize("text", HAND_WRITTEN)
def test_hand_written_nets_export_to_the_same_module(text: str, tmp_path: Path) -> None:
    assert_same_net(decode(text), tmp_path)


@pytest.mark.parametrize("kind", kind_names())
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_every_registered_kind_exports_nets_drawn_from_its_strategy(kind: str, data: st.DataObject) -> None:
    # Every kind, built-in or added later, on the same random nets the conformance tests draw for it.
    with tempfile.TemporaryDirectory() as folder:
        assert_same_net(draw_net(data, kind), Path(folder))
