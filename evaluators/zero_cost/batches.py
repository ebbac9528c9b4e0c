"""The scoring minibatch: a deterministic draw from a dataset's training split.

The data-driven proxies (NASWOT, grad_norm, snip) look at one minibatch.  It
is drawn from the *training* split, never validation, so that scoring an
architecture cannot leak information about the images its accuracy is later
measured on.  The draw depends only on the seed, through a private generator,
so the caller's global random state is neither used nor advanced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from evaluators.data.base import ImageDataset


def draw_batch(
    dataset: ImageDataset,
    batch_size: int,
    seed: int,
    resolution: int,
    device: torch.device,
    dtype: torch.dtype,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` distinct training images and their labels, ready for the network.

    Images are picked without replacement by a permutation seeded with
    ``seed``, scaled to [0, 1], resized to ``resolution`` x ``resolution`` if
    they are stored at another size, and normalised with the dataset's
    per-channel mean and std.  Returns (images, labels) on ``device``, images
    in ``dtype``.
    """
    available = len(dataset)
    if batch_size > available:
        raise ValueError(
            f"batch_size={batch_size} is larger than the training split of {dataset.name!r} "
            f"({available} images); a scoring batch holds distinct images"
        )
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randperm(available, generator=generator)[:batch_size]
    source = dataset.train_images
    images = source[picks.to(source.device)].to(device=device, dtype=dtype) / 255.0
    labels = dataset.train_labels[picks.to(dataset.train_labels.device)].to(device)
    images = resize_square(images, resolution)
    return normalise(images, dataset.mean, dataset.std), labels


def resize_square(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """Bilinear resize of an NCHW batch to ``resolution`` x ``resolution``.

    Antialiasing matters when shrinking (a proxy resolution below the stored
    one): without it, downsampling aliases and the network sees textures that
    the trainer's resize would not produce.
    """
    if tuple(images.shape[-2:]) == (resolution, resolution):
        return images
    return F.interpolate(images, size=(resolution, resolution), mode="bilinear", align_corners=False, antialias=True)


def normalise(images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """Per-channel ``(x - mean) / std`` for an NCHW batch scaled to [0, 1]."""
    shape = (1, len(mean), 1, 1)
    centre = torch.tensor(mean, dtype=images.dtype, device=images.device).reshape(shape)
    spread = torch.tensor(std, dtype=images.dtype, device=images.device).reshape(shape)
    return (images - centre) / spread
