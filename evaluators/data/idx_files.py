"""MNIST's idx-ubyte files checked from their headers and sizes, without torch.

torchvision reads them into tensors, so a truncated or foreign file would be
found only after torch loads; the header (magic number, then big-endian
dimensions) and the file's size tell the same thing in a few bytes.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

# An idx file's magic number: two zero bytes, the element type (0x08: unsigned byte), the number of dimensions.
_UBYTE = 0x08


def idx_count(path: Path, dimensions: int) -> int:
    """The number of items in the uint8 idx file ``path`` of ``dimensions`` dimensions; ``ValueError`` if it is not one."""
    header_size = 4 + 4 * dimensions
    with open(path, "rb") as handle:
        header = handle.read(header_size)
    if len(header) < header_size:
        raise ValueError(f"{path.name} is shorter than an idx header")
    zero, element, found_dimensions, *sizes = struct.unpack(f">HBB{dimensions}I", header)
    if zero != 0 or element != _UBYTE or found_dimensions != dimensions:
        raise ValueError(f"{path.name} is not an idx file of {dimensions}-dimensional unsigned bytes")
    expected = header_size + math.prod(sizes)
    if path.stat().st_size != expected:
        raise ValueError(f"{path.name} is {path.stat().st_size:,} bytes; its header says {expected:,}")
    return sizes[0]


def check_idx_split(images: Path, labels: Path) -> int:
    """An images file and its labels file agree on the count; the number of images."""
    count = idx_count(images, 3)
    if idx_count(labels, 1) != count:
        raise ValueError(f"{images.name} and {labels.name} hold different numbers of items")
    return count

