"""The run folder ``<out>/<name>/``: what a run writes and how it is opened again.

Layout::

    run.json         configuration, environment (versions, devices, threads), seed
    study.db         optuna storage (SQLite) unless --storage names another database
    trials.csv       one row per trial and per baseline (trials.parquet: the same table)
    pareto.csv       the final Pareto front
    baselines.json   evaluations of the known nets (reused on resume)
    search.log       the run's log

Every file is written atomically (a temporary file renamed over the old one),
so an interrupted write never leaves a half-written result behind.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from evaluators.paths import FILE_MODE
from search.errors import UserError, shown
from search.run.config import RunConfig
from search.run.recipe_check import RECIPE_KEY, current_recipe

RUN_FILE = "run.json"


def write_atomic(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(text, bytes) else "w"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, FILE_MODE)
        with os.fdopen(handle, mode) as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def config_file(self) -> Path:
        return self.path / RUN_FILE

    @property
    def study_db(self) -> Path:
        return self.path / "study.db"

    @property
    def trials_csv(self) -> Path:
        return self.path / "trials.csv"

    @property
    def trials_parquet(self) -> Path:
        return self.path / "trials.parquet"

    @property
    def pareto_csv(self) -> Path:
        return self.path / "pareto.csv"

    @property
    def baselines_file(self) -> Path:
        return self.path / "baselines.json"

    @property
    def log_file(self) -> Path:
        return self.path / "search.log"

    def storage_url(self, config: RunConfig) -> str:
        return config.storage or f"sqlite:///{self.study_db.resolve()}"

    # ---- creating and opening ---------------------------------------------------------

    @classmethod
    def create(cls, out: str, name: str) -> RunDir:
        """A new, empty run folder (replacing an old one is :mod:`search.run.claim`'s job)."""
        path = run_path(out, name)
        try:
            path.mkdir(parents=True)
        except FileExistsError:  # another process made it first
            raise UserError(f"run folder {path} already exists; use --resume to continue it or --overwrite to replace it") from None
        except OSError as error:
            raise UserError(f"cannot create run folder {path}: {error.strerror}") from None
        return cls(path)

    @classmethod
    def open_existing(cls, out: str, name: str) -> RunDir:
        path = run_path(out, name)
        if not (path / RUN_FILE).is_file():
            raise UserError(f"no run named {name!r} to resume under {Path(out)} (looked for {path / RUN_FILE})")
        return cls(path)

    @classmethod
    def at(cls, folder: str) -> RunDir:
        """An existing run folder given by its path (for report and export)."""
        path = Path(folder)
        if not (path / RUN_FILE).is_file():
            raise UserError(f"{folder} is not a run folder (no {RUN_FILE})")
        return cls(path)

    # ---- run.json ---------------------------------------------------------------------

    def write_config(self, config: RunConfig, environment: dict[str, Any], *, started: str | None = None,
                     space: dict[str, Any] | None = None) -> None:
        previous = self.read_run_file() if self.config_file.is_file() else {}
        earlier = previous.get("resumed")
        record = {
            "config": config.to_dict(),
            "environment": environment,
            "started": started or previous.get("started") or _now(),
            "resumed": (earlier if isinstance(earlier, list) else []) + ([_now()] if previous else []),
        }
        if space or previous.get("space"):  # what the space held (search.run.space_check)
            record["space"] = space or previous["space"]
        write_atomic(self.config_file, json.dumps(record, indent=2, sort_keys=True) + "\n")

    def read_run_file(self) -> dict[str, Any]:
        try:
            data = json.loads(self.config_file.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as error:  # ValueError: bad JSON, bad UTF-8, huge integers
            reason = error.strerror if isinstance(error, OSError) else " ".join(str(error).split())[:200]
            raise UserError(f"{self.config_file} cannot be read: {reason}") from None
        if not isinstance(data, dict):
            raise UserError(f"{self.config_file} holds a JSON {type(data).__name__}, not a run record")
        return data

    def read_config(self) -> RunConfig:
        data = self.read_run_file()
        if not isinstance(data.get("config"), dict):
            raise UserError(f"{self.config_file} has no configuration")
        command = data["config"].get("command", "run")
        if command != "run":  # another command's folder (e.g. search explore): its settings mean something else
            command = shown(command, 40).strip("'")
            raise UserError(f"{self.path} was written by `search {command}`, not `search run`: "
                            f"continue it with `search {command} --resume`")
        return RunConfig.from_dict(data["config"])


def run_path(out: str, name: str) -> Path:
    if not name or name in (".", "..") or "/" in name or os.sep in name:
        raise UserError(f"--name {name!r} is not allowed: use a plain folder name")
    return Path(out) / name


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def environment(config: RunConfig) -> dict[str, Any]:
    """What a reader needs to reproduce or compare the run's measurements."""
    import torch

    from evaluators.devices import device_name

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: version(p) for p in ("convspace", "torch", "torchvision", "optuna", "ray", "pandas", "numpy", "onnxruntime")},
        "latency_device": device_name(config.device),
        "latency_runtime": getattr(config, "runtime", "eager"),  # explorations time in eager
        "train_device": device_name(config.train_device or "cpu"),
        "latency_threads": config.threads or torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "cuda": torch.version.cuda if torch.cuda.is_available() else None,
        RECIPE_KEY: current_recipe(),  # a resume under another recipe is refused (search.run.recipe_check)
    }
