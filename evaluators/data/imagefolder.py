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
scaled so its shorter side is ``resolution`` (default 64) and centre-cropped
to a square. Which images are used is decided without torch, in
``evaluators.data.imagefolder_files``.

Options:
    limit: at most this many training images, a stratified subset drawn with
        ``seed``; chosen before decoding, so a large folder loads quickly.
    val_limit: the same for validation, drawn with a constant seed.
    val_fraction: for the single-folder layout only; in (0, 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from evaluators.data.assemble import assemble_dataset
from evaluators.data.base import ImageDataset
from evaluators.data.imagefolder_files import UNREADABLE, ImageList, check_header, select_images, unreadable
from evaluators.errors import DatasetError


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
    selection = select_images(path, resolution=resolution, seed=seed, limit=limit, val_limit=val_limit,
                              val_fraction=val_fraction)
    return assemble_dataset(
        selection.name,
        train=_decoded(selection.name, selection.train, selection.side),
        val=_decoded(selection.name, selection.val, selection.side),
        num_classes=len(selection.classes),
        resolution=None,  # decoded at the final size already
        class_names=selection.classes,
    )


def _decoded(name: str, images: ImageList, resolution: int) -> tuple[torch.Tensor, torch.Tensor]:
    pixels = torch.empty((len(images.paths), 3, resolution, resolution), dtype=torch.uint8)
    for index, path in enumerate(images.paths):
        pixels[index] = torch.from_numpy(_decode(name, path, resolution)).permute(2, 0, 1)
    return pixels, torch.from_numpy(images.labels)


def _decode(name: str, path: Path, resolution: int) -> np.ndarray:
    """One image as a ``resolution`` x ``resolution`` x 3 uint8 array."""
    try:
        with Image.open(path) as opened:
            # The header gives the size before any pixel is decoded: an 800-byte PNG can claim gigapixels.
            # The command line's pre-scan checked this too; a file can change in between, or come from the Python API.
            check_header(name, path, opened)
            # For JPEGs, decode straight at a reduced scale that still leaves both
            # sides >= resolution: far faster on camera-sized photos.
            opened.draft("RGB", (resolution, resolution))
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except DatasetError:
        raise
    except UNREADABLE as error:
        raise unreadable(name, path, error) from error
    width, height = image.size
    scale = resolution / min(width, height)
    new_size = (max(resolution, round(width * scale)), max(resolution, round(height * scale)))
    left, top = (new_size[0] - resolution) // 2, (new_size[1] - resolution) // 2
    # Scale only the part that the centre crop keeps (``box``, in source pixels): the same pixels as
    # scaling everything and cropping, without a 64 x 3,840,000 intermediate for a 1 x 60,000 image.
    # PIL's bilinear filter widens with the shrink factor, so downscaling is antialiased.
    sx, sy = new_size[0] / width, new_size[1] / height
    box = (left / sx, top / sy, (left + resolution) / sx, (top + resolution) / sy)
    return np.array(image.resize((resolution, resolution), Image.Resampling.BILINEAR, box=box))
