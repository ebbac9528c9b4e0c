"""The last step of every loader: resize both splits and attach train statistics."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from evaluators.data.base import ImageDataset
from evaluators.data.transforms import channel_stats, resize_images


def assemble_dataset(
    name: str,
    *,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    num_classes: int,
    resolution: int | None,
    synthetic: bool = False,
    class_names: Sequence[str] = (),
) -> ImageDataset:
    """An :class:`ImageDataset` from (images, labels) pairs, resized to ``resolution`` if given.

    ``mean``/``std`` come from the train split only, after resizing, because that
    is exactly what the trainer normalises; validation images must not leak into it.
    """
    train_images, train_labels = train
    val_images, val_labels = val
    if resolution is not None:
        train_images = resize_images(train_images, resolution)
        val_images = resize_images(val_images, resolution)
    mean, std = channel_stats(train_images)
    return ImageDataset(
        name=name,
        train_images=train_images.contiguous(),
        train_labels=train_labels.to(torch.int64),
        val_images=val_images.contiguous(),
        val_labels=val_labels.to(torch.int64),
        num_classes=num_classes,
        mean=mean,
        std=std,
        synthetic=synthetic,
        class_names=tuple(class_names),
    )
