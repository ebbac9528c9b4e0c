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

from evaluators.latency.runtimes import ONNX_INPUT_NAME, onnx_model_bytes, scripted
from search.errors import UserError
from search.export.python_source import python_source
from search.export.request import FORMATS, SUFFIXES  # noqa: F401  (re-exported: they live with the torch-free checks)
from search.run.rundir import write_atomic
from searchspace import NetSpec, encode

# Float32 kernels differ between runtimes in summation order; more than this is a wrong graph.
TOLERANCE = dict(rtol=1e-3, atol=1e-4)


# The key every format files its metadata under: the pt dict's key, the ONNX metadata_props key,
# the TorchScript extra file (plus ".json") and the Python module's constant (upper case).
METADATA_KEY = "preprocessing"


def _metadata_json(info: dict) -> str:
    """The preprocessing record, with the facts about the weights beside it."""
    about = {k: info.get(k) for k in ("trained", "trained_epochs", "accuracy", "dataset", "trial", "baseline")}
    return json.dumps({**info.get(METADATA_KEY, {}), "weights": about}, sort_keys=True)


def read_metadata(path: Path) -> dict:
    """The metadata of any exported file, read the way a user of that format would."""
    path = Path(path)
    if path.suffix == ".onnx":
        import onnx

        props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        return json.loads(props[METADATA_KEY])
    if path.name.endswith(SUFFIXES["torchscript"]):
        extra = {METADATA_KEY + ".json": ""}
        torch.jit.load(str(path), _extra_files=extra)
        return json.loads(extra[METADATA_KEY + ".json"])
    if path.suffix == ".py":
        return getattr(_load_module(path), METADATA_KEY.upper())
    payload = torch.load(path, weights_only=False)
    return {**payload[METADATA_KEY], "weights": {k: payload.get(k) for k in ("trained", "trained_epochs", "accuracy", "dataset", "trial", "baseline")}}


def _with_onnx_metadata(data: bytes, info: dict) -> bytes:
    import onnx

    model = onnx.load_from_string(data)
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, _metadata_json(info)
    return model.SerializeToString()


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
    script = scripted(model)  # the same conversion --runtime torchscript times
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation notice
        extra = {METADATA_KEY + ".json": _metadata_json(info)}
        write_atomic(path, _bytes_of(lambda buffer: torch.jit.save(script, buffer, _extra_files=extra)))
        loaded = torch.jit.load(str(path))
    _compare(model, loaded, spec, "TorchScript", path)


def write_onnx(model: nn.Module, spec: NetSpec, path: Path, info: dict) -> None:
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import onnxruntime
    except ImportError:
        raise UserError("--format onnx needs onnx and onnxruntime: pip install 'convspace[export]'") from None
    # The exporter call --runtime onnxruntime times, so the file is the graph whose latency the run reports.
    data = onnx_model_bytes(model, example_input(spec, batch=1))
    write_atomic(path, _with_onnx_metadata(data, info))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    _compare(model, lambda x: torch.from_numpy(session.run(None, {ONNX_INPUT_NAME: x.numpy()})[0]), spec, "onnxruntime", path)


def write_python(model: nn.Module, spec: NetSpec, path: Path, info: dict) -> None:
    constant = ("# How inputs must be prepared, and how the weights came about (search export's metadata).\n"
                f"{METADATA_KEY.upper()} = json.loads({_metadata_json(info)!r})\n\n\n")
    source = python_source(model, spec).replace("from collections import OrderedDict\n", "import json\nfrom collections import OrderedDict\n", 1)
    write_atomic(path, source.replace('if __name__ == "__main__":', constant + 'if __name__ == "__main__":', 1))
    generated = load_python_model(path)
    generated.load_state_dict(model.state_dict(), strict=True)
    _compare(model, generated.eval(), spec, "the generated Python module", path)
    if info.get("trained_epochs"):  # trained weights would otherwise be lost: keep them beside the file
        write_pt(model, spec, path.with_suffix(".pt"), info)


def load_python_model(path: Path, class_name: str = "ExportedNet") -> nn.Module:
    return getattr(_load_module(path), class_name)()


def _load_module(path: Path):
    # An explicit source loader: spec_from_file_location knows no loader for a name not ending in .py (x.python).
    loader = importlib.machinery.SourceFileLoader(f"exported_{path.stem}", str(path))
    module_spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


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
