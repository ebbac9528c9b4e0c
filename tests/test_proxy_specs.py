"""Proxy training of real search-space specs (the zoo), end to end on CPU."""

from __future__ import annotations

import dataclasses

import torch

from evaluators.data.base import ImageDataset
from evaluators.proxy import ProxyResult, ProxySettings, TrainingFailure, train
from searchspace import build, zoo


def stripes(channels: int, resolution: int = 12, count: int = 96) -> ImageDataset:
    """Three classes: a bright horizontal band at the top, middle or bottom."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (count,), generator=generator)
    images = torch.randint(0, 60, (count, channels, resolution, resolution), generator=generator).to(torch.uint8)
    band = resolution // 3
    for index, label in enumerate(labels.tolist()):
        images[index, :, label * band : (label + 1) * band] = 220
    split = count * 2 // 3
    return ImageDataset(
        "stripes", images[:split], labels[:split], images[split:], labels[split:], 3, (0.3,) * channels, (0.35,) * channels
    )


def test_a_zoo_spec_is_adapted_to_the_data_and_trained():
    # LeNet-5 as specified takes 32x32 input with 10 classes; the data are
    # 12x12 greyscale with 3 classes, so the spec is adapted and the data
    # resized to the proxy resolution.
    result = train(zoo.get("lenet5"), stripes(channels=1), ProxySettings(resolution=32, epochs=2, batch_size=16))
    assert isinstance(result, ProxyResult), result
    assert result.resolution == 32 and result.epochs_run == 2


def test_a_spec_too_deep_for_the_resolution_is_an_invalid_spec():
    result = train(zoo.get("lenet5"), stripes(channels=1), ProxySettings(resolution=8, epochs=1, batch_size=16))
    assert isinstance(result, TrainingFailure) and result.reason == "invalid_spec"
    assert "shrinks below 1x1" in result.message


def test_a_spec_with_auxiliary_heads_trains_through_them():
    spec = dataclasses.replace(zoo.get("googlenet", aux_logits=True), num_classes=3, resolution=32)
    net = build(spec)
    aux_before = [p.detach().clone() for p in net.aux_heads.parameters()]
    assert aux_before  # the spec really has auxiliary heads
    result = train(net, stripes(channels=3), ProxySettings(resolution=32, epochs=1, batch_size=16, max_steps_per_epoch=2))
    assert isinstance(result, ProxyResult), result
    assert any(not torch.equal(before, after) for before, after in zip(aux_before, net.aux_heads.parameters()))
