"""The dataset, resident on the training device as ``uint8`` at the proxy resolution."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from evaluators.data.base import ImageDataset
from evaluators.proxy.augment import resize_images


@dataclass(frozen=True)
class DeviceData:
    train_images: torch.Tensor
    train_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor

    @classmethod
    def load(cls, dataset: ImageDataset, device: torch.device, resolution: int) -> DeviceData:
        """Copy once to ``device`` (still ``uint8``, a quarter of float32's size), then resize there."""
        return cls(
            train_images=resize_images(dataset.train_images.to(device), resolution),
            train_labels=dataset.train_labels.to(device),
            val_images=resize_images(dataset.val_images.to(device), resolution),
            val_labels=dataset.val_labels.to(device),
        )
