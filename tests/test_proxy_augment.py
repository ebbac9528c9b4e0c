"""On-device augmentation of the proxy trainer: translation, flips, normalisation, resizing."""

from __future__ import annotations

import pytest
import torch

from evaluators.data.base import ImageDataset
from evaluators.proxy.augment import (
    BatchAugmenter,
    Normaliser,
    flip_by_default,
    random_flip,
    random_translate,
    resize_images,
    translation_for,
)


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def distinct_images(count: int = 64, channels: int = 3, size: int = 10) -> torch.Tensor:
    """Images with no symmetry, so every shift and flip gives a different tensor."""
    values = torch.arange(count * channels * size * size) % 251 + 1  # never 0: fill pixels are recognisable
    return values.view(count, channels, size, size).to(torch.uint8)


def shifted(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``image`` moved down by ``dy`` and right by ``dx`` with zero fill (reference, by slicing)."""
    out = torch.zeros_like(image)
    height, width = image.shape[-2:]
    out[:, max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = image[
        :, max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)
    ]
    return out


def matching_shift(source: torch.Tensor, result: torch.Tensor, max_shift: int) -> tuple[int, int] | None:
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            if torch.equal(shifted(source, dy, dx), result):
                return dy, dx
    return None


def test_translate_keeps_shape_and_dtype():
    images = distinct_images()
    out = random_translate(images, 2, generator(0))
    assert out.shape == images.shape and out.dtype == torch.uint8


def test_translate_moves_each_image_by_at_most_the_limit():
    images = distinct_images()
    out = random_translate(images, 2, generator(0))
    shifts = [matching_shift(images[i], out[i], 2) for i in range(len(images))]
    assert None not in shifts
    assert len(set(shifts)) > 5  # independent offsets per image, not one for the batch
    assert any(shift != (0, 0) for shift in shifts)


def test_translate_is_reproducible_from_the_generator():
    images = distinct_images()
    assert torch.equal(random_translate(images, 3, generator(7)), random_translate(images, 3, generator(7)))
    assert not torch.equal(random_translate(images, 3, generator(7)), random_translate(images, 3, generator(8)))


def test_translate_by_zero_is_the_identity():
    images = distinct_images()
    assert torch.equal(random_translate(images, 0, generator(0)), images)


def test_flip_mirrors_about_half_of_the_batch():
    images = distinct_images()
    out = random_flip(images, generator(0))
    flipped = [torch.equal(out[i], images[i].flip(-1)) for i in range(len(images))]
    kept = [torch.equal(out[i], images[i]) for i in range(len(images))]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 10 < sum(flipped) < 54  # 64 fair coins; outside this range has probability < 1e-6


def test_flip_is_reproducible_from_the_generator():
    images = distinct_images()
    assert torch.equal(random_flip(images, generator(1)), random_flip(images, generator(1)))
    assert not torch.equal(random_flip(images, generator(1)), random_flip(images, generator(2)))


def dataset(channels: int, name: str) -> ImageDataset:
    images = torch.zeros(4, channels, 8, 8, dtype=torch.uint8)
    labels = torch.zeros(4, dtype=torch.int64)
    return ImageDataset(name, images, labels, images, labels, 2, (0.5,) * channels, (0.25,) * channels)


@pytest.mark.parametrize(
    ("channels", "name", "expected"),
    [
        (1, "mnist", False),
        (1, "fashionmnist", False),
        (1, "anything-grey", False),
        (3, "svhn", False),
        (3, "cifar10", True),
        (3, "shapes", True),
    ],
)
def test_flip_default_is_off_for_one_channel_and_digit_data(channels, name, expected):
    assert flip_by_default(dataset(channels, name)) is expected


def test_translation_is_an_eighth_of_the_side():
    assert [translation_for(size) for size in (7, 8, 28, 32, 64)] == [0, 1, 3, 4, 8]


def test_normaliser_standardises_with_dataset_statistics():
    images = torch.tensor([0, 51, 255], dtype=torch.uint8).view(1, 1, 1, 3).expand(1, 2, 1, 3).contiguous()
    normalise = Normaliser((0.2, 0.5), (0.5, 0.25), torch.device("cpu"))
    out = normalise(images)
    pixels = torch.tensor([0.0, 0.2, 1.0])
    assert out.dtype == torch.float32
    assert torch.allclose(out[0, 0, 0], (pixels - 0.2) / 0.5, atol=1e-6)
    assert torch.allclose(out[0, 1, 0], (pixels - 0.5) / 0.25, atol=1e-6)


def test_augmenter_without_shift_or_flip_only_normalises():
    images = distinct_images(8)
    normalise = Normaliser((0.5,) * 3, (0.5,) * 3, torch.device("cpu"))
    augment = BatchAugmenter(normalise, max_shift=0, flip=False, generator=generator(0))
    assert torch.equal(augment(images), normalise(images))


def test_augmenter_is_reproducible_and_varies_with_the_seed():
    images = distinct_images(16)
    normalise = Normaliser((0.5,) * 3, (0.5,) * 3, torch.device("cpu"))

    def run(seed: int) -> torch.Tensor:
        return BatchAugmenter(normalise, max_shift=2, flip=True, generator=generator(seed))(images)

    assert run(3).shape == (16, 3, 10, 10)
    assert torch.equal(run(3), run(3))
    assert not torch.equal(run(3), run(4))


def test_resize_changes_resolution_and_keeps_flat_images_flat():
    images = torch.full((3, 2, 16, 16), 77, dtype=torch.uint8)
    out = resize_images(images, 8)
    assert out.shape == (3, 2, 8, 8) and out.dtype == torch.uint8
    assert torch.equal(out, torch.full_like(out, 77))


def test_resize_smooths_instead_of_subsampling():
    # A one-pixel checkerboard of 0 and 200 shrunk fourfold: subsampling would
    # give pure 0s or 200s (aliasing); an antialiased resize gives the local
    # average, 100, away from the borders.
    rows = torch.arange(16).view(-1, 1)
    cols = torch.arange(16).view(1, -1)
    checkerboard = (((rows + cols) % 2) * 200).to(torch.uint8).view(1, 1, 16, 16)
    out = resize_images(checkerboard, 4)
    assert out.shape == (1, 1, 4, 4)
    assert torch.all((out[..., 1:3, 1:3].int() - 100).abs() <= 2)


def test_resize_to_the_same_resolution_is_free():
    images = distinct_images(2)
    assert resize_images(images, 10) is images
