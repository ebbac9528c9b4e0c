"""What an export is asked to do, checked from the arguments and the run folder alone, before torch is imported.

A refused export (an unknown format, a missing run or trial, an --out that
cannot be written) is one line in little memory: ``import torch`` alone peaks
at 0.6-0.9 GB.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.errors import UserError
from search.export.paths import check_out_path, file_label
from search.export.trial import find_record
from search.run.records import TrialRecord
from search.run.rundir import RunDir

FORMATS = ("pt", "onnx", "torchscript", "python")
SUFFIXES = {"pt": ".pt", "onnx": ".onnx", "torchscript": ".torchscript.pt", "python": ".py"}


@dataclass(frozen=True)
class ExportRequest:
    """A checked export: the run, the net's record, the run's settings and the file to write."""

    rundir: RunDir
    record: TrialRecord
    config: Any  # RunConfig
    path: Path


def checked_export(run_dir: str | Path, trial: str, fmt: str, out: str | Path | None, train_epochs: int,
                   untrained: bool) -> ExportRequest:
    """Refuse a bad format, epoch count, run folder, trial or --out; see ``search.export.export_net``."""
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r} is not known (allowed: {', '.join(FORMATS)})")
    if train_epochs < 0:
        raise UserError(f"--train {train_epochs} is not allowed: give a number of epochs, at least 1")
    if untrained and train_epochs:
        raise UserError("--untrained and --train contradict each other")
    rundir = RunDir.at(str(run_dir))
    record = find_record(rundir, trial)
    config = rundir.read_config()
    path = Path(out) if out else rundir.path / "exports" / f"{file_label(record)}{SUFFIXES[fmt]}"
    check_out_path(path)  # before any training: a path that cannot be written fails at once
    return ExportRequest(rundir, record, config, path)
