"""cifar10, cifar100, mnist and fashionmnist read from small files in the sets' real on-disk formats.

The files are written the way the originals are laid out: CIFAR as pickled
dicts of ``data`` (N x 3072 uint8 rows, red plane then green then blue) and
label lists, MNIST as big-endian idx-ubyte files under ``<Set>/raw``. Every
pixel and label must come back exactly.
"""

from __future__ import annotations

import pickle
import re
import struct
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch

from evaluators.data import DatasetError, load_dataset, prescan_dataset

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
# Uneven on purpose, so a stratified subset has proportions to keep: 20, 20, 10 x 4, 5 x 4 = 100 images.
UNEVEN_COUNTS = [20, 20, 10, 10, 10, 10, 5, 5, 5, 5]


def uneven_labels(rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.repeat(np.arange(len(UNEVEN_COUNTS)), UNEVEN_COUNTS))


def write_pickle(path: Path, content: dict) -> None:
    with open(path, "wb") as handle:
        pickle.dump(content, handle, protocol=2)  # the protocol of the published files


def write_cifar10(root: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Five train batches of 20 images and a test batch of 30; returns the arrays written."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    train_rows = rng.integers(0, 256, (100, 3072), dtype=np.uint8)
    train_labels = uneven_labels(rng)
    for batch in range(5):
        rows = slice(20 * batch, 20 * (batch + 1))
        write_pickle(
            folder / f"data_batch_{batch + 1}",
            {
                "batch_label": f"training batch {batch + 1} of 5",
                "labels": train_labels[rows].tolist(),
                "data": train_rows[rows],
                "filenames": [f"image_{i}.png" for i in range(rows.start, rows.stop)],
            },
        )
    test_rows = rng.integers(0, 256, (30, 3072), dtype=np.uint8)
    test_labels = np.arange(30) % 10
    write_pickle(
        folder / "test_batch",
        {"batch_label": "testing batch 1 of 1", "labels": test_labels.tolist(), "data": test_rows, "filenames": ["t.png"] * 30},
    )
    write_pickle(folder / "batches.meta", {"num_cases_per_batch": 20, "label_names": CIFAR10_NAMES, "num_vis": 3072})
    return {"train": train_rows, "train_labels": train_labels, "test": test_rows, "test_labels": test_labels}


def write_cifar100(root: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    arrays = {
        "train": rng.integers(0, 256, (200, 3072), dtype=np.uint8),
        "train_labels": np.arange(200) % 100,
        "test": rng.integers(0, 256, (100, 3072), dtype=np.uint8),
        "test_labels": rng.permutation(100),
    }
    for split, labels in (("train", arrays["train_labels"]), ("test", arrays["test_labels"])):
        write_pickle(
            folder / split,
            {
                "filenames": [f"{split}_{i}.png" for i in range(len(labels))],
                "batch_label": f"{split}ing batch 1 of 1",
                "fine_labels": labels.tolist(),
                # Coarse labels differ from fine ones, so reading the wrong key would show.
                "coarse_labels": (labels // 5).tolist(),
                "data": arrays[split],
            },
        )
    write_pickle(
        folder / "meta",
        {"fine_label_names": [f"fine_{i}" for i in range(100)], "coarse_label_names": [f"coarse_{i}" for i in range(20)]},
    )
    return arrays


def write_idx(path: Path, array: np.ndarray) -> None:
    """An idx-ubyte file: zero, zero, type 0x08 (ubyte), the rank, then big-endian sizes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def write_mnist_like(root: Path, set_folder: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    folder = root / set_folder / "raw"
    folder.mkdir(parents=True)
    arrays = {
        "train": rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
        "train_labels": uneven_labels(rng),
        "test": rng.integers(0, 256, (40, 28, 28), dtype=np.uint8),
        "test_labels": np.arange(40) % 10,
    }
    write_idx(folder / "train-images-idx3-ubyte", arrays["train"])
    write_idx(folder / "train-labels-idx1-ubyte", arrays["train_labels"])
    write_idx(folder / "t10k-images-idx3-ubyte", arrays["test"])
    write_idx(folder / "t10k-labels-idx1-ubyte", arrays["test_labels"])
    return arrays


def cifar_images(rows: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rows.reshape(-1, 3, 32, 32))


def test_cifar10_round_trips_pixels_labels_and_names(tmp_path: Path) -> None:
    written = write_cifar10(tmp_path, np.random.default_rng(1))
    data = load_dataset("cifar10", data_root=tmp_path)
    assert torch.equal(data.train_images, cifar_images(written["train"]))
    assert data.train_labels.tolist() == written["train_labels"].tolist()
    assert torch.equal(data.val_images, cifar_images(written["test"]))
    assert data.val_labels.tolist() == written["test_labels"].tolist()
    assert data.num_classes == 10 and data.class_names == tuple(CIFAR10_NAMES)
    assert data.in_channels == 3 and data.resolution == 32 and not data.synthetic


def test_cifar10_red_plane_comes_first_in_each_row(tmp_path: Path) -> None:
    # Pin the channel order independently of the reshape above: a row whose
    # first 1024 bytes are 255 and the rest 0 is a pure red image.
    written = write_cifar10(tmp_path, np.random.default_rng(2))
    row = np.zeros(3072, dtype=np.uint8)
    row[:1024] = 255
    written["train"][0] = row
    write_pickle(
        tmp_path / "cifar-10-batches-py" / "data_batch_1",
        {"batch_label": "", "labels": written["train_labels"][:20].tolist(), "data": written["train"][:20], "filenames": []},
    )
    first = load_dataset("cifar10", data_root=tmp_path).train_images[0]
    assert torch.all(first[0] == 255) and torch.all(first[1:] == 0)


def test_cifar100_reads_fine_labels(tmp_path: Path) -> None:
    written = write_cifar100(tmp_path, np.random.default_rng(3))
    data = load_dataset("cifar100", data_root=tmp_path)
    assert torch.equal(data.train_images, cifar_images(written["train"]))
    assert data.train_labels.tolist() == written["train_labels"].tolist()
    assert torch.equal(data.val_images, cifar_images(written["test"]))
    assert data.val_labels.tolist() == written["test_labels"].tolist()
    assert data.num_classes == 100 and data.class_names[7] == "fine_7"


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashionmnist", "FashionMNIST")])
def test_mnist_family_round_trips_as_one_channel(tmp_path: Path, name: str, folder: str) -> None:
    written = write_mnist_like(tmp_path, folder, np.random.default_rng(4))
    data = load_dataset(name, data_root=tmp_path)
    assert data.in_channels == 1 and data.resolution == 28
    assert torch.equal(data.train_images[:, 0], torch.from_numpy(written["train"]))
    assert data.train_labels.tolist() == written["train_labels"].tolist()
    assert torch.equal(data.val_images[:, 0], torch.from_numpy(written["test"]))
    assert data.val_labels.tolist() == written["test_labels"].tolist()
    assert data.num_classes == 10


def test_limit_takes_a_stratified_subset_of_real_images(tmp_path: Path) -> None:
    written = write_mnist_like(tmp_path, "MNIST", np.random.default_rng(5))
    data = load_dataset("mnist", data_root=tmp_path, limit=40, seed=3)
    # 40 of 100 keeps every class at exactly 40% of its count.
    expected_counts = [count * 40 // 100 for count in UNEVEN_COUNTS]
    assert torch.bincount(data.train_labels, minlength=10).tolist() == expected_counts
    originals = {image.tobytes(): int(label) for image, label in zip(written["train"], written["train_labels"])}
    picked = [originals.get(image[0].numpy().tobytes()) for image in data.train_images]
    assert picked == data.train_labels.tolist()  # each kept image is an original with its own label
    assert len(set(map(bytes, data.train_images.flatten(1).numpy()))) == 40


def test_limit_subset_follows_seed(tmp_path: Path) -> None:
    write_mnist_like(tmp_path, "MNIST", np.random.default_rng(6))
    first = load_dataset("mnist", data_root=tmp_path, limit=40, seed=1)
    again = load_dataset("mnist", data_root=tmp_path, limit=40, seed=1)
    other = load_dataset("mnist", data_root=tmp_path, limit=40, seed=2)
    assert torch.equal(first.train_images, again.train_images)
    assert not torch.equal(first.train_images, other.train_images)


def test_val_limit_is_stratified_and_independent_of_seed(tmp_path: Path) -> None:
    write_cifar10(tmp_path, np.random.default_rng(7))
    first = load_dataset("cifar10", data_root=tmp_path, val_limit=20, seed=1)
    other = load_dataset("cifar10", data_root=tmp_path, val_limit=20, seed=2)
    assert torch.bincount(first.val_labels, minlength=10).tolist() == [2] * 10
    assert torch.equal(first.val_images, other.val_images)


def test_limit_larger_than_the_set_keeps_everything(tmp_path: Path) -> None:
    written = write_cifar10(tmp_path, np.random.default_rng(8))
    data = load_dataset("cifar10", data_root=tmp_path, limit=10_000)
    assert torch.equal(data.train_images, cifar_images(written["train"]))


def test_limit_below_the_class_count_is_refused(tmp_path: Path) -> None:
    write_cifar10(tmp_path, np.random.default_rng(9))
    with pytest.raises(DatasetError, match=r"cifar10: invalid limit 5 \(allowed: at least 10"):
        load_dataset("cifar10", data_root=tmp_path, limit=5)


def test_resolution_resizes_both_splits(tmp_path: Path) -> None:
    write_mnist_like(tmp_path, "FashionMNIST", np.random.default_rng(10))
    data = load_dataset("fashionmnist", data_root=tmp_path, resolution=16)
    assert tuple(data.train_images.shape) == (100, 1, 16, 16)
    assert tuple(data.val_images.shape) == (40, 1, 16, 16)


def test_mean_and_std_come_from_the_train_split(tmp_path: Path) -> None:
    written = write_cifar10(tmp_path, np.random.default_rng(11))
    data = load_dataset("cifar10", data_root=tmp_path)
    pixels = written["train"].reshape(-1, 3, 1024).transpose(1, 0, 2).reshape(3, -1) / 255.0
    np.testing.assert_allclose(data.mean, pixels.mean(axis=1), rtol=1e-9)
    np.testing.assert_allclose(data.std, pixels.std(axis=1), rtol=1e-9)


def test_missing_cifar_folder_names_every_expected_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as caught:
        load_dataset("cifar10", data_root=tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "cifar-10-batches-py") in message
    for expected in ("data_batch_1..data_batch_5", "test_batch", "batches.meta", "download=True"):
        assert expected in message
    assert "\n" not in message


def test_partly_missing_cifar100_names_the_missing_files(tmp_path: Path) -> None:
    write_cifar100(tmp_path, np.random.default_rng(12))
    (tmp_path / "cifar-100-python" / "test").unlink()
    with pytest.raises(DatasetError, match=r"cifar100: missing test under .*cifar-100-python"):
        load_dataset("cifar100", data_root=tmp_path)


def test_missing_mnist_names_the_raw_folder_and_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as caught:
        load_dataset("mnist", data_root=tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    for expected in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        assert expected in message


def test_corrupt_batch_file_is_a_dataset_error(tmp_path: Path) -> None:
    write_cifar10(tmp_path, np.random.default_rng(13))
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(DatasetError, match=r"cifar10: could not read the CIFAR-10 files under"):
        load_dataset("cifar10", data_root=tmp_path)


@pytest.mark.parametrize("name, module", [("cifar10", "cifar"), ("mnist", "mnist")])
def test_failed_download_is_one_dataset_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, module: str) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise URLError("[Errno -2] Name or service not known")

    # torchvision's own download code runs; only the network fetch is replaced.
    monkeypatch.setattr(f"torchvision.datasets.{module}.download_and_extract_archive", offline)
    with pytest.raises(DatasetError) as caught:
        load_dataset(name, data_root=tmp_path, download=True)
    message = str(caught.value)
    assert message.startswith(f"{name}: downloading") and "Name or service not known" in message
    assert "\n" not in message


def test_download_with_files_present_reads_them_without_fetching(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_fetch(*args: object, **kwargs: object) -> None:
        raise AssertionError("download attempted although the files exist")

    monkeypatch.setattr("torchvision.datasets.cifar.download_and_extract_archive", must_not_fetch)
    written = write_cifar10(tmp_path, np.random.default_rng(14))
    data = load_dataset("cifar10", data_root=tmp_path, download=True)
    assert torch.equal(data.train_images, cifar_images(written["train"]))


def test_default_data_root_is_in_the_convspace_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVSPACE_CACHE", str(tmp_path))
    with pytest.raises(DatasetError, match=re.escape(str(tmp_path / "datasets" / "cifar-10-batches-py"))):
        load_dataset("cifar10")


SET_WRITERS = {
    "cifar10": write_cifar10,
    "cifar100": write_cifar100,
    "mnist": lambda root, rng: write_mnist_like(root, "MNIST", rng),
    "fashionmnist": lambda root, rng: write_mnist_like(root, "FashionMNIST", rng),
}


@pytest.mark.parametrize("name", list(SET_WRITERS))
@pytest.mark.parametrize("limit", [None, 150])  # below cifar100's 200 training images, above the others' 100
def test_the_torch_free_prescan_counts_the_images_the_load_trains_on(tmp_path: Path, name: str, limit: int | None) -> None:
    SET_WRITERS[name](tmp_path, np.random.default_rng(20))
    assert prescan_dataset(name, data_root=tmp_path, limit=limit) == len(load_dataset(name, data_root=tmp_path, limit=limit))


@pytest.mark.parametrize(("name", "damaged", "cut"), [
    ("cifar10", "cifar-10-batches-py/test_batch", 100),
    ("cifar100", "cifar-100-python/meta", 10),
    ("mnist", "MNIST/raw/t10k-labels-idx1-ubyte", 20),
    ("fashionmnist", "FashionMNIST/raw/train-images-idx3-ubyte", 3),  # shorter than the header
])
def test_the_prescan_and_the_load_refuse_a_truncated_file_alike(tmp_path: Path, name: str, damaged: str, cut: int) -> None:
    SET_WRITERS[name](tmp_path, np.random.default_rng(21))
    with open(tmp_path / damaged, "r+b") as handle:
        handle.truncate(cut)
    with pytest.raises(DatasetError) as early:
        prescan_dataset(name, data_root=tmp_path)
    assert f"{name}: could not read the" in str(early.value)
    if name.startswith("cifar"):  # the loader reads CIFAR with the same checks, so it says the same
        with pytest.raises(DatasetError) as late:
            load_dataset(name, data_root=tmp_path)
        assert str(late.value) == str(early.value)


def test_the_prescan_leaves_missing_files_to_a_download(tmp_path: Path) -> None:
    assert prescan_dataset("cifar10", data_root=tmp_path, download=True) is None
    with pytest.raises(DatasetError, match="no CIFAR-10 files under"):
        prescan_dataset("cifar10", data_root=tmp_path)
