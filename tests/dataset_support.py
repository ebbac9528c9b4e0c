"""Tiny in-memory datasets for tests that only need tensors of the right shapes."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from evaluators.data.base import ImageDataset


def random_image_dataset(
    *, images: int, channels: int, side: int, classes: int, seed: int = 0,
    mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
) -> ImageDataset:
    """Uniform random uint8 training images with random labels; two blank validation images."""
    generator = torch.Generator().manual_seed(seed)
    return ImageDataset(
        name=f"random-{seed}",
        train_images=torch.randint(0, 256, (images, channels, side, side), generator=generator, dtype=torch.uint8),
        train_labels=torch.randint(0, classes, (images,), generator=generator),
        val_images=torch.zeros((2, channels, side, side), dtype=torch.uint8),
        val_labels=torch.zeros(2, dtype=torch.int64),
        num_classes=classes,
        mean=tuple(mean) if mean is not None else (0.5,) * channels,
        std=tuple(std) if std is not None else (0.25,) * channels,
    )
