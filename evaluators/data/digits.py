"""``digits``: scikit-learn's 1,797 handwritten digits, the default, always-available set.

The images ship inside scikit-learn, so this set works offline and in tests.
Each is an 8x8 grayscale scan with integer values 0..16; a pixel becomes
``round(value * 255 / 16)`` (NumPy rounding, half to even), so 0 -> 0 and 16 -> 255.

The train/validation split is FIXED: 20% of each class (rounded half up) goes to
validation, drawn with a constant seed that ignores the ``seed`` argument, so
every run and every searcher scores on the same 359 validation images; the
other 1,438 are for training. (Class counts 178, 182, 177, 183, 181, 182, 181,
179, 174, 180 give validation counts 36, 36, 35, 37, 36, 36, 36, 36, 35, 36.)
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits as sklearn_load_digits

from evaluators.data.assemble import assemble_dataset
from evaluators.data.base import ImageDataset
from evaluators.data.options import resolution_option
from evaluators.data.sampling import stratified_split

DIGITS_VAL_FRACTION = 0.2
DIGITS_SPLIT_SEED = 20_180_719  # any constant works; it only has to never change
DIGITS_MAX_VALUE = 16


def digits_pixels(values: np.ndarray) -> np.ndarray:
    """scikit-learn's 0..16 digit values as 0..255 uint8 pixels."""
    return np.round(values * (255.0 / DIGITS_MAX_VALUE)).astype(np.uint8)


def load_digits(*, resolution: int | None = None) -> ImageDataset:
    """The digits set, 1x8x8 unless ``resolution`` asks for a resize.

    There is no seed: the split must not move between runs.
    """
    bunch = sklearn_load_digits()
    return digit_set("digits", digits_pixels(bunch.images), bunch.target, DIGITS_SPLIT_SEED, resolution)


def digit_set(name: str, pixels: np.ndarray, targets: np.ndarray, split_seed: int, resolution: int | None) -> ImageDataset:
    """A built-in set of grey digit images (N, H, W) uint8 with labels 0-9, split as ``digits`` is.

    The split is fixed: :data:`DIGITS_VAL_FRACTION` of each class, drawn with
    the set's constant ``split_seed``, so every run scores on the same images.
    """
    size = resolution_option(name, resolution, default=None)
    images = torch.from_numpy(pixels).unsqueeze(1)
    labels = torch.from_numpy(np.asarray(targets, dtype=np.int64))
    train_index, val_index = stratified_split(labels, DIGITS_VAL_FRACTION, split_seed)
    return assemble_dataset(
        name,
        train=(images[train_index], labels[train_index]),
        val=(images[val_index], labels[val_index]),
        num_classes=10,
        resolution=size,
        class_names=[str(digit) for digit in range(10)],
    )
