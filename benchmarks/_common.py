"""Shared plumbing for benchmark scripts: where results go and how they are written."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

import torch

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results" / "benchmarks"


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


def write_result(name: str, payload: dict[str, Any]) -> Path:
    """Write ``results/benchmarks/<name>.json`` with the environment attached."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "environment": environment(), **payload}, indent=2) + "\n")
    return path
