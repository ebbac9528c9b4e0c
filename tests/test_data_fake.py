"""The fake (torchvision FakeData) smoke-test set."""

from __future__ import annotations

import pytest
import torch
from torchvision import datasets
from torchvision.transforms import PILToTensor

from evaluators.data import DatasetError, load_dataset


def test_shapes_dtypes_and_flags() -> None:
    data = load_dataset("fake", size=40, val_size=12, num_classes=3, resolution=20)
    assert data.train_images.shape == (40, 3, 20, 20) and data.train_images.dtype == torch.uint8
    assert data.val_images.shape == (12, 3, 20, 20) and data.val_labels.dtype == torch.int64
    assert data.synthetic and data.num_classes == 3
    assert set(torch.cat([data.train_labels, data.val_labels]).tolist()) <= {0, 1, 2}
    assert len(data.mean) == len(data.std) == 3


def test_defaults() -> None:
    data = load_dataset("fake")
    assert (len(data), data.val_images.shape[0], data.resolution, data.num_classes) == (500, 100, 32, 10)


def test_same_seed_same_tensors_other_seed_other_tensors() -> None:
    first = load_dataset("fake", size=30, val_size=10, seed=3)
    again = load_dataset("fake", size=30, val_size=10, seed=3)
    other = load_dataset("fake", size=30, val_size=10, seed=4)
    assert torch.equal(first.train_images, again.train_images) and torch.equal(first.val_labels, again.val_labels)
    assert not torch.equal(first.train_images, other.train_images)
    assert not torch.equal(first.train_images[:10], first.val_images)


def test_images_are_torchvisions_fakedata() -> None:
    data = load_dataset("fake", size=5, val_size=2, num_classes=4, resolution=16, seed=0)
    reference = datasets.FakeData(size=5, image_size=(3, 16, 16), num_classes=4, transform=PILToTensor())
    for index in range(5):
        image, label = reference[index]
        assert torch.equal(data.train_images[index], image) and int(data.train_labels[index]) == label


def test_drawing_fake_data_leaves_the_global_rng_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    load_dataset("fake", size=5, val_size=5)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("options", [{"size": 0}, {"num_classes": 1}, {"val_size": -3}, {"limit": 3}])
def test_bad_options(options: dict) -> None:
    with pytest.raises(DatasetError, match=r"^fake: "):
        load_dataset("fake", **options)
