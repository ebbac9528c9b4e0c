"""Dataset names, descriptions and the errors for unknown names and options."""

from __future__ import annotations

import pytest

from evaluators.data import (
    DEFAULT_DATASET,
    DatasetError,
    dataset_names,
    dataset_options,
    describe_datasets,
    load_dataset,
)


def test_every_dataset_is_listed_with_a_one_line_description() -> None:
    names = dataset_names()
    assert names[0] == DEFAULT_DATASET == "digits"
    assert set(names) == {"digits", "mnist5k", "shapes", "cifar10", "cifar100", "mnist", "fashionmnist", "imagefolder:PATH", "fake"}
    descriptions = describe_datasets()
    assert list(descriptions) == names
    assert all(text and "\n" not in text for text in descriptions.values())
    assert "synthetic" in descriptions["shapes"] and "synthetic" in descriptions["fake"]


def test_unknown_name_lists_what_is_allowed() -> None:
    with pytest.raises(DatasetError) as caught:
        load_dataset("cifar")
    assert str(caught.value) == f"unknown dataset 'cifar' (allowed: {', '.join(dataset_names())})"


def test_names_ignore_case_and_surrounding_space() -> None:
    assert load_dataset(" Digits ").name == "digits"


def test_unknown_option_names_the_allowed_ones() -> None:
    with pytest.raises(DatasetError, match=r"^digits: unknown option 'limit' \(allowed: none\)$"):
        load_dataset("digits", limit=10)
    with pytest.raises(DatasetError, match=r"^cifar10: unknown option 'size' \(allowed: limit, val_limit\)$"):
        load_dataset("cifar10", size=10)


def test_options_set_to_none_mean_default() -> None:
    data = load_dataset("fake", size=20, val_size=None)
    assert data.val_images.shape[0] == 100


def test_imagefolder_needs_a_path_and_others_take_none() -> None:
    with pytest.raises(DatasetError, match=r"needs a folder: write it as imagefolder:PATH"):
        load_dataset("imagefolder")
    with pytest.raises(DatasetError, match=r"'digits' takes no ':' part"):
        load_dataset("digits:extra")


@pytest.mark.parametrize("seed", [-1, 2**31, 1.5, "x"])
def test_bad_seed(seed: object) -> None:
    with pytest.raises(DatasetError, match=r"invalid seed"):
        load_dataset("shapes", seed=seed, size=20, val_size=20)


@pytest.mark.parametrize("resolution", [0, 3, 5000, "big"])
def test_bad_resolution(resolution: object) -> None:
    with pytest.raises(DatasetError, match=r"^digits: invalid resolution"):
        load_dataset("digits", resolution=resolution)


def test_dataset_options_per_name() -> None:
    assert dataset_options("shapes") == ("size", "val_size", "num_classes", "difficulty")
    assert dataset_options("imagefolder:/anything") == ("limit", "val_limit", "val_fraction")
    assert dataset_options("digits") == ()


def test_name_that_is_not_text() -> None:
    with pytest.raises(DatasetError, match=r"dataset name must be text"):
        load_dataset(42)  # type: ignore[arg-type]


def test_download_must_be_a_bool() -> None:
    with pytest.raises(DatasetError, match=r"^digits: invalid download 'no' \(allowed: True, False\)$"):
        load_dataset("digits", download="no")  # type: ignore[arg-type]
