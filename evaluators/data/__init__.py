"""Datasets for proxy training and scoring, loaded by name into memory.

>>> from evaluators.data import load_dataset
>>> data = load_dataset("digits", resolution=32)

See :func:`describe_datasets` for what each name is.
"""

from evaluators.data.base import DatasetError, ImageDataset
from evaluators.data.registry import (
    DEFAULT_DATASET,
    dataset_names,
    dataset_options,
    describe_datasets,
    load_dataset,
)

__all__ = [
    "DEFAULT_DATASET",
    "DatasetError",
    "ImageDataset",
    "dataset_names",
    "dataset_options",
    "describe_datasets",
    "load_dataset",
]
