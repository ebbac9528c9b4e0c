"""Map a reference implementation's state dict onto the keys of ``build(get(name))``.

Both models register their tensors in forward order (a zoo entry supplies a
reordering for references that do not), so the two state dicts line up one to
one.  Every pair is checked: the same kind of tensor (weight, bias, running
mean, ...) and the same shape, or a linear layer standing for a 1x1 convolution
on a 1x1 map (timm's MobileNet heads), which only needs a reshape.  Any
mismatch is reported with both keys, so a wrong mapping cannot load silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import torch

from searchspace.build import build
from searchspace.zoo.registry import ZooError, entry


def module_last(block: str, module: str) -> Callable[[list[str]], list[str]]:
    """A ``reference_order`` for references that register a block's ``module`` before its main path.

    ``block`` is a regular expression for a block's key prefix; each block's
    keys under ``<block>.<module>.`` move after the block's other keys (this
    toolkit registers a residual's shortcut after its body), all else keeps its place.
    """
    return modules_ranked(block, lambda name: 1 if name == module else 0)


def modules_ranked(block: str, rank: Callable[[str], int]) -> Callable[[list[str]], list[str]]:
    """A ``reference_order`` that sorts each block's keys by ``rank`` of the module under the block they belong to.

    ``block`` is a regular expression for a block's key prefix; the keys of a
    block move together to where its first key was, in the order of their
    modules' ranks (stable within a rank); keys of no block keep their place.
    """
    pattern = re.compile(rf"^({block})\.([^.]+)\.")

    def reorder(keys: list[str]) -> list[str]:
        block_start: dict[str, int] = {}
        for index, key in enumerate(keys):
            if match := pattern.match(key):
                block_start.setdefault(match.group(1), index)

        def order(item: tuple[int, str]) -> tuple[int, int, int]:
            index, key = item
            match = pattern.match(key)
            if match is None:
                return (index, 0, index)
            return (block_start[match.group(1)], rank(match.group(2)), index)

        return [key for _, key in sorted(enumerate(keys), key=order)]

    return reorder


def _reshapeable(source: torch.Size, target: torch.Size) -> bool:
    """A 1x1-conv weight (out, in, 1, 1) and a linear weight (out, in) are the same numbers."""
    squeeze = lambda shape: tuple(d for i, d in enumerate(shape) if not (i >= 2 and d == 1))  # noqa: E731
    return squeeze(source) == squeeze(target)


def _role(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def convert_state_dict(name: str, reference_state_dict: Mapping[str, torch.Tensor], **options) -> dict[str, torch.Tensor]:
    """A state dict for ``build(get(name, **options))`` holding the reference's tensors."""
    zoo_entry = entry(name)
    spec = zoo_entry.spec(**options)
    with torch.device("meta"):
        target = build(spec).state_dict()
    reference_keys = list(reference_state_dict)
    if zoo_entry.reference_order is not None:
        reference_keys = zoo_entry.reference_order(reference_keys)
    if len(reference_keys) != len(target):
        raise ZooError(
            f"{name}: the reference state dict has {len(reference_keys)} tensors, the zoo net {len(target)}; "
            f"was it made with the same options ({zoo_entry.reference.library} {zoo_entry.reference.name})?"
        )
    converted = {}
    for reference_key, (key, target_tensor) in zip(reference_keys, target.items()):
        tensor = reference_state_dict[reference_key]
        if _role(reference_key) != _role(key):
            raise ZooError(f"{name}: reference {reference_key!r} does not correspond to {key!r}")
        if tensor.shape != target_tensor.shape:
            if not _reshapeable(tensor.shape, target_tensor.shape):
                raise ZooError(f"{name}: reference {reference_key!r} has shape {tuple(tensor.shape)}, {key!r} needs {tuple(target_tensor.shape)}")
            tensor = tensor.reshape(target_tensor.shape)
        converted[key] = tensor
    return converted
