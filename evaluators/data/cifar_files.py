"""CIFAR-10 and CIFAR-100 read from their python-version batch files, without running pickle code.

torchvision's CIFAR classes unpickle the batches with ``pickle.load``, which runs
any code a crafted file names; here they go through
:func:`evaluators.data.safe_pickle.load_data_pickle` and every field is checked
to be what the published files hold: ``data`` an N x 3072 uint8 array (red plane,
then green, then blue, row by row) and one integer label per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaluators.data.safe_pickle import load_data_pickle

SIDE = 32


@dataclass(frozen=True)
class CifarLayout:
    """Which files one CIFAR version keeps, and under which keys its labels and class names are."""

    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    meta_file: str
    label_key: str
    names_key: str

    @property
    def files(self) -> tuple[str, ...]:
        return (*self.train_files, *self.test_files, self.meta_file)


@dataclass(frozen=True)
class CifarSplit:
    """What the loader needs of one split: NHWC uint8 images, labels and the class names."""

    data: np.ndarray
    targets: list[int]
    classes: list[str]


# Torch-free: the data-root pre-scan (evaluators.data.file_sets) and the loader both read these.
CIFAR10 = CifarLayout(tuple(f"data_batch_{i}" for i in range(1, 6)), ("test_batch",), "batches.meta", "labels", "label_names")
CIFAR100 = CifarLayout(("train",), ("test",), "meta", "fine_labels", "fine_label_names")


def read_cifar(folder: Path, layout: CifarLayout, *, train: bool) -> CifarSplit:
    """One split of the CIFAR set in ``folder``; a file that is not a CIFAR batch raises ``ValueError``."""
    classes = _classes(folder, layout)
    rows, labels = [], []
    for name in layout.train_files if train else layout.test_files:
        batch_rows, batch_labels = _batch(folder, name, layout, len(classes))
        rows.append(batch_rows)
        labels.extend(batch_labels)
    images = np.concatenate(rows).reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1)
    return CifarSplit(np.ascontiguousarray(images), labels, classes)


def check_cifar(folder: Path, layout: CifarLayout) -> int:
    """Every check :func:`read_cifar` makes, one file at a time and keeping nothing; the number of training images.

    Torch-free, so a crafted or truncated file is refused before torch loads.
    """
    classes = _classes(folder, layout)
    for name in layout.test_files:
        _batch(folder, name, layout, len(classes))
    return sum(len(_batch(folder, name, layout, len(classes))[1]) for name in layout.train_files)


def _classes(folder: Path, layout: CifarLayout) -> list[str]:
    meta = _mapping(load_data_pickle(folder / layout.meta_file), layout.meta_file)
    return _names(_field(meta, layout.names_key, layout.meta_file), layout.meta_file)


def _batch(folder: Path, name: str, layout: CifarLayout, class_count: int) -> tuple[np.ndarray, list[int]]:
    """One batch file's N x 3072 rows and N labels, each label one of the ``class_count`` classes."""
    batch = _mapping(load_data_pickle(folder / name), name)
    rows = _rows(_field(batch, "data", name), name)
    labels = _labels(_field(batch, layout.label_key, name), len(rows), name)
    if labels and not 0 <= min(labels) <= max(labels) < class_count:
        raise ValueError(f"labels run outside the {class_count} classes named in {layout.meta_file}")
    return rows, labels


def _mapping(content: Any, name: str) -> dict[str, Any]:
    if not isinstance(content, dict):
        raise ValueError(f"{name} holds a {type(content).__name__}, not a CIFAR batch dict")
    return {key.decode("latin1") if isinstance(key, bytes) else key: value for key, value in content.items()}


def _field(batch: dict[str, Any], key: str, name: str) -> Any:
    if key not in batch:
        raise ValueError(f"{name} has no {key!r} entry")
    return batch[key]


def _rows(data: Any, name: str) -> np.ndarray:
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * SIDE * SIDE:
        raise ValueError(f"{name}: 'data' is not an N x {3 * SIDE * SIDE} uint8 array")
    return data


def _labels(targets: Any, count: int, name: str) -> list[int]:
    if not isinstance(targets, list) or len(targets) != count or not all(type(t) is int for t in targets):
        raise ValueError(f"{name}: the labels are not a list of {count} integers")
    return targets


def _names(names: Any, name: str) -> list[str]:
    if not isinstance(names, list) or not names or not all(isinstance(n, (str, bytes)) for n in names):
        raise ValueError(f"{name}: the class names are not a list of strings")
    return [n.decode("latin1") if isinstance(n, bytes) else n for n in names]
