"""Shared plumbing for benchmark scripts: where results go and how they are written.

The JSON files under ``results/benchmarks/`` back the README's figures, so a
rerun never replaces one unless asked: by default a script writes
``<name>.json`` only if it does not exist yet, and otherwise a dated file
beside it; ``--output PATH`` writes exactly there and ``--overwrite`` replaces
the default file.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import torch

_PACKAGE_DIR = Path(__file__).resolve().parent


def _results_dir() -> Path:
    """``results/benchmarks`` of the checkout these scripts live in, else of the working folder (an installed copy)."""
    checkout = _PACKAGE_DIR.parent
    root = checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()
    return root / "results" / "benchmarks"


RESULTS_DIR = _results_dir()


@functools.cache
def code_version(checkout: Path = _PACKAGE_DIR.parent) -> str | None:
    """The checkout's commit, with "+changes" when its tracked code differs from it, or None outside a git checkout.

    Logged rows accumulate over sessions while the code under them changes; this says which code made a row.
    Changes under results/ (the logs themselves) do not count.
    """
    try:
        head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=30)
        changed = subprocess.run(["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results"],
                                 capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+changes" if changed.stdout.strip() else "")


def environment() -> dict[str, Any]:
    from evaluators.devices import device_name

    return {
        "cpu": device_name("cpu"),
        "cuda": device_name("cuda") if torch.cuda.is_available() else None,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def add_output_arguments(parser: argparse.ArgumentParser, default_name: str, variant: str = "") -> None:
    """``--output`` and ``--overwrite``, with help that names this script's default file (``variant``: another one)."""
    parser.add_argument("--output", type=Path, default=None,
                        help=f"JSON file to write (default: {RESULTS_DIR / default_name}.json{variant}, "
                             "or a dated file beside it if that exists)")
    parser.add_argument("--overwrite", action="store_true", help="replace the default JSON file if it exists")


def output_path(default_name: str, output: Path | None = None, *, overwrite: bool = False) -> Path:
    """Where a result goes: ``output`` if given, else the default file unless that would replace one."""
    if output is not None:
        return output
    path = RESULTS_DIR / f"{default_name}.json"
    if overwrite or not path.exists():
        return path
    return path.with_name(f"{default_name}.{time.strftime('%Y%m%d-%H%M%S')}.json")


def write_json(path: Path, record: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def write_result(name: str, payload: dict[str, Any], *, output: Path | None = None, overwrite: bool = False) -> Path:
    """Write the result with the environment attached, where :func:`output_path` says."""
    return write_json(output_path(name, output, overwrite=overwrite), {"benchmark": name, "environment": environment(), **payload})
