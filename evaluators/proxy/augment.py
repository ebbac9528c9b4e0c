"""Data preparation and augmentation that run on the training device.

The whole dataset lives on the device as ``uint8`` (a CIFAR-10 training set is
150 MB), so a batch is an index into it and every transformation below is a
handful of tensor operations on the batch: no DataLoader, no host round trip,
no Python loop over images.  All randomness comes from one
``torch.Generator`` on the device, which makes the augmentation reproducible
from the seed.

Augmentation is the standard CIFAR recipe, which is what proxy trainings of
small image classifiers are expected to use: a random translation by up to
``resolution // 8`` pixels with zero fill (the same as padding by that much
and cropping back at a random position; 4 px at 32 px) and, where it preserves
the label, a horizontal flip with probability 1/2.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from evaluators.data.base import ImageDataset

# Names of data sets whose classes are characters; mirroring a "2" or an "E"
# does not give another image of the same class.
_NON_FLIPPABLE_NAME_PARTS = ("mnist", "digit", "svhn", "usps", "char", "letter")

# Resizing works on float copies of the images; converting in chunks bounds
# that temporary copy to about this many images at a time.
_RESIZE_CHUNK = 4096


def flip_by_default(dataset: ImageDataset) -> bool:
    """Whether horizontal flips are on when the caller leaves ``flip=None``.

    Off for single-channel data (MNIST, Fashion-MNIST, digit and character
    sets: the 1-channel benchmarks are overwhelmingly glyphs, where a mirror
    image changes or destroys the class) and for data sets whose name says
    they are digits or characters (SVHN is RGB digits).  On otherwise: natural
    images keep their class under a left-right mirror.
    """
    if dataset.in_channels == 1:
        return False
    name = dataset.name.lower()
    return not any(part in name for part in _NON_FLIPPABLE_NAME_PARTS)


def translation_for(resolution: int) -> int:
    """Largest random shift, in pixels: 1/8 of the side (4 px at 32 px)."""
    return resolution // 8


def resize_images(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """``uint8`` NCHW images resized to ``resolution`` on their own device.

    Done once per training, not per batch.  Bilinear with antialiasing, so a
    downscaled image is a smooth version of the original rather than a
    subsampled, aliased one.  The result is rounded back to ``uint8`` to keep
    the resident dataset small.
    """
    if images.shape[-1] == resolution and images.shape[-2] == resolution:
        return images
    resized = []
    for start in range(0, images.shape[0], _RESIZE_CHUNK):
        chunk = images[start : start + _RESIZE_CHUNK].float()
        chunk = F.interpolate(chunk, size=(resolution, resolution), mode="bilinear", antialias=True, align_corners=False)
        resized.append(chunk.round_().clamp_(0, 255).to(torch.uint8))
    return torch.cat(resized)


def random_translate(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by an independent random offset in ``[-max_shift, max_shift]``².

    Pixels shifted in from outside are zero.  Implemented as zero padding
    followed by two ``gather`` calls that pick, per image, the rows and then
    the columns of its crop window.
    """
    if max_shift <= 0:
        return images
    count, channels, height, width = images.shape
    padded = images.new_zeros((count, channels, height + 2 * max_shift, width + 2 * max_shift))
    padded[:, :, max_shift : max_shift + height, max_shift : max_shift + width] = images
    offsets = torch.randint(0, 2 * max_shift + 1, (2, count), generator=generator, device=images.device)
    rows = offsets[0, :, None] + torch.arange(height, device=images.device)
    cols = offsets[1, :, None] + torch.arange(width, device=images.device)
    row_index = rows[:, None, :, None].expand(count, channels, height, padded.shape[-1])
    picked_rows = padded.gather(2, row_index)
    col_index = cols[:, None, None, :].expand(count, channels, height, width)
    return picked_rows.gather(3, col_index)


def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2."""
    flip = torch.rand(images.shape[0], generator=generator, device=images.device) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


class Normaliser:
    """``uint8`` images to float32, standardised with the dataset's mean and std.

    ``(x / 255 - mean) / std`` folded into one multiply-add per pixel.
    """

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...], device: torch.device) -> None:
        mean_t = torch.tensor(mean, dtype=torch.float32, device=device).view(1, -1, 1, 1)
        std_t = torch.tensor(std, dtype=torch.float32, device=device).view(1, -1, 1, 1)
        self.scale = 1.0 / (255.0 * std_t)
        self.shift = -mean_t / std_t

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(self.shift, images.float(), self.scale)


class BatchAugmenter:
    """Random translation and optional flip of a ``uint8`` batch, then normalisation."""

    def __init__(self, normaliser: Normaliser, *, max_shift: int, flip: bool, generator: torch.Generator) -> None:
        self.normaliser = normaliser
        self.max_shift = max_shift
        self.flip = flip
        self.generator = generator

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        images = random_translate(images, self.max_shift, self.generator)
        if self.flip:
            images = random_flip(images, self.generator)
        return self.normaliser(images)
