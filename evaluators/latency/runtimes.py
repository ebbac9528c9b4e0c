"""The runtimes a net's latency can be measured in: what "latency" means for a deployment.

A net measured 5.6 ms in PyTorch eager and 2.3 ms in onnxruntime on one
thread: a budget is only meaningful in the runtime the net will ship in.  Each
runtime turns a module and a fixed example input into a call that runs one
inference, so the timing loop (:mod:`evaluators.latency.timing`) is the same
for all of them:

* ``eager``: the module itself, as PyTorch runs it;
* ``onnxruntime``: the module exported by :func:`onnx_model_bytes` (the one
  exporter call ``search export --format onnx`` also uses, so the file a user
  takes away is the graph that was timed), run by an ``InferenceSession`` on
  the CPU with ``intra_op_num_threads`` set to the measurement's thread count;
* ``torchscript``: :func:`scripted` (``torch.jit.script``, as ``search export
  --format torchscript`` writes it);
* ``compile``: ``torch.compile`` with its default (inductor) backend.

Conversion happens once, before timing, and ends with one inference so that
compilation, graph optimisation and first-call allocation all fall outside
the timed passes.  A runtime whose package is missing is
:class:`RuntimeUnavailable` (a setting the user must change); a net that a
runtime cannot convert or run is :class:`ConversionFailed` (a fact about that
net, which a search records as a failed trial and goes on).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import torch
from torch import nn

from evaluators.runtime_names import EAGER, RUNTIMES  # noqa: F401  (re-exported: this module explains them)

# Fixed rather than left to the exporter's default, so a torch upgrade cannot
# change the graph that is timed and exported without this line changing too.
ONNX_OPSET = 20
ONNX_INPUT_NAME = "images"
ONNX_OUTPUT_NAME = "logits"

Forward = Callable[[], object]


class RuntimeUnavailable(ValueError):
    """The runtime's package is not installed (or the runtime cannot run on the device)."""


class ConversionFailed(RuntimeError):
    """The net could not be converted to, or run in, the runtime; the message says why."""


def check_runtime(runtime: object, device: torch.device | None = None) -> str:
    """``runtime`` if it is known and can run here (on ``device`` when given); else :class:`RuntimeUnavailable`."""
    if runtime not in RUNTIMES:
        raise RuntimeUnavailable(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if runtime == "onnxruntime":
        _onnxruntime()
        if device is not None and device.type != "cpu":
            raise RuntimeUnavailable(f"onnxruntime is timed on the CPU; device {str(device)!r} needs eager, torchscript or compile")
    return str(runtime)


def onnx_model_bytes(module: nn.Module, example: torch.Tensor) -> bytes:
    """``module`` as an ONNX model (batch axis dynamic), exported the one way both latency and ``search export`` use."""
    from evaluators.latency.onnx_pools import exportable_pools

    module = exportable_pools(module, example)  # the same arithmetic, in operators the exporter writes
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's notice; the dynamo one needs onnxscript
        torch.onnx.export(
            module, (example,), buffer, dynamo=False, opset_version=ONNX_OPSET,
            input_names=[ONNX_INPUT_NAME], output_names=[ONNX_OUTPUT_NAME],
            dynamic_axes={ONNX_INPUT_NAME: {0: "batch"}, ONNX_OUTPUT_NAME: {0: "batch"}},
        )
    return buffer.getvalue()


def onnx_session(model: bytes | str, threads: int):
    """An onnxruntime CPU session with ``threads`` intra-op threads and one inter-op thread."""
    onnxruntime = _onnxruntime()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # a CNN is one chain of operators: nothing runs side by side
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def scripted(module: nn.Module) -> torch.jit.ScriptModule:
    """``torch.jit.script(module)``: what TorchScript latency times and ``search export`` writes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation notice
        return torch.jit.script(module)


def runtime_forward(runtime: str, module: nn.Module, example: torch.Tensor, threads: int) -> Forward:
    """One inference of ``module`` on ``example`` in ``runtime``, converted and run once already.

    Call under ``torch.inference_mode()`` with the module in eval mode, as the
    timed passes are: ``torch.compile`` guards on both and would otherwise
    compile again at the first timed pass.
    """
    check_runtime(runtime, example.device)
    if runtime == EAGER:
        return lambda: module(example)
    try:
        forward = _CONVERTERS[runtime](module, example, threads)
        forward()  # compilation, graph optimisation and first-call allocation: never timed
    except Exception as error:  # any converter's failure is a fact about this net, not a crash of the search
        raise ConversionFailed(f"{runtime} could not run the net: {type(error).__name__}: {_first_line(error)}") from error
    return forward


def _onnx_forward(module: nn.Module, example: torch.Tensor, threads: int) -> Forward:
    session = onnx_session(onnx_model_bytes(module, example), threads)
    feed = {ONNX_INPUT_NAME: example.detach().cpu().numpy()}
    return lambda: session.run(None, feed)


def _script_forward(module: nn.Module, example: torch.Tensor, threads: int) -> Forward:
    script = scripted(module).eval()
    return lambda: script(example)


def _compile_forward(module: nn.Module, example: torch.Tensor, threads: int) -> Forward:
    compiled = torch.compile(module)
    return lambda: compiled(example)


_CONVERTERS: dict[str, Callable[[nn.Module, torch.Tensor, int], Forward]] = {
    "onnxruntime": _onnx_forward,
    "torchscript": _script_forward,
    "compile": _compile_forward,
}


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise RuntimeUnavailable("the onnxruntime package is not installed (pip install 'convspace[export]')") from None
    return onnxruntime


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else "no message"
