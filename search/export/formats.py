"""The export formats: each writes one file and checks it against the PyTorch model it came from."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import io
import json
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from search.errors import UserError
from search.export.python_source import python_source
from search.run.rundir import write_atomic
from searchspace import NetSpec, encode

FORMATS = ("pt", "onnx", "torchscript", "python")
SUFFIXES = {"pt": ".pt", "onnx": ".onnx", "torchscript": ".torchscript.pt", "python": ".py"}
# Float32 kernels differ between runtimes in summation order; more than this is a wrong graph.
TOLERANCE = dict(rtol=1e-3, atol=1e-4)


class ExportMismatch(UserError):
    """An exported file does not compute what the PyTorch model computes."""


def example_input(spec: NetSpec, batch: int = 2, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, spec.in_channels, spec.resolution, spec.resolution, generator=generator)


def _bytes_of(save: Callable[[io.BytesIO], None]) -> bytes:
    buffer = io.BytesIO()
    save(buffer)
    return buffer.getvalue()


def write_pt(model: nn.Module, spec: NetSpec, path: Path, info: dict) -> None:
    """One ``torch.save``d dict: the state dict, the spec (JSON and string), and how the weights came about."""
    payload = {"state_dict": model.state_dict(), "spec": json.loads(spec.to_json()),
               "spec_string": encode(spec), **info}
    write_atomic(path, _bytes_of(lambda buffer: torch.save(payload, buffer)))


def write_torchscript(model: nn.Module, spec: NetSpec, path: Path, info: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation notice
        scripted = torch.jit.script(model)
        write_atomic(path, _bytes_of(lambda buffer: torch.jit.save(scripted, buffer)))
        loaded = torch.jit.load(str(path))
    _compare(model, loaded, spec, "TorchScript", path)


def write_onnx(model: nn.Module, spec: NetSpec, path: Path, info: dict) -> None:
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import onnxruntime
    except ImportError:
        raise UserError("--format onnx needs onnx and onnxruntime: pip install 'convspace[export]'") from None
    example = example_input(spec, batch=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's notice; the dynamo one needs onnxscript
        data = _bytes_of(lambda buffer: torch.onnx.export(
            model, (example,), buffer, dynamo=False, input_names=["images"], output_names=["logits"],
            dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
        ))
    write_atomic(path, data)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    _compare(model, lambda x: torch.from_numpy(session.run(None, {"images": x.numpy()})[0]), spec, "onnxruntime", path)


def write_python(model: nn.Module, spec: NetSpec, path: Path, info: dict) -> None:
    write_atomic(path, python_source(model, spec))
    generated = load_python_model(path)
    generated.load_state_dict(model.state_dict(), strict=True)
    _compare(model, generated.eval(), spec, "the generated Python module", path)
    if info.get("trained_epochs"):  # trained weights would otherwise be lost: keep them beside the file
        write_pt(model, spec, path.with_suffix(".pt"), info)


def load_python_model(path: Path, class_name: str = "ExportedNet") -> nn.Module:
    # An explicit source loader: spec_from_file_location knows no loader for a name not ending in .py (x.python).
    loader = importlib.machinery.SourceFileLoader(f"exported_{path.stem}", str(path))
    module_spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return getattr(module, class_name)()


def _compare(model: nn.Module, exported: Callable[[torch.Tensor], torch.Tensor], spec: NetSpec, what: str, path: Path | None = None) -> None:
    example = example_input(spec)
    with torch.no_grad():
        expected, got = model(example), exported(example)
    if got.shape != expected.shape or not torch.allclose(got, expected, **TOLERANCE):
        difference = (got - expected).abs().max().item() if got.shape == expected.shape else f"shape {tuple(got.shape)}"
        if path is not None:
            path.unlink(missing_ok=True)
        raise ExportMismatch(f"{what} output differs from PyTorch's (max difference {difference}); nothing was written")


WRITERS = {"pt": write_pt, "onnx": write_onnx, "torchscript": write_torchscript, "python": write_python}
