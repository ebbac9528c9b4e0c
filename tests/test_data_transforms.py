"""Shared helpers: resizing, channel statistics and stratified sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from torchvision.transforms.v2 import functional as TF

from evaluators.errors import DatasetError
from evaluators.data.sampling import limit_indices, stratified_split, stratified_subset
from evaluators.data.transforms import channel_stats, resize_images


def random_images(count: int, channels: int, side: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (count, channels, side, side), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


@pytest.mark.parametrize("side", [8, 17, 64])
def test_resize_agrees_with_torchvision_and_pil(side: int) -> None:
    images = random_images(600, 3, 32)  # more than one internal chunk
    ours = resize_images(images, side).int()
    assert ours.shape == (600, 3, side, side)
    torchvision_ref = TF.resize(images, [side, side], antialias=True).int()
    assert int((ours - torchvision_ref).abs().max()) <= 1
    for image, resized in zip(images[:10], ours[:10]):
        pil = np.asarray(Image.fromarray(image.permute(1, 2, 0).numpy()).resize((side, side), Image.Resampling.BILINEAR))
        assert np.abs(resized.permute(1, 2, 0).numpy() - pil.astype(int)).max() <= 1


def test_resize_to_the_current_size_is_a_no_op() -> None:
    images = random_images(4, 1, 28)
    assert resize_images(images, 28) is images


def test_channel_stats_match_numpy() -> None:
    images = random_images(1100, 3, 9, seed=1)
    images[:, 2] //= 4  # give the channels different statistics
    mean, std = channel_stats(images)
    pixels = images.numpy().transpose(1, 0, 2, 3).reshape(3, -1) / 255.0
    np.testing.assert_allclose(mean, pixels.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(std, pixels.std(axis=1), rtol=1e-9)


def test_constant_channel_gets_a_nonzero_std() -> None:
    mean, std = channel_stats(torch.full((3, 1, 4, 4), 51, dtype=torch.uint8))
    assert mean == pytest.approx((0.2,)) and std[0] > 0


label_lists = st.lists(st.integers(0, 6), min_size=1, max_size=200)


@settings(max_examples=60, deadline=None)
@given(labels=label_lists, fraction=st.floats(0.0, 1.0), seed=st.integers(0, 2**31 - 1))
def test_stratified_subset_keeps_class_shares(labels: list[int], fraction: float, seed: int) -> None:
    tensor = torch.tensor(labels)
    count = int(round(fraction * len(labels)))
    chosen = stratified_subset(tensor, count, seed)
    assert len(chosen) == count and len(set(chosen.tolist())) == count
    assert chosen.tolist() == sorted(chosen.tolist())
    full = np.bincount(labels, minlength=7)
    picked = np.bincount(tensor[chosen].numpy(), minlength=7)
    share = count * full / len(labels)
    assert np.all(picked >= np.floor(share)) and np.all(picked <= np.ceil(share))


@settings(max_examples=60, deadline=None)
@given(labels=label_lists, fraction=st.floats(0.01, 0.99), seed=st.integers(0, 2**31 - 1))
def test_stratified_split_partitions_every_class(labels: list[int], fraction: float, seed: int) -> None:
    counts = np.bincount(labels)
    tensor = torch.tensor(labels)
    if np.any((counts > 0) & (counts < 2)):
        with pytest.raises(ValueError):
            stratified_split(tensor, fraction, seed)
        return
    train, val = stratified_split(tensor, fraction, seed)
    assert sorted(train.tolist() + val.tolist()) == list(range(len(labels)))
    val_counts = np.bincount(tensor[val].numpy(), minlength=len(counts))
    present = counts > 0
    expected = np.clip(np.floor(fraction * counts + 0.5), 1, counts - 1)
    np.testing.assert_array_equal(val_counts[present], expected[present])


def test_subset_depends_on_seed_only() -> None:
    labels = torch.arange(1000) % 10
    assert np.array_equal(stratified_subset(labels, 100, 5), stratified_subset(labels, 100, 5))
    assert not np.array_equal(stratified_subset(labels, 100, 5), stratified_subset(labels, 100, 6))


def test_limit_indices_without_limit_keeps_all_and_refuses_dropping_classes() -> None:
    labels = torch.arange(30) % 3
    assert limit_indices("demo", "limit", labels, None, 0).tolist() == list(range(30))
    assert limit_indices("demo", "limit", labels, 99, 0).tolist() == list(range(30))
    with pytest.raises(DatasetError, match=r"demo: invalid limit 2 \(allowed: at least 3, one image per class\)"):
        limit_indices("demo", "limit", labels, 2, 0)
