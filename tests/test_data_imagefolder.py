"""imagefolder:PATH on PNG files written into both accepted layouts, and its error cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from evaluators.data import DatasetError, load_dataset, prescan_dataset


def write_png(path: Path, pixels: np.ndarray, mode: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(pixels)
    (image.convert(mode) if mode else image).save(path)


def unique_image(index: int, height: int = 64, width: int = 64) -> np.ndarray:
    """An RGB image that no other index produces, with every column different."""
    rng = np.random.default_rng(index)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def as_chw(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(pixels).permute(2, 0, 1)


def make_flat_folder(root: Path, per_class: dict[str, int]) -> dict[str, list[np.ndarray]]:
    written: dict[str, list[np.ndarray]] = {}
    index = 0
    for class_name, count in per_class.items():
        written[class_name] = []
        for i in range(count):
            pixels = unique_image(index)
            write_png(root / class_name / f"img_{i:03d}.png", pixels)
            written[class_name].append(pixels)
            index += 1
    return written


def label_of_each_image(images: torch.Tensor, labels: torch.Tensor) -> dict[bytes, int]:
    return {image.numpy().tobytes(): int(label) for image, label in zip(images, labels)}


def test_train_val_layout_round_trips_pixels_and_sorted_labels(tmp_path: Path) -> None:
    written = {}
    for split, count in (("train", 3), ("val", 2)):
        for offset, class_name in enumerate(["zebra", "ant"]):  # created out of order on purpose
            for i in range(count):
                pixels = unique_image(100 * offset + 10 * (split == "val") + i)
                write_png(tmp_path / split / class_name / f"{i}.png", pixels)
                written[as_chw(pixels).numpy().tobytes()] = (split, class_name)
    data = load_dataset(f"imagefolder:{tmp_path}")
    assert data.class_names == ("ant", "zebra") and data.num_classes == 2
    assert (len(data), data.val_images.shape[0]) == (6, 4)
    assert data.resolution == 64 and data.in_channels == 3
    for split, images, labels in (("train", data.train_images, data.train_labels), ("val", data.val_images, data.val_labels)):
        for key, label in label_of_each_image(images, labels).items():
            assert written[key] == (split, data.class_names[label])


def test_flat_layout_is_split_per_class_and_fixed(tmp_path: Path) -> None:
    written = make_flat_folder(tmp_path, {"a": 5, "b": 5, "c": 10})
    data = load_dataset(f"imagefolder:{tmp_path}", seed=0)
    assert torch.bincount(data.val_labels).tolist() == [1, 1, 2]  # 20% of each class
    assert torch.bincount(data.train_labels).tolist() == [4, 4, 8]
    everything = {**label_of_each_image(data.train_images, data.train_labels), **label_of_each_image(data.val_images, data.val_labels)}
    expected = {as_chw(p).numpy().tobytes(): label for label, name in enumerate("abc") for p in written[name]}
    assert everything == expected
    other_seed = load_dataset(f"imagefolder:{tmp_path}", seed=99)
    assert torch.equal(data.val_images, other_seed.val_images)


def test_val_fraction_sets_the_share(tmp_path: Path) -> None:
    make_flat_folder(tmp_path, {"a": 5, "b": 10})
    data = load_dataset(f"imagefolder:{tmp_path}", val_fraction=0.4)
    assert torch.bincount(data.val_labels).tolist() == [2, 4]


def test_shorter_side_is_scaled_then_centre_cropped(tmp_path: Path) -> None:
    wide = unique_image(7, height=64, width=96)
    tall = unique_image(8, height=100, width=64)
    write_png(tmp_path / "train" / "a" / "wide.png", wide)
    write_png(tmp_path / "train" / "b" / "tall.png", tall)
    write_png(tmp_path / "val" / "a" / "wide.png", wide)
    write_png(tmp_path / "val" / "b" / "tall.png", tall)
    data = load_dataset(f"imagefolder:{tmp_path}")  # default 64: shorter sides already fit
    assert torch.equal(data.train_images[0], as_chw(wide[:, 16:80]))
    assert torch.equal(data.train_images[1], as_chw(tall[18:82, :]))


def test_resolution_shrinks_like_pil_bilinear(tmp_path: Path) -> None:
    make_flat_folder(tmp_path, {"a": 2, "b": 2})
    big = unique_image(50, height=120, width=80)
    write_png(tmp_path / "a" / "big.png", big)
    data = load_dataset(f"imagefolder:{tmp_path}", resolution=40, val_fraction=0.5)
    assert data.resolution == 40
    expected = np.array(Image.fromarray(big).resize((40, 60), Image.Resampling.BILINEAR))[10:50]
    found = [image for image in torch.cat([data.train_images, data.val_images]) if torch.equal(image, as_chw(expected))]
    assert len(found) == 1


def test_grey_palette_and_alpha_images_become_rgb(tmp_path: Path) -> None:
    grey = np.full((64, 64), 77, dtype=np.uint8)
    write_png(tmp_path / "a" / "grey.png", grey)
    write_png(tmp_path / "a" / "palette.png", unique_image(1), mode="P")
    write_png(tmp_path / "b" / "alpha.png", unique_image(2), mode="RGBA")
    write_png(tmp_path / "b" / "plain.png", unique_image(3))
    data = load_dataset(f"imagefolder:{tmp_path}", val_fraction=0.5)
    assert data.in_channels == 3
    images = torch.cat([data.train_images, data.val_images])
    assert any(torch.all(image == 77) for image in images)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    pixels = unique_image(9, height=64, width=96)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    (tmp_path / "a").mkdir(parents=True)
    Image.fromarray(pixels).save(tmp_path / "a" / "turned.png", exif=exif)
    write_png(tmp_path / "a" / "other.png", unique_image(10))
    write_png(tmp_path / "b" / "x.png", unique_image(11))
    write_png(tmp_path / "b" / "y.png", unique_image(12))
    data = load_dataset(f"imagefolder:{tmp_path}", val_fraction=0.5)
    upright = np.rot90(pixels, k=-1)  # now 96 high, 64 wide
    expected = as_chw(np.ascontiguousarray(upright[16:80]))
    images = torch.cat([data.train_images, data.val_images])
    assert any(torch.equal(image, expected) for image in images)


def test_other_files_and_nested_folders(tmp_path: Path) -> None:
    make_flat_folder(tmp_path, {"a": 2, "b": 2})
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    (tmp_path / "b" / ".hidden.png").write_bytes(b"junk")
    write_png(tmp_path / "b" / "deeper" / "nested.png", unique_image(40))
    data = load_dataset(f"imagefolder:{tmp_path}", val_fraction=0.5)
    assert torch.bincount(torch.cat([data.train_labels, data.val_labels])).tolist() == [2, 3]


def test_limit_picks_a_stratified_seeded_subset(tmp_path: Path) -> None:
    make_flat_folder(tmp_path, {"a": 10, "b": 20})
    first = load_dataset(f"imagefolder:{tmp_path}", limit=12, seed=1)
    # 24 train images (8 + 16) cut to 12 keeps the 1:2 ratio.
    assert torch.bincount(first.train_labels).tolist() == [4, 8]
    assert torch.equal(first.train_images, load_dataset(f"imagefolder:{tmp_path}", limit=12, seed=1).train_images)
    assert not torch.equal(first.train_images, load_dataset(f"imagefolder:{tmp_path}", limit=12, seed=2).train_images)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no such folder .*nowhere"):
        load_dataset(f"imagefolder:{tmp_path / 'nowhere'}")


def test_folder_without_class_folders(tmp_path: Path) -> None:
    write_png(tmp_path / "loose.png", unique_image(0))
    with pytest.raises(DatasetError, match=r"no class folders in"):
        load_dataset(f"imagefolder:{tmp_path}")


def test_class_folder_without_images_is_named(tmp_path: Path) -> None:
    make_flat_folder(tmp_path, {"a": 2})
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("nothing here")
    with pytest.raises(DatasetError, match=r"class folder .*empty has no images"):
        load_dataset(f"imagefolder:{tmp_path}")


def test_train_and_val_must_name_the_same_classes(tmp_path: Path) -> None:
    for split, classes in (("train", ["a", "b", "c"]), ("val", ["a", "b", "d"])):
        for class_name in classes:
            write_png(tmp_path / split / class_name / "x.png", unique_image(0))
    with pytest.raises(DatasetError, match=r"only in train/: c; only in val/: d"):
        load_dataset(f"imagefolder:{tmp_path}")


def test_train_without_val_is_refused(tmp_path: Path) -> None:
    make_flat_folder(tmp_path / "train", {"a": 2, "b": 2})
    with pytest.raises(DatasetError, match=r"has train/ but no val/"):
        load_dataset(f"imagefolder:{tmp_path}")


def test_unreadable_image_is_named(tmp_path: Path) -> None:
    make_flat_folder(tmp_path, {"a": 2, "b": 2})
    (tmp_path / "b" / "broken.png").write_bytes(b"\x89PNG but not really")
    with pytest.raises(DatasetError, match=r"cannot read image .*broken\.png"):
        load_dataset(f"imagefolder:{tmp_path}", val_fraction=0.5)


def test_single_image_class_cannot_be_split(tmp_path: Path) -> None:
    make_flat_folder(tmp_path, {"a": 3, "b": 1})
    with pytest.raises(DatasetError, match=r"class folder .*b has one image"):
        load_dataset(f"imagefolder:{tmp_path}")


def test_val_fraction_is_refused_for_the_train_val_layout(tmp_path: Path) -> None:
    for split in ("train", "val"):
        make_flat_folder(tmp_path / split, {"a": 1, "b": 1})
    with pytest.raises(DatasetError, match=r"val_fraction applies only"):
        load_dataset(f"imagefolder:{tmp_path}", val_fraction=0.3)


@pytest.mark.parametrize("fraction", [0, 1, 1.5, "half"])
def test_val_fraction_out_of_range(tmp_path: Path, fraction: object) -> None:
    make_flat_folder(tmp_path, {"a": 2, "b": 2})
    with pytest.raises(DatasetError, match=r"invalid val_fraction .* \(allowed: a number in \(0.0, 1.0\)\)"):
        load_dataset(f"imagefolder:{tmp_path}", val_fraction=fraction)


@pytest.mark.parametrize(
    ("layout", "options"),
    [("flat", {}), ("flat", {"val_fraction": 0.5}), ("flat", {"limit": 7, "seed": 3}), ("split", {}),
     ("split", {"limit": 4, "val_limit": 2})],
)
def test_the_torch_free_prescan_counts_the_images_the_load_trains_on(tmp_path: Path, layout: str, options: dict) -> None:
    if layout == "flat":
        make_flat_folder(tmp_path, {"a": 5, "b": 7, "c": 3})
    else:
        make_flat_folder(tmp_path / "train", {"a": 4, "b": 3})
        make_flat_folder(tmp_path / "val", {"a": 2, "b": 2})
    assert prescan_dataset(f"imagefolder:{tmp_path}", **options) == len(load_dataset(f"imagefolder:{tmp_path}", **options))


def test_the_loader_checks_each_header_itself(tmp_path: Path) -> None:
    """The second line of defence: a Python caller (or a file changed after the pre-scan) meets the same limits."""
    make_flat_folder(tmp_path, {"a": 2, "b": 2})
    Image.new("L", (1, 200_000)).save(tmp_path / "a" / "thin.png")
    with pytest.raises(DatasetError, match=r"thin\.png is 1x200000, a side longer than 65,535 pixels"):
        load_dataset(f"imagefolder:{tmp_path}")


def test_a_long_thin_image_within_the_side_limit_is_cropped_from_its_middle(tmp_path: Path) -> None:
    make_flat_folder(tmp_path, {"a": 2, "b": 2})
    column = np.zeros((60_000, 1), dtype=np.uint8)
    column[29_000:31_000] = 200  # only the middle rows are bright: the centre crop keeps them
    write_png(tmp_path / "a" / "thin.png", column)
    data = load_dataset(f"imagefolder:{tmp_path}", resolution=16, val_fraction=0.5)
    images = torch.cat([data.train_images, data.val_images])
    assert any(torch.all(image == 200) for image in images)
