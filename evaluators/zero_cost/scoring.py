"""One interface to every training-free proxy: ``score(network, method, dataset)``.

Higher is better for every method.  For the size baselines ``params`` and
``macs`` higher simply means bigger; they are scored through the same
interface so that their correlation with accuracy can be compared with the
proxies' on equal terms.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from evaluators import validate
from evaluators.devices import resolve_device
from evaluators.zero_cost.baselines import (
    module_macs,
    module_params,
    spec_macs,
    spec_params,
)
from evaluators.zero_cost.batches import draw_batch
from evaluators.zero_cost.gradients import grad_norm, snip
from evaluators.zero_cost.kernels import reproducible_kernels
from evaluators.zero_cost.naswot import naswot
from evaluators.zero_cost.synflow import synflow
from evaluators.zero_cost.targets import ScoringTarget, input_dtype, resolve_target

if TYPE_CHECKING:
    from evaluators.data.base import ImageDataset


@dataclass(frozen=True)
class _Request:
    method: str
    target: ScoringTarget
    dataset: ImageDataset | None
    batch_size: int
    seed: int
    device: torch.device


@dataclass(frozen=True)
class _Method:
    needs_data: bool
    run: Callable[[_Request], float]


def _run_synflow(request: _Request) -> float:
    shape = request.target.require_input_shape(request.method)
    return synflow(request.target.private_model(request.seed, request.device), shape, request.device)


def _model_and_batch(request: _Request) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    if request.dataset is None:  # score() checks first; repeated so the helper is safe on its own
        raise ValueError(f"method {request.method!r} needs a dataset")
    shape = request.target.require_input_shape(request.method)
    model = request.target.private_model(request.seed, request.device)
    images, labels = draw_batch(
        request.dataset, request.batch_size, request.seed, shape[-1], request.device, input_dtype(model)
    )
    return model, images, labels


def _run_naswot(request: _Request) -> float:
    model, images, _labels = _model_and_batch(request)
    return naswot(model, images)


def _run_grad_norm(request: _Request) -> float:
    return grad_norm(*_model_and_batch(request))


def _run_snip(request: _Request) -> float:
    return snip(*_model_and_batch(request))


def _run_params(request: _Request) -> float:
    if request.target.from_spec:
        return spec_params(request.target.network)
    return module_params(request.target.network)  # read-only: no copy needed


def _run_macs(request: _Request) -> float:
    if request.target.from_spec:
        return spec_macs(request.target.network)
    shape = request.target.require_input_shape(request.method)
    model = request.target.private_model(request.seed, request.device)
    return module_macs(model, shape, request.device, input_dtype(model))


_METHODS: dict[str, _Method] = {
    "synflow": _Method(needs_data=False, run=_run_synflow),
    "naswot": _Method(needs_data=True, run=_run_naswot),
    "grad_norm": _Method(needs_data=True, run=_run_grad_norm),
    "snip": _Method(needs_data=True, run=_run_snip),
    "params": _Method(needs_data=False, run=_run_params),
    "macs": _Method(needs_data=False, run=_run_macs),
}


def methods() -> list[str]:
    """Names accepted by :func:`score`, in a fixed order."""
    return list(_METHODS)


def score(
    spec_or_module: object,
    method: str,
    dataset: ImageDataset | None = None,
    *,
    batch_size: int = 64,
    seed: int = 0,
    device: str = "cpu",
    resolution: int | None = None,
) -> float:
    """Training-free score of an architecture spec or a module; higher is better.

    ``method`` is one of :func:`methods`: ``synflow``, ``naswot``,
    ``grad_norm``, ``snip`` (proxies; see their modules for the formulas) or
    ``params``, ``macs`` (size baselines, where higher means bigger).

    Network.  A spec is adapted to ``dataset`` (its ``in_channels`` and
    ``num_classes``) and to ``resolution`` if given, then built with weights
    initialised from ``seed``.  A module is scored with its current weights.
    Either way the proxy runs on a private copy on ``device``: the caller's
    module (parameters, buffers, gradients, training mode) is never changed,
    at the price of one copy of the model in memory.

    Input resolution.  ``resolution`` if given; else a spec's own resolution
    (part of its architecture and its cost); else, for a module, the
    dataset's.  A module scored without a dataset has no known input shape,
    so ``synflow`` and ``macs`` need a dataset for it (only its shape is used).

    Data.  ``naswot``, ``grad_norm`` and ``snip`` need ``dataset``; they see
    ``batch_size`` distinct training images drawn with ``seed``, resized to
    the input resolution and normalised with the dataset's mean and std.
    ``synflow`` uses an all-ones input of batch 1 and ignores the data.
    ``params`` and ``macs`` of a spec are analytic (``evaluators.cost``); of a
    module, the parameter count and FlopCounterMode's FLOPs / 2 at batch 1.

    Determinism.  The same arguments give the same score, bitwise.  On CUDA
    this holds because the call runs with deterministic cuDNN kernels and no
    TF32 (see :mod:`evaluators.zero_cost.kernels`); an operator with no
    deterministic CUDA kernel at all could still vary in the last bits.
    GPU and CPU scores agree to float32 rounding, not bitwise.

    Non-finite results.  synflow overflowing float64 returns +inf (see
    :func:`~evaluators.zero_cost.synflow.synflow`), a singular NASWOT kernel
    returns -inf; any other NaN is returned as -inf with a RuntimeWarning, so
    that an unscorable network ranks last instead of poisoning comparisons.
    """
    proxy = _lookup(method)
    _require_int("batch_size", batch_size, minimum=1)
    _require_int("seed", seed, minimum=0)
    if resolution is not None:
        _require_int("resolution", resolution, minimum=1)
    resolved_device = resolve_device(device)
    if proxy.needs_data and dataset is None:
        raise ValueError(f"method {method!r} needs a dataset to draw its scoring minibatch from; none was given")
    target = resolve_target(spec_or_module, dataset, resolution)
    with reproducible_kernels():
        value = proxy.run(_Request(method, target, dataset, batch_size, seed, resolved_device))
    return _rankable(value, method)


def _lookup(method: str) -> _Method:
    proxy = _METHODS.get(method) if isinstance(method, str) else None
    if proxy is None:
        raise ValueError(f"unknown zero-cost method {method!r}; allowed: {', '.join(_METHODS)}")
    return proxy


def _require_int(name: str, value: object, *, minimum: int) -> None:
    # bool is an int subclass; score(..., batch_size=True) is a mistake, not 1.
    validate.integer(name, value, minimum, fail=validate.must_be)


def _rankable(value: float, method: str) -> float:
    if math.isnan(value):
        warnings.warn(f"{method} score is NaN; returning -inf so the network ranks last", RuntimeWarning, stacklevel=3)
        return float("-inf")
    return float(value)
