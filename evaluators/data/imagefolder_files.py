"""An image folder's files, which of them a run uses, and their headers: everything about it but the pixels.

Torch-free, so the command line can refuse a hostile folder (an 800-byte PNG
that claims gigapixels, a file that is no image, an empty class, too few images
to split) before torch is imported: ``import torch`` alone peaks at 0.6-0.9 GB.
The loader (``evaluators.data.imagefolder``) selects its images with the same
:func:`select_images` and checks each header with the same :func:`check_header`
before decoding, so the pre-scan and the load can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from evaluators.data.options import float_option, optional_int_option, resolution_option
from evaluators.data.sampling import limit_indices, stratified_split
from evaluators.errors import DatasetError

# 64: photographs carry detail that 32 pixels (CIFAR's size) wipes out, while 64x64 keeps proxy training
# cheap and 10,000 images take only 123 MB in memory.
DEFAULT_RESOLUTION = 64
DEFAULT_VAL_FRACTION = 0.2
SPLIT_SEED = 104_729  # constant on purpose: the split must not depend on ``seed``
VAL_SUBSET_SEED = 7_919
# Decoded pixels per image before it is scaled down: a 40-megapixel photo passes, a decompression bomb does not.
MAX_IMAGE_PIXELS = 50_000_000
# JPEG's own limit, which no photograph exceeds: a 1 x 200,000 PNG is a crafted file, and its centre crop is one column.
MAX_IMAGE_SIDE = 65_535
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"})
# What PIL raises for a file it cannot read as an image (truncated, damaged, another format under an image's name).
UNREADABLE = (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError)


@dataclass(frozen=True)
class ImageList:
    """Image files and their labels, before any are decoded."""

    paths: tuple[Path, ...]
    labels: np.ndarray  # int64

    def subset(self, indices: np.ndarray) -> ImageList:
        return ImageList(tuple(self.paths[i] for i in indices.tolist()), self.labels[indices])


@dataclass(frozen=True)
class Selection:
    """The images a load decodes, at which side: class names (label i is classes[i]) and both splits, limits applied."""

    name: str  # "imagefolder:PATH"
    side: int
    classes: tuple[str, ...]
    train: ImageList
    val: ImageList


def select_images(path: str, *, resolution: object = None, seed: int = 0, limit: object = None,
                  val_limit: object = None, val_fraction: object = None) -> Selection:
    """The images of the folder ``path`` that a load uses; see ``evaluators.data.imagefolder`` for layouts and options."""
    name = f"imagefolder:{path}"
    side = resolution_option(name, resolution, default=DEFAULT_RESOLUTION)
    max_train = optional_int_option(name, "limit", limit, minimum=1)
    max_val = optional_int_option(name, "val_limit", val_limit, minimum=1)
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{name}: no such folder {root}")
    if _has_split_folders(name, root):
        if val_fraction is not None:
            raise DatasetError(f"{name}: val_fraction applies only to a folder of class folders, and {root} has train/ and val/")
        classes = _matching_classes(name, root / "train", root / "val")
        train, val = _list_images(name, root / "train", classes), _list_images(name, root / "val", classes)
    else:
        fraction = float_option(
            name, "val_fraction", DEFAULT_VAL_FRACTION if val_fraction is None else val_fraction,
            low=0.0, high=1.0, low_inclusive=False, high_inclusive=False,
        )
        classes = _class_folders(name, root)
        train, val = _split(name, _list_images(name, root, classes), fraction)
    return Selection(name, side, classes, train.subset(limit_indices(name, "limit", train.labels, max_train, seed)),
                     val.subset(limit_indices(name, "val_limit", val.labels, max_val, VAL_SUBSET_SEED)))


def check_header(name: str, path: Path, image: Image.Image) -> None:
    """Refuse an opened image whose header claims too many pixels or too long a side: PIL has read nothing else yet."""
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise DatasetError(f"{name}: image {path} is {width}x{height}, more than {MAX_IMAGE_PIXELS:,} pixels; shrink it first")
    if max(width, height) > MAX_IMAGE_SIDE:
        raise DatasetError(f"{name}: image {path} is {width}x{height}, a side longer than {MAX_IMAGE_SIDE:,} pixels; "
                           "crop or shrink it first")


def check_headers(name: str, paths: tuple[Path, ...]) -> None:
    """Each file opens as an image whose header passes :func:`check_header` and whose structure PIL can verify.

    ``verify`` walks a PNG's chunks and checksums without decompressing them, so a
    truncated or damaged PNG is found here; for most other formats it checks less,
    and the loader's decoding is the last check.
    """
    for path in paths:
        try:
            with Image.open(path) as opened:
                check_header(name, path, opened)
                opened.verify()
        except DatasetError:
            raise
        except UNREADABLE as error:
            raise unreadable(name, path, error) from error


def unreadable(name: str, path: Path, error: BaseException) -> DatasetError:
    return DatasetError(f"{name}: cannot read image {path} ({error})")


def _has_split_folders(name: str, root: Path) -> bool:
    has_train, has_val = (root / "train").is_dir(), (root / "val").is_dir()
    if has_train != has_val:
        present, absent = ("train", "val") if has_train else ("val", "train")
        raise DatasetError(
            f"{name}: {root} has {present}/ but no {absent}/; give both, or a folder whose subfolders are the classes"
        )
    return has_train


def _class_folders(name: str, folder: Path) -> tuple[str, ...]:
    classes = tuple(sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")))
    if not classes:
        raise DatasetError(f"{name}: no class folders in {folder} (expected one subfolder of images per class)")
    if len(classes) < 2:
        raise DatasetError(f"{name}: only one class folder ({classes[0]}) in {folder}; classification needs at least two")
    return classes


def _matching_classes(name: str, train_folder: Path, val_folder: Path) -> tuple[str, ...]:
    train_classes, val_classes = _class_folders(name, train_folder), _class_folders(name, val_folder)
    if train_classes != val_classes:
        only_train = sorted(set(train_classes) - set(val_classes))
        only_val = sorted(set(val_classes) - set(train_classes))
        raise DatasetError(
            f"{name}: train/ and val/ must hold the same class folders "
            f"(only in train/: {', '.join(only_train) or 'none'}; only in val/: {', '.join(only_val) or 'none'})"
        )
    return train_classes


def _list_images(name: str, folder: Path, classes: tuple[str, ...]) -> ImageList:
    paths: list[Path] = []
    labels: list[int] = []
    for label, class_name in enumerate(classes):
        found = sorted(
            p for p in (folder / class_name).rglob("*")
            if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file() and not p.name.startswith(".")
        )
        if not found:
            allowed = ", ".join(sorted(IMAGE_EXTENSIONS))
            raise DatasetError(f"{name}: class folder {folder / class_name} has no images (allowed extensions: {allowed})")
        paths.extend(found)
        labels.extend([label] * len(found))
    return ImageList(tuple(paths), np.array(labels, dtype=np.int64))


def _split(name: str, images: ImageList, val_fraction: float) -> tuple[ImageList, ImageList]:
    counts = np.bincount(images.labels)
    if int(counts.min()) < 2:
        lonely = images.paths[int(np.flatnonzero(images.labels == int(counts.argmin()))[0])].parent
        raise DatasetError(
            f"{name}: class folder {lonely} has one image; splitting into train/val needs at least two per class "
            "(or give train/ and val/ folders)"
        )
    train_index, val_index = stratified_split(images.labels, val_fraction, SPLIT_SEED)
    return images.subset(train_index), images.subset(val_index)


def prescan_image_folder(path: str, **options: object) -> int:
    """Refuse what loading the folder would, reading only folders and image headers; the number of training images.

    ``options``: :func:`select_images`'s keywords.
    """
    selection = select_images(path, **options)
    check_headers(selection.name, selection.train.paths + selection.val.paths)
    return len(selection.train.paths)
