"""``search export``: take a found net away as weights, ONNX, TorchScript or a standalone Python file."""

from __future__ import annotations

from pathlib import Path

from search.errors import UserError
from search.export.formats import (
    FORMATS,
    SUFFIXES,
    WRITERS,
    ExportMismatch,
    load_python_model,
)
from search.export.python_source import python_source
from search.export.metadata import preprocessing, trained_net
from search.run.resources import load_search_dataset
from search.export.paths import check_out_path, file_label
from search.export.trial import find_record
from search.run.rundir import RunDir

__all__ = ["FORMATS", "ExportMismatch", "export_net", "load_python_model", "python_source"]


def export_net(run_dir: str | Path, trial: str, fmt: str, out: str | Path | None = None, train_epochs: int = 0,
               *, untrained: bool = False) -> Path:
    """Write trial ``trial`` (a number, or a baseline's name) of the run in ``run_dir`` as ``fmt``; return the file.

    The weights are the final protocol's, or retrained for ``train_epochs``, at the resolution the file
    accepts (see :mod:`search.export.metadata`); ``untrained`` exports the architecture alone.
    """
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
    dataset = load_search_dataset(config)
    net = trained_net(rundir, record, config, dataset, train_epochs=train_epochs, untrained=untrained)
    net.model.eval()
    info = {"trial": None if record.number is None else int(record.number), "baseline": record.baseline, "run": str(rundir.path),
            "trained": net.trained, "trained_epochs": net.epochs, "accuracy": net.accuracy, "dataset": config.dataset,
            "preprocessing": preprocessing(dataset, net.spec, record, config)}
    WRITERS[fmt](net.model, net.spec, path, info)
    return path
