"""``export_net``: a found net written as weights, ONNX, TorchScript or a standalone Python file."""

from __future__ import annotations

from pathlib import Path

from search.export.request import checked_export


def export_net(run_dir: str | Path, trial: str, fmt: str, out: str | Path | None = None, train_epochs: int = 0,
               *, untrained: bool = False) -> Path:
    """Write trial ``trial`` (a number, or a baseline's name) of the run in ``run_dir`` as ``fmt``; return the file.

    The weights are the final protocol's, or retrained for ``train_epochs``, at the resolution the file
    accepts (see :mod:`search.export.metadata`); ``untrained`` exports the architecture alone.
    """
    request = checked_export(run_dir, trial, fmt, out, train_epochs, untrained)
    # Imported after the checks: a refused export never loads torch.
    from search.export.formats import WRITERS
    from search.export.metadata import preprocessing, trained_net
    from search.run.resources import load_search_dataset

    rundir, record, config = request.rundir, request.record, request.config
    dataset = load_search_dataset(config)
    net = trained_net(rundir, record, config, dataset, train_epochs=train_epochs, untrained=untrained)
    net.model.eval()
    info = {"trial": None if record.number is None else int(record.number), "baseline": record.baseline, "run": str(rundir.path),
            "trained": net.trained, "trained_epochs": net.epochs, "accuracy": net.accuracy, "dataset": config.dataset,
            "preprocessing": preprocessing(dataset, net.spec, record, config)}
    WRITERS[fmt](net.model, net.spec, request.path, info)
    return request.path
