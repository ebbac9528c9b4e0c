"""The in-memory image-classification dataset every evaluator consumes.

Proxy training and training-free scoring only ever see small data sets (a few
thousand to a few tens of thousands of images at a proxy resolution), so a
dataset here is simply four tensors.  Keeping the whole set in one tensor is
what lets the proxy trainer move it to the GPU once and run augmentation there
instead of paying a DataLoader round trip per batch.

Images are stored as ``uint8`` in NCHW at the resolution they were loaded at;
normalisation with ``mean``/``std`` happens on the device, in the trainer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from evaluators.errors import DatasetError  # noqa: F401  (re-exported: its home for the data package)


@dataclass(frozen=True, eq=False)
class ImageDataset:
    name: str
    train_images: torch.Tensor  # uint8, (N, C, H, W)
    train_labels: torch.Tensor  # int64, (N,)
    val_images: torch.Tensor  # uint8, (M, C, H, W)
    val_labels: torch.Tensor  # int64, (M,)
    num_classes: int
    mean: tuple[float, ...]  # per channel, in [0, 1] units
    std: tuple[float, ...]
    synthetic: bool = False  # True for generated data (shapes, fake)
    # Label i names class_names[i]; empty where a loader has no names to give.
    class_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for split, images, labels in (
            ("train", self.train_images, self.train_labels),
            ("val", self.val_images, self.val_labels),
        ):
            if images.dtype != torch.uint8 or images.dim() != 4:
                raise DatasetError(f"{self.name}: {split} images must be uint8 NCHW, got {images.dtype} {tuple(images.shape)}")
            if labels.dtype != torch.int64 or labels.shape != (images.shape[0],):
                raise DatasetError(f"{self.name}: {split} labels must be int64 of length {images.shape[0]}")
        if len(self.mean) != self.in_channels or len(self.std) != self.in_channels:
            raise DatasetError(f"{self.name}: mean/std need {self.in_channels} entries")
        if self.class_names and len(self.class_names) != self.num_classes:
            raise DatasetError(f"{self.name}: {len(self.class_names)} class names for {self.num_classes} classes")

    @property
    def in_channels(self) -> int:
        return int(self.train_images.shape[1])

    @property
    def resolution(self) -> int:
        return int(self.train_images.shape[-1])

    def __len__(self) -> int:
        return int(self.train_images.shape[0])

    def describe(self) -> str:
        return (
            f"{self.name}: {len(self)} train / {self.val_images.shape[0]} val images, "
            f"{self.in_channels}x{self.resolution}x{self.resolution}, {self.num_classes} classes"
            + (" (synthetic)" if self.synthetic else "")
        )
