"""``fake``: torchvision's FakeData, SYNTHETIC random-noise images for smoke tests.

The images are Gaussian noise and the labels random, so nothing is learnable;
the set only exercises the plumbing (shapes, dtypes, a full training step)
without touching the disk. The defaults are small (500 + 100 images) because
torchvision reseeds torch for every image, which costs about a millisecond
each. torchvision seeds image ``i`` with ``i + offset``,
and torch's CPU generator keeps only the low 32 bits of a seed. Each (seed,
split) stream therefore starts at a scattered point of that 2**32 cycle: the
same seed reproduces the same tensors, a seed's train and validation splits are
over a billion seeds apart and never share an image, and two different seeds
overlap only by a chance of about size / 2**31.
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision import datasets
from torchvision.transforms import PILToTensor

from evaluators.data.assemble import assemble_dataset
from evaluators.data.base import ImageDataset
from evaluators.data.options import int_option, resolution_option

DEFAULT_RESOLUTION = 32
_SEED_CYCLE = 1 << 32
# Knuth's multiplicative hash constant (2**32 / golden ratio): consecutive
# stream numbers land far apart in the cycle, 1.6e9 seeds at the closest.
_SCATTER = 2_654_435_761


def load_fake(
    *,
    resolution: int | None = None,
    seed: int = 0,
    size: object = 500,
    val_size: object = 100,
    num_classes: object = 10,
) -> ImageDataset:
    """``size`` train and ``val_size`` validation RGB noise images with random labels."""
    classes = int_option("fake", "num_classes", num_classes, minimum=2, maximum=100_000)
    train_count = int_option("fake", "size", size, minimum=1)
    val_count = int_option("fake", "val_size", val_size, minimum=1)
    side = resolution_option("fake", resolution, default=DEFAULT_RESOLUTION)
    return assemble_dataset(
        "fake",
        train=_render(train_count, side, classes, _stream_offset(seed, split=0)),
        val=_render(val_count, side, classes, _stream_offset(seed, split=1)),
        num_classes=classes,
        resolution=None,  # generated at the final size already
        synthetic=True,
    )


def _stream_offset(seed: int, split: int) -> int:
    return ((2 * seed + split) * _SCATTER) % _SEED_CYCLE


def _render(count: int, resolution: int, num_classes: int, offset: int) -> tuple[torch.Tensor, torch.Tensor]:
    source = datasets.FakeData(
        size=count,
        image_size=(3, resolution, resolution),
        num_classes=num_classes,
        transform=PILToTensor(),
        random_offset=offset,
    )
    pairs = [source[i] for i in range(count)]
    images = torch.stack([image for image, _ in pairs])
    labels = torch.from_numpy(np.array([label for _, label in pairs], dtype=np.int64))
    return images, labels
