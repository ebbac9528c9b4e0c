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

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets

from evaluators.data.assemble import assemble_dataset
from evaluators.data.base import DatasetError, ImageDataset
from evaluators.data.cifar_files import CIFAR10, CIFAR100, CifarLayout, read_cifar
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
    """Where one torchvision dataset keeps its files and what they look like."""

    title: str
    downloader: type  # torchvision's class: fetches the archive and checks its MD5
    reader: Callable[[Path, Path, bool], object]  # (data_root, folder, train) -> .data, .targets, .classes
    folder: str  # relative to data_root
    files: tuple[str, ...]
    files_hint: str  # how to describe the expected files in an error message


_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_MNIST_FILES_HINT = ", ".join(_MNIST_FILES) + ", unpacked from their .gz archives"

SOURCES: dict[str, TorchvisionSource] = {
    "cifar10": TorchvisionSource(
        title="CIFAR-10",
        downloader=datasets.CIFAR10,
        reader=_cifar_reader(CIFAR10),
        folder="cifar-10-batches-py",
        files=tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta"),
        files_hint="data_batch_1..data_batch_5, test_batch, batches.meta from the python version",
    ),
    "cifar100": TorchvisionSource(
        title="CIFAR-100",
        downloader=datasets.CIFAR100,
        reader=_cifar_reader(CIFAR100),
        folder="cifar-100-python",
        files=("train", "test", "meta"),
        files_hint="train, test, meta from the python version",
    ),
    "mnist": TorchvisionSource(
        title="MNIST",
        downloader=datasets.MNIST,
        reader=_torchvision_reader(datasets.MNIST),
        folder=os.path.join("MNIST", "raw"),
        files=_MNIST_FILES,
        files_hint=_MNIST_FILES_HINT,
    ),
    "fashionmnist": TorchvisionSource(
        title="Fashion-MNIST",
        downloader=datasets.FashionMNIST,
        reader=_torchvision_reader(datasets.FashionMNIST),
        folder=os.path.join("FashionMNIST", "raw"),
        files=_MNIST_FILES,
        files_hint=_MNIST_FILES_HINT,
    ),
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
    source = SOURCES[name]
    side = resolution_option(name, resolution, default=None)
    max_train = optional_int_option(name, "limit", limit, minimum=1)
    max_val = optional_int_option(name, "val_limit", val_limit, minimum=1)
    folder = data_root / source.folder
    if download and not _all_present(source, folder):  # files already there are read, never fetched again
        _download(name, source, data_root, folder)
    _require_files(name, source, folder)
    train_reader = _read(name, source, data_root, folder, train=True)
    test_reader = _read(name, source, data_root, folder, train=False)
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


def _all_present(source: TorchvisionSource, folder: Path) -> bool:
    return all((folder / f).is_file() for f in source.files)


def _require_files(name: str, source: TorchvisionSource, folder: Path) -> None:
    missing = [f for f in source.files if not (folder / f).is_file()]
    if not missing:
        return
    if len(missing) == len(source.files):
        found = f"no {source.title} files under {folder}"
    else:
        found = f"missing {', '.join(missing)} under {folder}"
    raise DatasetError(f"{name}: {found} (expected {source.files_hint}); put them there or pass download=True")


def _download(name: str, source: TorchvisionSource, data_root: Path, folder: Path) -> None:
    try:
        data_root.mkdir(parents=True, exist_ok=True)
        # Constructing the training split fetches and unpacks the whole set.
        source.downloader(str(data_root), train=True, download=True)
    # torchvision reports network, checksum and archive failures with many
    # exception types (URLError, RuntimeError, tarfile and zlib errors, ...);
    # to the user every one of them means the same thing.
    except Exception as error:  # noqa: BLE001
        raise DatasetError(
            f"{name}: downloading {source.title} into {folder} failed ({_one_line(error)}); "
            f"check the network, or put {source.files_hint} there by hand"
        ) from error


def _read(name: str, source: TorchvisionSource, data_root: Path, folder: Path, *, train: bool) -> object:
    try:
        return source.reader(data_root, folder, train)
    # The files exist (checked before), so any failure here means they are not
    # what torchvision expects: truncated, another version, or another format.
    except Exception as error:  # noqa: BLE001
        raise DatasetError(
            f"{name}: could not read the {source.title} files under {folder} ({_one_line(error)}); "
            f"expected {source.files_hint}"
        ) from error


def _as_tensors(reader: object) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 NCHW images and int64 labels from a torchvision dataset's arrays."""
    data = reader.data
    images = torch.from_numpy(np.ascontiguousarray(data)) if isinstance(data, np.ndarray) else data
    # CIFAR keeps NHWC arrays; MNIST keeps NHW tensors of one channel.
    images = images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2)
    labels = torch.as_tensor(reader.targets, dtype=torch.int64)
    return images.contiguous(), labels


def _one_line(error: BaseException, max_length: int = 300) -> str:
    """An exception's message on one line (torchvision's download errors span several)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= max_length else text[: max_length - 3] + "..."
