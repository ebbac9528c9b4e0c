"""The net an export delivers: trained weights, the resolution they were trained at, and how to feed them.

An exported file must be the net that was scored.  Its weights come from the
final protocol (``<run>/final/<label>.pt``, the seed closest to the mean) or
from ``--train E``; both train at the trial's proxy resolution, so the file's
input resolution IS that resolution (a net trained on 20-pixel images is at
chance on 140-pixel ones, so exporting it at the spec's nominal resolution
would deliver a different net).  The latency the run reports was measured at
the nominal resolution, in the run's ``--runtime``; all three are recorded.
With ``--runtime onnxruntime``, the ONNX file comes from the same exporter call
at the same opset as the graph that was timed
(:func:`evaluators.latency.runtimes.onnx_model_bytes`); when the file's input
resolution is the latency resolution, it is that graph.

Every format carries the same ``preprocessing`` record: input resolution,
channels, mean and std (of ``pixel / 255``), class names, and how images were
resized, so that a user can feed the file exactly what it was trained on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from search.errors import UserError
from search.run.config import RunConfig
from search.run.records import TrialRecord
from search.run.rundir import RunDir
from searchspace import NetSpec, build, decode
from searchspace.scaling import at_resolution

RESIZE = "bilinear, antialias=True, align_corners=False (torch.nn.functional.interpolate), rounded to uint8"


@dataclass
class TrainedNet:
    model: torch.nn.Module
    spec: NetSpec  # at the resolution the weights were trained at
    trained: str  # how the weights came about, for the metadata
    accuracy: float | None  # of these very weights on the validation split
    epochs: int


def preprocessing(dataset, spec: NetSpec, record: TrialRecord, config: RunConfig) -> dict[str, Any]:
    """What an input must look like for the exported file (the same record in every format)."""
    from evaluators.latency.runtimes import ONNX_OPSET

    return {
        "input_resolution": spec.resolution, "channels": spec.in_channels, "layout": "NCHW float32",
        "scale": "pixel / 255", "mean": list(dataset.mean), "std": list(dataset.std),
        "class_names": list(dataset.class_names) or [str(i) for i in range(dataset.num_classes)],
        "resize": RESIZE, "source_resolution": dataset.resolution, "dataset": dataset.name,
        "latency_resolution": int(record.resolution) if record.resolution else None,
        "latency_ms": record.remeasured_latency_ms or record.latency_ms,
        "latency_runtime": config.runtime, "onnx_opset": ONNX_OPSET,
    }


def trained_net(rundir: RunDir, record: TrialRecord, config: RunConfig, dataset, *, train_epochs: int, untrained: bool) -> TrainedNet:
    """The weights to export: retrained (``--train``), the final protocol's, or none (``--untrained``)."""
    from search.run.final_protocol import label_of, weights_path

    spec = decode(record.spec)
    # As the proxy trained it (searchspace.scaling.at_resolution).
    trained_spec = at_resolution(spec, int(record.proxy_resolution or spec.resolution))
    torch.manual_seed(config.seed)  # the same starting weights on every export of this trial
    if untrained:
        return TrainedNet(build(spec), spec, "untrained (random weights)", None, 0)
    if train_epochs:
        model = build(trained_spec)
        accuracy = retrain(model, config, dataset, trained_spec.resolution, train_epochs)
        return TrainedNet(model, trained_spec, f"--train {train_epochs}", accuracy, train_epochs)
    path = weights_path(rundir, label_of(record))
    if not path.is_file():
        raise UserError(f"--trial {label_of(record)} has no trained weights in {path.parent} (the final protocol did not "
                        "train it); give --train EPOCHS, or --untrained for the architecture with random weights")
    payload = torch.load(path, weights_only=False, map_location="cpu")
    model = build(decode(payload["spec_string"]))
    model.load_state_dict(payload["state_dict"], strict=True)
    return TrainedNet(model, decode(payload["spec_string"]), f"final protocol, seed {payload['seed']}",
                      float(payload["accuracy"]), int(payload["epochs"]))


def retrain(model: torch.nn.Module, config: RunConfig, dataset, resolution: int, epochs: int) -> float:
    """Train ``model`` in place with the proxy trainer on the run's data; its validation accuracy."""
    from search.run.config import TRAINING_PROXY
    from search.run.proxy_score import ProxyJob, ProxyScorer
    from search.run.resources import training_device

    job = dataclasses.replace(ProxyJob.of(config, training_device(config.train_device)), proxy=TRAINING_PROXY, epochs=epochs)
    outcome = ProxyScorer(job, dataset).score(model, resolution)
    if outcome.state == "failed":
        raise UserError(f"--train {epochs}: training failed ({outcome.error})")
    model.to("cpu")
    return outcome.accuracy
