"""The synthetic shapes set: determinism, balance, class definition and difficulty."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from evaluators.data import DatasetError, load_dataset
from evaluators.data.shapes import MAX_CLASSES, ShapeClass, shape_class
from evaluators.data.shapes_render import SHAPE_KINDS, TEXTURE_KINDS


def small(**options: object):
    return load_dataset("shapes", **{"size": 300, "val_size": 100, **options})


def test_same_seed_is_bit_identical_and_another_seed_differs() -> None:
    first, again, other = small(seed=4), small(seed=4), small(seed=5)
    assert torch.equal(first.train_images, again.train_images) and torch.equal(first.val_images, again.val_images)
    assert torch.equal(first.train_labels, again.train_labels)
    assert not torch.equal(first.train_images, other.train_images)
    assert first.mean == again.mean


def test_validation_comes_from_another_stream() -> None:
    data = small(size=100, val_size=100)
    assert not torch.equal(data.train_images, data.val_images)
    train_scenes = {image.numpy().tobytes() for image in data.train_images}
    assert not any(image.numpy().tobytes() in train_scenes for image in data.val_images)


def test_layout_dtype_and_synthetic_flag() -> None:
    data = small(resolution=48, num_classes=12)
    assert data.train_images.shape == (300, 3, 48, 48) and data.train_images.dtype == torch.uint8
    assert data.val_images.shape == (100, 3, 48, 48)
    assert data.synthetic and data.num_classes == 12 and len(data.class_names) == 12
    assert 0 <= int(data.train_labels.min()) and int(data.train_labels.max()) == 11


def test_classes_are_balanced() -> None:
    data = small(size=305, num_classes=10)
    counts = torch.bincount(data.train_labels, minlength=10).tolist()
    assert sorted(counts) == [30] * 5 + [31] * 5


def test_every_combination_is_a_distinct_class() -> None:
    table = [shape_class(k) for k in range(MAX_CLASSES)]
    assert len(set(table)) == MAX_CLASSES == len(SHAPE_KINDS) * len(TEXTURE_KINDS) * 3
    # The default ten use every shape, more than one texture and more than one copy count.
    first_ten = table[:10]
    assert {c.shape for c in first_ten} == set(SHAPE_KINDS)
    assert len({c.texture for c in first_ten}) > 1 and len({c.copies for c in first_ten}) > 1
    assert shape_class(0) == ShapeClass("disc", "solid", 1)


def test_more_copies_cover_more_separate_blobs() -> None:
    # At difficulty 0 (no clutter, strong contrast) the number of foreground
    # blobs in an image is the class's copy count; check it through the pixels.
    data = load_dataset("shapes", size=200, val_size=15, num_classes=15, difficulty=0.0)
    agree = 0
    for image, label in zip(data.train_images, data.train_labels):
        pixels = image.double().numpy()
        background = np.median(pixels[:, :2, :].reshape(3, -1), axis=1)  # the top rows hold no shape
        distance = np.linalg.norm(pixels - background[:, None, None], axis=0)
        _, blobs = ndimage.label(ndimage.binary_opening(distance > 60))
        agree += blobs == shape_class(int(label)).copies
    assert agree >= 0.8 * len(data.train_labels)


def contrast_features(images: torch.Tensor) -> np.ndarray:
    """|grey - image median|, 2x2 average-pooled: a fixed, colour-blind linear probe input.

    Raw RGB pixels are nearly useless to a linear model here by design (colours
    and polarity are random), so the probe sees where the image departs from its
    background instead.
    """
    grey = images.double().mean(dim=1, keepdim=True) / 255.0
    median = grey.flatten(1).median(dim=1).values.view(-1, 1, 1, 1)
    return torch.nn.functional.avg_pool2d((grey - median).abs(), 2).flatten(1).numpy()


def probe_accuracy(difficulty: float | None) -> float:
    """Validation accuracy of a logistic regression on :func:`contrast_features`."""
    options = {} if difficulty is None else {"difficulty": difficulty}
    data = load_dataset("shapes", size=2000, val_size=500, seed=0, **options)
    features, val_features = contrast_features(data.train_images), contrast_features(data.val_images)
    # One BLAS thread: under ``pytest -n 2`` on two cores, more only oversubscribe.
    with threadpool_limits(limits=1):
        model = LogisticRegression(max_iter=500).fit(features, data.train_labels.numpy())
    return float(model.score(val_features, data.val_labels.numpy()))


def test_default_difficulty_is_learnable_but_far_from_solved() -> None:
    chance = 1 / 10
    assert 2 * chance < probe_accuracy(None) < 0.6


def test_difficulty_makes_the_set_harder() -> None:
    assert probe_accuracy(0.0) > probe_accuracy(1.0) + 0.2


@pytest.mark.parametrize(
    "options, message",
    [
        ({"num_classes": 1}, r"shapes: invalid num_classes 1 \(allowed: an integer in 2..45\)"),
        ({"num_classes": 46}, r"invalid num_classes 46"),
        ({"difficulty": -0.1}, r"invalid difficulty -0.1 \(allowed: a number in \[0.0, 1.0\]\)"),
        ({"difficulty": "hard"}, r"invalid difficulty 'hard'"),
        ({"size": 5}, r"invalid size 5 \(allowed: an integer >= 10\)"),
        ({"val_size": True}, r"invalid val_size True"),
        ({"resolution": 8}, r"invalid resolution 8 \(allowed: an integer in 16..512\)"),
        ({"colour": "red"}, r"shapes: unknown option 'colour' \(allowed: size, val_size, num_classes, difficulty\)"),
    ],
)
def test_bad_options_are_one_clear_error(options: dict, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_dataset("shapes", **options)


def test_options_given_as_text_are_accepted() -> None:
    data = load_dataset("shapes", size="40", val_size="20", num_classes="4", difficulty="0.3")
    assert (len(data), data.num_classes) == (40, 4)
