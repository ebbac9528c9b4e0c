"""Peak memory of refused `search` commands: bad input is turned away before torch is imported.

Each case runs as a fresh process (benchmarks/process_memory.py) in a scratch
folder; the figure is that process's whole peak resident memory, and whether
it imported torch.  For scale: ``import torch`` alone and ``import search.cli``.
An image folder is refused from its listing and image headers, before torch
and before any pixel is decoded.

Target: every refused command under 1 GB (issue 15: "peak memory under 1 GB
for any input file under 1 MB").

Run from the repository root::

    python -m benchmarks.refused_memory
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks._common import add_output_arguments, write_result
from benchmarks.process_memory import Measured, measure_process, measure_search

TARGET_MB = 1024
_BILLION_LAUGHS = "\n".join(['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
                            + [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]
                            + ["stages: *i", ""])
SPACE_FILES = {
    "alias bomb": _BILLION_LAUGHS,
    "depth 1,000,000": "stages:\n  - {stride: 2, depth: 1000000, block: conv, width: 8}\n",
    "width 100,000,000": "stages:\n  - {stride: 2, depth: 1, block: conv, width: 100000000}\n",
    "5,000-digit width": "stages:\n  - {stride: 2, depth: 1, block: conv, width: " + "9" * 5000 + "}\n",
    "5,000-deep nesting": "stages: " + "[" * 5000 + "]" * 5000 + "\n",
    "3,000,000 stages": "all_stages: {stride: 1, depth: 1, block: conv, width: 8}\nstages: 3000000\n",
}
# Run in a folder whose earlier/ is a copy of the committed example run. The last one is still decided after torch
# loads: a block's fields are known only to the modules that define the block kinds, and those import torch.
EXAMPLE_RUN = Path(__file__).resolve().parent.parent / "results" / "examples" / "digits-50ms"
OTHER_COMMANDS = {
    "describe: a string without sections": ["describe", "x" * 300],
    "describe: no such file": ["describe", "absent.json"],
    "zoo --width-mult nan": ["zoo", "mobilenet_v2", "--width-mult", "nan"],
    "report (no such run)": ["report", "absent"],
    "export --format zip": ["export", "earlier", "--trial", "1", "--format", "zip"],
    "export: no such trial": ["export", "earlier", "--trial", "999", "--format", "pt"],
    "export --out under a file": ["export", "earlier", "--trial", "1", "--format", "pt", "--out", "earlier/run.json/x.pt"],
    "zoo: unknown name": ["zoo", "nosuch"],
    "run --baseline (unknown name)": ["run", "--baseline", "nosuch"],
    "describe: a 5,000-digit width": ["describe", "net_r32 | conv_c" + "9" * 5000 + " | conv_c8 | head"],
}
REFUSED_OPTIONS = {
    "run --trials 0": ["run", "--trials", "0"],
    "run --searcher bayes": ["run", "--searcher", "bayes"],
    "run --resume (no such run)": ["run", "--resume", "--name", "absent"],
}


def image_folder(root: Path) -> str:
    """Six 16x16 images in two classes under ``root/images``: the --dataset argument."""
    from PIL import Image

    for label in ("a", "b"):
        (root / "images" / label).mkdir(parents=True, exist_ok=True)
        for index in range(3):
            Image.new("RGB", (16, 16), (index * 40, 0, 0)).save(root / "images" / label / f"{index}.png")
    return "imagefolder:images"


def _extra_image(mode: str, size: tuple[int, int]) -> Callable[[Path], None]:
    def add(images: Path) -> None:
        from PIL import Image

        Image.new(mode, size).save(images / "a" / "extra.png")  # under 1 MB: both are a single colour

    return add


def _truncated_png(images: Path) -> None:
    """A PNG cut off in its pixel data: the header reads, the image does not."""
    import numpy as np
    from PIL import Image

    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(images / "a" / "cut.png")
    data = (images / "a" / "cut.png").read_bytes()
    (images / "a" / "cut.png").write_bytes(data[: len(data) // 2])


def _text_as_png(images: Path) -> None:
    (images / "a" / "notes.png").write_text("not an image")


def _empty_class(images: Path) -> None:
    (images / "c").mkdir()


def _one_image_class(images: Path) -> None:
    (images / "c").mkdir()
    (images / "a" / "0.png").rename(images / "c" / "0.png")


# Each: what is done to image_folder()'s six images, and the options added to `search run --dataset imagefolder:images`.
IMAGE_FOLDERS: dict[str, tuple[Callable[[Path], None] | None, tuple[str, ...]]] = {
    "six small images, batch 500": (None, ("--proxy-batch-size", "500")),
    "limit=1 for two classes": (None, ("--dataset-option", "limit=1")),
    "a 1x200000 PNG": (_extra_image("L", (1, 200_000)), ()),
    "a 10000x6000 PNG header": (_extra_image("1", (10_000, 6_000)), ()),
    "a truncated PNG": (_truncated_png, ()),
    "text named .png": (_text_as_png, ()),
    "an empty class folder": (_empty_class, ()),
    "a class of one image": (_one_image_class, ()),
}


def hostile_image_folder(root: Path, case: str) -> list[str]:
    """Write :data:`IMAGE_FOLDERS` ``case`` under ``root``; the `search` arguments that use it."""
    dataset = image_folder(root)
    damage, options = IMAGE_FOLDERS[case]
    if damage is not None:
        damage(root / "images")
    return ["run", "--dataset", dataset, *options]


class _RunsCommand:
    """Unpickled by ``pickle.load``, this runs ``touch ran``: the crafted batch the data-only unpickler must refuse."""

    def __reduce__(self) -> tuple:
        import os

        return os.system, ("touch ran",)


def cifar10_folder(root: Path) -> Path:
    """A valid CIFAR-10 python-version folder under ``root/cifar`` of two images per batch; the folder of the batches."""
    import pickle

    import numpy as np

    folder = root / "cifar" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rows = np.zeros((2, 3072), dtype=np.uint8)
    for batch in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / batch).write_bytes(pickle.dumps({"data": rows, "labels": [0, 1]}, protocol=2))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": names}, protocol=2))
    return folder


def _crafted_batch(folder: Path) -> None:
    import pickle

    (folder / "data_batch_1").write_bytes(pickle.dumps({"data": _RunsCommand(), "labels": [0, 1]}, protocol=2))


def _truncated_batch(folder: Path) -> None:
    data = (folder / "data_batch_2").read_bytes()
    (folder / "data_batch_2").write_bytes(data[: len(data) // 2])


# Each: what is done to cifar10_folder()'s files, and the options added to `search run --dataset cifar10`.
CIFAR_FOLDERS: dict[str, tuple[Callable[[Path], None] | None, tuple[str, ...]]] = {
    "no such data root": (None, ("--data-root", "absent")),
    "test_batch missing": (lambda folder: (folder / "test_batch").unlink(), ("--data-root", "cifar")),
    "a crafted pickle": (_crafted_batch, ("--data-root", "cifar")),
    "a truncated batch": (_truncated_batch, ("--data-root", "cifar")),
    "ten images, batch 500": (None, ("--data-root", "cifar", "--proxy-batch-size", "500")),
}


def hostile_cifar_folder(root: Path, case: str) -> list[str]:
    """Write :data:`CIFAR_FOLDERS` ``case`` under ``root``; the `search` arguments that use it."""
    damage, options = CIFAR_FOLDERS[case]
    folder = cifar10_folder(root)
    if damage is not None:
        damage(folder)
    return ["run", "--dataset", "cifar10", *options]


def row(label: str, measured: Measured, command: str) -> dict:
    """One case as printed and stored; ``torch_imported`` is None for a plain import (it does not report)."""
    stderr = measured.result.stderr.strip().splitlines()
    torch = measured.torch_imported if command.startswith("search") else None
    entry = {"case": label, "command": command, "peak_mb": round(measured.peak_mb), "exit_code": measured.result.returncode,
             "torch_imported": torch, "message": stderr[-1][:160] if stderr else ""}
    shown_torch = {True: "yes", False: "no", None: "-"}[torch]
    print(f"{label:<36} {entry['peak_mb']:>6} MB  exit {entry['exit_code']}  torch {shown_torch:<3}  {entry['message'][:90]}")
    return entry


def help_wall_time_s(folder: Path, repeats: int = 3) -> float:
    """The median wall time of ``search --help`` in a fresh process."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        measure_search(["--help"], folder)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_all(folder: Path) -> list[dict]:
    rows = [row("import torch", measure_process([sys.executable, "-c", "import torch"], folder), "python -c 'import torch'"),
            row("import search.cli", measure_process([sys.executable, "-c", "import search.cli"], folder),
                "python -c 'import search.cli'"),
            row("search --help", measure_search(["--help"], folder), "search --help")]
    for label, arguments in REFUSED_OPTIONS.items():
        rows.append(row(label, measure_search(arguments, folder), "search " + " ".join(arguments)))
    for index, (label, content) in enumerate(SPACE_FILES.items()):
        (folder / f"space{index}.yaml").write_text(content)
        arguments = ["run", "--space", f"space{index}.yaml"]
        rows.append(row(f"space file: {label}", measure_search(arguments, folder), "search " + " ".join(arguments)))
    shutil.copytree(EXAMPLE_RUN, folder / "earlier")
    for label, arguments in OTHER_COMMANDS.items():
        shown = " ".join(a if len(a) < 40 else f"<{len(a):,} characters>" for a in arguments)
        rows.append(row(label, measure_search(arguments, folder), "search " + shown))
    for case in IMAGE_FOLDERS:
        with tempfile.TemporaryDirectory() as scratch:
            arguments = hostile_image_folder(Path(scratch), case)
            rows.append(row(f"images: {case}", measure_search(arguments, Path(scratch)), "search " + " ".join(arguments)))
    for case in CIFAR_FOLDERS:
        with tempfile.TemporaryDirectory() as scratch:
            arguments = hostile_cifar_folder(Path(scratch), case)
            rows.append(row(f"cifar10: {case}", measure_search(arguments, Path(scratch)), "search " + " ".join(arguments)))
    for label, write, case in (("explore: a truncated PNG", hostile_image_folder, "a truncated PNG"),
                               ("explore: a crafted CIFAR pickle", hostile_cifar_folder, "a crafted pickle")):
        with tempfile.TemporaryDirectory() as scratch:
            arguments = ["explore", "--space", "resnet", "--macs", "1M:900M", *write(Path(scratch), case)[1:]]
            rows.append(row(label, measure_search(arguments, Path(scratch)), "search " + " ".join(arguments)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_output_arguments(parser, "refused_memory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        rows = measure_all(Path(scratch))
        help_s = help_wall_time_s(Path(scratch))
    print(f"search --help: {help_s:.2f} s (median of 3)")
    refused = [r for r in rows if r["exit_code"] == 2]
    print(f"highest refused peak: {max(r['peak_mb'] for r in refused)} MB (target < {TARGET_MB} MB)")
    path = write_result("refused_memory", {"target_mb": TARGET_MB, "help_wall_time_s": round(help_s, 2), "cases": rows},
                        output=args.output, overwrite=args.overwrite)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
