"""``imagefolder:PATH``: the user's own images, one folder per class, held in memory.

Two layouts are accepted:

- ``PATH/train/<class>/...`` and ``PATH/val/<class>/...``: the split is the user's;
  both sides must name the same classes.
- ``PATH/<class>/...``: split here, ``val_fraction`` (default 0.2) of each class
  going to validation, drawn with a constant seed so the split never moves
  between runs; every class then needs at least two images.

Class folders are sorted by name and labelled 0, 1, ...; images are found in
them recursively by extension, and other files are ignored. Each image is
decoded with PIL, turned upright by its EXIF orientation, converted to RGB,
scaled so its shorter side is ``resolution`` and centre-cropped to a square.

The default resolution is 64: photographs carry detail that 32 pixels (CIFAR's
size) wipes out, while 64x64 keeps proxy training cheap and 10,000 images take
only 123 MB in memory.

Options:
    limit: at most this many training images, a stratified subset drawn with
        ``seed``; chosen before decoding, so a large folder loads quickly.
    val_limit: the same for validation, drawn with a constant seed.
    val_fraction: for the single-folder layout only; in (0, 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from evaluators.data.assemble import assemble_dataset
from evaluators.data.base import DatasetError, ImageDataset
from evaluators.data.options import float_option, optional_int_option, resolution_option
from evaluators.data.sampling import limit_indices, stratified_split

DEFAULT_RESOLUTION = 64
DEFAULT_VAL_FRACTION = 0.2
SPLIT_SEED = 104_729  # constant on purpose: the split must not depend on ``seed``
VAL_SUBSET_SEED = 7_919
# Decoded pixels per image before it is scaled down: a 40-megapixel photo passes, a decompression bomb does not.
MAX_IMAGE_PIXELS = 50_000_000
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"})


@dataclass(frozen=True)
class ImageList:
    """Image files and their labels, before any are decoded."""

    paths: tuple[Path, ...]
    labels: torch.Tensor  # int64

    def subset(self, indices: torch.Tensor) -> ImageList:
        return ImageList(tuple(self.paths[i] for i in indices.tolist()), self.labels[indices])


def load_image_folder(
    path: str,
    *,
    resolution: int | None = None,
    seed: int = 0,
    limit: object = None,
    val_limit: object = None,
    val_fraction: object = None,
) -> ImageDataset:
    """Load the image folder at ``path``; see the module docstring for layouts and options."""
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
        train = _list_images(name, root / "train", classes)
        val = _list_images(name, root / "val", classes)
    else:
        fraction = float_option(
            name, "val_fraction", DEFAULT_VAL_FRACTION if val_fraction is None else val_fraction,
            low=0.0, high=1.0, low_inclusive=False, high_inclusive=False,
        )
        classes = _class_folders(name, root)
        train, val = _split(name, _list_images(name, root, classes), fraction)

    train = train.subset(limit_indices(name, "limit", train.labels, max_train, seed))
    val = val.subset(limit_indices(name, "val_limit", val.labels, max_val, VAL_SUBSET_SEED))
    return assemble_dataset(
        name,
        train=(_decode_all(name, train.paths, side), train.labels),
        val=(_decode_all(name, val.paths, side), val.labels),
        num_classes=len(classes),
        resolution=None,  # decoded at the final size already
        class_names=classes,
    )


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
    return ImageList(tuple(paths), torch.tensor(labels, dtype=torch.int64))


def _split(name: str, images: ImageList, val_fraction: float) -> tuple[ImageList, ImageList]:
    counts = torch.bincount(images.labels)
    if int(counts.min()) < 2:
        lonely = images.paths[int(torch.nonzero(images.labels == int(counts.argmin()))[0])].parent
        raise DatasetError(
            f"{name}: class folder {lonely} has one image; splitting into train/val needs at least two per class "
            "(or give train/ and val/ folders)"
        )
    train_index, val_index = stratified_split(images.labels, val_fraction, SPLIT_SEED)
    return images.subset(train_index), images.subset(val_index)


def _decode_all(name: str, paths: tuple[Path, ...], resolution: int) -> torch.Tensor:
    images = torch.empty((len(paths), 3, resolution, resolution), dtype=torch.uint8)
    for index, path in enumerate(paths):
        images[index] = torch.from_numpy(_decode(name, path, resolution)).permute(2, 0, 1)
    return images


def _decode(name: str, path: Path, resolution: int) -> np.ndarray:
    """One image as a ``resolution`` x ``resolution`` x 3 uint8 array."""
    try:
        with Image.open(path) as opened:
            # The header gives the size before any pixel is decoded: an 800-byte PNG can claim gigapixels.
            if opened.width * opened.height > MAX_IMAGE_PIXELS:
                raise DatasetError(f"{name}: image {path} is {opened.width}x{opened.height}, more than "
                                   f"{MAX_IMAGE_PIXELS:,} pixels; shrink it first")
            # For JPEGs, decode straight at a reduced scale that still leaves both
            # sides >= resolution: far faster on camera-sized photos.
            opened.draft("RGB", (resolution, resolution))
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as error:
        raise DatasetError(f"{name}: cannot read image {path} ({error})") from error
    width, height = image.size
    scale = resolution / min(width, height)
    new_size = (max(resolution, round(width * scale)), max(resolution, round(height * scale)))
    left, top = (new_size[0] - resolution) // 2, (new_size[1] - resolution) // 2
    # Scale only the part that the centre crop keeps (``box``, in source pixels): the same pixels as
    # scaling everything and cropping, without a 64 x 12,800,000 intermediate for a 1 x 200,000 image.
    # PIL's bilinear filter widens with the shrink factor, so downscaling is antialiased.
    sx, sy = new_size[0] / width, new_size[1] / height
    box = (left / sx, top / sy, (left + resolution) / sx, (top + resolution) / sy)
    return np.array(image.resize((resolution, resolution), Image.Resampling.BILINEAR, box=box))
