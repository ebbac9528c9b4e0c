"""The built-in digits set against scikit-learn's own arrays."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits as sklearn_digits

from evaluators.data import load_dataset


@pytest.fixture(scope="module")
def reference() -> tuple[np.ndarray, np.ndarray]:
    bunch = sklearn_digits()
    # The documented scaling: 0..16 -> round(v * 255 / 16).
    return np.round(bunch.images * 255.0 / 16.0).astype(np.uint8), bunch.target


def split_positions(images: torch.Tensor, reference_images: np.ndarray) -> list[int]:
    """Where each image sits in scikit-learn's array (digits has duplicates; take the first free one)."""
    positions: dict[bytes, list[int]] = {}
    for index, image in enumerate(reference_images):
        positions.setdefault(image.tobytes(), []).append(index)
    return [positions[image[0].numpy().tobytes()].pop(0) for image in images]


def test_images_and_labels_are_sklearns(reference: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = reference
    data = load_dataset("digits")
    together = torch.cat([data.train_images, data.val_images])
    together_labels = torch.cat([data.train_labels, data.val_labels])
    assert together.shape == (1797, 1, 8, 8) and together.dtype == torch.uint8
    # Every image appears exactly once, with scikit-learn's label for it.
    multiset = sorted(image.tobytes() for image in images)
    assert sorted(image[0].numpy().tobytes() for image in together) == multiset
    positions = split_positions(together, images)
    assert together_labels.tolist() == labels[positions].tolist()
    assert int(together.max()) == 255 and int(together.min()) == 0


def test_split_is_stratified_with_documented_sizes(reference: tuple[np.ndarray, np.ndarray]) -> None:
    _, labels = reference
    data = load_dataset("digits")
    assert (len(data), data.val_images.shape[0]) == (1438, 359)
    class_sizes = np.bincount(labels)
    val_sizes = torch.bincount(data.val_labels, minlength=10).numpy()
    # round-half-up of 20% per class
    np.testing.assert_array_equal(val_sizes, np.floor(0.2 * class_sizes + 0.5))
    np.testing.assert_array_equal(torch.bincount(data.train_labels, minlength=10).numpy(), class_sizes - val_sizes)


def test_split_is_the_same_for_every_seed() -> None:
    first = load_dataset("digits", seed=0)
    other = load_dataset("digits", seed=12345)
    assert torch.equal(first.train_images, other.train_images)
    assert torch.equal(first.val_images, other.val_images)
    assert torch.equal(first.val_labels, other.val_labels)


def test_resize_agrees_with_pil_bilinear() -> None:
    native = load_dataset("digits")
    resized = load_dataset("digits", resolution=32)
    assert resized.val_images.shape == (359, 1, 32, 32)
    assert torch.equal(resized.val_labels, native.val_labels)
    for small, large in zip(native.val_images[:20], resized.val_images[:20]):
        expected = np.asarray(Image.fromarray(small[0].numpy()).resize((32, 32), Image.Resampling.BILINEAR))
        # Independent implementations of the same filter round differently by at most one grey level.
        assert np.abs(large[0].numpy().astype(int) - expected.astype(int)).max() <= 1


def test_stats_describe_the_train_split() -> None:
    data = load_dataset("digits")
    pixels = data.train_images.double() / 255.0
    assert data.mean == pytest.approx((float(pixels.mean()),))
    assert data.std == pytest.approx((float(pixels.std(unbiased=False)),))
    assert data.class_names == tuple(str(d) for d in range(10)) and not data.synthetic
