"""Stratified choices of images: subsets for ``limit`` and train/validation splits.

Every choice keeps each class's share of the images, so a proxy trained on a
2,000-image subset sees the classes in the same proportions as the full set,
and a small validation split still measures every class.
"""

from __future__ import annotations

import numpy as np
import torch

from evaluators.data.base import DatasetError


def stratified_subset(labels: torch.Tensor, count: int, seed: int) -> torch.Tensor:
    """Sorted indices of ``count`` items drawn class by class.

    Class ``c`` with ``n_c`` of the ``N`` items gets ``floor(count * n_c / N)``
    places; the places left over go to the classes with the largest remainders
    (ties to the lower label), so the total is exactly ``count``.
    """
    members = _members_by_class(labels, np.random.default_rng(seed))
    sizes = np.array([len(m) for m in members], dtype=np.int64)
    shares = count * sizes / sizes.sum()
    quotas = np.floor(shares).astype(np.int64)
    leftover = count - int(quotas.sum())
    # A stable sort keeps equal remainders in label order, which makes ties reproducible.
    quotas[np.argsort(-(shares - quotas), kind="stable")[:leftover]] += 1
    chosen = [m[:q] for m, q in zip(members, quotas)]
    return _sorted_indices(chosen)


def stratified_split(labels: torch.Tensor, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sorted (train, val) indices with ``round(val_fraction * n_c)`` of each class in val.

    Each class keeps at least one image on each side, so it needs two or more.
    """
    members = _members_by_class(labels, np.random.default_rng(seed))
    train, val = [], []
    for member in members:
        if len(member) < 2:
            raise ValueError("stratified_split needs at least two items per class")
        val_count = min(max(int(np.floor(val_fraction * len(member) + 0.5)), 1), len(member) - 1)
        val.append(member[:val_count])
        train.append(member[val_count:])
    return _sorted_indices(train), _sorted_indices(val)


def limit_indices(dataset: str, option: str, labels: torch.Tensor, limit: int | None, seed: int) -> torch.Tensor:
    """Indices to keep for an optional ``limit``: all of them, or a stratified subset.

    A limit below the number of classes present would drop whole classes, so it
    is refused rather than silently producing a set the labels do not cover.
    """
    if limit is None or limit >= labels.shape[0]:
        return torch.arange(labels.shape[0])
    present = int(torch.unique(labels).numel())
    if limit < present:
        raise DatasetError(f"{dataset}: invalid {option} {limit} (allowed: at least {present}, one image per class)")
    return stratified_subset(labels, limit, seed)


def _members_by_class(labels: torch.Tensor, rng: np.random.Generator) -> list[np.ndarray]:
    """Each class's indices in a random order, classes in ascending label order."""
    values = labels.numpy()
    return [rng.permutation(np.flatnonzero(values == c)) for c in np.unique(values)]


def _sorted_indices(parts: list[np.ndarray]) -> torch.Tensor:
    if not parts:
        return torch.empty(0, dtype=torch.int64)
    return torch.from_numpy(np.sort(np.concatenate(parts)).astype(np.int64))
