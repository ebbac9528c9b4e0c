"""Stratified choices of images: subsets for ``limit`` and train/validation splits.

Every choice keeps each class's share of the images, so a proxy trained on a
2,000-image subset sees the classes in the same proportions as the full set,
and a small validation split still measures every class.

Torch-free (labels are any 1-D integer array, a CPU tensor included; indices
come back as numpy int64 arrays, which index tensors as well): the command
line's pre-scan of an image folder (``evaluators.data.imagefolder_files``) makes
the same choices as the loader before torch is imported, so the two cannot disagree.
"""

from __future__ import annotations

import numpy as np

from evaluators.errors import DatasetError


def stratified_subset(labels, count: int, seed: int) -> np.ndarray:
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


def validation_count(class_size: int, val_fraction: float) -> int:
    """How many of a class's ``class_size`` items a split puts in validation: ``round(val_fraction * class_size)``
    (halves up), kept to at least one and at most all but one."""
    if class_size < 2:
        raise ValueError("a train/validation split needs at least two items per class")
    return min(max(int(np.floor(val_fraction * class_size + 0.5)), 1), class_size - 1)


def stratified_split(labels, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, val) indices with :func:`validation_count` of each class in val.

    Each class keeps at least one image on each side, so it needs two or more.
    """
    members = _members_by_class(labels, np.random.default_rng(seed))
    train, val = [], []
    for member in members:
        val_count = validation_count(len(member), val_fraction)
        val.append(member[:val_count])
        train.append(member[val_count:])
    return _sorted_indices(train), _sorted_indices(val)


def limit_indices(dataset: str, option: str, labels, limit: int | None, seed: int) -> np.ndarray:
    """Indices to keep for an optional ``limit``: all of them, or a stratified subset.

    A limit below the number of classes present would drop whole classes, so it
    is refused rather than silently producing a set the labels do not cover.
    """
    values = np.asarray(labels)
    if limit is None or limit >= values.shape[0]:
        return np.arange(values.shape[0], dtype=np.int64)
    present = len(np.unique(values))
    if limit < present:
        raise DatasetError(f"{dataset}: invalid {option} {limit} (allowed: at least {present}, one image per class)")
    return stratified_subset(values, limit, seed)


def _members_by_class(labels, rng: np.random.Generator) -> list[np.ndarray]:
    """Each class's indices in a random order, classes in ascending label order."""
    values = np.asarray(labels)
    return [rng.permutation(np.flatnonzero(values == c)) for c in np.unique(values)]


def _sorted_indices(parts: list[np.ndarray]) -> np.ndarray:
    if not parts:
        return np.empty(0, dtype=np.int64)
    return np.sort(np.concatenate(parts)).astype(np.int64)
