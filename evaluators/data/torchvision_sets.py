"""``cifar10``, ``cifar100``, ``mnist`` and ``fashionmnist`` from ``data_root`` (CIFAR through a data-only unpickler).

Validation is each set's official test split. Nothing is fetched unless
``download=True``; when files are missing the error names every file and the
folder it belongs in, so they can be copied there by hand on an offline machine.

Options:
    limit: at most this many training images, a stratified subset drawn with
        ``seed`` (proxy training rarely needs all 50,000).
    val_limit: at most this many validation images, a stratified subset drawn
        with a constant seed, so that runs with different seeds are still scored
        on the same images.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets

from evaluators.data.assemble import assemble_dataset
from evaluators.data.base import DatasetError, ImageDataset
from evaluators.data.cifar_files import CIFAR10, CIFAR100, CifarLayout, read_cifar
from evaluators.data.file_sets import FILE_SETS, FileSet, all_present, one_line, require_files, unreadable
from evaluators.data.options import optional_int_option, resolution_option
from evaluators.data.sampling import limit_indices

VAL_SUBSET_SEED = 7_919  # constant on purpose; see val_limit in the module docstring


def _torchvision_reader(cls: type) -> Callable[[Path, Path, bool], object]:
    """Read with torchvision's own class (MNIST's idx files hold no code; only its legacy .pt uses torch.load(weights_only))."""
    return lambda data_root, folder, train: cls(str(data_root), train=train, download=False)


def _cifar_reader(layout: CifarLayout) -> Callable[[Path, Path, bool], object]:
    """Read CIFAR's pickled batches with the data-only unpickler (torchvision's runs any code in them)."""
    return lambda data_root, folder, train: read_cifar(folder, layout, train=train)


@dataclass(frozen=True)
class TorchvisionSource:
    """How torchvision fetches one dataset and how its files are read (which files: evaluators.data.file_sets)."""

    downloader: type  # torchvision's class: fetches the archive and checks its MD5
    reader: Callable[[Path, Path, bool], object]  # (data_root, folder, train) -> .data, .targets, .classes


SOURCES: dict[str, TorchvisionSource] = {
    "cifar10": TorchvisionSource(datasets.CIFAR10, _cifar_reader(CIFAR10)),
    "cifar100": TorchvisionSource(datasets.CIFAR100, _cifar_reader(CIFAR100)),
    "mnist": TorchvisionSource(datasets.MNIST, _torchvision_reader(datasets.MNIST)),
    "fashionmnist": TorchvisionSource(datasets.FashionMNIST, _torchvision_reader(datasets.FashionMNIST)),
}


def load_torchvision_set(
    name: str,
    *,
    data_root: Path,
    download: bool = False,
    resolution: int | None = None,
    seed: int = 0,
    limit: object = None,
    val_limit: object = None,
) -> ImageDataset:
    """Load ``name`` (a key of :data:`SOURCES`) from ``data_root`` at native or given resolution."""
    source, files = SOURCES[name], FILE_SETS[name]
    side = resolution_option(name, resolution, default=None)
    max_train = optional_int_option(name, "limit", limit, minimum=1)
    max_val = optional_int_option(name, "val_limit", val_limit, minimum=1)
    folder = data_root / files.folder
    if download and not all_present(files, folder):  # files already there are read, never fetched again
        _download(name, source, files, data_root)
    require_files(name, files, folder)
    train_reader = _read(name, source, files, data_root, train=True)
    test_reader = _read(name, source, files, data_root, train=False)
    train_images, train_labels = _as_tensors(train_reader)
    val_images, val_labels = _as_tensors(test_reader)
    keep = limit_indices(name, "limit", train_labels, max_train, seed)
    keep_val = limit_indices(name, "val_limit", val_labels, max_val, VAL_SUBSET_SEED)
    return assemble_dataset(
        name,
        train=(train_images[keep], train_labels[keep]),
        val=(val_images[keep_val], val_labels[keep_val]),
        num_classes=len(train_reader.classes),
        resolution=side,
        class_names=[str(c) for c in train_reader.classes],
    )


def _download(name: str, source: TorchvisionSource, files: FileSet, data_root: Path) -> None:
    try:
        data_root.mkdir(parents=True, exist_ok=True)
        # Constructing the training split fetches and unpacks the whole set.
        source.downloader(str(data_root), train=True, download=True)
    # torchvision reports network, checksum and archive failures with many
    # exception types (URLError, RuntimeError, tarfile and zlib errors, ...);
    # to the user every one of them means the same thing.
    except Exception as error:  # noqa: BLE001
        raise DatasetError(
            f"{name}: downloading {files.title} into {data_root / files.folder} failed ({one_line(error)}); "
            f"check the network, or put {files.files_hint} there by hand"
        ) from error


def _read(name: str, source: TorchvisionSource, files: FileSet, data_root: Path, *, train: bool) -> object:
    try:
        return source.reader(data_root, data_root / files.folder, train)
    # The files exist (checked before), so any failure here means they are not
    # what torchvision expects: truncated, another version, or another format.
    except Exception as error:  # noqa: BLE001
        raise unreadable(name, files, data_root / files.folder, error) from error


def _as_tensors(reader: object) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 NCHW images and int64 labels from a torchvision dataset's arrays."""
    data = reader.data
    images = torch.from_numpy(np.ascontiguousarray(data)) if isinstance(data, np.ndarray) else data
    # CIFAR keeps NHWC arrays; MNIST keeps NHW tensors of one channel.
    images = images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2)
    labels = torch.as_tensor(reader.targets, dtype=torch.int64)
    return images.contiguous(), labels
