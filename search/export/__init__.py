"""``search export``: take a found net away as weights, ONNX, TorchScript or a standalone Python file."""

from __future__ import annotations

from pathlib import Path

import torch

from search.errors import UserError
from search.export.formats import (
    FORMATS,
    SUFFIXES,
    WRITERS,
    ExportMismatch,
    load_python_model,
)
from search.export.python_source import python_source
from search.export.paths import check_out_path, file_label
from search.export.trial import find_record, record_spec
from search.run.rundir import RunDir
from searchspace import build

__all__ = ["FORMATS", "ExportMismatch", "export_net", "load_python_model", "python_source", "retrain"]


def export_net(run_dir: str | Path, trial: str, fmt: str, out: str | Path | None = None, train_epochs: int = 0) -> Path:
    """Write trial ``trial`` (a number, or a baseline's name) of the run in ``run_dir`` as ``fmt``; return the file."""
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r} is not known (allowed: {', '.join(FORMATS)})")
    if train_epochs < 0:
        raise UserError(f"--train {train_epochs} is not allowed: give a number of epochs, at least 1")
    rundir = RunDir.at(str(run_dir))
    record = find_record(rundir, trial)
    spec = record_spec(record)
    config = rundir.read_config()
    path = Path(out) if out else rundir.path / "exports" / f"{file_label(record)}{SUFFIXES[fmt]}"
    check_out_path(path)
    torch.manual_seed(config.seed)  # the same starting weights on every export of this trial
    model = build(spec)
    if train_epochs:
        retrain(model, rundir, record, train_epochs)
    model.eval()
    info = {"trial": record.get("number"), "baseline": record.get("baseline"), "run": str(rundir.path),
            "trained_epochs": train_epochs, "dataset": config.dataset}
    WRITERS[fmt](model, spec, path, info)
    return path


def retrain(model: torch.nn.Module, rundir: RunDir, record: dict, epochs: int) -> None:
    """Train ``model`` in place with the proxy trainer, on the run's data at the trial's proxy resolution."""
    from evaluators.data import load_dataset
    from evaluators.proxy import TrainingFailure, train
    from search.run.loop import default_proxy_resolution

    config = rundir.read_config()
    dataset = load_dataset(config.dataset, resolution=config.proxy_resolution or default_proxy_resolution(config.dataset),
                           data_root=config.data_root, download=config.download, seed=config.seed, **config.dataset_options)
    device = config.train_device or ("cuda" if torch.cuda.is_available() else "cpu")
    outcome = train(model, dataset, epochs=epochs, batch_size=config.proxy_batch_size,
                    resolution=int(record["proxy_resolution"]) if record.get("proxy_resolution") else None,
                    seed=config.seed, device=device)
    if isinstance(outcome, TrainingFailure):
        raise UserError(f"--train {epochs}: training failed ({outcome.reason}: {outcome.message})")
    model.to("cpu")
