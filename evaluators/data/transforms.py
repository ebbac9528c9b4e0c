"""Image-tensor operations every loader shares: resizing and per-channel statistics.

Both work through the images in chunks, so resizing all 50,000 CIFAR images
never holds more than one chunk as floats (the whole set as float32 at 64x64
would be 2.4 GB).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_CHUNK = 512

# A channel that is constant (a blank background, say) has zero spread; flooring
# the std at one grey level keeps the trainer's normalisation from dividing by 0.
_MIN_STD = 1.0 / 255.0


def resize_images(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """Square uint8 NCHW images resized to ``resolution`` x ``resolution``.

    Bilinear with antialiasing, so shrinking averages over the source pixels
    instead of sampling every k-th one and aliasing fine texture. Images already
    at ``resolution`` come back unchanged (the same tensor).
    """
    height, width = images.shape[-2:]
    if height != width:
        raise ValueError(f"resize_images expects square images, got {height}x{width}")
    if height == resolution:
        return images
    resized = torch.empty((images.shape[0], images.shape[1], resolution, resolution), dtype=torch.uint8)
    for start in range(0, images.shape[0], _CHUNK):
        chunk = images[start : start + _CHUNK].to(torch.float32)
        scaled = F.interpolate(chunk, size=(resolution, resolution), mode="bilinear", align_corners=False, antialias=True)
        resized[start : start + _CHUNK] = scaled.round_().clamp_(0, 255).to(torch.uint8)
    return resized


def channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and (population) std of uint8 NCHW images, in [0, 1] units.

    Sums are accumulated in float64 over integer pixel values, which float64
    holds exactly at these sizes, so the result does not depend on chunking.
    """
    channels = images.shape[1]
    total = torch.zeros(channels, dtype=torch.float64)
    total_squares = torch.zeros(channels, dtype=torch.float64)
    for start in range(0, images.shape[0], _CHUNK):
        chunk = images[start : start + _CHUNK].to(torch.float64)
        total += chunk.sum(dim=(0, 2, 3))
        total_squares += chunk.square().sum(dim=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    variance = (total_squares / count - mean.square()).clamp_(min=0.0)
    std = variance.sqrt().div_(255.0).clamp_(min=_MIN_STD)
    return tuple(float(m) for m in mean / 255.0), tuple(float(s) for s in std)
