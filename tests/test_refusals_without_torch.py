"""Issue 15: bad input is refused before torch is imported, so a refused command stays far under 1 GB.

``import torch`` alone peaks at 0.63 GB in the development venv and 0.88 GB in
a fresh CI venv; a refusal decided after it breaks the bound. Each case runs
``search`` as a real process (benchmarks/process_memory.py reports whether it
imported torch) in a working folder holding an earlier run, copied from the
committed example run, which must come through byte for byte.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from benchmarks.refused_memory import CIFAR_FOLDERS, IMAGE_FOLDERS, hostile_cifar_folder, hostile_image_folder
from tests.test_hostile_inputs import refused_without_torch, tree

EXAMPLE_RUN = Path(__file__).resolve().parent.parent / "results" / "examples" / "digits-50ms"

IMAGE_FOLDER_MESSAGES = {
    "six small images, batch 500": "--proxy-batch-size 500 is more than the 4 training images of imagefolder:images",
    "limit=1 for two classes": "imagefolder:images: invalid limit 1 (allowed: at least 2, one image per class)",
    "a 1x200000 PNG": "extra.png is 1x200000, a side longer than 65,535 pixels",
    "a 10000x6000 PNG header": "extra.png is 10000x6000, more than 50,000,000 pixels",
    "a truncated PNG": "cannot read image images/a/cut.png",
    "text named .png": "cannot read image images/a/notes.png",
    "an empty class folder": "class folder images/c has no images",
    "a class of one image": "class folder images/c has one image",
}

CIFAR_MESSAGES = {
    "no such data root": "cifar10: no CIFAR-10 files under absent/cifar-10-batches-py",
    "test_batch missing": "cifar10: missing test_batch under cifar/cifar-10-batches-py",
    "a crafted pickle": "refers to posix.system, which a data file never needs",
    "a truncated batch": "could not read the CIFAR-10 files under cifar/cifar-10-batches-py (pickle data was truncated)",
    "ten images, batch 500": "--proxy-batch-size 500 is more than the 10 training images of cifar10",
}


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A working folder whose results/earlier is a finished run."""
    shutil.copytree(EXAMPLE_RUN, tmp_path / "results" / "earlier")
    return tmp_path


def refused_intact(work: Path, *args: str) -> str:
    """``search ARGS`` in ``work``: one line, exit 2, no torch, and every file as it was (nothing new either)."""
    before = tree(work)
    line, _ = refused_without_torch(work, *args)
    assert tree(work) == before
    return line


def test_every_image_folder_case_has_its_message() -> None:
    assert set(IMAGE_FOLDER_MESSAGES) == set(IMAGE_FOLDERS)


@pytest.mark.parametrize("case", list(IMAGE_FOLDERS))
def test_a_bad_image_folder_is_refused_before_torch(work: Path, case: str) -> None:
    arguments = hostile_image_folder(work, case)
    line = refused_intact(work, *arguments, "--name", "earlier", "--overwrite")
    assert IMAGE_FOLDER_MESSAGES[case] in line


def test_every_cifar_case_has_its_message() -> None:
    assert set(CIFAR_MESSAGES) == set(CIFAR_FOLDERS)


@pytest.mark.parametrize("case", list(CIFAR_FOLDERS))
def test_a_bad_cifar_folder_is_refused_before_torch(work: Path, case: str) -> None:
    arguments = hostile_cifar_folder(work, case)
    line = refused_intact(work, *arguments, "--name", "earlier", "--overwrite")
    assert CIFAR_MESSAGES[case] in line
    assert not (work / "ran").exists()


@pytest.mark.parametrize(("write", "case", "message"), [
    (hostile_image_folder, "a truncated PNG", IMAGE_FOLDER_MESSAGES["a truncated PNG"]),
    (hostile_cifar_folder, "a crafted pickle", CIFAR_MESSAGES["a crafted pickle"]),
    (hostile_cifar_folder, "ten images, batch 500", CIFAR_MESSAGES["ten images, batch 500"]),
])
def test_explore_refuses_a_bad_dataset_folder_before_torch(work: Path, write, case: str, message: str) -> None:
    _, *dataset = write(work, case)  # the `search run` arguments: explore takes the same dataset options
    assert message in refused_intact(work, "explore", "--space", "resnet", "--macs", "1M:900M", *dataset)


def test_explore_without_a_space_is_one_line(work: Path) -> None:
    assert "explore needs at least one --space" in refused_intact(work, "explore", "--macs", "1M:900M")


def test_a_truncated_mnist_file_is_refused_before_torch(work: Path) -> None:
    raw = work / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, count in (("train", 3), ("t10k", 2)):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">HBB3I", 0, 8, 3, count, 28, 28) + bytes(784 * count))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">HBB1I", 0, 8, 1, count) + bytes(count))
    with open(raw / "train-images-idx3-ubyte", "r+b") as images:
        images.truncate(1000)
    line = refused_intact(work, "run", "--dataset", "mnist", "--data-root", "data", "--proxy-batch-size", "2")
    assert "train-images-idx3-ubyte is 1,000 bytes; its header says 2,368" in line


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["describe", "x" * 300], "expected 4 or 5 sections"),
        (["describe", "net_r32 | conv_c16 => features_s8 fpn_c64"], "expected 4 or 5 sections"),
        (["describe", "absent.json"], "spec file 'absent.json' does not exist"),
        (["describe", "y" * 300 + ".json"], "does not exist"),
        (["zoo", "mobilenet_v2", "--width-mult", "nan"], "width multiplier = nan is not allowed"),
        (["zoo", "mobilenet_v2", "--width-mult", "-1"], "width multiplier = -1.0 is not allowed"),
        (["zoo", "--json"], "--resolution, --width-mult and --json need a NAME"),
        (["zoo", "nosuchnet"], "zoo net 'nosuchnet' is not known"),
        (["zoo", "resnet51", "--json"], "did you mean resnet50"),
        (["run", "--baseline", "nosuchnet"], "zoo net 'nosuchnet' is not known"),
        (["run", "--baseline", "+resnet51"], "zoo net 'resnet51' is not known"),
        (["report", "absent"], "no run folder at absent"),
        (["report", "r" * 300], "File name too long"),
        (["export", "absent", "--trial", "1", "--format", "pt"], "absent is not a run folder (no run.json)"),
        (["export", "results/earlier", "--trial", "1", "--format", "zip"], "--format 'zip' is not known"),
        (["export", "results/earlier", "--trial", "999", "--format", "pt"], "results/earlier has no trial 999"),
        (["export", "results/earlier", "--trial", "1", "--format", "pt", "--train", "-1"], "--train -1 is not allowed"),
        (["export", "results/earlier", "--trial", "1", "--format", "pt", "--out", "results/earlier/run.json/x.pt"],
         "is a file, not a folder"),
    ],
)
def test_describe_zoo_report_and_export_refuse_from_their_arguments_before_torch(work: Path, arguments: list[str],
                                                                                 message: str) -> None:
    assert message in refused_intact(work, *arguments)


def test_a_damaged_trials_table_stops_report_and_export_before_torch(work: Path) -> None:
    (work / "results" / "earlier" / "trials.csv").write_text("number,baseline\n1.5,\n")
    assert "trials.csv is damaged" in refused_intact(work, "report", "results/earlier")
    assert "trials.csv is not a trials table" in refused_intact(work, "export", "results/earlier", "--trial", "1",
                                                                "--format", "pt")
