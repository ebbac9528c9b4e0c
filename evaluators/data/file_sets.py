"""Which files cifar10, cifar100, mnist and fashionmnist read from ``data_root``, and their torch-free checks.

The loader (evaluators.data.torchvision_sets) and the command line's pre-scan
both use this table, so a set's missing, truncated or crafted file is refused
the same way, and before torch is imported when the command line asks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evaluators.data.cifar_files import CIFAR10, CIFAR100, CifarLayout, check_cifar
from evaluators.data.idx_files import check_idx_split
from evaluators.errors import DatasetError


@dataclass(frozen=True)
class FileSet:
    """Where one dataset keeps its files, what they are called, and how to check them without torch."""

    title: str
    folder: str  # relative to data_root
    files: tuple[str, ...]
    files_hint: str  # how to describe the expected files in an error message
    check: Callable[[Path], int]  # (folder) -> number of training images; ValueError (or OSError) if a file is wrong


def _cifar(title: str, layout: CifarLayout, folder: str, files_hint: str) -> FileSet:
    return FileSet(title, folder, layout.files, files_hint, lambda where: check_cifar(where, layout))


_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _check_mnist(folder: Path) -> int:
    train, test = ([folder / f for f in _MNIST_FILES[i:i + 2]] for i in (0, 2))
    check_idx_split(*test)
    return check_idx_split(*train)


def _mnist(title: str, folder: str) -> FileSet:
    hint = ", ".join(_MNIST_FILES) + ", unpacked from their .gz archives"
    return FileSet(title, os.path.join(folder, "raw"), _MNIST_FILES, hint, _check_mnist)


FILE_SETS: dict[str, FileSet] = {
    "cifar10": _cifar("CIFAR-10", CIFAR10, "cifar-10-batches-py",
                      "data_batch_1..data_batch_5, test_batch, batches.meta from the python version"),
    "cifar100": _cifar("CIFAR-100", CIFAR100, "cifar-100-python", "train, test, meta from the python version"),
    "mnist": _mnist("MNIST", "MNIST"),
    "fashionmnist": _mnist("Fashion-MNIST", "FashionMNIST"),
}


def all_present(files: FileSet, folder: Path) -> bool:
    return all((folder / f).is_file() for f in files.files)


def require_files(name: str, files: FileSet, folder: Path) -> None:
    """Every file of ``name`` is in ``folder``, else one error naming the missing ones and where they belong."""
    missing = [f for f in files.files if not (folder / f).is_file()]
    if not missing:
        return
    if len(missing) == len(files.files):
        found = f"no {files.title} files under {folder}"
    else:
        found = f"missing {', '.join(missing)} under {folder}"
    raise DatasetError(f"{name}: {found} (expected {files.files_hint}); put them there or pass download=True")


def unreadable(name: str, files: FileSet, folder: Path, error: BaseException) -> DatasetError:
    """The one error for files that exist but are not what the set holds: truncated, another version or format."""
    return DatasetError(f"{name}: could not read the {files.title} files under {folder} ({one_line(error)}); "
                        f"expected {files.files_hint}")


def prescan_file_set(name: str, data_root: Path, *, download: bool) -> int | None:
    """Refuse, without torch, missing or damaged files of ``name``; the number of training images.

    ``None`` when the files are missing and ``download`` will fetch them (nothing to check yet).
    """
    files = FILE_SETS[name]
    folder = data_root / files.folder
    if download and not all_present(files, folder):
        return None
    require_files(name, files, folder)
    try:
        return files.check(folder)
    # A damaged file fails in many ways (unpickling errors, EOFError, ValueError, OSError); each means the same.
    except Exception as error:  # noqa: BLE001
        raise unreadable(name, files, folder, error) from None


def one_line(error: BaseException, max_length: int = 300) -> str:
    """An exception's message on one line (torchvision's download errors span several)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= max_length else text[: max_length - 3] + "..."
